/*
 * backups.c — see backups.h. Owns the statements on backups and
 * backup_strategy; the backups quota goes through quotas.h.
 */
#define LOG_MODULE "db"
#include "db/backups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/timefmt.h"
#include "db/quotas.h"
#include "db/store.h"

#define BACKUP_COLUMNS                                                                             \
	"SELECT b.id, b.name, b.description, b.location, b.backup_type, b.size, b.tenant_id,"      \
	" b.state, b.instance_id, b.checksum, b.created, b.updated, b.parent_id,"                  \
	" b.datastore_version_id, d.name, v.name, b.ctrove_encrypted_key"                          \
	" FROM backups b LEFT JOIN datastore_versions v ON v.id = b.datastore_version_id"          \
	" LEFT JOIN datastores d ON d.id = v.datastore_id"

bool backup_state_running(const char *state)
{
	return !strcmp(state, "NEW") || !strcmp(state, "BUILDING") || !strcmp(state, "SAVING");
}

#define COPY(field, col) snprintf(b->field, sizeof b->field, "%s", db_col_text(st, col))

static void read_backup(sqlite3_stmt *st, void *row)
{
	struct backup_row *b = row;
	memset(b, 0, sizeof *b);
	COPY(id, 0);
	COPY(name, 1);
	b->has_description = !db_col_is_null(st, 2);
	COPY(description, 2);
	COPY(location, 3);
	COPY(backup_type, 4);
	b->has_size = !db_col_is_null(st, 5);
	b->size = sqlite3_column_double(st, 5);
	COPY(tenant_id, 6);
	COPY(state, 7);
	COPY(instance_id, 8);
	COPY(checksum, 9);
	COPY(created, 10);
	COPY(updated, 11);
	COPY(parent_id, 12);
	COPY(datastore_version_id, 13);
	COPY(datastore_name, 14);
	COPY(datastore_version_name, 15);
	COPY(encrypted_key, 16);
}

static const char *or_null(const char *text)
{
	return text && *text ? text : NULL;
}

int backup_insert(const struct backup_row *b, long quota_limit, struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	int running = backup_running_for(b->instance_id, err);
	if (running < 0)
		goto fail;
	if (running) {
		ct_fail(err, 422,
			"Instance %s is not currently available for an action to be performed "
			"(instance status was BACKUP).",
			b->instance_id);
		goto fail;
	}
	if (quota_use(b->tenant_id, QUOTA_BACKUPS, 1, quota_limit, err))
		goto fail;
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO backups (id, name, description, location, backup_type, size,"
		" tenant_id, state, instance_id, checksum, backup_timestamp, deleted, created,"
		" updated, parent_id, datastore_version_id, ctrove_encrypted_key)"
		" VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, 'NEW', ?7, NULL, ?8, 0, ?8, ?8, ?9, ?10, "
		"?11)",
		err);
	if (!st)
		goto fail;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	db_bind_text(st, 1, b->id);
	db_bind_text(st, 2, b->name);
	db_bind_text(st, 3, b->has_description ? b->description : NULL);
	db_bind_text(st, 4, or_null(b->location));
	db_bind_text(st, 5, b->backup_type);
	db_bind_text(st, 6, b->tenant_id);
	db_bind_text(st, 7, b->instance_id);
	db_bind_text(st, 8, now);
	db_bind_text(st, 9, or_null(b->parent_id));
	db_bind_text(st, 10, or_null(b->datastore_version_id));
	db_bind_text(st, 11, or_null(b->encrypted_key));
	if (db_step_done(st, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int backup_load(const char *id, const char *project, struct backup_row *out, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(BACKUP_COLUMNS " WHERE b.id = ?1 AND b.deleted = 0"
						  " AND (?2 IS NULL OR b.tenant_id = ?2)",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, project);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_backup(st, out);
	else if (rc != SQLITE_DONE)
		db_fail(err, "reading a backup");
	db_stmt_done(st);
	if (rc == SQLITE_DONE)
		return ct_fail(err, 404, "Resource %.64s cannot be found.", id);
	return rc == SQLITE_ROW ? 0 : -1;
}

int backup_page(const struct backup_filter *f, long offset, long limit, struct backup_row **out,
		size_t *n, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		BACKUP_COLUMNS " WHERE b.deleted = 0 AND (?1 IS NULL OR b.tenant_id = ?1)"
			       " AND (?2 IS NULL OR b.instance_id = ?2)"
			       " AND (?3 IS NULL OR d.id = ?3 OR d.name = ?3)"
			       " ORDER BY b.updated DESC, b.created DESC, b.id LIMIT ?4 OFFSET ?5",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, f->project);
	db_bind_text(st, 2, f->instance_id);
	db_bind_text(st, 3, f->datastore);
	sqlite3_bind_int64(st, 4, limit);
	sqlite3_bind_int64(st, 5, offset);
	return db_collect(st, sizeof **out, read_backup, "listing backups", (void **)out, n, err);
}

int backup_running_for(const char *instance_id, struct ct_error *err)
{
	return db_exists("SELECT 1 FROM backups WHERE instance_id = ?1 AND deleted = 0"
			 " AND state IN (" BACKUP_RUNNING_STATES ") AND ?2 IS NULL",
			 instance_id, NULL, "reading running backups", err);
}

int backup_latest_completed(const char *instance_id, struct backup_row *out, struct ct_error *err)
{
	return db_read_row(BACKUP_COLUMNS " WHERE b.instance_id = ?1 AND b.deleted = 0"
					  " AND b.state = 'COMPLETED'"
					  " ORDER BY b.updated DESC, b.created DESC LIMIT 1",
			   instance_id, read_backup, out, "reading the latest backup", err);
}

int backup_chain(const char *id, struct backup_row **out, size_t *n, struct ct_error *err)
{
	struct backup_row *rows = NULL;
	size_t count = 0;
	char next[37];
	snprintf(next, sizeof next, "%s", id);
	/* A chain is short (one full and its incrementals); a loop in rows written
	 * by hand must still end. */
	while (next[0]) {
		if (count >= 1000) {
			free(rows);
			return ct_fail(err, 500, "the chain of backup %s does not end", id);
		}
		struct backup_row *grown = realloc(rows, (count + 1) * sizeof *rows);
		if (!grown) {
			free(rows);
			return ct_fail(err, 500, "out of memory");
		}
		rows = grown;
		if (backup_load(next, NULL, &rows[count], err)) {
			free(rows);
			return -1;
		}
		snprintf(next, sizeof next, "%s", rows[count].parent_id);
		count++;
	}
	for (size_t i = 0; i < count / 2; i++) {
		struct backup_row t = rows[i];
		rows[i] = rows[count - 1 - i];
		rows[count - 1 - i] = t;
	}
	*out = rows;
	*n = count;
	return 0;
}

int backup_descendants(const char *id, struct backup_row **out, size_t *n, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		"WITH RECURSIVE tree(id, depth) AS ("
		" SELECT id, 1 FROM backups WHERE parent_id = ?1 AND deleted = 0"
		" UNION SELECT c.id, t.depth + 1 FROM backups c JOIN tree t ON c.parent_id = t.id"
		" WHERE c.deleted = 0 AND t.depth < 1000)" BACKUP_COLUMNS
		" JOIN tree ON tree.id = b.id GROUP BY b.id ORDER BY max(tree.depth) DESC",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	return db_collect(st, sizeof **out, read_backup, "listing child backups", (void **)out, n,
			  err);
}

static int set_text(const char *sql, const char *id, const char *value, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, value);
	db_bind_text(st, 3, now);
	return db_step_done(st, err);
}

int backup_set_state(const char *id, const char *state, struct ct_error *err)
{
	return set_text("UPDATE backups SET state = ?2, updated = ?3 WHERE id = ?1", id, state,
			err);
}

int backup_set_location(const char *id, const char *location, struct ct_error *err)
{
	return set_text("UPDATE backups SET location = ?2, updated = ?3 WHERE id = ?1", id,
			location, err);
}

int backup_fail_running(const char *instance_id, long older_than_s, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(
		"UPDATE backups SET state = 'FAILED', updated = ?3 WHERE deleted = 0"
		" AND state IN (" BACKUP_RUNNING_STATES ") AND (?1 IS NULL OR instance_id = ?1)"
		" AND (?1 IS NOT NULL OR strftime('%s', ?3) - strftime('%s', updated) >= ?2)",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	sqlite3_bind_int64(st, 2, older_than_s);
	db_bind_text(st, 3, now);
	if (db_step_done(st, err))
		return -1;
	return sqlite3_changes(db_handle(NULL));
}

int backup_mark_deleted(const char *id, struct ct_error *err)
{
	struct backup_row b;
	if (db_begin(err))
		return -1;
	if (backup_load(id, NULL, &b, err))
		goto fail;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("UPDATE backups SET deleted = 1, deleted_at = ?2, updated = ?2,"
				   " datastore_version_id = NULL WHERE id = ?1",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, now);
	if (db_step_done(st, err) || quota_use(b.tenant_id, QUOTA_BACKUPS, -1, -1, err) ||
	    db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

/* --- backup strategies ------------------------------------------------------ */

int backup_strategy_put(const struct backup_strategy *s, struct ct_error *err)
{
	char id[CT_UUID_LEN + 1], now[CT_TIME_LEN];
	ids_uuid(id);
	timefmt_db_now(now);
	sqlite3_stmt *st =
		db_stmt("INSERT INTO backup_strategy (id, tenant_id, instance_id, backend,"
			" swift_container, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			" ON CONFLICT (tenant_id, instance_id) DO UPDATE SET"
			" swift_container = excluded.swift_container, backend = excluded.backend",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, s->tenant_id);
	db_bind_text(st, 3, s->instance_id);
	db_bind_text(st, 4, s->backend);
	db_bind_text(st, 5, s->swift_container);
	db_bind_text(st, 6, now);
	return db_step_done(st, err);
}

static void read_strategy(sqlite3_stmt *st, void *row)
{
	struct backup_strategy *s = row;
	snprintf(s->tenant_id, sizeof s->tenant_id, "%s", db_col_text(st, 0));
	snprintf(s->instance_id, sizeof s->instance_id, "%s", db_col_text(st, 1));
	snprintf(s->backend, sizeof s->backend, "%s", db_col_text(st, 2));
	snprintf(s->swift_container, sizeof s->swift_container, "%s", db_col_text(st, 3));
}

int backup_strategy_list(const char *tenant_id, const char *instance_id,
			 struct backup_strategy **out, size_t *n, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT tenant_id, instance_id, backend, swift_container"
				   " FROM backup_strategy WHERE tenant_id = ?1"
				   " AND (?2 IS NULL OR instance_id = ?2) ORDER BY created, id",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, tenant_id);
	db_bind_text(st, 2, instance_id);
	return db_collect(st, sizeof **out, read_strategy, "listing backup strategies",
			  (void **)out, n, err);
}

int backup_strategy_delete(const char *tenant_id, const char *instance_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		"DELETE FROM backup_strategy WHERE tenant_id = ?1 AND instance_id = ?2", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, tenant_id);
	db_bind_text(st, 2, instance_id);
	return db_step_done(st, err);
}

int backup_strategy_container(const char *tenant_id, const char *instance_id, char *out,
			      size_t size, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT swift_container FROM backup_strategy"
				   " WHERE tenant_id = ?1 AND instance_id IN (?2, '')"
				   " AND swift_container IS NOT NULL AND swift_container != ''"
				   " ORDER BY instance_id DESC LIMIT 1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, tenant_id);
	db_bind_text(st, 2, instance_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, size, "%s", db_col_text(st, 0));
	else if (rc != SQLITE_DONE)
		db_fail(err, "reading a backup strategy");
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
