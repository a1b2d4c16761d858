/*
 * routes.c — the route table of the Trove v1.0 API (spec trove-api.md §7).
 * Order matters only where a literal segment and '*' could both match: the
 * literal route comes first.
 */
#include "api/routes.h"

#include <string.h>

static const struct api_route routes[] = {
	/* Datastores and versions (§7.3). */
	{"GET", "datastores", datastores_index, ACCESS_PROJECT, "datastore:index"},
	{"GET", "datastores/versions/*", datastore_versions_show_by_uuid, ACCESS_PROJECT,
	 "datastore:version_show_by_uuid"},
	{"GET", "datastores/versions/*/parameters", parameters_index_by_version, ACCESS_PROJECT,
	 "configuration-parameter:index_by_version"},
	{"GET", "datastores/versions/*/parameters/*", parameters_show_by_version, ACCESS_PROJECT,
	 "configuration-parameter:show_by_version"},
	{"GET", "datastores/*", datastores_show, ACCESS_PROJECT, "datastore:show"},
	{"DELETE", "datastores/*", datastores_delete, ACCESS_ADMIN_RULE, "datastore:delete"},
	{"GET", "datastores/*/versions", datastore_versions_index, ACCESS_PROJECT,
	 "datastore:version_index"},
	{"GET", "datastores/*/versions/*", datastore_versions_show, ACCESS_PROJECT,
	 "datastore:version_show"},
	{"GET", "datastores/*/versions/*/flavors", datastore_version_flavors, ACCESS_PROJECT,
	 "datastore:list_associated_flavors"},
	{"GET", "datastores/*/versions/*/volume-types", datastore_version_volume_types,
	 ACCESS_PROJECT, "datastore:list_associated_volume_types"},
	{"GET", "datastores/*/versions/*/parameters", parameters_index, ACCESS_PROJECT,
	 "configuration-parameter:index"},
	{"GET", "datastores/*/versions/*/parameters/*", parameters_show, ACCESS_PROJECT,
	 "configuration-parameter:show"},

	/* Flavors and limits (§7.4). */
	{"GET", "flavors", flavors_index, ACCESS_PROJECT, "flavor:index"},
	{"GET", "flavors/*", flavors_show, ACCESS_PROJECT, "flavor:show"},
	{"GET", "limits", limits_index, ACCESS_PROJECT, "limits:index"},

	/* Instances (§7.1): listing and lookup work; the rest lands with the
	 * instances issue. */
	{"GET", "instances", instances_index, ACCESS_PROJECT, "instance:index"},
	{"GET", "instances/detail", instances_index, ACCESS_PROJECT, "instance:detail"},
	{"POST", "instances", instances_create, ACCESS_PROJECT, "instance:create"},
	{"GET", "instances/*", instances_show, ACCESS_PROJECT, "instance:show"},
	{"PUT", "instances/*", instances_update, ACCESS_PROJECT, "instance:update"},
	{"PATCH", "instances/*", instances_update, ACCESS_PROJECT, "instance:update"},
	{"DELETE", "instances/*", instances_delete, ACCESS_PROJECT, "instance:delete"},
	{"POST", "instances/*/action", instances_action, ACCESS_PROJECT, "instance:action"},
	{"GET", "instances/*/backups", not_implemented, ACCESS_PROJECT, "instance:backups"},
	{"GET", "instances/*/configuration", not_implemented, ACCESS_PROJECT,
	 "instance:configuration"},
	{"GET", "instances/*/log", not_implemented, ACCESS_PROJECT, "instance:guest_log_list"},
	{"POST", "instances/*/log", not_implemented, ACCESS_PROJECT, "instance:guest_log_action"},
	{"GET", "instances/*/modules", not_implemented, ACCESS_PROJECT, "instance:module_list"},
	{"POST", "instances/*/modules", not_implemented, ACCESS_PROJECT, "instance:module_apply"},
	{"DELETE", "instances/*/modules/*", not_implemented, ACCESS_PROJECT,
	 "instance:module_remove"},
	{"GET", "instances/*/databases", databases_index, ACCESS_PROJECT,
	 "instance:extension:database:index"},
	{"POST", "instances/*/databases", databases_create, ACCESS_PROJECT,
	 "instance:extension:database:create"},
	{"GET", "instances/*/databases/*", not_implemented, ACCESS_PROJECT,
	 "instance:extension:database:show"},
	{"DELETE", "instances/*/databases/*", databases_delete, ACCESS_PROJECT,
	 "instance:extension:database:delete"},
	{"GET", "instances/*/users", users_index, ACCESS_PROJECT, "instance:extension:user:index"},
	{"POST", "instances/*/users", users_create, ACCESS_PROJECT,
	 "instance:extension:user:create"},
	{"PUT", "instances/*/users", users_update_all, ACCESS_PROJECT,
	 "instance:extension:user:update_all"},
	{"PUT", "instances/*/users/update_all", users_update_all, ACCESS_PROJECT,
	 "instance:extension:user:update_all"},
	{"PUT", "instances/*/users/*/update", users_update, ACCESS_PROJECT,
	 "instance:extension:user:update"},
	{"GET", "instances/*/users/*", users_show, ACCESS_PROJECT, "instance:extension:user:show"},
	{"PUT", "instances/*/users/*", users_update, ACCESS_PROJECT,
	 "instance:extension:user:update"},
	{"DELETE", "instances/*/users/*", users_delete, ACCESS_PROJECT,
	 "instance:extension:user:delete"},
	{"GET", "instances/*/users/*/databases", user_access_index, ACCESS_PROJECT,
	 "instance:extension:user_access:index"},
	{"PUT", "instances/*/users/*/databases", user_access_update, ACCESS_PROJECT,
	 "instance:extension:user_access:update"},
	{"DELETE", "instances/*/users/*/databases/*", user_access_delete, ACCESS_PROJECT,
	 "instance:extension:user_access:delete"},
	{"GET", "instances/*/root", root_index, ACCESS_PROJECT, "instance:extension:root:index"},
	{"POST", "instances/*/root", root_create, ACCESS_PROJECT, "instance:extension:root:create"},
	{"DELETE", "instances/*/root", root_delete, ACCESS_PROJECT,
	 "instance:extension:root:delete"},

	/* Backups, configuration groups, modules, clusters (§7.5–§7.8). */
	{"GET", "backups", not_implemented, ACCESS_PROJECT, "backup:index"},
	{"POST", "backups", not_implemented, ACCESS_PROJECT, "backup:create"},
	{"GET", "backups/*", not_implemented, ACCESS_PROJECT, "backup:show"},
	{"DELETE", "backups/*", not_implemented, ACCESS_PROJECT, "backup:delete"},
	{"GET", "backup_strategies", not_implemented, ACCESS_PROJECT, "backup_strategy:index"},
	{"POST", "backup_strategies", not_implemented, ACCESS_PROJECT, "backup_strategy:create"},
	{"DELETE", "backup_strategies", not_implemented, ACCESS_PROJECT, "backup_strategy:delete"},
	{"GET", "configurations", not_implemented, ACCESS_PROJECT, "configuration:index"},
	{"POST", "configurations", not_implemented, ACCESS_PROJECT, "configuration:create"},
	{"GET", "configurations/*", not_implemented, ACCESS_PROJECT, "configuration:show"},
	{"GET", "configurations/*/instances", not_implemented, ACCESS_PROJECT,
	 "configuration:instances"},
	{"PUT", "configurations/*", not_implemented, ACCESS_PROJECT, "configuration:update"},
	{"PATCH", "configurations/*", not_implemented, ACCESS_PROJECT, "configuration:edit"},
	{"DELETE", "configurations/*", not_implemented, ACCESS_PROJECT, "configuration:delete"},
	{"GET", "modules", not_implemented, ACCESS_PROJECT, "module:index"},
	{"POST", "modules", not_implemented, ACCESS_PROJECT, "module:create"},
	{"GET", "modules/*", not_implemented, ACCESS_PROJECT, "module:show"},
	{"PUT", "modules/*", not_implemented, ACCESS_PROJECT, "module:update"},
	{"DELETE", "modules/*", not_implemented, ACCESS_PROJECT, "module:delete"},
	{"GET", "modules/*/instances", not_implemented, ACCESS_PROJECT, "module:instances"},
	{"PUT", "modules/*/instances", not_implemented, ACCESS_PROJECT, "module:reapply"},
	{"GET", "clusters", not_implemented, ACCESS_PROJECT, "cluster:index"},
	{"POST", "clusters", not_implemented, ACCESS_PROJECT, "cluster:create"},
	{"GET", "clusters/*", not_implemented, ACCESS_PROJECT, "cluster:show"},
	{"POST", "clusters/*", not_implemented, ACCESS_PROJECT, "cluster:action"},
	{"DELETE", "clusters/*", not_implemented, ACCESS_PROJECT, "cluster:delete"},
	{"GET", "clusters/*/instances/*", not_implemented, ACCESS_PROJECT, "cluster:show_instance"},
	{"GET", "clusters/*/root", not_implemented, ACCESS_PROJECT, "cluster:extension:root:index"},
	{"POST", "clusters/*/root", not_implemented, ACCESS_PROJECT,
	 "cluster:extension:root:create"},

	/* Management (§7.9). */
	{"GET", "mgmt/datastore-versions", mgmt_versions_index, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:index"},
	{"POST", "mgmt/datastore-versions", mgmt_versions_create, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:create"},
	{"GET", "mgmt/datastore-versions/*", mgmt_versions_show, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:show"},
	{"PATCH", "mgmt/datastore-versions/*", mgmt_versions_update, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:edit"},
	{"DELETE", "mgmt/datastore-versions/*", mgmt_versions_delete, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:delete"},
	{"GET", "mgmt/datastores/versions/*/parameters", mgmt_parameters_index, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:index"},
	{"POST", "mgmt/datastores/versions/*/parameters", mgmt_parameters_create, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:create"},
	{"GET", "mgmt/datastores/versions/*/parameters/*", mgmt_parameters_show, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:show"},
	{"PUT", "mgmt/datastores/versions/*/parameters/*", mgmt_parameters_update, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:update"},
	{"DELETE", "mgmt/datastores/versions/*/parameters/*", mgmt_parameters_delete,
	 ACCESS_ADMIN_CTX, "mgmt:configuration-parameter:delete"},
	/* Own project for members, any project for admins: checked in the handler. */
	{"GET", "mgmt/quotas/*", quotas_show, ACCESS_PROJECT, "mgmt:quota:show"},
	{"PUT", "mgmt/quotas/*", quotas_update, ACCESS_ADMIN_CTX, "mgmt:quota:update"},
	{"GET", "mgmt/instances", not_implemented, ACCESS_ADMIN_CTX, "mgmt:instance:index"},
	{"GET", "mgmt/instances/*", not_implemented, ACCESS_ADMIN_CTX, "mgmt:instance:show"},
	{"POST", "mgmt/instances/*/action", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:action"},
	{"GET", "mgmt/instances/*/root", not_implemented, ACCESS_ADMIN_CTX, "mgmt:instance:root"},
	{"GET", "mgmt/instances/*/diagnostics", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:diagnostics"},
	{"GET", "mgmt/instances/*/hwinfo", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:hwinfo"},
	{"GET", "mgmt/instances/*/rpc_ping", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:rpc_ping"},
	{"POST", "mgmt/instances/*/upgrade", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:upgrade"},
	{"GET", "mgmt/clusters", not_implemented, ACCESS_ADMIN_CTX, "mgmt:cluster:index"},
	{"GET", "mgmt/clusters/*", not_implemented, ACCESS_ADMIN_CTX, "mgmt:cluster:show"},
	{"POST", "mgmt/clusters/*/action", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:cluster:action"},
};

#define ROUTE_COUNT ((int)(sizeof routes / sizeof routes[0]))

const struct api_route *routes_table(int *count)
{
	*count = ROUTE_COUNT;
	return routes;
}

/* Compare one pattern with the segments; captures '*' segments on success. */
static bool pattern_matches(const char *pattern, char **segments, int nsegments,
			    struct api_request *req)
{
	int seg = 0;
	int nparams = 0;
	const char *p = pattern;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (seg >= nsegments)
			return false;
		if (len == 1 && *p == '*') {
			if (nparams >= API_MAX_PARAMS)
				return false;
			req->params[nparams++] = segments[seg];
		} else if (strlen(segments[seg]) != len || strncmp(segments[seg], p, len)) {
			return false;
		}
		seg++;
		p = end ? end + 1 : p + len;
	}
	if (seg != nsegments)
		return false;
	req->nparams = nparams;
	return true;
}

const struct api_route *routes_match(struct api_request *req, const char *method, char **segments,
				     int nsegments)
{
	for (int i = 0; i < ROUTE_COUNT; i++)
		if (!strcmp(routes[i].method, method) &&
		    pattern_matches(routes[i].pattern, segments, nsegments, req))
			return &routes[i];
	return NULL;
}

void routes_print(FILE *out)
{
	static const char *const access_names[] = {"project member", "admin (401)",
						   "admin policy (403)"};
	fprintf(out, "# Trove v1.0 routes served by ctrove\n\n"
		     "Generated by `ctrove --help-routes` from `src/api/routes.c`. Paths are below "
		     "`/v1.0/{project}/`; `*` is one path segment. Routes marked *501* answer "
		     "Trove's `notImplemented` fault until their issue lands.\n\n"
		     "| method | path | access | policy rule | state |\n|---|---|---|---|---|\n");
	for (int i = 0; i < ROUTE_COUNT; i++)
		fprintf(out, "| %s | `%s` | %s | `%s` | %s |\n", routes[i].method,
			routes[i].pattern, access_names[routes[i].access], routes[i].rule,
			routes[i].handler == not_implemented ? "*501*" : "implemented");
}

bool routes_wait_on_guest(const char *path)
{
	/* /v1.0/<project>/instances/<id>/<sub>...: the sub-resources that
	 * instance_guest.c serves by calling the guest. */
	static const char *const subs[] = {"databases", "users", "root"};
	const char *p = path;
	for (int segment = 0; segment < 4; segment++) {
		p = strchr(p + 1, '/');
		if (!p)
			return false;
		if (segment == 1 && strncmp(p, "/instances/", 11))
			return false;
	}
	p++;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		size_t n = strlen(subs[i]);
		if (!strncmp(p, subs[i], n) && (p[n] == '\0' || p[n] == '/'))
			return true;
	}
	return false;
}
