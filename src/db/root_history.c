/*
 * root_history.c — see root_history.h.
 */
#define LOG_MODULE "db"
#include "db/root_history.h"

#include "common/timefmt.h"
#include "db/store.h"

int root_history_enabled(const char *instance_id, bool *enabled, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT 1 FROM root_enabled_history WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	int rc = sqlite3_step(st);
	*enabled = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(err, "reading root history");
	db_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int root_history_record(const char *instance_id, const char *user, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("INSERT INTO root_enabled_history (id, user, created)"
				   " VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, user);
	db_bind_text(st, 3, now);
	return db_step_done(st, err);
}
