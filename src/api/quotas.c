/*
 * quotas.c — GET/PUT /mgmt/quotas/{project} (spec trove-api.md §6.7, §7.9).
 * Members may read their own project's usage; everything else is admin.
 */
#include <string.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "db/quotas.h"
#include "db/store.h"

API_HANDLER(quotas_show)
{
	const char *project = req->params[0];
	if (!req->who.is_admin && strcmp(project, req->who.project_id))
		return ct_fail(err, 403, "Operation not allowed for tenant %.64s.", project);
	struct quota_state q;
	if (quota_get(project, &q, err))
		return -1;
	json_t *list = json_array();
	for (int r = 0; r < QUOTA_COUNT; r++)
		json_array_append_new(list,
				      json_pack("{s:s,s:I,s:I,s:I}", "resource", quota_names[r],
						"in_use", (json_int_t)q.in_use[r], "reserved",
						(json_int_t)q.reserved[r], "limit",
						(json_int_t)q.limit[r]));
	return api_reply(resp, 200, json_pack("{s:o}", "quotas", list));
}

API_HANDLER(quotas_update)
{
	const char *project = req->params[0];
	static const char *const required[] = {"quotas", NULL};
	if (validate_object(req->json, "", err) || validate_required(req->json, "", required, err))
		return -1;
	json_t *quotas = json_object_get(req->json, "quotas");
	if (validate_object(quotas, "quotas", err))
		return -1;
	if (strlen(project) > 36)
		return ct_fail(err, 400, "Project id %.64s is too long.", project);
	/* Check everything before changing anything. */
	const char *key;
	json_t *value;
	json_object_foreach (quotas, key, value) {
		char path[VALIDATE_PATH_MAX];
		validate_path(path, "quotas", key);
		if (quota_resource_by_name(key) < 0)
			return ct_fail(err, 404, "Unknown quota resources ['%.60s'].", key);
		if (!json_is_integer(value)) {
			char repr[128];
			validate_repr(value, repr, sizeof repr);
			return validate_fail(err, path, "%s is not of type 'integer'", repr);
		}
		if (json_integer_value(value) < -1 || json_integer_value(value) > 2147483647)
			return ct_fail(err, 400,
				       "Quota limit for %s must be an integer from -1 to "
				       "2147483647.",
				       key);
	}
	if (db_begin(err))
		return -1;
	json_object_foreach (quotas, key, value) {
		if (quota_set_limit(project, (enum quota_resource)quota_resource_by_name(key),
				    (long)json_integer_value(value), err)) {
			db_rollback();
			return -1;
		}
	}
	if (db_commit(err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:O}", "quotas", quotas));
}
