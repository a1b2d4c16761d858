/*
 * instances.c — reading instances: GET /instances, /instances/detail and
 * /instances/{id} (spec trove-api.md §3, §6.1, §7.1). Creating and changing
 * instances land with the instances issue; their routes answer 501 until then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/handlers.h"
#include "api/instance_status.h"
#include "common/config.h"
#include "common/timefmt.h"
#include "db/store.h"
#include "guest/api.h"

#define INSTANCE_COLUMNS                                                                           \
	"SELECT i.id, i.name, i.task_id, i.server_status, i.flavor_id, i.volume_size,"             \
	" i.region_id, i.access, d.name, v.name, v.version, s.status_id, i.created,"               \
	" i.updated, s.updated_at,"                                                                \
	" EXISTS (SELECT 1 FROM backups b WHERE b.instance_id = i.id AND"                          \
	"  (b.state = 'NEW' OR b.state = 'BUILDING' OR b.state = 'SAVING') AND"                    \
	"  (b.deleted IS NULL OR b.deleted = 0)),"                                                 \
	" CAST(strftime('%s', 'now') - strftime('%s', s.updated_at) AS INTEGER),"                  \
	" a.address, i.encrypted_key"                                                              \
	" FROM instances i"                                                                        \
	" LEFT JOIN ctrove_addresses a ON a.instance_id = i.id"                                    \
	" LEFT JOIN datastore_versions v ON v.id = i.datastore_version_id"                         \
	" LEFT JOIN datastores d ON d.id = v.datastore_id"                                         \
	" LEFT JOIN service_statuses s ON s.instance_id = i.id"

enum {
	COL_ID,
	COL_NAME,
	COL_TASK,
	COL_SERVER,
	COL_FLAVOR,
	COL_VOLUME,
	COL_REGION,
	COL_ACCESS,
	COL_DS,
	COL_DSV_NAME,
	COL_DSV_VERSION,
	COL_SERVICE,
	COL_CREATED,
	COL_UPDATED,
	COL_SERVICE_UPDATED,
	COL_BACKUPS,
	COL_HEARTBEAT_AGE,
	COL_ADDRESS,
	COL_KEY
};

static json_t *nullable(sqlite3_stmt *st, int col)
{
	return db_col_is_null(st, col) ? json_null() : json_string(db_col_text(st, col));
}

static void add_fault(json_t *view, const char *id)
{
	struct ct_error err = {0};
	sqlite3_stmt *st = db_stmt("SELECT message, created FROM instance_faults"
				   " WHERE instance_id = ?1 AND deleted = 0"
				   " ORDER BY created DESC LIMIT 1",
				   &err);
	if (!st)
		return;
	db_bind_text(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		char when[CT_TIME_LEN];
		timefmt_db_to_trove(db_col_text(st, 1), when);
		json_object_set_new(view, "fault",
				    json_pack("{s:s,s:s,s:n}", "message", db_col_text(st, 0),
					      "created", when, "details"));
	}
	db_stmt_done(st);
}

static json_t *instance_view(const struct api_request *req, sqlite3_stmt *st, bool detail)
{
	const char *id = db_col_text(st, COL_ID);
	struct instance_state state = {
		.task_id = sqlite3_column_int(st, COL_TASK),
		.server_status = db_col_text(st, COL_SERVER),
		.service_status_id = sqlite3_column_int(st, COL_SERVICE),
		.backup_running = sqlite3_column_int(st, COL_BACKUPS) > 0,
		.heartbeat_expired = sqlite3_column_int64(st, COL_HEARTBEAT_AGE) >=
				     cfg_int(CFG_AGENT_HEARTBEAT_EXPIRY),
	};
	const char *flavor = db_col_text(st, COL_FLAVOR);
	json_t *datastore = json_pack("{s:o,s:o}", "type", nullable(st, COL_DS), "version",
				      nullable(st, COL_DSV_NAME));
	/* Trove: the stored access object, else {"is_public": <a public
	 * address exists>} when the instance has addresses (ours are private). */
	json_t *access = json_loads(db_col_text(st, COL_ACCESS), 0, NULL);
	if (!json_is_object(access) || json_object_size(access) == 0) {
		json_decref(access);
		access = db_col_is_null(st, COL_ADDRESS) ? json_object()
							 : json_pack("{s:b}", "is_public", 0);
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:{s:s,s:o},s:o,s:s,s:o,s:{s:i}}", "id", id,
			      "name", db_col_text(st, COL_NAME), "status", instance_status(&state),
			      "operating_status", instance_operating_status(&state), "links",
			      api_links(req, "instances", id), "flavor", "id", flavor, "links",
			      api_links(req, "flavors", flavor), "datastore", datastore, "region",
			      db_col_text(st, COL_REGION), "access", access, "volume", "size",
			      sqlite3_column_int(st, COL_VOLUME));
	/* The address appears once the build is past the compute step (Trove
	 * shows none while BUILDING). */
	if (!db_col_is_null(st, COL_ADDRESS) && state.task_id != 5) {
		const char *ip = db_col_text(st, COL_ADDRESS);
		json_object_set_new(o, "ip", json_pack("[s]", ip));
		json_object_set_new(o, "addresses",
				    json_pack("[{s:s,s:s}]", "address", ip, "type", "private"));
	}
	/* The fault is read only where it is shown: a detail view in ERROR. */
	if (detail && !strcmp(instance_status(&state), "ERROR"))
		add_fault(o, id);
	if (detail) {
		char created[CT_TIME_LEN], updated[CT_TIME_LEN], service[CT_TIME_LEN];
		timefmt_db_to_trove(db_col_text(st, COL_CREATED), created);
		timefmt_db_to_trove(db_col_text(st, COL_UPDATED), updated);
		timefmt_db_to_trove(db_col_text(st, COL_SERVICE_UPDATED), service);
		json_object_set_new(datastore, "version_number", nullable(st, COL_DSV_VERSION));
		json_object_set_new(o, "created", json_string(created));
		json_object_set_new(o, "updated", json_string(updated));
		json_object_set_new(o, "service_status_updated", json_string(service));
	}
	return o;
}

/* limit query parameter: absent -> page size; otherwise 1..page size. */
static int page_limit(const struct api_request *req, long *limit, struct ct_error *err)
{
	long page = cfg_int(CFG_INSTANCES_PAGE_SIZE);
	const char *text = api_query(req, "limit");
	*limit = page > 0 && page <= 1000 ? page : 20;
	if (!text)
		return 0;
	char *end;
	long v = strtol(text, &end, 10);
	if (!*text || *end || v <= 0)
		return ct_fail(err, 400, "limit must be a positive integer.");
	*limit = v < page ? v : page;
	if (*limit > 1000)
		*limit = 1000;
	return 0;
}

static int by_created_desc(const void *a, const void *b)
{
	const char *ca = json_string_value(json_object_get(*(json_t *const *)a, "_created"));
	const char *cb = json_string_value(json_object_get(*(json_t *const *)b, "_created"));
	return strcmp(cb ? cb : "", ca ? ca : "");
}

API_HANDLER(instances_index)
{
	long limit;
	if (page_limit(req, &limit, err))
		return -1;
	const char *marker = api_query(req, "marker");
	const char *clustered = api_query(req, "include_clustered");
	bool include_clustered = clustered && !strcasecmp(clustered, "true");
	bool detail = req->nparams == 0 && strstr(req->path, "/instances/detail") != NULL;
	sqlite3_stmt *st = db_stmt(
		INSTANCE_COLUMNS " WHERE i.tenant_id = ?1 AND (i.deleted IS NULL OR i.deleted = 0)"
				 " AND i.id > ?2 AND (?3 OR i.cluster_id IS NULL)"
				 " ORDER BY i.id LIMIT ?4",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, req->project);
	db_bind_text(st, 2, marker ? marker : "");
	sqlite3_bind_int(st, 3, include_clustered);
	sqlite3_bind_int64(st, 4, limit + 1);
	json_t **items = calloc((size_t)limit, sizeof *items);
	size_t count = 0;
	if (!items) {
		db_stmt_done(st);
		return ct_fail(err, 500, "out of memory");
	}
	char last_id[64] = "";
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < (size_t)limit) {
		items[count] = instance_view(req, st, detail);
		json_object_set_new(items[count], "_created",
				    json_string(db_col_text(st, COL_CREATED)));
		snprintf(last_id, sizeof last_id, "%s", db_col_text(st, COL_ID));
		count++;
	}
	bool more = rc == SQLITE_ROW;
	db_stmt_done(st);
	qsort(items, count, sizeof items[0], by_created_desc);
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++) {
		json_object_del(items[i], "_created");
		json_array_append_new(list, items[i]);
	}
	free(items);
	json_t *body = json_pack("{s:o}", "instances", list);
	if (more) {
		char base[300], href[1024];
		api_link_base(req, base, sizeof base);
		/* The request's own query with the marker set, as Trove builds it. */
		if (api_query(req, "limit"))
			snprintf(href, sizeof href, "%s%s?limit=%ld&marker=%s", base, req->path,
				 limit, last_id);
		else
			snprintf(href, sizeof href, "%s%s?marker=%s", base, req->path, last_id);
		json_object_set_new(body, "links",
				    json_pack("[{s:s,s:s}]", "rel", "next", "href", href));
	}
	return api_reply(resp, 200, body);
}

/* Usage reported with a heartbeat less than volume_usage_max_age ago. */
static bool reported_volume_used(const char *id, double *used)
{
	struct ct_error err = {0};
	sqlite3_stmt *st = db_stmt("SELECT used_gb FROM ctrove_volume_usage WHERE instance_id = ?1"
				   " AND strftime('%s', 'now') - strftime('%s', updated_at) <= ?2",
				   &err);
	if (!st)
		return false;
	db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, cfg_int(CFG_VOLUME_USAGE_MAX_AGE));
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		*used = sqlite3_column_double(st, 0);
	db_stmt_done(st);
	return found;
}

/* Trove's way: ask the guest (get_filesystem_stats), briefly. */
static bool asked_volume_used(const char *id, const char *key, double *used)
{
	struct ct_error ignored = {0};
	json_t *args = json_pack("{s:n}", "fs_path");
	json_t *stats = guest_call(id, key, "get_filesystem_stats", args, 2, &ignored);
	json_decref(args);
	json_t *value = json_object_get(stats, "used");
	bool found = json_is_number(value);
	if (found)
		*used = json_number_value(value);
	json_decref(stats);
	return found;
}

int instance_reply_detail(struct api_request *req, struct api_response *resp, const char *id,
			  int status_code, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(INSTANCE_COLUMNS " WHERE i.id = ?1 AND i.tenant_id = ?2"
						    " AND (i.deleted IS NULL OR i.deleted = 0)",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, req->project);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_stmt_done(st);
		return ct_fail(err, 404, "Resource %.64s cannot be found.", id);
	}
	json_t *view = instance_view(req, st, true);
	char key[256];
	snprintf(key, sizeof key, "%s", db_col_text(st, COL_KEY));
	db_stmt_done(st);
	/* volume.used: the guest's last report when recent, else asked live. */
	const char *status = json_string_value(json_object_get(view, "status"));
	if (status && (!strcmp(status, "ACTIVE") || !strcmp(status, "BACKUP") ||
		       !strcmp(status, "RESTART_REQUIRED"))) {
		double used;
		if (reported_volume_used(id, &used) || asked_volume_used(id, key, &used))
			json_object_set_new(json_object_get(view, "volume"), "used",
					    json_real(used));
	}
	return api_reply(resp, status_code, json_pack("{s:o}", "instance", view));
}

API_HANDLER(instances_show)
{
	return instance_reply_detail(req, resp, req->params[0], 200, err);
}
