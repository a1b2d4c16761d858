/*
 * datastores.c — /datastores, their versions, associated flavors and volume
 * types (spec trove-api.md §6.3, §7.3). Members see only active versions and
 * only datastores that have one; admins see everything plus the admin fields.
 */
#include <stdlib.h>
#include <string.h>

#include "api/flavors_view.h"
#include "api/handlers.h"
#include "db/datastores.h"
#include "db/flavors.h"

static json_t *split_list(const char *text)
{
	json_t *list = json_array();
	const char *p = text;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len)
			json_array_append_new(list, json_stringn(p, len));
		p += len + (comma ? 1 : 0);
	}
	return list;
}

static json_t *version_view(const struct api_request *req, const struct ds_version *v,
			    bool with_datastore)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "id", v->id, "name", v->name, "version",
			      v->version, "links", api_links(req, "datastores/versions", v->id));
	if (with_datastore)
		json_object_set_new(o, "datastore", json_string(v->datastore_id));
	if (req->who.is_admin) {
		json_object_set_new(o, "active", json_boolean(v->active));
		json_object_set_new(o, "packages", json_string(v->packages));
		json_object_set_new(o, "image",
				    v->image_is_null ? json_null() : json_string(v->image_id));
		json_object_set_new(o, "image_tags", split_list(v->image_tags));
	}
	return o;
}

/* versions: all versions of this datastore (already filtered for members). */
static json_t *datastore_view(const struct api_request *req, const struct datastore *d,
			      const struct ds_version *versions, size_t count)
{
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		if (!strcmp(versions[i].datastore_id, d->id))
			json_array_append_new(list, version_view(req, &versions[i], false));
	json_t *o = json_pack("{s:s,s:s,s:o,s:o}", "id", d->id, "name", d->name, "links",
			      api_links(req, "datastores", d->id), "versions", list);
	if (d->default_version_id[0])
		json_object_set_new(o, "default_version", json_string(d->default_version_id));
	return o;
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
	json_t *list = json_array();
	for (size_t i = 0; i < nstores; i++) {
		json_t *view = datastore_view(req, &stores[i], versions, nversions);
		if (members_view && json_array_size(json_object_get(view, "versions")) == 0)
			json_decref(view);
		else
			json_array_append_new(list, view);
	}
	free(stores);
	free(versions);
	return api_reply(resp, 200, json_pack("{s:o}", "datastores", list));
}

API_HANDLER(datastores_show)
{
	struct datastore d;
	struct ds_version *versions;
	size_t count;
	if (ds_find(req->params[0], &d, err) ||
	    dsv_list(d.id, !req->who.is_admin, &versions, &count, err))
		return -1;
	json_t *view = datastore_view(req, &d, versions, count);
	free(versions);
	return api_reply(resp, 200, json_pack("{s:o}", "datastore", view));
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
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, version_view(req, &versions[i], true));
	free(versions);
	return api_reply(resp, 200, json_pack("{s:o}", "versions", list));
}

API_HANDLER(datastore_versions_show)
{
	struct datastore d;
	struct ds_version v;
	if (ds_find(req->params[0], &d, err) || dsv_find(&d, req->params[1], &v, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:o}", "version", version_view(req, &v, true)));
}

API_HANDLER(datastore_versions_show_by_uuid)
{
	struct ds_version v;
	if (dsv_by_id(req->params[0], 400, &v, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:o}", "version", version_view(req, &v, true)));
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
