/*
 * instance_rows.c — see instance_rows.h.
 */
#define LOG_MODULE "db"
#include "db/instance_rows.h"

#include "db/store.h"

#define INSTANCE_COLUMNS                                                                           \
	"SELECT i.id, i.name, i.task_id, i.server_status, i.flavor_id, i.volume_size,"             \
	" i.region_id, i.access, d.name, v.name, v.version, s.status_id, i.created,"               \
	" i.updated, s.updated_at,"                                                                \
	" EXISTS (SELECT 1 FROM backups b WHERE b.instance_id = i.id AND"                          \
	"  (b.state = 'NEW' OR b.state = 'BUILDING' OR b.state = 'SAVING') AND"                    \
	"  (b.deleted IS NULL OR b.deleted = 0)),"                                                 \
	" a.address, i.encrypted_key, i.configuration_id, c.name, i.slave_of_id,"                  \
	" (SELECT group_concat(r.id, ',') FROM instances r WHERE r.slave_of_id = i.id"             \
	"  AND (r.deleted IS NULL OR r.deleted = 0)),"                                             \
	" (SELECT g.replication_lag FROM ctrove_guest_metrics g WHERE g.instance_id = i.id)"       \
	" FROM instances i"                                                                        \
	" LEFT JOIN configurations c ON c.id = i.configuration_id"                                 \
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
	COL_KEY,
	COL_CONFIG_ID,
	COL_CONFIG_NAME,
	COL_REPLICA_OF,
	COL_REPLICAS,
	COL_LAG
};

/* sqlite3_column_text() answers NULL for SQL NULL: one call, not two. */
static const char *nullable(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static struct instance_row row_of(sqlite3_stmt *st)
{
	return (struct instance_row){
		.id = db_col_text(st, COL_ID),
		.name = db_col_text(st, COL_NAME),
		.server_status = db_col_text(st, COL_SERVER),
		.flavor_id = db_col_text(st, COL_FLAVOR),
		.region_id = db_col_text(st, COL_REGION),
		.access = nullable(st, COL_ACCESS),
		.datastore = nullable(st, COL_DS),
		.datastore_version = nullable(st, COL_DSV_NAME),
		.datastore_version_number = nullable(st, COL_DSV_VERSION),
		.created = db_col_text(st, COL_CREATED),
		.updated = db_col_text(st, COL_UPDATED),
		.service_updated = nullable(st, COL_SERVICE_UPDATED),
		.address = nullable(st, COL_ADDRESS),
		.encrypted_key = nullable(st, COL_KEY),
		.configuration_id = nullable(st, COL_CONFIG_ID),
		.configuration_name = nullable(st, COL_CONFIG_NAME),
		.replica_of = nullable(st, COL_REPLICA_OF),
		.replica_ids = nullable(st, COL_REPLICAS),
		.has_replication_lag = sqlite3_column_type(st, COL_LAG) != SQLITE_NULL,
		.replication_lag = sqlite3_column_double(st, COL_LAG),
		.task_id = sqlite3_column_int(st, COL_TASK),
		.service_status = sqlite3_column_int(st, COL_SERVICE),
		.volume_size = (long)sqlite3_column_int64(st, COL_VOLUME),
		.backup_running = sqlite3_column_int(st, COL_BACKUPS) > 0,
	};
}

int instance_rows_page(const char *project, const char *marker, bool include_clustered, long limit,
		       instance_row_fn fn, void *ctx, bool *more, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		INSTANCE_COLUMNS " WHERE i.tenant_id = ?1 AND (i.deleted IS NULL OR i.deleted = 0)"
				 " AND i.id > ?2 AND (?3 OR i.cluster_id IS NULL)"
				 " ORDER BY i.id LIMIT ?4",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, project);
	db_bind_text(st, 2, marker ? marker : "");
	sqlite3_bind_int(st, 3, include_clustered);
	sqlite3_bind_int64(st, 4, limit + 1); /* one more says whether a next page exists */
	long count = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < limit) {
		struct instance_row row = row_of(st);
		if (fn(ctx, &row, err)) {
			db_stmt_done(st);
			return -1;
		}
		count++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(err, "listing instances");
		db_stmt_done(st);
		return -1;
	}
	*more = rc == SQLITE_ROW;
	db_stmt_done(st);
	return 0;
}

int instance_rows_one(const char *project, const char *id, instance_row_fn fn, void *ctx,
		      struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(INSTANCE_COLUMNS " WHERE i.id = ?1 AND i.tenant_id = ?2"
						    " AND (i.deleted IS NULL OR i.deleted = 0)",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, project);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			ct_fail(err, 404, "Resource %.64s cannot be found.", id);
		else
			db_fail(err, "showing an instance");
		db_stmt_done(st);
		return -1;
	}
	struct instance_row row = row_of(st);
	int failed = fn(ctx, &row, err);
	db_stmt_done(st);
	return failed ? -1 : 0;
}
