/*
 * store_access_model.c — see store_access_model.h.
 */
#include "guest/store_access_model.h"

#include <stdio.h>
#include <string.h>

json_t *store_access_to_json(const struct store_access *a)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "kind", a->kind, "backups_dir", a->backups_dir,
			 "storage_url", a->storage_url, "auth_token", a->auth_token);
}

static int copy_field(const json_t *j, const char *key, char *out, size_t size,
		      struct ct_error *err)
{
	const json_t *v = json_object_get(j, key);
	if (!v) {
		out[0] = '\0';
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s || strlen(s) != json_string_length(v) || strlen(s) >= size)
		return ct_fail(err, 400, "store.%s must be a string of at most %zu bytes.", key,
			       size - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int store_access_from_json(const json_t *j, struct store_access *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	if (!json_is_object(j))
		return ct_fail(err, 400, "store must be an object.");
	if (copy_field(j, "kind", out->kind, sizeof out->kind, err) ||
	    copy_field(j, "backups_dir", out->backups_dir, sizeof out->backups_dir, err) ||
	    copy_field(j, "storage_url", out->storage_url, sizeof out->storage_url, err) ||
	    copy_field(j, "auth_token", out->auth_token, sizeof out->auth_token, err))
		return -1;
	return 0;
}
