/*
 * archives.c — see archives.h.
 */
#include "db/archives.h"

#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "db/instances.h"
#include "db/store.h"

/* instance_faults.details of the archive's gap fault, so a report without a
 * gap clears exactly that fault. */
#define ARCHIVE_GAP_DETAILS "ctrove:archive-gap"

#define ARCHIVE_COLUMNS                                                                            \
	"SELECT instance_id, tenant_id, datastore, prefix, encrypted_key, archived_until,"         \
	" last_seq, gap, started_at, reported_at FROM ctrove_archives"

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	snprintf(dst, size, "%s", db_col_text(st, col));
}

static void read_archive(sqlite3_stmt *st, void *row)
{
	struct archive_row *a = row;
	memset(a, 0, sizeof *a);
	copy_text(a->instance_id, sizeof a->instance_id, st, 0);
	copy_text(a->tenant_id, sizeof a->tenant_id, st, 1);
	copy_text(a->datastore, sizeof a->datastore, st, 2);
	copy_text(a->prefix, sizeof a->prefix, st, 3);
	copy_text(a->encrypted_key, sizeof a->encrypted_key, st, 4);
	a->has_archived_until = !db_col_is_null(st, 5);
	a->archived_until = sqlite3_column_int64(st, 5);
	a->last_seq = db_col_is_null(st, 6) ? -1 : sqlite3_column_int64(st, 6);
	copy_text(a->gap, sizeof a->gap, st, 7);
	a->started_at = sqlite3_column_int64(st, 8);
	a->reported_at = sqlite3_column_int64(st, 9);
}

int archive_ensure(const struct archive_row *a, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st =
		db_stmt("INSERT INTO ctrove_archives (instance_id, tenant_id, datastore, prefix,"
			" encrypted_key, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
			" ON CONFLICT (instance_id) DO NOTHING",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, a->instance_id);
	db_bind_text(st, 2, a->tenant_id);
	db_bind_text(st, 3, a->datastore);
	db_bind_text(st, 4, a->prefix);
	db_bind_text(st, 5, a->encrypted_key);
	db_bind_text(st, 6, now);
	if (db_step_done(st, err))
		return -1;
	return sqlite3_changes(db_handle(NULL)) > 0 ? 1 : 0;
}

int archive_load(const char *instance_id, const char *project, struct archive_row *out,
		 struct ct_error *err)
{
	int found = db_read_row(ARCHIVE_COLUMNS " WHERE instance_id = ?1", instance_id,
				read_archive, out, "reading an archive", err);
	if (found == 1 && project && strcmp(out->tenant_id, project))
		return 0;
	return found;
}

int archive_set_started(const char *instance_id, long long when, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(
		"UPDATE ctrove_archives SET started_at = ?2, updated = ?3 WHERE instance_id = ?1",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	sqlite3_bind_int64(st, 2, when);
	db_bind_text(st, 3, now);
	return db_step_done(st, err);
}

/* Raise (gap) or clear (no gap) the instance's archive fault; joins the
 * caller's transaction. */
static int clear_gap_fault(const char *instance_id, const char *now, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("UPDATE instance_faults SET deleted = 1, deleted_at = ?2, updated = ?2"
			" WHERE instance_id = ?1 AND details = '" ARCHIVE_GAP_DETAILS "'"
			" AND deleted = 0",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, now);
	return db_step_done(st, err);
}

/* Raise (gap: once per message) or clear (no gap) the instance's archive
 * fault; joins the caller's transaction. */
static int note_gap_fault(const char *instance_id, const char *gap, const char *now,
			  struct ct_error *err)
{
	if (!gap)
		return clear_gap_fault(instance_id, now, err);
	int open = db_exists("SELECT 1 FROM instance_faults WHERE instance_id = ?1"
			     " AND details = '" ARCHIVE_GAP_DETAILS "' AND deleted = 0"
			     " AND message = substr(?2, 1, 255)",
			     instance_id, gap, "reading an archive fault", err);
	if (open != 0)
		return open < 0 ? -1 : 0;
	if (clear_gap_fault(instance_id, now, err))
		return -1;
	return instance_add_fault(instance_id, gap, ARCHIVE_GAP_DETAILS, err);
}

int archive_report_record(const struct archive_report *r, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st =
		db_stmt("UPDATE ctrove_archives SET"
			" archived_until = CASE WHEN ?2 IS NULL THEN archived_until"
			" ELSE max(coalesce(archived_until, ?2), ?2) END,"
			" last_seq = max(coalesce(last_seq, ?3), ?3), gap = ?4, reported_at = ?5,"
			" updated = ?6 WHERE instance_id = ?1",
			err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, r->instance_id);
	if (r->has_archived_until)
		sqlite3_bind_int64(st, 2, r->archived_until);
	sqlite3_bind_int64(st, 3, r->last_seq);
	db_bind_text(st, 4, r->gap);
	sqlite3_bind_int64(st, 5, r->now);
	db_bind_text(st, 6, now);
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		ct_fail(err, 404, "Instance %.64s has no archive.", r->instance_id);
		goto fail;
	}
	if (note_gap_fault(r->instance_id, r->gap, now, err) || db_commit(err))
		goto fail;
	return 1;
fail:
	db_rollback();
	return -1;
}

static void read_candidate(sqlite3_stmt *st, void *row)
{
	struct archive_candidate *c = row;
	memset(c, 0, sizeof *c);
	copy_text(c->instance_id, sizeof c->instance_id, st, 0);
	c->has_row = !db_col_is_null(st, 1);
	c->started_at = sqlite3_column_int64(st, 2);
	c->reported_at = sqlite3_column_int64(st, 3);
}

int archive_candidates(struct archive_candidate **out, size_t *n, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		"SELECT i.id, a.instance_id, coalesce(a.started_at, 0), coalesce(a.reported_at, 0)"
		" FROM instances i LEFT JOIN ctrove_archives a ON a.instance_id = i.id"
		" WHERE i.task_id = 1 AND (i.deleted IS NULL OR i.deleted = 0) ORDER BY i.created",
		err);
	if (!st)
		return -1;
	void *rows;
	if (db_collect(st, sizeof **out, read_candidate, "listing instances to archive", &rows, n,
		       err))
		return -1;
	*out = rows;
	return 0;
}

/* --- what a point-in-time restore reads from backups ----------------------- */

static int read_base(const char *instance_id, long long t, bool newest, char id[37],
		     long long *consistent_time, struct ct_error *err)
{
	sqlite3_stmt *st =
		newest ? db_stmt("SELECT id, ctrove_consistent_time FROM backups"
				 " WHERE instance_id = ?1 AND deleted = 0 AND state = 'COMPLETED'"
				 " AND ctrove_consistent_time <= ?2"
				 " ORDER BY ctrove_consistent_time DESC, created DESC LIMIT 1",
				 err)
		       : db_stmt("SELECT id, ctrove_consistent_time FROM backups"
				 " WHERE instance_id = ?1 AND deleted = 0 AND state = 'COMPLETED'"
				 " AND ctrove_consistent_time <= ?2"
				 " ORDER BY ctrove_consistent_time ASC, created ASC LIMIT 1",
				 err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	sqlite3_bind_int64(st, 2, t);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(id, 37, "%s", db_col_text(st, 0));
		*consistent_time = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE) {
		db_fail(err, "reading a base backup");
	}
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int archive_base_backup(const char *instance_id, long long t, char id[37],
			long long *consistent_time, struct ct_error *err)
{
	return read_base(instance_id, t, true, id, consistent_time, err);
}

int archive_oldest_base(const char *instance_id, long long *consistent_time, struct ct_error *err)
{
	char id[37];
	return read_base(instance_id, 9223372036854775807LL, false, id, consistent_time, err);
}
