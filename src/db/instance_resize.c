/*
 * instance_resize.c — see instance_resize.h. Owns the statements on
 * instances.volume_size / flavor_id and on the faults whose details are
 * VOLUME_FULL_DETAILS; quota usage goes through instances.c's one writer.
 */
#define LOG_MODULE "db"
#include "db/instance_resize.h"

#include <sqlite3.h>
#include <stdio.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/instances.h"
#include "db/store.h"

/* Marks the fault this file raises and clears, apart from every other. */
#define VOLUME_FULL_DETAILS "ctrove:volume_full"

int instance_resize_begin(const char *id, const char *project, enum quota_resource r, long delta,
			  struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	if (instance_quota_change(project, r, delta, err) ||
	    instance_set_task(id, TASK_RESIZING, err) || db_commit(err)) {
		db_rollback();
		return -1;
	}
	return 0;
}

int instance_resize_refund(const char *project, enum quota_resource r, long delta,
			   struct ct_error *err)
{
	return instance_quota_change(project, r, -delta, err);
}

static int set_column(const char *sql, const char *id, const char *text, long number,
		      struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	if (text)
		db_bind_text(st, 2, text);
	else
		sqlite3_bind_int64(st, 2, number);
	db_bind_text(st, 3, now);
	if (db_step_done(st, err))
		return -1;
	if (sqlite3_changes(db_handle(NULL)) == 0)
		return ct_fail(err, 404, "Resource %s cannot be found.", id);
	return 0;
}

int instance_set_volume_size(const char *id, long size_gb, struct ct_error *err)
{
	return set_column("UPDATE instances SET volume_size = ?2, updated = ?3 WHERE id = ?1", id,
			  NULL, size_gb, err);
}

int instance_set_flavor(const char *id, const char *flavor_id, struct ct_error *err)
{
	return set_column("UPDATE instances SET flavor_id = ?2, updated = ?3 WHERE id = ?1", id,
			  flavor_id, 0, err);
}

static int open_volume_fault(const char *id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT 1 FROM instance_faults WHERE instance_id = ?1"
				   " AND details = '" VOLUME_FULL_DETAILS "' AND deleted = 0"
				   " LIMIT 1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(err, "reading a volume fault");
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int instance_note_volume_full(const char *id, bool full, const char *message, struct ct_error *err)
{
	int open = open_volume_fault(id, err);
	if (open < 0 || open == (int)full)
		return open < 0 ? -1 : 0;
	if (full)
		return instance_add_fault(id, message, VOLUME_FULL_DETAILS, err) ? -1 : 1;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("UPDATE instance_faults SET deleted = 1, deleted_at = ?2,"
				   " updated = ?2 WHERE instance_id = ?1"
				   " AND details = '" VOLUME_FULL_DETAILS "' AND deleted = 0",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, now);
	return db_step_done(st, err) ? -1 : 1;
}
