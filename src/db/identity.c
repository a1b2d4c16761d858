/*
 * identity.c — see identity.h.
 */
#define LOG_MODULE "identity"
#include "db/identity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/store.h"

#define SALT_LEN 16
#define HASH_LEN 32

static const char auth_failed[] = "The request you have made requires authentication.";

int identity_hash_password(const char *password, long rounds, char *out, size_t size)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char salt_text[32], hash_text[48];
	if (rounds < 1 || ids_random(salt, sizeof salt))
		return -1;
	if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, (int)rounds,
			       EVP_sha256(), sizeof hash, hash))
		return -1;
	ids_base64url(salt, sizeof salt, salt_text);
	ids_base64url(hash, sizeof hash, hash_text);
	OPENSSL_cleanse(hash, sizeof hash);
	return (size_t)snprintf(out, size, "pbkdf2-sha256$%ld$%s$%s", rounds, salt_text,
				hash_text) < size
		       ? 0
		       : -1;
}

int identity_verify_password(const char *password, const char *stored)
{
	static const char prefix[] = "pbkdf2-sha256$";
	if (strncmp(stored, prefix, sizeof prefix - 1))
		return -1;
	char *end;
	long rounds = strtol(stored + sizeof prefix - 1, &end, 10);
	if (*end != '$' || rounds < 1 || rounds > 10000000)
		return -1;
	const char *salt_text = end + 1;
	const char *dollar = strchr(salt_text, '$');
	if (!dollar)
		return -1;
	unsigned char salt[SALT_LEN + 4], expected[HASH_LEN + 4], hash[HASH_LEN];
	long salt_len =
		ids_base64url_decode(salt_text, (size_t)(dollar - salt_text), salt, sizeof salt);
	long hash_len =
		ids_base64url_decode(dollar + 1, strlen(dollar + 1), expected, sizeof expected);
	if (salt_len <= 0 || hash_len != HASH_LEN)
		return -1;
	if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)rounds,
			       EVP_sha256(), sizeof hash, hash))
		return -1;
	int same = CRYPTO_memcmp(hash, expected, HASH_LEN) == 0;
	OPENSSL_cleanse(hash, sizeof hash);
	return same ? 0 : -1;
}

static void copy_entity(sqlite3_stmt *st, struct identity_entity *out)
{
	snprintf(out->id, sizeof out->id, "%s", db_col_text(st, 0));
	snprintf(out->name, sizeof out->name, "%s", db_col_text(st, 1));
}

/* What an unknown user's password is checked against, so that an unknown
 * name costs the same PBKDF2 work as a wrong password: the configured rounds,
 * a fixed salt and a hash nothing derives to. */
static void dummy_hash(char *out, size_t size)
{
	static const unsigned char salt[SALT_LEN] = "ctrove-no-user!", zero[HASH_LEN];
	char salt_text[32], hash_text[48];
	ids_base64url(salt, sizeof salt, salt_text);
	ids_base64url(zero, sizeof zero, hash_text);
	snprintf(out, size, "pbkdf2-sha256$%ld$%s$%s", cfg_int(CFG_PASSWORD_HASH_ROUNDS), salt_text,
		 hash_text);
}

int identity_authenticate(const char *user_id, const char *user_name, const char *password,
			  struct identity_entity *user, struct ct_error *err)
{
	sqlite3_stmt *st = user_id ? db_stmt("SELECT id, name, password_hash, enabled"
					     " FROM ctrove_users WHERE id = ?1",
					     err)
				   : db_stmt("SELECT id, name, password_hash, enabled"
					     " FROM ctrove_users WHERE name = ?1",
					     err);
	if (!st)
		return -1;
	db_bind_text(st, 1, user_id ? user_id : user_name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	bool enabled = false;
	char stored[256] = "";
	if (found) {
		copy_entity(st, user);
		snprintf(stored, sizeof stored, "%s", db_col_text(st, 2));
		enabled = sqlite3_column_int(st, 3) != 0;
	}
	db_stmt_done(st);
	if (strncmp(stored, "pbkdf2-sha256$", 14))
		dummy_hash(stored, sizeof stored);
	bool matches = identity_verify_password(password, stored) == 0;
	OPENSSL_cleanse(stored, sizeof stored);
	if (!found || !matches || !enabled) {
		log_info("authentication failed for user %.64s", user_id ? user_id : user_name);
		return ct_fail(err, 401, auth_failed);
	}
	return 0;
}

int identity_user_by_id(const char *id, struct identity_entity *user, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT id, name FROM ctrove_users WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		copy_entity(st, user);
	db_stmt_done(st);
	return found ? 0 : ct_fail(err, 404, "Could not find user: %.64s.", id);
}

int identity_project(const char *id, const char *name, struct identity_entity *project,
		     struct ct_error *err)
{
	sqlite3_stmt *st =
		id ? db_stmt("SELECT id, name FROM ctrove_projects WHERE id = ?1 AND enabled", err)
		   : db_stmt("SELECT id, name FROM ctrove_projects WHERE name = ?1 AND enabled",
			     err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id ? id : name);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		copy_entity(st, project);
	db_stmt_done(st);
	return found ? 0 : ct_fail(err, 404, "Could not find project: %.64s.", id ? id : name);
}

int identity_roles(const char *user_id, const char *project_id, json_t **roles, char *names,
		   size_t names_size, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT r.id, r.name FROM ctrove_role_assignments a"
				   " JOIN ctrove_roles r ON r.id = a.role_id"
				   " WHERE a.user_id = ?1 AND a.project_id = ?2 ORDER BY r.name",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, user_id);
	db_bind_text(st, 2, project_id);
	json_t *list = json_array();
	size_t used = 0;
	names[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = db_col_text(st, 1);
		json_array_append_new(
			list, json_pack("{s:s,s:s}", "id", db_col_text(st, 0), "name", name));
		int n = snprintf(names + used, names_size - used, "%s%s", used ? "," : "", name);
		if (n > 0 && (size_t)n < names_size - used)
			used += (size_t)n;
	}
	db_stmt_done(st);
	if (json_array_size(list) == 0) {
		json_decref(list);
		return ct_fail(err, 401, auth_failed);
	}
	*roles = list;
	return 0;
}

static int ensure_named(const char *select_sql, const char *insert_sql, const char *name,
			struct identity_entity *out, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(select_sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, name);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		copy_entity(st, out);
	db_stmt_done(st);
	if (found)
		return 0;
	ids_hex32(out->id);
	snprintf(out->name, sizeof out->name, "%s", name);
	st = db_stmt(insert_sql, err);
	if (!st)
		return -1;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	db_bind_text(st, 1, out->id);
	db_bind_text(st, 2, name);
	if (sqlite3_bind_parameter_count(st) >= 3) /* tables with a created column */
		db_bind_text(st, 3, now);
	return db_step_done(st, err);
}

int identity_ensure_project(const char *name, struct identity_entity *out, struct ct_error *err)
{
	return ensure_named("SELECT id, name FROM ctrove_projects WHERE name = ?1",
			    "INSERT INTO ctrove_projects (id, name, created) VALUES (?1, ?2, ?3)",
			    name, out, err);
}

int identity_ensure_role(const char *name, struct identity_entity *out, struct ct_error *err)
{
	if (strpbrk(name, ",|"))
		return ct_fail(err, 400, "a role name may not contain ',' or '|'");
	return ensure_named("SELECT id, name FROM ctrove_roles WHERE name = ?1",
			    "INSERT INTO ctrove_roles (id, name) VALUES (?1, ?2)", name, out, err);
}

int identity_set_user(const char *name, const char *password, struct identity_entity *out,
		      struct ct_error *err)
{
	char hash[256];
	if (identity_hash_password(password, cfg_int(CFG_PASSWORD_HASH_ROUNDS), hash, sizeof hash))
		return ct_fail(err, 500, "cannot hash the password");
	if (ensure_named("SELECT id, name FROM ctrove_users WHERE name = ?1",
			 "INSERT INTO ctrove_users (id, name, created, password_hash)"
			 " VALUES (?1, ?2, ?3, '')",
			 name, out, err))
		return -1;
	/* A new password voids the tokens issued with the old one. */
	sqlite3_stmt *st = db_stmt("UPDATE ctrove_users SET password_hash = ?2,"
				   " tokens_valid_after = ?3 WHERE id = ?1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, out->id);
	db_bind_text(st, 2, hash);
	sqlite3_bind_int64(st, 3, timefmt_now_us());
	int rc = db_step_done(st, err);
	OPENSSL_cleanse(hash, sizeof hash);
	return rc;
}

int identity_assign(const char *user_id, const char *project_id, const char *role_id,
		    struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO ctrove_role_assignments"
				   " (user_id, project_id, role_id) VALUES (?1, ?2, ?3)"
				   " ON CONFLICT DO NOTHING",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, user_id);
	db_bind_text(st, 2, project_id);
	db_bind_text(st, 3, role_id);
	return db_step_done(st, err);
}
