/*
 * guest_reports.c — see guest_reports.h.
 */
#define LOG_MODULE "db"
#include "db/guest_reports.h"

#include "common/timefmt.h"
#include "db/instances.h"
#include "db/store.h"

/* 1 when `sent` is newer than the last one seen for (instance, method), and
 * records it; 0 when not. Runs inside the caller's transaction. */
static int is_fresh(const char *instance_id, const char *method, bool has_sent, double sent,
		    struct ct_error *err)
{
	if (!has_sent)
		return 1;
	sqlite3_stmt *st = db_stmt("SELECT sent FROM conductor_lastseen"
				   " WHERE instance_id = ?1 AND method_name = ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, method);
	int stale = sqlite3_step(st) == SQLITE_ROW && sent <= sqlite3_column_double(st, 0);
	db_stmt_done(st);
	if (stale)
		return 0;
	st = db_stmt("INSERT INTO conductor_lastseen (instance_id, method_name, sent)"
		     " VALUES (?1, ?2, ?3) ON CONFLICT (instance_id, method_name)"
		     " DO UPDATE SET sent = excluded.sent",
		     err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, method);
	sqlite3_bind_double(st, 3, sent);
	return db_step_done(st, err) ? -1 : 1;
}

/* Opens the transaction of a report: 1 with it open when the report is fresh,
 * else 0 (stale) or -1 with nothing left open. */
static int begin_if_fresh(const char *instance_id, const char *method, bool has_sent, double sent,
			  struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	int fresh = is_fresh(instance_id, method, has_sent, sent, err);
	if (fresh <= 0)
		db_rollback();
	return fresh;
}

static int save_volume_usage(const struct heartbeat_report *r, const char *now,
			     struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("INSERT INTO ctrove_volume_usage (instance_id, used_gb, total_gb,"
			" updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (instance_id) DO UPDATE"
			" SET used_gb = excluded.used_gb, total_gb = excluded.total_gb,"
			" updated_at = excluded.updated_at",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->instance_id);
	sqlite3_bind_double(st, 2, r->volume_used_gb);
	sqlite3_bind_double(st, 3, r->volume_total_gb);
	db_bind_text(st, 4, now);
	return db_step_done(st, err);
}

/* queries_per_second from the last counters: a counter that went back (the
 * server restarted) gives 0 rather than a negative rate. */
static int save_server_counters(const struct heartbeat_report *r, const char *now,
				struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO ctrove_guest_metrics (instance_id, connections, queries,"
		" queries_per_second, replication_lag, sampled_at, updated_at)"
		" VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6) ON CONFLICT (instance_id) DO UPDATE SET"
		" queries_per_second = CASE WHEN excluded.sampled_at > sampled_at AND"
		"  excluded.queries >= queries THEN (excluded.queries - queries) /"
		"  (excluded.sampled_at - sampled_at) ELSE 0 END,"
		" connections = excluded.connections, queries = excluded.queries,"
		" replication_lag = excluded.replication_lag, sampled_at = excluded.sampled_at,"
		" updated_at = excluded.updated_at",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, r->instance_id);
	sqlite3_bind_int64(st, 2, r->connections);
	sqlite3_bind_int64(st, 3, r->queries);
	if (r->has_replication_lag)
		sqlite3_bind_double(st, 4, r->replication_lag);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_double(st, 5, r->has_sent ? r->sent : (double)timefmt_now_us() / 1e6);
	db_bind_text(st, 6, now);
	return db_step_done(st, err);
}

int heartbeat_record(const struct heartbeat_report *r, struct ct_error *err)
{
	int fresh = begin_if_fresh(r->instance_id, "heartbeat", r->has_sent, r->sent, err);
	if (fresh <= 0)
		return fresh;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("UPDATE service_statuses SET status_id = ?2,"
				   " status_description = ?3, updated_at = ?4"
				   " WHERE instance_id = ?1 AND status_id != ?5",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, r->instance_id);
	sqlite3_bind_int(st, 2, r->status_id);
	db_bind_text(st, 3, r->status_description);
	db_bind_text(st, 4, now);
	sqlite3_bind_int(st, 5, SERVICE_RESTART_REQUIRED);
	if (db_step_done(st, err))
		goto fail;
	if (r->has_volume && save_volume_usage(r, now, err))
		goto fail;
	if (r->has_server && save_server_counters(r, now, err))
		goto fail;
	if (db_commit(err))
		goto fail;
	return 1;
fail:
	db_rollback();
	return -1;
}

int backup_report_record(const struct backup_report *r, struct ct_error *err)
{
	int fresh = begin_if_fresh(r->instance_id, "update_backup", r->has_sent, r->sent, err);
	if (fresh <= 0)
		return fresh;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(
		"UPDATE backups SET state = coalesce(?3, state),"
		" backup_type = coalesce(?4, backup_type), checksum = coalesce(?5, checksum),"
		" location = coalesce(?6, location), size = coalesce(?7, size), updated = ?8,"
		" ctrove_consistent_time = coalesce(?9, ctrove_consistent_time)"
		" WHERE id = ?1 AND instance_id = ?2",
		err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, r->backup_id);
	db_bind_text(st, 2, r->instance_id);
	db_bind_text(st, 3, r->state);
	db_bind_text(st, 4, r->backup_type);
	db_bind_text(st, 5, r->checksum);
	db_bind_text(st, 6, r->location);
	if (r->has_size)
		sqlite3_bind_double(st, 7, r->size);
	db_bind_text(st, 8, now);
	if (r->has_consistent_time)
		sqlite3_bind_int64(st, 9, r->consistent_time);
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		ct_fail(err, 404, "Backup %.64s of instance %.64s cannot be found.", r->backup_id,
			r->instance_id);
		goto fail;
	}
	if (db_commit(err))
		goto fail;
	return 1;
fail:
	db_rollback();
	return -1;
}

int volume_usage_recent(const char *instance_id, long max_age, double *used_gb,
			struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT used_gb FROM ctrove_volume_usage WHERE instance_id = ?1"
				   " AND strftime('%s', 'now') - strftime('%s', updated_at) <= ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	sqlite3_bind_int64(st, 2, max_age);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*used_gb = sqlite3_column_double(st, 0);
	else if (rc != SQLITE_DONE)
		db_fail(err, "reading volume usage");
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int volume_usage_forget(const char *instance_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_volume_usage WHERE instance_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	if (db_step_done(st, err))
		return -1;
	st = db_stmt("DELETE FROM ctrove_guest_metrics WHERE instance_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	return db_step_done(st, err);
}
