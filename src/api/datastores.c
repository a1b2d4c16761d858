/*
 * datastores.c — /datastores, their versions, associated flavors and volume
 * types (spec trove-api.md §6.3, §7.3). Members see only active versions and
 * only datastores that have one; admins see everything plus the admin fields.
 * Written straight to JSON text (common/json_writer.h): GET /datastores is the
 * call every client makes first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/flavors_view.h"
#include "api/handlers.h"
#include "db/datastores.h"
#include "db/flavors.h"

/* "a,b,,c" as ["a","b","c"]. */
static void write_split_list(struct json_writer *w, const char *text)
{
	json_writer_array_begin(w);
	const char *p = text;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len) {
			char item[sizeof((struct ds_version *)0)->image_tags];
			snprintf(item, sizeof item, "%.*s", (int)len, p);
			json_writer_string(w, item);
		}
		p += len + (comma ? 1 : 0);
	}
	json_writer_array_end(w);
}

static void write_version(struct json_writer *w, const struct api_request *req,
			  const struct ds_version *v, bool with_datastore)
{
	json_writer_object_begin(w);
	json_writer_key_string(w, "id", v->id);
	json_writer_key_string(w, "name", v->name);
	json_writer_key_string(w, "version", v->version);
	api_write_links(w, req, "datastores/versions", v->id);
	if (with_datastore)
		json_writer_key_string(w, "datastore", v->datastore_id);
	if (req->who.is_admin) {
		json_writer_key(w, "active");
		json_writer_bool(w, v->active);
		json_writer_key_string(w, "packages", v->packages);
		json_writer_key_string(w, "image", v->image_is_null ? NULL : v->image_id);
		json_writer_key(w, "image_tags");
		write_split_list(w, v->image_tags);
	}
	json_writer_object_end(w);
}

static size_t count_versions_of(const struct datastore *d, const struct ds_version *versions,
				size_t count)
{
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		n += !strcmp(versions[i].datastore_id, d->id);
	return n;
}

/* versions: all versions of this datastore (already filtered for members). */
static void write_datastore(struct json_writer *w, const struct api_request *req,
			    const struct datastore *d, const struct ds_version *versions,
			    size_t count)
{
	json_writer_object_begin(w);
	json_writer_key_string(w, "id", d->id);
	json_writer_key_string(w, "name", d->name);
	api_write_links(w, req, "datastores", d->id);
	json_writer_key(w, "versions");
	json_writer_array_begin(w);
	for (size_t i = 0; i < count; i++)
		if (!strcmp(versions[i].datastore_id, d->id))
			write_version(w, req, &versions[i], false);
	json_writer_array_end(w);
	if (d->default_version_id[0])
		json_writer_key_string(w, "default_version", d->default_version_id);
	json_writer_object_end(w);
}

API_HANDLER(datastores_index)
{
	struct datastore *stores = NULL;
	struct ds_version *versions = NULL;
	size_t nstores, nversions;
	bool members_view = !req->who.is_admin;
	if (ds_list(&stores, &nstores, err) ||
	    dsv_list(NULL, members_view, &versions, &nversions, err)) {
		free(stores);
		return -1;
	}
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key(&w, "datastores");
	json_writer_array_begin(&w);
	for (size_t i = 0; i < nstores; i++)
		if (!members_view || count_versions_of(&stores[i], versions, nversions) > 0)
			write_datastore(&w, req, &stores[i], versions, nversions);
	json_writer_array_end(&w);
	json_writer_object_end(&w);
	free(stores);
	free(versions);
	return api_reply_written(resp, 200, &w, err);
}

API_HANDLER(datastores_show)
{
	struct datastore d;
	struct ds_version *versions;
	size_t count;
	if (ds_find(req->params[0], &d, err) ||
	    dsv_list(d.id, !req->who.is_admin, &versions, &count, err))
		return -1;
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key(&w, "datastore");
	write_datastore(&w, req, &d, versions, count);
	json_writer_object_end(&w);
	free(versions);
	return api_reply_written(resp, 200, &w, err);
}

API_HANDLER(datastores_delete)
{
	struct datastore d;
	if (ds_find(req->params[0], &d, err) || ds_delete(&d, err))
		return -1;
	return api_reply(resp, 202, NULL);
}

API_HANDLER(datastore_versions_index)
{
	struct datastore d;
	struct ds_version *versions;
	size_t count;
	if (ds_find(req->params[0], &d, err) ||
	    dsv_list(d.id, !req->who.is_admin, &versions, &count, err))
		return -1;
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key(&w, "versions");
	json_writer_array_begin(&w);
	for (size_t i = 0; i < count; i++)
		write_version(&w, req, &versions[i], true);
	json_writer_array_end(&w);
	json_writer_object_end(&w);
	free(versions);
	return api_reply_written(resp, 200, &w, err);
}

static int reply_version(struct api_response *resp, const struct api_request *req,
			 const struct ds_version *v, struct ct_error *err)
{
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key(&w, "version");
	write_version(&w, req, v, true);
	json_writer_object_end(&w);
	return api_reply_written(resp, 200, &w, err);
}

API_HANDLER(datastore_versions_show)
{
	struct datastore d;
	struct ds_version v;
	if (ds_find(req->params[0], &d, err) || dsv_find(&d, req->params[1], &v, err))
		return -1;
	return reply_version(resp, req, &v, err);
}

API_HANDLER(datastore_versions_show_by_uuid)
{
	struct ds_version v;
	if (dsv_by_id(req->params[0], 400, &v, err))
		return -1;
	return reply_version(resp, req, &v, err);
}

API_HANDLER(datastore_version_flavors)
{
	struct ds_version v;
	if (dsv_by_id(req->params[1], 400, &v, err))
		return -1;
	char(*allowed)[256] = NULL;
	size_t nallowed;
	struct flavor *flavors;
	size_t count;
	if (dsv_flavor_ids(v.id, &allowed, &nallowed, err))
		return -1;
	if (flavor_list(&flavors, &count, err)) {
		free(allowed);
		return -1;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++) {
		bool listed = nallowed == 0;
		for (size_t j = 0; j < nallowed && !listed; j++)
			listed = !strcmp(allowed[j], flavors[i].id);
		if (listed)
			json_array_append_new(list, flavor_view(req, &flavors[i]));
	}
	free(allowed);
	free(flavors);
	return api_reply(resp, 200, json_pack("{s:o}", "flavors", list));
}

API_HANDLER(datastore_version_volume_types)
{
	/* The local compute driver has no volume types (Cinder's job on a cloud). */
	struct ds_version v;
	if (dsv_by_id(req->params[1], 400, &v, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:[]}", "volume_types"));
}
