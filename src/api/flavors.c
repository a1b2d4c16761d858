/*
 * flavors.c — GET /flavors and /flavors/{id} from the local flavor catalog
 * (spec trove-api.md §6.2, §7.4). Also renders flavors for the datastore
 * version's associated-flavors route.
 */
#include <stdlib.h>
#include <string.h>

#include "api/flavors_view.h"
#include "api/handlers.h"
#include "db/flavors.h"

/* Trove gives "id" as an integer only for all-digit ids without a leading 0. */
static json_t *flavor_id_value(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > 18 || (id[0] == '0' && len > 1))
		return json_null();
	for (size_t i = 0; i < len; i++)
		if (id[i] < '0' || id[i] > '9')
			return json_null();
	return json_integer(strtoll(id, NULL, 10));
}

json_t *flavor_view(const struct api_request *req, const struct flavor *f)
{
	return json_pack("{s:o,s:o,s:s,s:I,s:I,s:I,s:I,s:s}", "id", flavor_id_value(f->id), "links",
			 api_links(req, "flavors", f->id), "name", f->name, "ram",
			 (json_int_t)f->ram, "vcpus", (json_int_t)f->vcpus, "disk",
			 (json_int_t)f->disk, "ephemeral", (json_int_t)f->ephemeral, "str_id",
			 f->id);
}

API_HANDLER(flavors_index)
{
	struct flavor *flavors;
	size_t count;
	if (flavor_list(&flavors, &count, err))
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, flavor_view(req, &flavors[i]));
	free(flavors);
	return api_reply(resp, 200, json_pack("{s:o}", "flavors", list));
}

API_HANDLER(flavors_show)
{
	struct flavor f;
	if (flavor_get(req->params[0], &f, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:o}", "flavor", flavor_view(req, &f)));
}
