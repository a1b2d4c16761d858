/*
 * identity_users.c — rows of ctrove_users for the identity admin API
 * (identity_admin.h), and each user's token validity floor: a new password,
 * disabling the user or taking a role away moves tokens_valid_after to now, so
 * every token issued before is refused (api/token_revocation.c reads it).
 * Passwords are stored only as hashes made by identity_hash_password().
 * May not touch projects or roles beyond their assignments' users.
 */
#define LOG_MODULE "identity"
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/timefmt.h"
#include "db/identity.h"
#include "db/identity_admin.h"
#include "db/store.h"

#define USER_COLUMNS "id, name, description, email, enabled, default_project_id"

static void read_user(sqlite3_stmt *st, void *row)
{
	struct identity_user *u = row;
	snprintf(u->id, sizeof u->id, "%s", db_col_text(st, 0));
	snprintf(u->name, sizeof u->name, "%s", db_col_text(st, 1));
	snprintf(u->description, sizeof u->description, "%s", db_col_text(st, 2));
	snprintf(u->email, sizeof u->email, "%s", db_col_text(st, 3));
	u->enabled = sqlite3_column_int(st, 4) != 0;
	snprintf(u->default_project_id, sizeof u->default_project_id, "%s", db_col_text(st, 5));
}

int identity_users_list(const char *name, struct identity_user **out, size_t *count,
			struct ct_error *err)
{
	void *rows;
	if (db_collect_text("SELECT " USER_COLUMNS " FROM ctrove_users"
			    " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
			    name, sizeof **out, read_user, "list users", &rows, count, err))
		return -1;
	*out = rows;
	return 0;
}

int identity_user_get(const char *id, struct identity_user *out, struct ct_error *err)
{
	int found = db_read_row("SELECT " USER_COLUMNS " FROM ctrove_users WHERE id = ?1", id,
				read_user, out, "read user", err);
	if (found < 0)
		return -1;
	return found ? 0 : ct_fail(err, 404, "Could not find user: %.64s.", id);
}

static int name_free(const char *name, const char *except_id, struct ct_error *err)
{
	int taken = db_exists("SELECT id FROM ctrove_users WHERE name = ?1"
			      " AND (?2 IS NULL OR id <> ?2)",
			      name, except_id, "read user names", err);
	if (taken < 0)
		return -1;
	return taken ? ct_fail(err, 409,
			       "Conflict occurred attempting to store user - Duplicate entry "
			       "found with name %.255s at domain ID " IDENTITY_DOMAIN_ID ".",
			       name)
		     : 0;
}

/* The stored form of password ("" for none: nobody can log in with it). */
static int hash_of(const char *password, char *out, size_t size, struct ct_error *err)
{
	out[0] = '\0';
	if (password &&
	    identity_hash_password(password, cfg_int(CFG_PASSWORD_HASH_ROUNDS), out, size))
		return ct_fail(err, 500, "cannot hash the password");
	return 0;
}

static void bind_user(sqlite3_stmt *st, const struct identity_user *u)
{
	db_bind_text(st, 1, u->id);
	db_bind_text(st, 2, u->name);
	db_bind_text(st, 3, u->description);
	db_bind_text(st, 4, u->email);
	sqlite3_bind_int(st, 5, u->enabled);
	db_bind_text(st, 6, u->default_project_id[0] ? u->default_project_id : NULL);
}

int identity_user_create(struct identity_user *u, const char *password, struct ct_error *err)
{
	char hash[256], now[CT_TIME_LEN];
	if (hash_of(password, hash, sizeof hash, err))
		return -1;
	timefmt_db_now(now);
	if (db_begin(err))
		goto out;
	if (name_free(u->name, NULL, err))
		goto fail;
	ids_hex32(u->id);
	sqlite3_stmt *st = db_stmt("INSERT INTO ctrove_users (id, name, description, email,"
				   " enabled, default_project_id, password_hash, created)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
				   err);
	if (!st)
		goto fail;
	bind_user(st, u);
	db_bind_text(st, 7, hash);
	db_bind_text(st, 8, now);
	if (db_step_done(st, err) || db_commit(err))
		goto fail;
	OPENSSL_cleanse(hash, sizeof hash);
	return 0;
fail:
	db_rollback();
out:
	OPENSSL_cleanse(hash, sizeof hash);
	return -1;
}

int identity_user_update(const struct identity_user *u, const char *password, struct ct_error *err)
{
	char hash[256];
	if (hash_of(password, hash, sizeof hash, err))
		return -1;
	if (db_begin(err))
		goto out;
	if (name_free(u->name, u->id, err))
		goto fail;
	/* A new password or a disabled user voids every token issued so far. */
	sqlite3_stmt *st = db_stmt(
		"UPDATE ctrove_users SET name = ?2, description = ?3, email = ?4, enabled = ?5,"
		" default_project_id = ?6,"
		" password_hash = CASE WHEN ?7 IS NULL THEN password_hash ELSE ?7 END,"
		" tokens_valid_after = CASE WHEN ?7 IS NOT NULL OR ?5 = 0 THEN ?8"
		" ELSE tokens_valid_after END WHERE id = ?1",
		err);
	if (!st)
		goto fail;
	bind_user(st, u);
	db_bind_text(st, 7, password ? hash : NULL);
	sqlite3_bind_int64(st, 8, timefmt_now_us());
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		ct_fail(err, 404, "Could not find user: %.64s.", u->id);
		goto fail;
	}
	if (db_commit(err))
		goto fail;
	OPENSSL_cleanse(hash, sizeof hash);
	return 0;
fail:
	db_rollback();
out:
	OPENSSL_cleanse(hash, sizeof hash);
	return -1;
}

int identity_user_delete(const char *id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_users WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	if (db_step_done(st, err))
		return -1;
	if (sqlite3_changes(db_handle(NULL)) == 0)
		return ct_fail(err, 404, "Could not find user: %.64s.", id);
	return 0;
}

int identity_user_tokens_valid_after(const char *id, long long *valid_after_us,
				     struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("SELECT enabled, tokens_valid_after FROM ctrove_users WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	*valid_after_us = LLONG_MAX;
	if (rc == SQLITE_ROW && sqlite3_column_int(st, 0))
		*valid_after_us = sqlite3_column_int64(st, 1);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(err, "read user");
	db_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int identity_user_revoke_tokens(const char *id, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("UPDATE ctrove_users SET tokens_valid_after = ?2 WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, timefmt_now_us());
	return db_step_done(st, err);
}
