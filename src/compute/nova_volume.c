/*
 * nova_volume.c — an instance's Cinder volume (nova_internal.h): created as
 * trove-<id> with the volume type, waited for until available, extended,
 * deleted once nothing holds it. Polls within [DEFAULT] volume_time_out.
 *
 * Owns nothing; may only talk to Cinder.
 */
#define LOG_MODULE "compute"
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/nova_internal.h"

int nova_volume_find(const char *id, char out[NOVA_ID_MAX], struct ct_error *err)
{
	char name[NOVA_NAME_MAX], path[256];
	nova_resource_name(id, name);
	snprintf(path, sizeof path, "/volumes?name=%s", name);
	json_t *list = nova_list("volumev3", path, "volumes", "listing volumes", err);
	if (!list)
		return -1;
	const char *vid = NULL;
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		if (n && !strcmp(n, name)) { /* the filter may be a prefix match */
			vid = json_string_value(json_object_get(v, "id"));
			break;
		}
	}
	int found = vid && strlen(vid) < NOVA_ID_MAX;
	if (found)
		snprintf(out, NOVA_ID_MAX, "%s", vid);
	json_decref(list);
	return found;
}

/* The volume's status and size; 404 when it is gone. */
static int show(const char *vid, char status[32], long *size, struct ct_error *err)
{
	char path[128];
	snprintf(path, sizeof path, "/volumes/%s", vid);
	json_t *reply;
	if (nova_call("volumev3", "GET", path, NULL, "showing a volume", NULL, NULL, &reply, err))
		return -1;
	json_t *vol = json_object_get(reply, "volume");
	snprintf(status, 32, "%s",
		 json_string_value(json_object_get(vol, "status"))
			 ? json_string_value(json_object_get(vol, "status"))
			 : "");
	*size = (long)json_integer_value(json_object_get(vol, "size"));
	json_decref(reply);
	return 0;
}

/* Until the status is one of want (NULL-terminated) and the size at least
 * min_size; "error*" ends it at once. */
static int wait_status(const char *vid, const char *const *want, long min_size, const char *doing,
		       struct ct_error *err)
{
	double deadline = nova_now() + (double)cfg_int(CFG_VOLUME_TIME_OUT);
	char status[32] = "";
	long size = 0;
	for (int attempt = 0;; attempt++) {
		if (show(vid, status, &size, err))
			return -1;
		for (size_t i = 0; want[i]; i++)
			if (!strcmp(status, want[i]) && size >= min_size)
				return 0;
		if (!strncmp(status, "error", 5))
			return ct_fail(err, 500, "Cinder: volume %s went to %s while %s.", vid,
				       status, doing);
		if (nova_now() > deadline)
			return ct_fail(
				err, 500,
				"Cinder: volume %s is still %s after %ld s (volume_time_out) "
				"while %s.",
				vid, status, cfg_int(CFG_VOLUME_TIME_OUT), doing);
		nova_poll_sleep(attempt);
	}
}

int nova_volume_ensure(const char *id, long size_gb, const char *type, char out[NOVA_ID_MAX],
		       struct ct_error *err)
{
	int found = nova_volume_find(id, out, err);
	if (found < 0)
		return -1;
	if (!found) {
		char name[NOVA_NAME_MAX], description[128];
		nova_resource_name(id, name);
		snprintf(description, sizeof description, "ctrove instance %s", id);
		json_t *body = json_pack("{s:{s:I,s:s,s:s}}", "volume", "size", (json_int_t)size_gb,
					 "name", name, "description", description);
		if (body && type && *type)
			json_object_set_new(json_object_get(body, "volume"), "volume_type",
					    json_string(type));
		json_t *reply = NULL;
		int rc = body ? nova_call("volumev3", "POST", "/volumes", body, "creating a volume",
					  NULL, NULL, &reply, err)
			      : ct_fail(err, 500, "out of memory");
		json_decref(body);
		if (rc)
			return -1;
		const char *vid =
			json_string_value(json_object_get(json_object_get(reply, "volume"), "id"));
		if (!vid || strlen(vid) >= NOVA_ID_MAX) {
			json_decref(reply);
			return ct_fail(err, 500, "Cinder: creating a volume answered no id.");
		}
		snprintf(out, NOVA_ID_MAX, "%s", vid);
		json_decref(reply);
	}
	/* in-use: a build run again after its server was made. */
	static const char *const ready[] = {"available", "in-use", NULL};
	return wait_status(out, ready, size_gb, "being created", err);
}

int nova_volume_extend(const char *id, long size_gb, struct ct_error *err)
{
	char vid[NOVA_ID_MAX], status[32];
	long size;
	int found = nova_volume_find(id, vid, err);
	if (found < 0)
		return -1;
	if (!found)
		return ct_fail(err, 404, "Instance %s has no Cinder volume.", id);
	if (show(vid, status, &size, err))
		return -1;
	if (size_gb <= size)
		return ct_fail(err, 400,
			       "The new volume 'size' must be larger than the current volume size "
			       "of '%ld'.",
			       size);
	json_t *body = json_pack("{s:{s:I}}", "os-extend", "new_size", (json_int_t)size_gb);
	char path[128];
	snprintf(path, sizeof path, "/volumes/%s/action", vid);
	int rc = body ? nova_call("volumev3", "POST", path, body, "extending a volume", NULL, NULL,
				  NULL, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(body);
	if (rc)
		return -1;
	const char *const back[] = {status, NULL};
	rc = wait_status(vid, back, size_gb, "being extended", err);
	if (!rc)
		log_info("volume %s extended from %ld to %ld GB", vid, size, size_gb);
	return rc;
}

int nova_volume_delete(const char *id, struct ct_error *err)
{
	char vid[NOVA_ID_MAX];
	int found = nova_volume_find(id, vid, err);
	if (found <= 0)
		return found;
	/* A volume is deleted once its server let it go. */
	static const char *const free_states[] = {"available", "error", "error_extending", NULL};
	struct ct_error held = {0};
	if (wait_status(vid, free_states, 0, "being detached", &held)) {
		if (held.status == 404) /* gone meanwhile */
			return 0;
		/* "went to error_*" is deletable all the same; still held is not. */
		if (!strstr(held.message, " went to ")) {
			*err = held;
			return -1;
		}
	}
	char path[128];
	snprintf(path, sizeof path, "/volumes/%s", vid);
	static const long ok[] = {202, 204, 404, 0};
	double deadline = nova_now() + (double)cfg_int(CFG_VOLUME_TIME_OUT);
	/* 400: its detachment is still being recorded (reserved, detaching). */
	for (int attempt = 0;; attempt++) {
		struct ct_error refused = {0};
		if (!nova_call("volumev3", "DELETE", path, NULL, "deleting a volume", ok, NULL,
			       NULL, &refused))
			break;
		if (refused.status != 400 || nova_now() > deadline) {
			*err = refused;
			return -1;
		}
		nova_poll_sleep(attempt + 10);
	}
	for (int attempt = 0;; attempt++) {
		char status[32];
		long size;
		struct ct_error gone = {0};
		if (show(vid, status, &size, &gone))
			return gone.status == 404 ? 0 : (*err = gone, -1);
		if (!strcmp(status, "error_deleting"))
			return ct_fail(err, 500, "Cinder: volume %s went to error_deleting.", vid);
		if (nova_now() > deadline)
			return ct_fail(err, 500,
				       "Cinder: volume %s is still %s %ld s after its deletion.",
				       vid, status, cfg_int(CFG_VOLUME_TIME_OUT));
		nova_poll_sleep(attempt);
	}
}
