/*
 * routes.c — the route table of the Trove v1.0 API (spec trove-api.md §7).
 * Order matters only where a literal segment and '*' could both match: the
 * literal route comes first.
 */
#include "api/routes.h"

#include <pthread.h>
#include <string.h>

static const struct api_route routes[] = {
	/* Datastores and versions (§7.3). */
	{"GET", "datastores", datastores_index, ACCESS_PROJECT, "datastore:index", WAIT_NONE},
	{"GET", "datastores/versions/*", datastore_versions_show_by_uuid, ACCESS_PROJECT,
	 "datastore:version_show_by_uuid", WAIT_NONE},
	{"GET", "datastores/versions/*/parameters", parameters_index_by_version, ACCESS_PROJECT,
	 "configuration-parameter:index_by_version", WAIT_NONE},
	{"GET", "datastores/versions/*/parameters/*", parameters_show_by_version, ACCESS_PROJECT,
	 "configuration-parameter:show_by_version", WAIT_NONE},
	{"GET", "datastores/*", datastores_show, ACCESS_PROJECT, "datastore:show", WAIT_NONE},
	{"DELETE", "datastores/*", datastores_delete, ACCESS_ADMIN_RULE, "datastore:delete",
	 WAIT_NONE},
	{"GET", "datastores/*/versions", datastore_versions_index, ACCESS_PROJECT,
	 "datastore:version_index", WAIT_NONE},
	{"GET", "datastores/*/versions/*", datastore_versions_show, ACCESS_PROJECT,
	 "datastore:version_show", WAIT_NONE},
	{"GET", "datastores/*/versions/*/flavors", datastore_version_flavors, ACCESS_PROJECT,
	 "datastore:list_associated_flavors", WAIT_NONE},
	{"GET", "datastores/*/versions/*/volume-types", datastore_version_volume_types,
	 ACCESS_PROJECT, "datastore:list_associated_volume_types", WAIT_NONE},
	{"GET", "datastores/*/versions/*/parameters", parameters_index, ACCESS_PROJECT,
	 "configuration-parameter:index", WAIT_NONE},
	{"GET", "datastores/*/versions/*/parameters/*", parameters_show, ACCESS_PROJECT,
	 "configuration-parameter:show", WAIT_NONE},

	/* Flavors and limits (§7.4). */
	{"GET", "flavors", flavors_index, ACCESS_PROJECT, "flavor:index", WAIT_NONE},
	{"GET", "flavors/*", flavors_show, ACCESS_PROJECT, "flavor:show", WAIT_NONE},
	{"GET", "limits", limits_index, ACCESS_PROJECT, "limits:index", WAIT_NONE},
	/* ctrove extension: the CA of the database endpoints' certificates (docs/tls.md). */
	{"GET", "ca_certificate", ca_certificate_show, ACCESS_PROJECT, "ca_certificate:show",
	 WAIT_NONE},

	/* Instances (§7.1): listing and lookup work; the rest lands with the
	 * instances issue. */
	{"GET", "instances", instances_index, ACCESS_PROJECT, "instance:index", WAIT_NONE},
	{"GET", "instances/detail", instances_index, ACCESS_PROJECT, "instance:detail", WAIT_NONE},
	{"POST", "instances", instances_create, ACCESS_PROJECT, "instance:create", WAIT_NONE},
	{"GET", "instances/*", instances_show, ACCESS_PROJECT, "instance:show", WAIT_NONE},
	{"PUT", "instances/*", instances_update, ACCESS_PROJECT, "instance:update", WAIT_NONE},
	{"PATCH", "instances/*", instances_update, ACCESS_PROJECT, "instance:update", WAIT_NONE},
	{"DELETE", "instances/*", instances_delete, ACCESS_PROJECT, "instance:delete", WAIT_NONE},
	{"POST", "instances/*/action", instances_action, ACCESS_PROJECT, "instance:action",
	 WAIT_NONE},
	{"GET", "instances/*/backups", instance_backups_index, ACCESS_PROJECT, "instance:backups",
	 WAIT_NONE},
	/* ctrove extension: backup schedules and retention (issue 16, docs/backups.md). */
	{"GET", "instances/*/backup_schedules", backup_schedules_index, ACCESS_PROJECT,
	 "backup_schedule:index", WAIT_NONE},
	{"POST", "instances/*/backup_schedules", backup_schedules_create, ACCESS_PROJECT,
	 "backup_schedule:create", WAIT_NONE},
	{"GET", "instances/*/backup_schedules/*", backup_schedules_show, ACCESS_PROJECT,
	 "backup_schedule:show", WAIT_NONE},
	{"DELETE", "instances/*/backup_schedules/*", backup_schedules_delete, ACCESS_PROJECT,
	 "backup_schedule:delete", WAIT_NONE},
	/* ctrove extension: the PITR window, deleted instances too (docs/pitr.md). */
	{"GET", "instances/*/recoverable_window", instance_recoverable_window, ACCESS_PROJECT,
	 "instance:recoverable_window", WAIT_NONE},
	{"GET", "instances/*/configuration", instance_configuration_show, ACCESS_PROJECT,
	 "instance:configuration", WAIT_NONE},
	{"GET", "instances/*/log", instance_logs_index, ACCESS_PROJECT, "instance:guest_log_list",
	 WAIT_GUEST},
	{"POST", "instances/*/log", instance_logs_action, ACCESS_PROJECT,
	 "instance:guest_log_action", WAIT_GUEST},
	{"GET", "instances/*/modules", not_implemented, ACCESS_PROJECT, "instance:module_list",
	 WAIT_NONE},
	{"POST", "instances/*/modules", not_implemented, ACCESS_PROJECT, "instance:module_apply",
	 WAIT_NONE},
	{"DELETE", "instances/*/modules/*", not_implemented, ACCESS_PROJECT,
	 "instance:module_remove", WAIT_NONE},
	{"GET", "instances/*/databases", databases_index, ACCESS_PROJECT,
	 "instance:extension:database:index", WAIT_GUEST},
	{"POST", "instances/*/databases", databases_create, ACCESS_PROJECT,
	 "instance:extension:database:create", WAIT_GUEST},
	{"GET", "instances/*/databases/*", not_implemented, ACCESS_PROJECT,
	 "instance:extension:database:show", WAIT_NONE},
	{"DELETE", "instances/*/databases/*", databases_delete, ACCESS_PROJECT,
	 "instance:extension:database:delete", WAIT_GUEST},
	{"GET", "instances/*/users", users_index, ACCESS_PROJECT, "instance:extension:user:index",
	 WAIT_GUEST},
	{"POST", "instances/*/users", users_create, ACCESS_PROJECT,
	 "instance:extension:user:create", WAIT_GUEST},
	{"PUT", "instances/*/users", users_update_all, ACCESS_PROJECT,
	 "instance:extension:user:update_all", WAIT_GUEST},
	{"PUT", "instances/*/users/update_all", users_update_all, ACCESS_PROJECT,
	 "instance:extension:user:update_all", WAIT_GUEST},
	{"PUT", "instances/*/users/*/update", users_update, ACCESS_PROJECT,
	 "instance:extension:user:update", WAIT_GUEST},
	{"GET", "instances/*/users/*", users_show, ACCESS_PROJECT, "instance:extension:user:show",
	 WAIT_GUEST},
	{"PUT", "instances/*/users/*", users_update, ACCESS_PROJECT,
	 "instance:extension:user:update", WAIT_GUEST},
	{"DELETE", "instances/*/users/*", users_delete, ACCESS_PROJECT,
	 "instance:extension:user:delete", WAIT_GUEST},
	{"GET", "instances/*/users/*/databases", user_access_index, ACCESS_PROJECT,
	 "instance:extension:user_access:index", WAIT_GUEST},
	{"PUT", "instances/*/users/*/databases", user_access_update, ACCESS_PROJECT,
	 "instance:extension:user_access:update", WAIT_GUEST},
	{"DELETE", "instances/*/users/*/databases/*", user_access_delete, ACCESS_PROJECT,
	 "instance:extension:user_access:delete", WAIT_GUEST},
	{"GET", "instances/*/root", root_index, ACCESS_PROJECT, "instance:extension:root:index",
	 WAIT_GUEST},
	{"POST", "instances/*/root", root_create, ACCESS_PROJECT, "instance:extension:root:create",
	 WAIT_GUEST},
	{"DELETE", "instances/*/root", root_delete, ACCESS_PROJECT,
	 "instance:extension:root:delete", WAIT_GUEST},

	/* Backups, configuration groups, modules, clusters (§7.5–§7.8). */
	{"GET", "backups", backups_index, ACCESS_PROJECT, "backup:index", WAIT_NONE},
	{"POST", "backups", backups_create, ACCESS_PROJECT, "backup:create", WAIT_NONE},
	{"GET", "backups/*", backups_show, ACCESS_PROJECT, "backup:show", WAIT_NONE},
	{"DELETE", "backups/*", backups_delete, ACCESS_PROJECT, "backup:delete", WAIT_NONE},
	{"GET", "backup_strategies", backup_strategies_index, ACCESS_PROJECT,
	 "backup_strategy:index", WAIT_NONE},
	{"POST", "backup_strategies", backup_strategies_create, ACCESS_PROJECT,
	 "backup_strategy:create", WAIT_NONE},
	{"DELETE", "backup_strategies", backup_strategies_delete, ACCESS_PROJECT,
	 "backup_strategy:delete", WAIT_NONE},
	{"GET", "configurations", configurations_index, ACCESS_PROJECT, "configuration:index",
	 WAIT_NONE},
	{"POST", "configurations", configurations_create, ACCESS_PROJECT, "configuration:create",
	 WAIT_NONE},
	{"GET", "configurations/*", configurations_show, ACCESS_PROJECT, "configuration:show",
	 WAIT_NONE},
	{"GET", "configurations/*/instances", configurations_instances, ACCESS_PROJECT,
	 "configuration:instances", WAIT_NONE},
	{"PUT", "configurations/*", configurations_update, ACCESS_PROJECT, "configuration:update",
	 WAIT_NONE},
	{"PATCH", "configurations/*", configurations_edit, ACCESS_PROJECT, "configuration:edit",
	 WAIT_NONE},
	{"DELETE", "configurations/*", configurations_delete, ACCESS_PROJECT,
	 "configuration:delete", WAIT_NONE},
	{"GET", "modules", not_implemented, ACCESS_PROJECT, "module:index", WAIT_NONE},
	{"POST", "modules", not_implemented, ACCESS_PROJECT, "module:create", WAIT_NONE},
	{"GET", "modules/*", not_implemented, ACCESS_PROJECT, "module:show", WAIT_NONE},
	{"PUT", "modules/*", not_implemented, ACCESS_PROJECT, "module:update", WAIT_NONE},
	{"DELETE", "modules/*", not_implemented, ACCESS_PROJECT, "module:delete", WAIT_NONE},
	{"GET", "modules/*/instances", not_implemented, ACCESS_PROJECT, "module:instances",
	 WAIT_NONE},
	{"PUT", "modules/*/instances", not_implemented, ACCESS_PROJECT, "module:reapply",
	 WAIT_NONE},
	{"GET", "clusters", not_implemented, ACCESS_PROJECT, "cluster:index", WAIT_NONE},
	{"POST", "clusters", not_implemented, ACCESS_PROJECT, "cluster:create", WAIT_NONE},
	{"GET", "clusters/*", not_implemented, ACCESS_PROJECT, "cluster:show", WAIT_NONE},
	{"POST", "clusters/*", not_implemented, ACCESS_PROJECT, "cluster:action", WAIT_NONE},
	{"DELETE", "clusters/*", not_implemented, ACCESS_PROJECT, "cluster:delete", WAIT_NONE},
	{"GET", "clusters/*/instances/*", not_implemented, ACCESS_PROJECT, "cluster:show_instance",
	 WAIT_NONE},
	{"GET", "clusters/*/root", not_implemented, ACCESS_PROJECT, "cluster:extension:root:index",
	 WAIT_NONE},
	{"POST", "clusters/*/root", not_implemented, ACCESS_PROJECT,
	 "cluster:extension:root:create", WAIT_NONE},

	/* Management (§7.9). */
	{"GET", "mgmt/datastore-versions", mgmt_versions_index, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:index", WAIT_NONE},
	{"POST", "mgmt/datastore-versions", mgmt_versions_create, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:create", WAIT_NONE},
	{"GET", "mgmt/datastore-versions/*", mgmt_versions_show, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:show", WAIT_NONE},
	{"PATCH", "mgmt/datastore-versions/*", mgmt_versions_update, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:edit", WAIT_NONE},
	{"DELETE", "mgmt/datastore-versions/*", mgmt_versions_delete, ACCESS_ADMIN_CTX,
	 "mgmt:datastore_version:delete", WAIT_NONE},
	{"GET", "mgmt/datastores/versions/*/parameters", mgmt_parameters_index, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:index", WAIT_NONE},
	{"POST", "mgmt/datastores/versions/*/parameters", mgmt_parameters_create, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:create", WAIT_NONE},
	{"GET", "mgmt/datastores/versions/*/parameters/*", mgmt_parameters_show, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:show", WAIT_NONE},
	{"PUT", "mgmt/datastores/versions/*/parameters/*", mgmt_parameters_update, ACCESS_ADMIN_CTX,
	 "mgmt:configuration-parameter:update", WAIT_NONE},
	{"DELETE", "mgmt/datastores/versions/*/parameters/*", mgmt_parameters_delete,
	 ACCESS_ADMIN_CTX, "mgmt:configuration-parameter:delete", WAIT_NONE},
	/* Own project for members, any project for admins: checked in the handler. */
	{"GET", "mgmt/quotas/*", quotas_show, ACCESS_PROJECT, "mgmt:quota:show", WAIT_NONE},
	{"PUT", "mgmt/quotas/*", quotas_update, ACCESS_ADMIN_CTX, "mgmt:quota:update", WAIT_NONE},
	{"GET", "mgmt/instances", not_implemented, ACCESS_ADMIN_CTX, "mgmt:instance:index",
	 WAIT_NONE},
	{"GET", "mgmt/instances/*", not_implemented, ACCESS_ADMIN_CTX, "mgmt:instance:show",
	 WAIT_NONE},
	{"POST", "mgmt/instances/*/action", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:action", WAIT_NONE},
	{"GET", "mgmt/instances/*/root", not_implemented, ACCESS_ADMIN_CTX, "mgmt:instance:root",
	 WAIT_NONE},
	{"GET", "mgmt/instances/*/diagnostics", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:diagnostics", WAIT_NONE},
	{"GET", "mgmt/instances/*/hwinfo", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:hwinfo", WAIT_NONE},
	{"GET", "mgmt/instances/*/rpc_ping", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:rpc_ping", WAIT_NONE},
	{"POST", "mgmt/instances/*/upgrade", not_implemented, ACCESS_ADMIN_CTX,
	 "mgmt:instance:upgrade", WAIT_NONE},
	{"GET", "mgmt/clusters", not_implemented, ACCESS_ADMIN_CTX, "mgmt:cluster:index",
	 WAIT_NONE},
	{"GET", "mgmt/clusters/*", not_implemented, ACCESS_ADMIN_CTX, "mgmt:cluster:show",
	 WAIT_NONE},
	{"POST", "mgmt/clusters/*/action", not_implemented, ACCESS_ADMIN_CTX, "mgmt:cluster:action",
	 WAIT_NONE},
};

#define ROUTE_COUNT ((int)(sizeof routes / sizeof routes[0]))

const struct api_route *routes_table(int *count)
{
	*count = ROUTE_COUNT;
	return routes;
}

/* Compare one pattern with the segments; on success the '*' segments are in
 * params[0..*nparams). */
static bool pattern_matches(const char *pattern, char **segments, int nsegments,
			    const char *params[API_MAX_PARAMS], int *nparams)
{
	int seg = 0;
	int n = 0;
	const char *p = pattern;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (seg >= nsegments)
			return false;
		if (len == 1 && *p == '*') {
			if (n >= API_MAX_PARAMS)
				return false;
			params[n++] = segments[seg];
		} else if (strlen(segments[seg]) != len || strncmp(segments[seg], p, len)) {
			return false;
		}
		seg++;
		p = end ? end + 1 : p + len;
	}
	if (seg != nsegments)
		return false;
	*nparams = n;
	return true;
}

static const struct api_route *find_route(const char *method, char **segments, int nsegments,
					  const char *params[API_MAX_PARAMS], int *nparams)
{
	for (int i = 0; i < ROUTE_COUNT; i++)
		if (!strcmp(routes[i].method, method) &&
		    pattern_matches(routes[i].pattern, segments, nsegments, params, nparams))
			return &routes[i];
	return NULL;
}

const struct api_route *routes_match(struct api_request *req, const char *method, char **segments,
				     int nsegments)
{
	return find_route(method, segments, nsegments, req->params, &req->nparams);
}

/* The shapes of the WAIT_GUEST rows — their first segment ("" for '*') and
 * their number of segments — taken from the table once. The HTTP front asks
 * for every request: a shape rules out almost all of them in one pass over
 * the path, and only a request of a guest row's shape is matched against the
 * whole table (an earlier row of another kind could win). */
struct guest_shape {
	char first[32];
	int nsegments;
};
static struct guest_shape guest_shapes[ROUTE_COUNT];
static int n_guest_shapes;
static pthread_once_t guest_shapes_once = PTHREAD_ONCE_INIT;

static void collect_guest_shapes(void)
{
	for (int i = 0; i < ROUTE_COUNT; i++) {
		if (routes[i].wait != WAIT_GUEST)
			continue;
		struct guest_shape *g = &guest_shapes[n_guest_shapes++];
		const char *p = routes[i].pattern;
		size_t len = strcspn(p, "/");
		if (!(len == 1 && *p == '*'))
			snprintf(g->first, sizeof g->first, "%.*s", (int)len, p);
		g->nsegments = 1;
		for (; *p; p++)
			g->nsegments += *p == '/';
	}
}

static bool has_guest_shape(const char *first, size_t first_len, int nsegments)
{
	pthread_once(&guest_shapes_once, collect_guest_shapes);
	for (int i = 0; i < n_guest_shapes; i++) {
		const struct guest_shape *g = &guest_shapes[i];
		if (g->nsegments == nsegments &&
		    (!g->first[0] ||
		     (strlen(g->first) == first_len && !strncmp(g->first, first, first_len))))
			return true;
	}
	return false;
}

bool routes_wait_on_guest(const char *method, const char *path)
{
	/* Segments as the dispatcher splits them: '/'-separated, empty ones
	 * skipped; /v1.0/<project>/<route path>. */
	const char *first = NULL;
	size_t first_len = 0;
	int n = 0;
	for (const char *p = path; *p;) {
		if (*p == '/') {
			p++;
			continue;
		}
		size_t len = strcspn(p, "/");
		if (n == 0 && !(len == 4 && !strncmp(p, "v1.0", 4)))
			return false;
		if (n == 2) {
			first = p;
			first_len = len;
		}
		n++;
		p += len;
	}
	if (n < 3 || !has_guest_shape(first, first_len, n - 2))
		return false;

	char buf[1024];
	char *segments[API_MAX_PARAMS * 2 + 4];
	size_t len = strlen(path);
	if (len >= sizeof buf || n > (int)(sizeof segments / sizeof segments[0]))
		return false;
	memcpy(buf, path, len + 1);
	n = 0;
	for (char *save = NULL, *s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save))
		segments[n++] = s;
	const char *params[API_MAX_PARAMS];
	int nparams;
	const struct api_route *route = find_route(method, segments + 2, n - 2, params, &nparams);
	return route && route->wait == WAIT_GUEST;
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
