/*
 * identity_projects.c — rows of ctrove_projects for the identity admin API
 * (identity_admin.h). A project that still owns instances is not deleted:
 * its instances would be left without an owner who could ever delete them.
 * May not touch users, roles or tokens.
 */
#define LOG_MODULE "identity"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/timefmt.h"
#include "db/identity_admin.h"
#include "db/store.h"

#define PROJECT_COLUMNS "id, name, description, enabled"

static void read_project(sqlite3_stmt *st, void *row)
{
	struct identity_project *p = row;
	snprintf(p->id, sizeof p->id, "%s", db_col_text(st, 0));
	snprintf(p->name, sizeof p->name, "%s", db_col_text(st, 1));
	snprintf(p->description, sizeof p->description, "%s", db_col_text(st, 2));
	p->enabled = sqlite3_column_int(st, 3) != 0;
}

/* ?1 id, ?2 name, ?3 description, ?4 enabled */
static void bind_project(sqlite3_stmt *st, const struct identity_project *p)
{
	db_bind_text(st, 1, p->id);
	db_bind_text(st, 2, p->name);
	db_bind_text(st, 3, p->description);
	sqlite3_bind_int(st, 4, p->enabled);
}

int identity_projects_list(const char *name, struct identity_project **out, size_t *count,
			   struct ct_error *err)
{
	void *rows;
	if (db_collect_text("SELECT " PROJECT_COLUMNS " FROM ctrove_projects"
			    " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
			    name, sizeof **out, read_project, "list projects", &rows, count, err))
		return -1;
	*out = rows;
	return 0;
}

int identity_project_get(const char *id, struct identity_project *out, struct ct_error *err)
{
	int found = db_read_row("SELECT " PROJECT_COLUMNS " FROM ctrove_projects WHERE id = ?1", id,
				read_project, out, "read project", err);
	if (found < 0)
		return -1;
	return found ? 0 : ct_fail(err, 404, "Could not find project: %.64s.", id);
}

/* 409 when another project than except_id carries the name. */
static int name_free(const char *name, const char *except_id, struct ct_error *err)
{
	int taken = db_exists("SELECT id FROM ctrove_projects WHERE name = ?1"
			      " AND (?2 IS NULL OR id <> ?2)",
			      name, except_id, "read project names", err);
	if (taken < 0)
		return -1;
	return taken ? ct_fail(err, 409,
			       "Conflict occurred attempting to store project - it is not "
			       "permitted to have two projects with the same name in the same "
			       "domain : %.255s.",
			       name)
		     : 0;
}

int identity_project_create(struct identity_project *p, struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	if (name_free(p->name, NULL, err))
		goto fail;
	ids_hex32(p->id);
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("INSERT INTO ctrove_projects (id, name, description, enabled,"
				   " created) VALUES (?1, ?2, ?3, ?4, ?5)",
				   err);
	if (!st)
		goto fail;
	bind_project(st, p);
	db_bind_text(st, 5, now);
	if (db_step_done(st, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int identity_project_update(const struct identity_project *p, struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	if (name_free(p->name, p->id, err))
		goto fail;
	sqlite3_stmt *st = db_stmt("UPDATE ctrove_projects SET name = ?2, description = ?3,"
				   " enabled = ?4 WHERE id = ?1",
				   err);
	if (!st)
		goto fail;
	bind_project(st, p);
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		ct_fail(err, 404, "Could not find project: %.64s.", p->id);
		goto fail;
	}
	if (db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int identity_project_delete(const char *id, struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("SELECT count(*) FROM instances WHERE tenant_id = ?1"
				   " AND (deleted IS NULL OR deleted = 0)",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	int instances = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	db_stmt_done(st);
	if (instances > 0) {
		ct_fail(err, 409,
			"Cannot delete project %.64s: it still owns %d instance(s). Delete them "
			"first.",
			id, instances);
		goto fail;
	}
	st = db_stmt("DELETE FROM ctrove_projects WHERE id = ?1", err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		ct_fail(err, 404, "Could not find project: %.64s.", id);
		goto fail;
	}
	if (db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int identity_project_usable(const char *id, bool *usable, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT enabled FROM ctrove_projects WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	*usable = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(err, "read project");
	db_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
