/*
 * instance_metrics.c — see instance_metrics.h. The last completed backup of
 * every instance comes from one grouped scan of backups joined in, not a
 * subquery per instance.
 */
#define LOG_MODULE "db"
#include "db/instance_metrics.h"

#include "db/store.h"

enum {
	COL_ID,
	COL_NAME,
	COL_PROJECT,
	COL_DS,
	COL_TASK,
	COL_SERVER,
	COL_SERVICE,
	COL_SERVICE_UPDATED,
	COL_VOLUME,
	COL_USED,
	COL_CONNECTIONS,
	COL_QUERIES,
	COL_QPS,
	COL_LAG,
	COL_LAST_BACKUP,
	COL_BACKUP_RUNNING,
};

int instance_metrics_each(instance_metrics_fn fn, void *ctx, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		"SELECT i.id, i.name, i.tenant_id, d.name, i.task_id, i.server_status,"
		" s.status_id, s.updated_at, i.volume_size, u.used_gb, m.connections, m.queries,"
		" m.queries_per_second, m.replication_lag, b.last_completed,"
		" coalesce(b.running, 0)"
		" FROM instances i"
		" LEFT JOIN datastore_versions v ON v.id = i.datastore_version_id"
		" LEFT JOIN datastores d ON d.id = v.datastore_id"
		" LEFT JOIN service_statuses s ON s.instance_id = i.id"
		" LEFT JOIN ctrove_volume_usage u ON u.instance_id = i.id"
		" LEFT JOIN ctrove_guest_metrics m ON m.instance_id = i.id"
		" LEFT JOIN (SELECT instance_id,"
		"  max(CASE WHEN state = 'COMPLETED' THEN updated END) AS last_completed,"
		"  max(state = 'NEW' OR state = 'BUILDING' OR state = 'SAVING') AS running"
		"  FROM backups WHERE deleted IS NULL OR deleted = 0 GROUP BY instance_id) b"
		"  ON b.instance_id = i.id"
		" WHERE i.deleted IS NULL OR i.deleted = 0 ORDER BY i.id",
		err);
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct instance_metrics_row row = {
			.id = db_col_text(st, COL_ID),
			.name = db_col_text(st, COL_NAME),
			.project_id = db_col_text(st, COL_PROJECT),
			.datastore = db_col_text(st, COL_DS),
			.server_status = db_col_text(st, COL_SERVER),
			.service_updated =
				(const char *)sqlite3_column_text(st, COL_SERVICE_UPDATED),
			.last_backup = (const char *)sqlite3_column_text(st, COL_LAST_BACKUP),
			.task_id = sqlite3_column_int(st, COL_TASK),
			.service_status = sqlite3_column_int(st, COL_SERVICE),
			.volume_size = (long)sqlite3_column_int64(st, COL_VOLUME),
			.backup_running = sqlite3_column_int(st, COL_BACKUP_RUNNING) > 0,
			.has_volume_used = sqlite3_column_type(st, COL_USED) != SQLITE_NULL,
			.volume_used_gb = sqlite3_column_double(st, COL_USED),
			.has_server = sqlite3_column_type(st, COL_CONNECTIONS) != SQLITE_NULL,
			.connections = sqlite3_column_int64(st, COL_CONNECTIONS),
			.queries = sqlite3_column_int64(st, COL_QUERIES),
			.queries_per_second = sqlite3_column_double(st, COL_QPS),
			.has_replication_lag = sqlite3_column_type(st, COL_LAG) != SQLITE_NULL,
			.replication_lag = sqlite3_column_double(st, COL_LAG),
		};
		if (fn(ctx, &row, err)) {
			db_stmt_done(st);
			return -1;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(err, "listing instances for metrics");
		db_stmt_done(st);
		return -1;
	}
	db_stmt_done(st);
	return 0;
}
