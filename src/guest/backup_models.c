/*
 * backup_models.c — see backup_models.h. The agent reads create_backup's and
 * prepare's backup_info here and nowhere else.
 */
#include "guest/backup_models.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* --- parser ----------------------------------------------------------------- */

/* A string field into dst; null or absent is "" unless required. */
static int text(const json_t *obj, const char *what, const char *key, bool required, char *dst,
		size_t size, struct ct_error *err)
{
	const json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return ct_fail(err, 400, "%s: '%s' is missing.", what, key);
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return ct_fail(err, 400, "%s: '%s' is not a string.", what, key);
	size_t len = json_string_length(v);
	if (len >= size)
		return ct_fail(err, 400, "%s: '%s' is longer than %zu bytes.", what, key, size - 1);
	if (memchr(json_string_value(v), '\0', len))
		return ct_fail(err, 400, "%s: '%s' holds a NUL character.", what, key);
	if (required && len == 0)
		return ct_fail(err, 400, "%s: '%s' is empty.", what, key);
	memcpy(dst, json_string_value(v), len + 1);
	return 0;
}

static int backup_type(const char *what, const char *key, const char *value, struct ct_error *err)
{
	if (strcmp(value, "full") && strcmp(value, "incremental"))
		return ct_fail(err, 400, "%s: '%s' must be full or incremental.", what, key);
	return 0;
}

int guest_store_access_from_json(const json_t *j, struct store_access *out, struct ct_error *err)
{
	const char *what = "store";
	memset(out, 0, sizeof *out);
	if (!json_is_object(j))
		return ct_fail(err, 400, "%s is missing or not an object.", what);
	if (text(j, what, "kind", true, out->kind, sizeof out->kind, err) ||
	    text(j, what, "backups_dir", false, out->backups_dir, sizeof out->backups_dir, err) ||
	    text(j, what, "storage_url", false, out->storage_url, sizeof out->storage_url, err) ||
	    text(j, what, "auth_token", false, out->auth_token, sizeof out->auth_token, err)) {
		explicit_bzero(out, sizeof *out);
		return -1;
	}
	/* Swift's numbers (absent: 0, which its opener refuses with 400). */
	const char *numbers[] = {"segment_max_size", "timeout", "list_page_size"};
	json_int_t values[3] = {0};
	for (size_t i = 0; i < 3; i++) {
		const json_t *v = json_object_get(j, numbers[i]);
		if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
			  json_integer_value(v) > LONG_MAX)) {
			explicit_bzero(out, sizeof *out);
			return ct_fail(err, 400, "%s: '%s' is not a non-negative integer.", what,
				       numbers[i]);
		}
		values[i] = v ? json_integer_value(v) : 0;
	}
	out->segment_max_size = (uint64_t)values[0];
	out->timeout = (long)values[1];
	out->list_page_size = (long)values[2];
	return 0;
}

static int ref_from_json(const json_t *j, const char *what, bool link, struct guest_backup_ref *r,
			 struct ct_error *err)
{
	if (!json_is_object(j))
		return ct_fail(err, 400, "%s is not an object.", what);
	if (text(j, what, "id", true, r->id, sizeof r->id, err) ||
	    text(j, what, "location", true, r->location, sizeof r->location, err) ||
	    text(j, what, "checksum", false, r->checksum, sizeof r->checksum, err))
		return -1;
	if (!link)
		return 0;
	if (text(j, what, "backup_type", true, r->backup_type, sizeof r->backup_type, err) ||
	    backup_type(what, "backup_type", r->backup_type, err) ||
	    text(j, what, "encryption_key", true, r->encryption_key, sizeof r->encryption_key, err))
		return -1;
	return 0;
}

int guest_backup_info_from_json(const json_t *j, struct guest_backup_info *out,
				struct ct_error *err)
{
	const char *what = "backup_info";
	memset(out, 0, sizeof *out);
	if (!json_is_object(j))
		return ct_fail(err, 400, "backup_info is missing or not an object.");
	const json_t *parent = json_object_get(j, "parent");
	int rc = text(j, what, "id", true, out->id, sizeof out->id, err) ||
				 text(j, what, "name", false, out->name, sizeof out->name, err) ||
				 text(j, what, "description", false, out->description,
				      sizeof out->description, err) ||
				 text(j, what, "instance_id", true, out->instance_id,
				      sizeof out->instance_id, err) ||
				 text(j, what, "backup_type", true, out->backup_type,
				      sizeof out->backup_type, err) ||
				 backup_type(what, "backup_type", out->backup_type, err) ||
				 text(j, what, "datastore", true, out->datastore,
				      sizeof out->datastore, err) ||
				 text(j, what, "datastore_version", false, out->datastore_version,
				      sizeof out->datastore_version, err) ||
				 text(j, what, "swift_container", false, out->swift_container,
				      sizeof out->swift_container, err) ||
				 text(j, what, "location", true, out->location,
				      sizeof out->location, err) ||
				 text(j, what, "encryption_key", true, out->encryption_key,
				      sizeof out->encryption_key, err) ||
				 guest_store_access_from_json(json_object_get(j, "store"),
							      &out->store, err)
			 ? -1
			 : 0;
	if (!rc && parent && !json_is_null(parent)) {
		out->has_parent = true;
		rc = ref_from_json(parent, "backup_info.parent", false, &out->parent, err);
	}
	if (!rc && !strcmp(out->backup_type, "incremental") != out->has_parent)
		rc = ct_fail(
			err, 400,
			"backup_info: an incremental backup needs a parent, a full one has none.");
	if (rc)
		guest_backup_info_wipe(out);
	return rc;
}

int guest_restore_plan_from_json(const json_t *j, struct guest_restore_plan *out,
				 struct ct_error *err)
{
	const char *what = "backup_info";
	memset(out, 0, sizeof *out);
	if (!json_is_object(j))
		return ct_fail(err, 400, "backup_info is missing or not an object.");
	const json_t *chain = json_object_get(j, "chain");
	int rc = text(j, what, "id", true, out->id, sizeof out->id, err) ||
				 text(j, what, "instance_id", false, out->instance_id,
				      sizeof out->instance_id, err) ||
				 text(j, what, "location", true, out->location,
				      sizeof out->location, err) ||
				 text(j, what, "type", false, out->type, sizeof out->type, err) ||
				 text(j, what, "checksum", false, out->checksum,
				      sizeof out->checksum, err) ||
				 guest_store_access_from_json(json_object_get(j, "store"),
							      &out->store, err)
			 ? -1
			 : 0;
	if (!rc && (!json_is_array(chain) || json_array_size(chain) == 0))
		rc = ct_fail(err, 400, "backup_info: 'chain' must be a non-empty list.");
	if (!rc && json_array_size(chain) > GUEST_BACKUP_CHAIN_MAX)
		rc = ct_fail(err, 400, "backup_info: 'chain' is longer than %d backups.",
			     GUEST_BACKUP_CHAIN_MAX);
	for (size_t i = 0; !rc && i < json_array_size(chain); i++) {
		char link_what[64];
		snprintf(link_what, sizeof link_what, "backup_info.chain[%zu]", i);
		rc = ref_from_json(json_array_get(chain, i), link_what, true, &out->chain[i], err);
		out->n_chain = i + 1;
		if (!rc && (i == 0) != !strcmp(out->chain[i].backup_type, "full"))
			rc = ct_fail(err, 400,
				     "backup_info: the chain must be one full backup and then "
				     "incrementals.");
	}
	if (!rc && strcmp(out->chain[out->n_chain - 1].id, out->id))
		rc = ct_fail(err, 400,
			     "backup_info: the chain does not end with the backup itself.");
	if (rc)
		guest_restore_plan_wipe(out);
	return rc;
}

void guest_backup_info_wipe(struct guest_backup_info *b)
{
	explicit_bzero(b, sizeof *b);
}

void guest_restore_plan_wipe(struct guest_restore_plan *r)
{
	explicit_bzero(r, sizeof *r);
}
