/*
 * identity_roles.c — rows of ctrove_roles and ctrove_role_assignments for the
 * identity admin API (identity_admin.h). Tokens carry role names, so taking a
 * role away (revoking an assignment, deleting a role) voids the tokens of the
 * users who held it. May not touch projects or users beyond reading them.
 */
#define LOG_MODULE "identity"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/timefmt.h"
#include "db/identity.h"
#include "db/identity_admin.h"
#include "db/store.h"

#define ROLE_COLUMNS "id, name, description"

static void read_role(sqlite3_stmt *st, void *row)
{
	struct identity_role *r = row;
	snprintf(r->id, sizeof r->id, "%s", db_col_text(st, 0));
	snprintf(r->name, sizeof r->name, "%s", db_col_text(st, 1));
	snprintf(r->description, sizeof r->description, "%s", db_col_text(st, 2));
}

/* A row of identity_assignments_list: the role's columns first. */
static void read_assignment(sqlite3_stmt *st, void *row)
{
	struct identity_assignment *a = row;
	read_role(st, &a->role);
	snprintf(a->user_id, sizeof a->user_id, "%s", db_col_text(st, 3));
	snprintf(a->user_name, sizeof a->user_name, "%s", db_col_text(st, 4));
	snprintf(a->project_id, sizeof a->project_id, "%s", db_col_text(st, 5));
	snprintf(a->project_name, sizeof a->project_name, "%s", db_col_text(st, 6));
}

int identity_roles_list(const char *name, struct identity_role **out, size_t *count,
			struct ct_error *err)
{
	void *rows;
	if (db_collect_text("SELECT " ROLE_COLUMNS " FROM ctrove_roles"
			    " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
			    name, sizeof **out, read_role, "list roles", &rows, count, err))
		return -1;
	*out = rows;
	return 0;
}

int identity_role_get(const char *id, struct identity_role *out, struct ct_error *err)
{
	int found = db_read_row("SELECT " ROLE_COLUMNS " FROM ctrove_roles WHERE id = ?1", id,
				read_role, out, "read role", err);
	if (found < 0)
		return -1;
	return found ? 0 : ct_fail(err, 404, "Could not find role: %.64s.", id);
}

int identity_role_create(struct identity_role *r, struct ct_error *err)
{
	if (strpbrk(r->name, ",|"))
		return ct_fail(err, 400,
			       "Invalid input for field 'name': a role name may not contain ',' "
			       "or '|'.");
	if (db_begin(err))
		return -1;
	int taken = db_exists("SELECT id FROM ctrove_roles WHERE name = ?1", r->name, NULL,
			      "read role names", err);
	if (taken < 0)
		goto fail;
	if (taken) {
		ct_fail(err, 409,
			"Conflict occurred attempting to store role - Duplicate entry found with "
			"name %.255s.",
			r->name);
		goto fail;
	}
	ids_hex32(r->id);
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO ctrove_roles (id, name, description) VALUES (?1, ?2, ?3)", err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, r->id);
	db_bind_text(st, 2, r->name);
	db_bind_text(st, 3, r->description);
	if (db_step_done(st, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int identity_role_delete(const char *id, struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st =
		db_stmt("UPDATE ctrove_users SET tokens_valid_after = ?2 WHERE id IN"
			" (SELECT user_id FROM ctrove_role_assignments WHERE role_id = ?1)",
			err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, timefmt_now_us());
	if (db_step_done(st, err))
		goto fail;
	st = db_stmt("DELETE FROM ctrove_roles WHERE id = ?1", err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		ct_fail(err, 404, "Could not find role: %.64s.", id);
		goto fail;
	}
	if (db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

/* 404 naming the first of project, user and role that does not exist. */
static int parties_exist(const char *project_id, const char *user_id, const char *role_id,
			 struct ct_error *err)
{
	struct identity_project p;
	struct identity_user u;
	struct identity_role r;
	return identity_project_get(project_id, &p, err) || identity_user_get(user_id, &u, err) ||
			       identity_role_get(role_id, &r, err)
		       ? -1
		       : 0;
}

int identity_grant(const char *project_id, const char *user_id, const char *role_id,
		   struct ct_error *err)
{
	if (parties_exist(project_id, user_id, role_id, err))
		return -1;
	return identity_assign(user_id, project_id, role_id, err);
}

static int no_assignment(const char *project_id, const char *user_id, const char *role_id,
			 struct ct_error *err)
{
	return ct_fail(err, 404,
		       "Could not find role assignment with role: %.64s, user or group: %.64s, "
		       "project, domain, or system: %.64s.",
		       role_id, user_id, project_id);
}

int identity_grant_check(const char *project_id, const char *user_id, const char *role_id,
			 struct ct_error *err)
{
	if (parties_exist(project_id, user_id, role_id, err))
		return -1;
	sqlite3_stmt *st = db_stmt("SELECT 1 FROM ctrove_role_assignments WHERE user_id = ?1"
				   " AND project_id = ?2 AND role_id = ?3",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, user_id);
	db_bind_text(st, 2, project_id);
	db_bind_text(st, 3, role_id);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	db_stmt_done(st);
	return found ? 0 : no_assignment(project_id, user_id, role_id, err);
}

int identity_revoke(const char *project_id, const char *user_id, const char *role_id,
		    struct ct_error *err)
{
	if (parties_exist(project_id, user_id, role_id, err) || db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_role_assignments WHERE user_id = ?1"
				   " AND project_id = ?2 AND role_id = ?3",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, user_id);
	db_bind_text(st, 2, project_id);
	db_bind_text(st, 3, role_id);
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		no_assignment(project_id, user_id, role_id, err);
		goto fail;
	}
	if (identity_user_revoke_tokens(user_id, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int identity_assignments_list(const char *user_id, const char *project_id, const char *role_id,
			      struct identity_assignment **out, size_t *count, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(
		"SELECT r.id, r.name, r.description, u.id, u.name, p.id, p.name"
		" FROM ctrove_role_assignments a"
		" JOIN ctrove_roles r ON r.id = a.role_id"
		" JOIN ctrove_users u ON u.id = a.user_id"
		" JOIN ctrove_projects p ON p.id = a.project_id"
		" WHERE (?1 IS NULL OR a.user_id = ?1) AND (?2 IS NULL OR a.project_id = ?2)"
		" AND (?3 IS NULL OR a.role_id = ?3) ORDER BY p.name, u.name, r.name",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, user_id);
	db_bind_text(st, 2, project_id);
	db_bind_text(st, 3, role_id);
	void *rows;
	if (db_collect(st, sizeof **out, read_assignment, "list role assignments", &rows, count,
		       err))
		return -1;
	*out = rows;
	return 0;
}
