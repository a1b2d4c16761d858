/*
 * failover.c — see failover.h. Owns ctrove_failover_settings and
 * ctrove_failover_claims; reads instances and service_statuses.
 */
#define LOG_MODULE "db"
#include "db/failover.h"

#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "db/instances.h"
#include "db/store.h"

int failover_settings_set(const char *instance_id, const struct failover_settings *s,
			  struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO ctrove_failover_settings (instance_id, automatic, synchronous,"
		" updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (instance_id) DO UPDATE SET"
		" automatic = excluded.automatic, synchronous = excluded.synchronous,"
		" updated_at = excluded.updated_at",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	sqlite3_bind_int(st, 2, s->automatic);
	sqlite3_bind_int(st, 3, s->synchronous);
	db_bind_text(st, 4, now);
	return db_step_done(st, err);
}

static void read_settings(sqlite3_stmt *st, void *row)
{
	struct failover_settings *s = row;
	s->automatic = sqlite3_column_int(st, 0) != 0;
	s->synchronous = sqlite3_column_int(st, 1) != 0;
}

int failover_settings_get(const char *instance_id, struct failover_settings *out,
			  struct ct_error *err)
{
	*out = (struct failover_settings){0};
	return db_read_row("SELECT automatic, synchronous FROM ctrove_failover_settings"
			   " WHERE instance_id = ?1",
			   instance_id, read_settings, out, "read failover settings", err);
}

int failover_settings_move(const char *from, const char *to, struct ct_error *err)
{
	struct failover_settings s;
	int found = failover_settings_get(from, &s, err);
	if (found < 0)
		return -1;
	if (!found)
		return 0;
	if (db_begin(err))
		return -1;
	if (failover_settings_set(to, &s, err) || failover_settings_forget(from, err))
		goto fail;
	if (db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int failover_settings_forget(const char *instance_id, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("DELETE FROM ctrove_failover_settings WHERE instance_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	return db_step_done(st, err);
}

static void read_count(sqlite3_stmt *st, void *row)
{
	*(long *)row = (long)sqlite3_column_int64(st, 0);
}

int failover_replica_count(const char *instance_id, long *count, struct ct_error *err)
{
	*count = 0;
	return db_read_row("SELECT COUNT(*) FROM instances WHERE slave_of_id = ?1"
			   " AND (deleted IS NULL OR deleted = 0)",
			   instance_id, read_count, count, "count replicas", err) < 0
		       ? -1
		       : 0;
}

int failover_is_replica(const char *instance_id, struct ct_error *err)
{
	return db_exists("SELECT 1 FROM instances WHERE id = ?1 AND slave_of_id IS NOT NULL"
			 " AND (deleted IS NULL OR deleted = 0)",
			 instance_id, NULL, "check a replica", err);
}

static void read_candidate(sqlite3_stmt *st, void *row)
{
	struct failover_candidate *c = row;
	snprintf(c->id, sizeof c->id, "%s", db_col_text(st, 0));
	snprintf(c->encrypted_key, sizeof c->encrypted_key, "%s", db_col_text(st, 1));
	c->service_status = sqlite3_column_int(st, 2);
	c->heartbeat_age = sqlite3_column_double(st, 3);
	c->synchronous = sqlite3_column_int(st, 4) != 0;
}

/* Seconds since an instance's last heartbeat: since the conductor recorded
 * it (service_statuses.updated_at, whole seconds, and not moved while the
 * status is RESTART_REQUIRED) or since the guest sent it
 * (conductor_lastseen.sent, fractional), whichever is more recent. */
/* clang-format off */
#define NOW_S "((julianday('now') - 2440587.5) * 86400.0)"
#define RECORDED_AGE(s) "(" NOW_S " - CAST(strftime('%s', " s ".updated_at) AS REAL))"
#define AGE_OF(s, l) "MIN(" RECORDED_AGE(s) ", COALESCE(" NOW_S " - " l ".sent, " RECORDED_AGE(s) "))"

static const char candidates_sql[] =
	"SELECT i.id, i.encrypted_key, s.status_id, " AGE_OF("s", "l") ", f.synchronous"
	" FROM ctrove_failover_settings f JOIN instances i ON i.id = f.instance_id"
	" JOIN service_statuses s ON s.instance_id = i.id"
	" LEFT JOIN conductor_lastseen l ON l.instance_id = i.id AND l.method_name = 'heartbeat'"
	" WHERE f.automatic = 1 AND (i.deleted IS NULL OR i.deleted = 0)"
	" AND i.slave_of_id IS NULL AND i.task_id = ?1 AND s.updated_at IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM ctrove_failover_claims c WHERE c.source_id = i.id)"
	" AND EXISTS (SELECT 1 FROM instances r JOIN service_statuses rs ON rs.instance_id = r.id"
	"  LEFT JOIN conductor_lastseen rl ON rl.instance_id = r.id"
	"  AND rl.method_name = 'heartbeat'"
	"  WHERE r.slave_of_id = i.id AND (r.deleted IS NULL OR r.deleted = 0)"
	"  AND rs.updated_at IS NOT NULL AND " AGE_OF("rs", "rl") " <= ?2)"
	" ORDER BY i.id";
/* clang-format on */

int failover_candidates(double max_age, struct failover_candidate **out, size_t *count,
			struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(candidates_sql, err);
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, TASK_NONE);
	sqlite3_bind_double(st, 2, max_age);
	void *rows;
	if (db_collect(st, sizeof **out, read_candidate, "list failover candidates", &rows, count,
		       err))
		return -1;
	*out = rows;
	return 0;
}

int failover_claim(const char *source_id, const char *claimed_by, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	/* BEGIN IMMEDIATE: the check below and the INSERT see one state, and a
	 * second process waits for this one's commit, then finds the row. */
	if (db_begin(err))
		return -1;
	int eligible =
		db_exists("SELECT 1 FROM instances i JOIN ctrove_failover_settings f"
			  " ON f.instance_id = i.id WHERE i.id = ?1 AND f.automatic = 1"
			  " AND i.slave_of_id IS NULL AND (i.deleted IS NULL OR i.deleted = 0)",
			  source_id, NULL, "check a failover source", err);
	if (eligible < 0)
		goto fail;
	int claimed = 0;
	if (eligible) {
		sqlite3_stmt *st = db_stmt("INSERT INTO ctrove_failover_claims (source_id,"
					   " claimed_by, claimed_at) VALUES (?1, ?2, ?3)"
					   " ON CONFLICT (source_id) DO NOTHING",
					   err);
		if (!st)
			goto fail;
		db_bind_text(st, 1, source_id);
		db_bind_text(st, 2, claimed_by);
		db_bind_text(st, 3, now);
		if (db_step_done(st, err))
			goto fail;
		sqlite3 *db = db_handle(err);
		if (!db)
			goto fail;
		claimed = sqlite3_changes(db) == 1;
	}
	if (db_commit(err))
		goto fail;
	return claimed;
fail:
	db_rollback();
	return -1;
}

int failover_claim_finish(const char *source_id, const char *new_source_id, const char *outcome,
			  struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("UPDATE ctrove_failover_claims SET new_source_id = ?2,"
				   " outcome = ?3, finished_at = ?4 WHERE source_id = ?1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, source_id);
	db_bind_text(st, 2, new_source_id);
	db_bind_text(st, 3, outcome);
	db_bind_text(st, 4, now);
	return db_step_done(st, err);
}

struct claim_row {
	char claimed_by[256];
	char new_source_id[37];
};

static void read_claim(sqlite3_stmt *st, void *row)
{
	struct claim_row *c = row;
	snprintf(c->claimed_by, sizeof c->claimed_by, "%s", db_col_text(st, 0));
	snprintf(c->new_source_id, sizeof c->new_source_id, "%s", db_col_text(st, 1));
}

int failover_claim_get(const char *source_id, char claimed_by[256], char new_source_id[37],
		       struct ct_error *err)
{
	struct claim_row c;
	memset(&c, 0, sizeof c);
	int found = db_read_row("SELECT claimed_by, new_source_id FROM ctrove_failover_claims"
				" WHERE source_id = ?1",
				source_id, read_claim, &c, "read a failover claim", err);
	if (found > 0) {
		snprintf(claimed_by, 256, "%s", c.claimed_by);
		snprintf(new_source_id, 37, "%s", c.new_source_id);
	}
	return found;
}

int failover_claim_release(const char *source_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_failover_claims WHERE source_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, source_id);
	return db_step_done(st, err);
}
