/*
 * instances.c — reading instances: GET /instances, /instances/detail and
 * /instances/{id} (spec trove-api.md §3, §6.1, §7.1), written straight to JSON
 * text (common/json_writer.h): these are the API's hottest responses.
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
	COL_ADDRESS,
	COL_KEY
};

static void write_fault(struct json_writer *w, const char *id)
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
		json_writer_key(w, "fault");
		json_writer_object_begin(w);
		json_writer_key_string(w, "message", db_col_text(st, 0));
		json_writer_key_string(w, "created", when);
		json_writer_key(w, "details");
		json_writer_null(w);
		json_writer_object_end(w);
	}
	db_stmt_done(st);
}

static void write_nullable(struct json_writer *w, const char *key, sqlite3_stmt *st, int col)
{
	json_writer_key_string(w, key, db_col_is_null(st, col) ? NULL : db_col_text(st, col));
}

static void write_time(struct json_writer *w, const char *key, sqlite3_stmt *st, int col)
{
	char when[CT_TIME_LEN];
	timefmt_db_to_trove(db_col_text(st, col), when);
	json_writer_key_string(w, key, when);
}

/* Trove: the stored access object, else {"is_public": <a public address
 * exists>} when the instance has addresses (ours are private), else {}. */
static void write_access(struct json_writer *w, sqlite3_stmt *st)
{
	json_writer_key(w, "access");
	const char *stored = db_col_is_null(st, COL_ACCESS) ? "" : db_col_text(st, COL_ACCESS);
	json_t *access = *stored ? json_loads(stored, 0, NULL) : NULL;
	if (json_is_object(access) && json_object_size(access) > 0) {
		json_writer_value(w, access);
	} else {
		json_writer_object_begin(w);
		if (!db_col_is_null(st, COL_ADDRESS)) {
			json_writer_key(w, "is_public");
			json_writer_bool(w, false);
		}
		json_writer_object_end(w);
	}
	json_decref(access);
}

/* Age of the last heartbeat in seconds; 0 when there is none. (Computed here,
 * not by SQLite's strftime() per row: that was 7% of a list request.) */
static long long heartbeat_age(sqlite3_stmt *st)
{
	time_t at;
	if (db_col_is_null(st, COL_SERVICE_UPDATED) ||
	    !timefmt_db_parse(db_col_text(st, COL_SERVICE_UPDATED), &at))
		return 0;
	return (long long)(time(NULL) - at);
}

static struct instance_state row_state(sqlite3_stmt *st)
{
	return (struct instance_state){
		.task_id = sqlite3_column_int(st, COL_TASK),
		.server_status = db_col_text(st, COL_SERVER),
		.service_status_id = sqlite3_column_int(st, COL_SERVICE),
		.backup_running = sqlite3_column_int(st, COL_BACKUPS) > 0,
		.heartbeat_expired = heartbeat_age(st) >= cfg_int(CFG_AGENT_HEARTBEAT_EXPIRY),
	};
}

/* One instance as Trove shows it; volume_used NULL leaves volume.used out. */
static void write_instance(struct json_writer *w, const struct api_request *req, sqlite3_stmt *st,
			   bool detail, const double *volume_used)
{
	const char *id = db_col_text(st, COL_ID);
	struct instance_state state = row_state(st);
	const char *status = instance_status(&state);
	const char *flavor = db_col_text(st, COL_FLAVOR);
	json_writer_object_begin(w);
	json_writer_key_string(w, "id", id);
	json_writer_key_string(w, "name", db_col_text(st, COL_NAME));
	json_writer_key_string(w, "status", status);
	json_writer_key_string(w, "operating_status", instance_operating_status(&state));
	api_write_links(w, req, "instances", id);
	json_writer_key(w, "flavor");
	json_writer_object_begin(w);
	json_writer_key_string(w, "id", flavor);
	api_write_links(w, req, "flavors", flavor);
	json_writer_object_end(w);
	json_writer_key(w, "datastore");
	json_writer_object_begin(w);
	write_nullable(w, "type", st, COL_DS);
	write_nullable(w, "version", st, COL_DSV_NAME);
	if (detail)
		write_nullable(w, "version_number", st, COL_DSV_VERSION);
	json_writer_object_end(w);
	json_writer_key_string(w, "region", db_col_text(st, COL_REGION));
	write_access(w, st);
	json_writer_key(w, "volume");
	json_writer_object_begin(w);
	json_writer_key_int(w, "size", sqlite3_column_int(st, COL_VOLUME));
	if (volume_used) {
		json_writer_key(w, "used");
		json_writer_real(w, *volume_used);
	}
	json_writer_object_end(w);
	/* The address appears once the build is past the compute step (Trove
	 * shows none while BUILDING). */
	if (!db_col_is_null(st, COL_ADDRESS) && state.task_id != 5) {
		const char *ip = db_col_text(st, COL_ADDRESS);
		json_writer_key(w, "ip");
		json_writer_array_begin(w);
		json_writer_string(w, ip);
		json_writer_array_end(w);
		json_writer_key(w, "addresses");
		json_writer_array_begin(w);
		json_writer_object_begin(w);
		json_writer_key_string(w, "address", ip);
		json_writer_key_string(w, "type", "private");
		json_writer_object_end(w);
		json_writer_array_end(w);
	}
	/* The fault is read only where it is shown: a detail view in ERROR. */
	if (detail && !strcmp(status, "ERROR"))
		write_fault(w, id);
	if (detail) {
		write_time(w, "created", st, COL_CREATED);
		write_time(w, "updated", st, COL_UPDATED);
		write_time(w, "service_status_updated", st, COL_SERVICE_UPDATED);
	}
	json_writer_object_end(w);
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

/* One written instance of a list page, sorted by creation time. */
struct listed {
	char created[CT_TIME_LEN];
	char *text;
	size_t len;
};

static int by_created_desc(const void *a, const void *b)
{
	return strcmp(((const struct listed *)b)->created, ((const struct listed *)a)->created);
}

static void free_listed(struct listed *items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(items[i].text);
	free(items);
}

/* "links": [{"rel": "next", ...}] of a page that has more after last_id. */
static void write_next_link(struct json_writer *w, const struct api_request *req, long limit,
			    const char *last_id)
{
	char base[300], href[1024];
	api_link_base(req, base, sizeof base);
	/* The request's own query with the marker set, as Trove builds it. */
	if (api_query(req, "limit"))
		snprintf(href, sizeof href, "%s%s?limit=%ld&marker=%s", base, req->path, limit,
			 last_id);
	else
		snprintf(href, sizeof href, "%s%s?marker=%s", base, req->path, last_id);
	json_writer_key(w, "links");
	json_writer_array_begin(w);
	json_writer_object_begin(w);
	json_writer_key_string(w, "rel", "next");
	json_writer_key_string(w, "href", href);
	json_writer_object_end(w);
	json_writer_array_end(w);
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
	struct listed *items = calloc((size_t)limit, sizeof *items);
	if (!items) {
		db_stmt_done(st);
		return ct_fail(err, 500, "out of memory");
	}
	/* Trove pages by id and shows each page newest first. */
	size_t count = 0;
	bool failed = false;
	char last_id[64] = "";
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < (size_t)limit) {
		struct json_writer item;
		json_writer_init(&item);
		write_instance(&item, req, st, detail, NULL);
		items[count].text = json_writer_finish(&item, &items[count].len);
		failed |= !items[count].text;
		snprintf(items[count].created, sizeof items[count].created, "%s",
			 db_col_text(st, COL_CREATED));
		snprintf(last_id, sizeof last_id, "%s", db_col_text(st, COL_ID));
		count++;
	}
	bool more = rc == SQLITE_ROW;
	db_stmt_done(st);
	if (failed) {
		free_listed(items, count);
		return ct_fail(err, 500, "out of memory writing instances");
	}
	qsort(items, count, sizeof items[0], by_created_desc);
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key(&w, "instances");
	json_writer_array_begin(&w);
	for (size_t i = 0; i < count; i++)
		json_writer_raw(&w, items[i].text, items[i].len);
	json_writer_array_end(&w);
	free_listed(items, count);
	if (more)
		write_next_link(&w, req, limit, last_id);
	json_writer_object_end(&w);
	return api_reply_written(resp, 200, &w, err);
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
	const struct guest_ref guest = {id, key};
	struct guest_fs_stats stats;
	if (guest_get_filesystem_stats(&guest, &stats, &ignored))
		return false;
	*used = stats.used;
	return true;
}

/* The instance's row, stepped onto; NULL with a 404 when there is none. */
static sqlite3_stmt *detail_row(const struct api_request *req, const char *id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(INSTANCE_COLUMNS " WHERE i.id = ?1 AND i.tenant_id = ?2"
						    " AND (i.deleted IS NULL OR i.deleted = 0)",
				   err);
	if (!st)
		return NULL;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, req->project);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_stmt_done(st);
		ct_fail(err, 404, "Resource %.64s cannot be found.", id);
		return NULL;
	}
	return st;
}

int instance_reply_detail(struct api_request *req, struct api_response *resp, const char *id,
			  int status_code, struct ct_error *err)
{
	sqlite3_stmt *st = detail_row(req, id, err);
	if (!st)
		return -1;
	/* volume.used: the guest's last report when recent, else asked live
	 * (with the row released: the guest may take seconds). */
	struct instance_state state = row_state(st);
	const char *status = instance_status(&state);
	double used;
	bool have_used = false;
	if (!strcmp(status, "ACTIVE") || !strcmp(status, "BACKUP") ||
	    !strcmp(status, "RESTART_REQUIRED")) {
		have_used = reported_volume_used(id, &used);
		if (!have_used) {
			char key[256];
			snprintf(key, sizeof key, "%s", db_col_text(st, COL_KEY));
			db_stmt_done(st);
			have_used = asked_volume_used(id, key, &used);
			st = detail_row(req, id, err);
			if (!st)
				return -1;
		}
	}
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key(&w, "instance");
	write_instance(&w, req, st, true, have_used ? &used : NULL);
	json_writer_object_end(&w);
	db_stmt_done(st);
	return api_reply_written(resp, status_code, &w, err);
}

API_HANDLER(instances_show)
{
	return instance_reply_detail(req, resp, req->params[0], 200, err);
}
