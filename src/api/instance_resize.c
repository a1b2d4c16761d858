/*
 * instance_resize.c — see instance_resize.h. The work is the taskmanager's:
 * nothing here touches the machine or the guest. If the taskmanager cannot be
 * told, the task and the quota go back as they were.
 */
#define LOG_MODULE "api"
#include "api/instance_resize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_notify.h"
#include "api/validate.h"
#include "common/config.h"
#include "common/log.h"
#include "db/flavors.h"
#include "db/instance_resize.h"
#include "taskmanager/api.h"

static int parse_size(const json_t *size, long *out, struct ct_error *err)
{
	return validate_volume_size(size, "resize['volume']['size']", out, err);
}

/* flavorRef: oneOf(non-empty string, integer); a URL names its last segment. */
static int parse_flavor_ref(const json_t *ref, char *out, size_t size, struct ct_error *err)
{
	if (json_is_integer(ref)) {
		snprintf(out, size, "%lld", (long long)json_integer_value(ref));
		return 0;
	}
	struct ct_error ignored;
	if (validate_non_empty_string(ref, "resize['flavorRef']", &ignored)) {
		char repr[128];
		validate_repr(ref, repr, sizeof repr);
		return validate_fail(err, "resize['flavorRef']",
				     "%s is not valid under any of the given schemas", repr);
	}
	const char *s = json_string_value(ref);
	const char *slash = strrchr(s, '/');
	snprintf(out, size, "%s", slash ? slash + 1 : s);
	return 0;
}

static int cast_or_undo(const char *method, json_t *args, const struct instance *in,
			enum quota_resource r, long delta, struct ct_error *err)
{
	int rc = args ? taskmanager_cast(method, args, err) : ct_fail(err, 500, "out of memory");
	json_decref(args);
	if (rc) {
		struct ct_error ignored;
		instance_resize_refund(in->tenant_id, r, delta, &ignored);
		instance_set_task(in->id, in->task_id, &ignored);
	}
	return rc;
}

static int resize_volume(const struct api_request *req, const struct instance *in,
			 const json_t *volume, struct ct_error *err)
{
	static const char *const required[] = {"size", NULL};
	if (validate_object(volume, "resize['volume']", err) ||
	    validate_required(volume, "resize['volume']", required, err))
		return -1;
	long size = 0;
	if (parse_size(json_object_get(volume, "size"), &size, err))
		return -1;
	if (in->volume_size <= 0)
		return ct_fail(err, 400, "Instance %s has no volume.", in->id);
	if (size <= in->volume_size)
		return ct_fail(err, 400,
			       "The new volume 'size' must be larger than the current volume "
			       "size of '%ld'.",
			       in->volume_size);
	long max = cfg_int(CFG_MAX_VOLUME_SIZE);
	if (size > max)
		return ct_fail(err, 413,
			       "Volume 'size' cannot exceed maximum of %ld GB, %ld cannot be "
			       "accepted.",
			       max, size);
	long delta = size - in->volume_size;
	if (instance_can_act(in, err) ||
	    instance_resize_begin(in->id, in->tenant_id, QUOTA_VOLUMES, delta, err))
		return -1;
	json_t *args = json_pack("{s:s,s:I}", "instance_id", in->id, "new_size", (json_int_t)size);
	api_notify_start(
		req, "instance_resize_volume",
		json_pack("{s:s,s:I}", "instance_id", in->id, "new_size", (json_int_t)size));
	if (cast_or_undo("resize_volume", args, in, QUOTA_VOLUMES, delta, err))
		return -1;
	log_info("volume of %s resizing from %ld to %ld GB", in->id, in->volume_size, size);
	return 0;
}

static json_t *flavor_dict(const struct flavor *f)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "id", f->id, "name", f->name, "ram",
			 (json_int_t)f->ram, "vcpus", (json_int_t)f->vcpus, "disk",
			 (json_int_t)f->disk, "OS-FLV-EXT-DATA:ephemeral",
			 (json_int_t)f->ephemeral);
}

static int resize_flavor(const struct api_request *req, const struct instance *in,
			 const json_t *ref, struct ct_error *err)
{
	char flavor_id[256];
	if (parse_flavor_ref(ref, flavor_id, sizeof flavor_id, err) || instance_can_act(in, err))
		return -1;
	if (!strcmp(flavor_id, in->flavor_id))
		return ct_fail(err, 400,
			       "The new flavor id must be different than the current flavor id "
			       "of '%s'.",
			       in->flavor_id);
	struct flavor old_f, new_f;
	if (flavor_get(flavor_id, &new_f, err))
		return ct_fail(err, 400, "Resource %.255s cannot be found.", flavor_id);
	if (flavor_get(in->flavor_id, &old_f, err))
		return -1;
	/* A local volume holds the data; a flavor's ephemeral disk would not. */
	if (new_f.ephemeral > 0)
		return ct_fail(err, 501,
			       "Resizing a volume-backed instance to a flavor with an ephemeral "
			       "disk is not supported.");
	long delta = new_f.ram - old_f.ram;
	if (instance_resize_begin(in->id, in->tenant_id, QUOTA_RAM, delta, err))
		return -1;
	json_t *args = json_pack("{s:s,s:o,s:o}", "instance_id", in->id, "old_flavor",
				 flavor_dict(&old_f), "new_flavor", flavor_dict(&new_f));
	api_notify_start(req, "instance_resize_instance",
			 json_pack("{s:s,s:s}", "instance_id", in->id, "new_flavor_id", new_f.id));
	if (cast_or_undo("resize_flavor", args, in, QUOTA_RAM, delta, err))
		return -1;
	log_info("%s resizing from flavor %s to %s", in->id, old_f.id, new_f.id);
	return 0;
}

int instance_action_resize(struct api_request *req, struct instance *in, struct ct_error *err)
{
	const json_t *body = json_object_get(req->json, "resize");
	/* Trove picks the schema from the first key. */
	const char *first = json_object_iter_key(json_object_iter((json_t *)body));
	if (first && !strcmp(first, "volume")) {
		static const char *const only[] = {"volume", NULL};
		return validate_only(body, "resize", only, err) ||
				       resize_volume(req, in, json_object_get(body, "volume"), err)
			       ? -1
			       : 0;
	}
	if (first && !strcmp(first, "flavorRef")) {
		static const char *const only[] = {"flavorRef", NULL};
		return validate_only(body, "resize", only, err) ||
				       resize_flavor(req, in, json_object_get(body, "flavorRef"),
						     err)
			       ? -1
			       : 0;
	}
	return ct_fail(err, 400,
		       "Validation error: resize needs exactly one of 'volume' or 'flavorRef'.");
}
