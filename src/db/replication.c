/*
 * replication.c — see replication.h.
 */
#define LOG_MODULE "db"
#include "db/replication.h"

#include <stdio.h>

#include "common/timefmt.h"
#include "db/store.h"

int replication_set_source(const char *replica_id, const char *source_id, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st =
		db_stmt("UPDATE instances SET slave_of_id = ?2, updated = ?3 WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, replica_id);
	db_bind_text(st, 2, source_id);
	db_bind_text(st, 3, now);
	return db_step_done(st, err);
}

static void read_id(sqlite3_stmt *st, void *row)
{
	snprintf(row, 37, "%s", db_col_text(st, 0));
}

int replication_source_of(const char *id, char source_id[37], struct ct_error *err)
{
	source_id[0] = '\0';
	int found = db_read_row("SELECT slave_of_id FROM instances WHERE id = ?1"
				" AND slave_of_id IS NOT NULL",
				id, read_id, source_id, "reading a replica's source", err);
	return found == 1 && source_id[0] ? 1 : found < 0 ? -1 : 0;
}

int replication_replicas_of(const char *id, char (**ids)[37], size_t *count, struct ct_error *err)
{
	void *rows = NULL;
	if (db_collect_text("SELECT id FROM instances WHERE slave_of_id = ?1"
			    " AND (deleted IS NULL OR deleted = 0) ORDER BY created, id",
			    id, 37, read_id, "listing replicas", &rows, count, err))
		return -1;
	*ids = rows;
	return 0;
}

int replication_move_replicas(const char *old_source, const char *new_source, int keep_old,
			      struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("UPDATE instances SET slave_of_id = ?2, updated = ?3"
				   " WHERE slave_of_id = ?1 AND id <> ?2",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, old_source);
	db_bind_text(st, 2, new_source);
	db_bind_text(st, 3, now);
	if (db_step_done(st, err))
		goto fail;
	st = db_stmt("UPDATE instances SET slave_of_id = NULL, updated = ?2 WHERE id = ?1", err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, new_source);
	db_bind_text(st, 2, now);
	if (db_step_done(st, err))
		goto fail;
	if (keep_old) {
		st = db_stmt("UPDATE instances SET slave_of_id = ?2, updated = ?3 WHERE id = ?1",
			     err);
		if (!st)
			goto fail;
		db_bind_text(st, 1, old_source);
		db_bind_text(st, 2, new_source);
		db_bind_text(st, 3, now);
		if (db_step_done(st, err))
			goto fail;
	}
	if (db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}
