/*
 * backup_strategies.c — POST/GET/DELETE /backup_strategies (spec
 * trove-api.md §6.4, §7.5): a project's (instance_id "") or one instance's
 * default container for new backups. Upsert per project and instance; listing
 * or deleting another project's needs admin. May not talk to guests or the store.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/backups_view.h"
#include "api/handlers.h"
#include "api/validate.h"
#include "common/log.h"
#include "db/backups.h"

/* The project a list or delete is about: ?project_id, else the caller's;
 * another one needs admin (Trove's TroveOperationAuthError, 403). */
static int target_project(const struct api_request *req, const char **out, struct ct_error *err)
{
	const char *p = api_query(req, "project_id");
	*out = p && *p ? p : req->project;
	if (strcmp(*out, req->project) && !req->who.is_admin)
		return ct_fail(err, 403, "Operation not allowed for tenant %.64s.", req->project);
	return 0;
}

API_HANDLER(backup_strategies_create)
{
	static const char *const top[] = {"backup_strategy", NULL};
	static const char *const required[] = {"swift_container", NULL};
	static const char *const allowed[] = {"instance_id", "swift_container", NULL};
	if (validate_object(req->json, "", err) || validate_required(req->json, "", top, err))
		return -1;
	const json_t *body = json_object_get(req->json, "backup_strategy");
	if (validate_object(body, "backup_strategy", err) ||
	    validate_only(body, "backup_strategy", allowed, err) ||
	    validate_required(body, "backup_strategy", required, err) ||
	    validate_non_empty_string(json_object_get(body, "swift_container"),
				      "backup_strategy['swift_container']", err))
		return -1;
	const json_t *instance = json_object_get(body, "instance_id");
	if (instance && validate_uuid(instance, "backup_strategy['instance_id']", err))
		return -1;
	struct backup_strategy s = {.backend = "swift"};
	snprintf(s.tenant_id, sizeof s.tenant_id, "%s", req->project);
	snprintf(s.instance_id, sizeof s.instance_id, "%s",
		 instance ? json_string_value(instance) : "");
	const char *container = json_string_value(json_object_get(body, "swift_container"));
	if (strlen(container) >= sizeof s.swift_container)
		return ct_fail(err, 400, "The value is not allowed: %.255s.", container);
	snprintf(s.swift_container, sizeof s.swift_container, "%s", container);
	if (backup_strategy_put(&s, err))
		return -1;
	log_info("backup strategy of project %s instance '%s': container %s", s.tenant_id,
		 s.instance_id, s.swift_container);
	return api_reply(resp, 202,
			 json_pack("{s:o}", "backup_strategy", backup_strategy_view(&s)));
}

API_HANDLER(backup_strategies_index)
{
	const char *project;
	if (target_project(req, &project, err))
		return -1;
	const char *instance = api_query(req, "instance_id");
	struct backup_strategy *rows = NULL;
	size_t n = 0;
	if (backup_strategy_list(project, instance, &rows, &n, err))
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, backup_strategy_view(&rows[i]));
	free(rows);
	return api_reply(resp, 200, json_pack("{s:o}", "backup_strategies", list));
}

API_HANDLER(backup_strategies_delete)
{
	const char *project;
	if (target_project(req, &project, err))
		return -1;
	const char *instance = api_query(req, "instance_id");
	if (backup_strategy_delete(project, instance ? instance : "", err))
		return -1;
	return api_reply(resp, 202, NULL);
}
