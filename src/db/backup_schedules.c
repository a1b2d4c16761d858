/*
 * backup_schedules.c — see backup_schedules.h. Owns the statements on
 * ctrove_backup_schedules and ctrove_backup_schedule_runs.
 */
#define LOG_MODULE "db"
#include "db/backup_schedules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "db/store.h"

#define SCHEDULE_COLUMNS                                                                           \
	"SELECT id, instance_id, tenant_id, name, description, pattern, incremental, max_count,"   \
	" max_age_days, last_run, next_run, created FROM ctrove_backup_schedules"

#define COPY(field, col) snprintf(s->field, sizeof s->field, "%s", db_col_text(st, col))

static void read_schedule(sqlite3_stmt *st, void *row)
{
	struct backup_schedule *s = row;
	memset(s, 0, sizeof *s);
	COPY(id, 0);
	COPY(instance_id, 1);
	COPY(tenant_id, 2);
	COPY(name, 3);
	s->has_description = !db_col_is_null(st, 4);
	COPY(description, 4);
	COPY(pattern, 5);
	s->incremental = sqlite3_column_int(st, 6) != 0;
	s->max_count = (long)sqlite3_column_int64(st, 7);
	s->max_age_days = (long)sqlite3_column_int64(st, 8);
	s->last_run = sqlite3_column_int64(st, 9);
	s->next_run = sqlite3_column_int64(st, 10);
	COPY(created, 11);
}

int schedule_insert(const struct backup_schedule *s, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("INSERT INTO ctrove_backup_schedules (id, instance_id, tenant_id, name, "
			"description,"
			" pattern, incremental, max_count, max_age_days, last_run, next_run, "
			"created, deleted)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11, 0)",
			err);
	if (!st)
		return -1;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	db_bind_text(st, 1, s->id);
	db_bind_text(st, 2, s->instance_id);
	db_bind_text(st, 3, s->tenant_id);
	db_bind_text(st, 4, s->name);
	db_bind_text(st, 5, s->has_description ? s->description : NULL);
	db_bind_text(st, 6, s->pattern);
	sqlite3_bind_int(st, 7, s->incremental);
	if (s->max_count > 0)
		sqlite3_bind_int64(st, 8, s->max_count);
	if (s->max_age_days > 0)
		sqlite3_bind_int64(st, 9, s->max_age_days);
	sqlite3_bind_int64(st, 10, s->next_run);
	db_bind_text(st, 11, now);
	return db_step_done(st, err);
}

int schedule_load(const char *id, const char *instance_id, const char *project,
		  struct backup_schedule *out, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt(SCHEDULE_COLUMNS " WHERE id = ?1 AND instance_id = ?2"
					 " AND deleted = 0 AND (?3 IS NULL OR tenant_id = ?3)",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, instance_id);
	db_bind_text(st, 3, project);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_schedule(st, out);
	else if (rc != SQLITE_DONE)
		db_fail(err, "reading a backup schedule");
	db_stmt_done(st);
	if (rc == SQLITE_DONE)
		return ct_fail(err, 404, "Resource %.64s cannot be found.", id);
	return rc == SQLITE_ROW ? 0 : -1;
}

int schedule_list(const char *instance_id, const char *project, struct backup_schedule **out,
		  size_t *n, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(SCHEDULE_COLUMNS " WHERE instance_id = ?1 AND deleted = 0"
						    " AND (?2 IS NULL OR tenant_id = ?2)"
						    " ORDER BY created, id",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, project);
	return db_collect(st, sizeof **out, read_schedule, "listing backup schedules", (void **)out,
			  n, err);
}

int schedule_mark_deleted(const char *id, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("UPDATE ctrove_backup_schedules SET deleted = 1 WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	return db_step_done(st, err);
}

int schedule_due(long long now, struct backup_schedule **out, size_t *n, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(SCHEDULE_COLUMNS " WHERE deleted = 0 AND next_run <= ?1"
						    " ORDER BY next_run, id",
				   err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	return db_collect(st, sizeof **out, read_schedule, "listing due backup schedules",
			  (void **)out, n, err);
}

int schedule_claim(const char *id, long long seen, long long next, long long now,
		   struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("UPDATE ctrove_backup_schedules SET next_run = ?2, last_run = ?3"
				   " WHERE id = ?1 AND next_run = ?4 AND deleted = 0",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, next);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, seen);
	if (db_step_done(st, err))
		return -1;
	return sqlite3_changes(db_handle(NULL)) == 1;
}

int schedule_run_record(const char *backup_id, const char *schedule_id, const char *instance_id,
			struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO ctrove_backup_schedule_runs"
				   " (backup_id, schedule_id, instance_id, created)"
				   " VALUES (?1, ?2, ?3, ?4)",
				   err);
	if (!st)
		return -1;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	db_bind_text(st, 1, backup_id);
	db_bind_text(st, 2, schedule_id);
	db_bind_text(st, 3, instance_id);
	db_bind_text(st, 4, now);
	return db_step_done(st, err);
}

static void read_run(sqlite3_stmt *st, void *row)
{
	struct schedule_run *r = row;
	snprintf(r->backup_id, sizeof r->backup_id, "%s", db_col_text(st, 0));
	snprintf(r->schedule_id, sizeof r->schedule_id, "%s", db_col_text(st, 1));
}

int schedule_runs_of(const char *instance_id, struct schedule_run **out, size_t *n,
		     struct ct_error *err)
{
	return db_collect_text("SELECT backup_id, schedule_id FROM ctrove_backup_schedule_runs"
			       " WHERE instance_id = ?1",
			       instance_id, sizeof **out, read_run, "listing schedule runs",
			       (void **)out, n, err);
}
