/*
 * mgmt_datastore_versions.c — the admin datastore-version API,
 * /mgmt/datastore-versions (spec trove-api.md §6.3 "Mgmt version", §8.5).
 * Create and update answer 202 with an empty body: the CLI breaks on any body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "db/datastores.h"
#include "db/store.h"

/* Comma-joined text as a list; [""] when empty, as Trove's mgmt view shows. */
static json_t *mgmt_list(const char *text)
{
	json_t *list = json_array();
	const char *p = text;
	do {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		json_array_append_new(list, json_stringn(p, len));
		p += len + (comma ? 1 : 0);
		if (!comma)
			break;
	} while (1);
	return list;
}

static json_t *mgmt_view(const struct ds_version *v)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:b}", "id", v->id, "name",
			 v->name, "version", v->version, "datastore_id", v->datastore_id,
			 "datastore_name", v->datastore_name, "datastore_manager", v->manager,
			 "image", v->image_is_null ? json_null() : json_string(v->image_id),
			 "image_tags", mgmt_list(v->image_tags), "packages", mgmt_list(v->packages),
			 "active", v->active, "default", v->is_default);
}

/* Join a validated string array with commas into out; 400 when too long. */
static int join_list(const json_t *list, char *out, size_t size, const char *what,
		     struct ct_error *err)
{
	size_t used = 0;
	out[0] = '\0';
	size_t i;
	const json_t *item;
	json_array_foreach (list, i, item) {
		int n = snprintf(out + used, size - used, "%s%s", i ? "," : "",
				 json_string_value(item));
		if (n < 0 || (size_t)n >= size - used)
			return ct_fail(err, 400, "The %s are too long (%zu characters at most).",
				       what, size - 1);
		used += (size_t)n;
	}
	return 0;
}

/* Shared checks of create and update; `path` prefixes messages. */
static int check_fields(const json_t *body, const char *path, struct ct_error *err)
{
	char p[VALIDATE_PATH_MAX];
	static const char *const strings[] = {"name", "datastore_name", "datastore_manager",
					      "version", NULL};
	for (const char *const *k = strings; *k; k++) {
		json_t *v = json_object_get(body, *k);
		validate_path(p, path, *k);
		if (v && validate_non_empty_string(v, p, err))
			return -1;
	}
	static const char *const booleans[] = {"active", "default", NULL};
	for (const char *const *k = booleans; *k; k++) {
		json_t *v = json_object_get(body, *k);
		validate_path(p, path, *k);
		if (v && validate_boolean(v, p, err))
			return -1;
	}
	json_t *image = json_object_get(body, "image");
	validate_path(p, path, "image");
	if (image && validate_uuid(image, p, err))
		return -1;
	json_t *tags = json_object_get(body, "image_tags");
	validate_path(p, path, "image_tags");
	if (tags && validate_string_array(tags, p, 5, 1, 20, err))
		return -1;
	json_t *packages = json_object_get(body, "packages");
	validate_path(p, path, "packages");
	if (packages && validate_string_array(packages, p, 0, 1, 255, err))
		return -1;
	return 0;
}

API_HANDLER(mgmt_versions_index)
{
	struct ds_version *versions;
	size_t count;
	if (dsv_list(NULL, false, &versions, &count, err))
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, mgmt_view(&versions[i]));
	free(versions);
	return api_reply(resp, 200, json_pack("{s:o}", "versions", list));
}

API_HANDLER(mgmt_versions_create)
{
	static const char *const top[] = {"version", NULL};
	static const char *const required[] = {"name", "datastore_name", "datastore_manager",
					       "active", NULL};
	static const char *const allowed[] = {
		"name",	    "datastore_name", "datastore_manager", "image",   "image_tags",
		"packages", "active",	      "default",	   "version", NULL};
	if (validate_object(req->json, "", err) || validate_required(req->json, "", top, err) ||
	    validate_only(req->json, "", top, err))
		return -1;
	json_t *body = json_object_get(req->json, "version");
	if (validate_object(body, "version", err) ||
	    validate_required(body, "version", required, err) ||
	    validate_only(body, "version", allowed, err) || check_fields(body, "version", err))
		return -1;

	json_t *image = json_object_get(body, "image");
	json_t *tags = json_object_get(body, "image_tags");
	if (!image && (!tags || json_array_size(tags) == 0))
		return ct_fail(err, 400, "Image must be specified.");

	struct ds_version v;
	memset(&v, 0, sizeof v);
	snprintf(v.name, sizeof v.name, "%s", json_string_value(json_object_get(body, "name")));
	const char *number = json_string_value(json_object_get(body, "version"));
	snprintf(v.version, sizeof v.version, "%s", number ? number : v.name);
	snprintf(v.manager, sizeof v.manager, "%s",
		 json_string_value(json_object_get(body, "datastore_manager")));
	v.image_is_null = !image;
	if (image)
		snprintf(v.image_id, sizeof v.image_id, "%s", json_string_value(image));
	if (tags && join_list(tags, v.image_tags, sizeof v.image_tags, "image tags", err))
		return -1;
	json_t *packages = json_object_get(body, "packages");
	if (packages && join_list(packages, v.packages, sizeof v.packages, "packages", err))
		return -1;
	v.active = json_is_true(json_object_get(body, "active"));

	struct datastore d;
	if (db_begin(err))
		return -1;
	if (ds_ensure(json_string_value(json_object_get(body, "datastore_name")), &d, err))
		goto fail;
	snprintf(v.datastore_id, sizeof v.datastore_id, "%s", d.id);
	if (dsv_create(&v, err))
		goto fail;
	if (json_is_true(json_object_get(body, "default")) && ds_set_default(d.id, v.id, err))
		goto fail;
	if (db_commit(err))
		goto fail;
	return api_reply(resp, 202, NULL);
fail:
	db_rollback();
	return -1;
}

static int load_by_id(const char *id, struct ds_version *v, struct ct_error *err)
{
	return dsv_by_id(id, 400, v, err);
}

API_HANDLER(mgmt_versions_show)
{
	struct ds_version v;
	if (load_by_id(req->params[0], &v, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:o}", "version", mgmt_view(&v)));
}

API_HANDLER(mgmt_versions_update)
{
	static const char *const allowed[] = {
		"name",	  "datastore_manager", "image", "image_tags", "packages",
		"active", "default",	       NULL};
	json_t *body = req->json;
	if (validate_object(body, "", err) || validate_only(body, "", allowed, err) ||
	    check_fields(body, "", err))
		return -1;
	struct ds_version v;
	if (load_by_id(req->params[0], &v, err))
		return -1;
	json_t *value;
	if ((value = json_object_get(body, "name")))
		snprintf(v.name, sizeof v.name, "%s", json_string_value(value));
	if ((value = json_object_get(body, "datastore_manager")))
		snprintf(v.manager, sizeof v.manager, "%s", json_string_value(value));
	if ((value = json_object_get(body, "image"))) {
		snprintf(v.image_id, sizeof v.image_id, "%s", json_string_value(value));
		v.image_is_null = false;
	}
	if ((value = json_object_get(body, "image_tags"))) {
		if (join_list(value, v.image_tags, sizeof v.image_tags, "image tags", err))
			return -1;
		if (!json_object_get(body, "image")) {
			/* Tags alone replace the image id, as Trove does. */
			v.image_id[0] = '\0';
			v.image_is_null = false;
		}
	}
	if ((value = json_object_get(body, "packages")) &&
	    join_list(value, v.packages, sizeof v.packages, "packages", err))
		return -1;
	if ((value = json_object_get(body, "active")))
		v.active = json_is_true(value);
	if (db_begin(err))
		return -1;
	if (dsv_save(&v, err))
		goto fail;
	if ((value = json_object_get(body, "default"))) {
		if (json_is_true(value) && ds_set_default(v.datastore_id, v.id, err))
			goto fail;
		if (json_is_false(value) && v.is_default &&
		    ds_set_default(v.datastore_id, NULL, err))
			goto fail;
	}
	if (db_commit(err))
		goto fail;
	return api_reply(resp, 202, NULL);
fail:
	db_rollback();
	return -1;
}

API_HANDLER(mgmt_versions_delete)
{
	struct ds_version v;
	if (load_by_id(req->params[0], &v, err) || dsv_delete(&v, err))
		return -1;
	return api_reply(resp, 202, NULL);
}
