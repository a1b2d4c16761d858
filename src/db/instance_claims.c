/*
 * instance_claims.c — see instance_claims.h. Owns the SQL of
 * ctrove_instance_claims and nothing else.
 */
#define LOG_MODULE "db"
#include "db/instance_claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/store.h"

int claim_insert(const struct instance_claim *c, const char *sealed_args, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO ctrove_instance_claims (instance_id, task, owner,"
				   " lease_until, started_at, phase, sealed_args)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, c->instance_id);
	db_bind_text(st, 2, c->task);
	db_bind_text(st, 3, c->owner);
	sqlite3_bind_int64(st, 4, c->lease_until);
	sqlite3_bind_int64(st, 5, c->started_at);
	db_bind_text(st, 6, c->phase);
	db_bind_text(st, 7, sealed_args);
	if (db_step_done(st, err))
		return -1;
	sqlite3 *db = db_handle(err);
	return db ? sqlite3_changes(db) == 1 : -1;
}

static void read_claim(sqlite3_stmt *st, void *row)
{
	struct instance_claim *c = row;
	snprintf(c->instance_id, sizeof c->instance_id, "%s", db_col_text(st, 0));
	snprintf(c->task, sizeof c->task, "%s", db_col_text(st, 1));
	snprintf(c->owner, sizeof c->owner, "%s", db_col_text(st, 2));
	c->lease_until = sqlite3_column_int64(st, 3);
	c->started_at = sqlite3_column_int64(st, 4);
	snprintf(c->phase, sizeof c->phase, "%s", db_col_text(st, 5));
}

int claim_get(const char *instance_id, const char *task, struct instance_claim *out,
	      struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("SELECT instance_id, task, owner, lease_until, started_at, phase"
			" FROM ctrove_instance_claims WHERE instance_id = ?1 AND task = ?2",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, task);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_claim(st, out);
	else if (rc != SQLITE_DONE)
		db_fail(err, "reading an instance claim");
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

char *claim_sealed_args(const char *instance_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT sealed_args FROM ctrove_instance_claims"
				   " WHERE instance_id = ?1 AND task = 'build'",
				   err);
	if (!st)
		return NULL;
	db_bind_text(st, 1, instance_id);
	char *out = NULL;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !db_col_is_null(st, 0)) {
		out = strdup(db_col_text(st, 0));
		if (!out)
			ct_fail(err, 500, "out of memory");
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		ct_fail(err, 404, "instance %s has no build arguments", instance_id);
	} else {
		db_fail(err, "reading a build's arguments");
	}
	db_stmt_done(st);
	return out;
}

int claim_list(const char *task, struct instance_claim **out, size_t *count, struct ct_error *err)
{
	void *rows;
	if (db_collect_text("SELECT instance_id, task, owner, lease_until, started_at, phase"
			    " FROM ctrove_instance_claims WHERE task = ?1 ORDER BY started_at",
			    task, sizeof **out, read_claim, "listing instance claims", &rows, count,
			    err))
		return -1;
	*out = rows;
	return 0;
}

int claim_take(const struct instance_claim *seen, const char *owner, long long lease_until,
	       struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("UPDATE ctrove_instance_claims SET owner = ?5, lease_until = ?6,"
			" phase = CASE phase WHEN 'queued' THEN 'running' ELSE phase END"
			" WHERE instance_id = ?1 AND task = ?2 AND owner = ?3 AND lease_until = ?4",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, seen->instance_id);
	db_bind_text(st, 2, seen->task);
	db_bind_text(st, 3, seen->owner);
	sqlite3_bind_int64(st, 4, seen->lease_until);
	db_bind_text(st, 5, owner);
	sqlite3_bind_int64(st, 6, lease_until);
	if (db_step_done(st, err))
		return -1;
	sqlite3 *db = db_handle(err);
	return db ? sqlite3_changes(db) == 1 : -1;
}

int claim_renew(const char *owner, long long lease_until, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("UPDATE ctrove_instance_claims SET lease_until = ?2"
				   " WHERE owner = ?1 AND phase <> 'queued' AND lease_until < ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, owner);
	sqlite3_bind_int64(st, 2, lease_until);
	return db_step_done(st, err);
}

int claim_set_phase(const char *instance_id, const char *task, const char *phase,
		    struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("UPDATE ctrove_instance_claims SET phase = ?3"
				   " WHERE instance_id = ?1 AND task = ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, task);
	db_bind_text(st, 3, phase);
	return db_step_done(st, err);
}

int claim_release(const char *instance_id, const char *task, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_instance_claims"
				   " WHERE instance_id = ?1 AND task = ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, task);
	return db_step_done(st, err);
}

int claim_forget_instance(const char *instance_id, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("DELETE FROM ctrove_instance_claims WHERE instance_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	return db_step_done(st, err);
}
