/*
 * mariadb_users.c — databases, users, access and root on a MariaDB/MySQL
 * instance (trove-guest.md §3.2, §3.3, §3.5, §7.9), over the os_admin
 * connection. Arguments and results are Trove's serialized schemas and users.
 * Every request is validated as a whole before the first statement runs, so a
 * bad entry in a list changes nothing. Deliberate differences from Trove 18:
 * new databases default to utf8mb4 (utf8/utf8mb3 are accepted as aliases),
 * database names in GRANT/REVOKE are escaped so `_` and `%` match themselves
 * only, and disable_root drops the remote root account instead of leaving it
 * with an unknown password ([BUG-18] 8).
 * A read-only replica refuses to create or delete databases and users (400),
 * as the API does first (mariadb_replication.c knows what a replica is).
 * Owns nothing; may not start or stop the server or touch its files.
 */
#define LOG_MODULE "guest.mariadb"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "common/log.h"
#include "guest/mariadb_internal.h"

#define DEFAULT_CHARSET	  "utf8mb4"
#define DEFAULT_COLLATION "utf8mb4_general_ci"

/* --- helpers ------------------------------------------------------------------ */

static bool is_charset_token(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return false;
	return n > 0 && n <= 64;
}

/* utf8 is utf8mb3 on MariaDB >= 10.6 (old_mode UTF8_IS_UTF8MB3). */
static void alias_utf8(const char *in, char *out, size_t size)
{
	if (!strcmp(in, "utf8"))
		snprintf(out, size, "utf8mb3");
	else if (!strncmp(in, "utf8_", 5))
		snprintf(out, size, "utf8mb3_%s", in + 5);
	else
		snprintf(out, size, "%s", in);
}

/* First column of the first row of b's result into out; 0 found, 1 none, -1 error. */
static int select_one(struct sqlb *b, char *out, size_t size, const char *what,
		      struct ct_error *err)
{
	unsigned code;
	MYSQL_RES *res = mdb_select(b, &code);
	if (!res)
		return mdb_fail(b, code, what, err);
	MYSQL_ROW row = libmariadb.mysql_fetch_row(res);
	int rc = 1;
	if (row && row[0]) {
		snprintf(out, size, "%s", row[0]);
		rc = 0;
	}
	libmariadb.mysql_free_result(res);
	return rc;
}

/* Trove's charset/collation defaulting (§3.2), checked against the server. */
static int resolve_charset(MYSQL *conn, const char *cs_in, const char *coll_in, char *cs,
			   char *coll, struct ct_error *err)
{
	char a[80], c[80];
	struct sqlb b;
	bool has_cs = cs_in && *cs_in, has_coll = coll_in && *coll_in;
	if (!has_cs && !has_coll) {
		strcpy(cs, DEFAULT_CHARSET);
		strcpy(coll, DEFAULT_COLLATION);
		return 0;
	}
	if (has_cs && !is_charset_token(cs_in))
		return ct_fail(err, 400, "'%.80s' is not a valid character set.", cs_in);
	if (has_coll && !is_charset_token(coll_in))
		return ct_fail(err, 400, "'%.80s' is not a valid collation.", coll_in);
	if (has_cs)
		alias_utf8(cs_in, a, sizeof a);
	if (has_coll)
		alias_utf8(coll_in, c, sizeof c);
	sqlb_init(&b, conn);
	int rc;
	if (has_cs && !has_coll) {
		sqlb_raw(&b, "SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE "
			     "IS_DEFAULT = 'Yes' AND CHARACTER_SET_NAME = ");
		sqlb_str(&b, a);
		rc = select_one(&b, coll, 80, "Character set lookup", err);
		if (rc > 0)
			return ct_fail(err, 400, "'%.80s' is not a valid character set.", cs_in);
		if (rc == 0)
			snprintf(cs, 80, "%s", a);
		return rc;
	}
	sqlb_raw(&b, "SELECT CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE "
		     "COLLATION_NAME = ");
	sqlb_str(&b, c);
	rc = select_one(&b, cs, 80, "Collation lookup", err);
	if (rc > 0)
		return ct_fail(err, 400, "'%.80s' is not a valid collation.", coll_in);
	if (rc < 0)
		return -1;
	if (has_cs && strcmp(cs, a))
		return ct_fail(err, 400,
			       "'%.80s' is not a valid collation for character set '%.80s'.",
			       coll_in, cs_in);
	snprintf(coll, 80, "%s", c);
	return 0;
}

/* Strip the GRANT pattern escapes of mysql.db's Db column (\_ \% \\). */
static void unescape_db(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; in[i] && o + 1 < size; i++) {
		if (in[i] == '\\' && (in[i + 1] == '_' || in[i + 1] == '%' || in[i + 1] == '\\'))
			i++;
		out[o++] = in[i];
	}
	out[o] = '\0';
}

/* The databases user@host has privileges on, as serialized schemas. */
static json_t *user_databases(MYSQL *conn, const char *user, const char *host, struct ct_error *err)
{
	struct sqlb b;
	unsigned code;
	sqlb_init(&b, conn);
	sqlb_raw(&b, "SELECT Db FROM mysql.db WHERE User = ");
	sqlb_str(&b, user);
	sqlb_raw(&b, " AND Host = ");
	sqlb_str(&b, host);
	sqlb_raw(&b, " ORDER BY Db");
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res) {
		mdb_fail(&b, code, "Listing the user's databases", err);
		return NULL;
	}
	json_t *list = json_array();
	MYSQL_ROW row;
	while ((row = libmariadb.mysql_fetch_row(res))) {
		char name[256];
		unescape_db(row[0] ? row[0] : "", name, sizeof name);
		json_array_append_new(list, guest_schema_pack(name, NULL, NULL));
	}
	libmariadb.mysql_free_result(res);
	return list;
}

/* Look user@host up (hidden accounts excluded); 0 found, 404 when not. */
static int user_exists(MYSQL *conn, const char *user, const char *host, struct ct_error *err)
{
	struct sqlb b;
	char found[8];
	sqlb_init(&b, conn);
	sqlb_raw(&b, "SELECT 1 FROM mysql.user WHERE Host != 'localhost' AND User = ");
	sqlb_str(&b, user);
	sqlb_raw(&b, " AND Host = ");
	sqlb_str(&b, host);
	int rc = select_one(&b, found, sizeof found, "User lookup", err);
	if (rc > 0) {
		if (!strcmp(host, "%"))
			return ct_fail(err, 404, "User %.80s cannot be found on the instance.",
				       user);
		return ct_fail(err, 404, "User %.80s@%.80s cannot be found on the instance.", user,
			       host);
	}
	return rc;
}

/* Validate name (with the reserved list) and host for an existing account. */
static int check_account(const char *user, const char *host_in, char *host, struct ct_error *err)
{
	if (mdb_check_user_name(user, true, err))
		return -1;
	return mdb_check_host(host_in, host, err);
}

unsigned mdb_set_password(MYSQL *conn, const char *user, const char *host, const char *password)
{
	struct sqlb b;
	sqlb_init(&b, conn);
	if (mdb_dialect(conn) == MDB_DIALECT_MARIADB) {
		sqlb_raw(&b, "ALTER USER ");
		sqlb_account(&b, user, host);
		sqlb_raw(&b, " IDENTIFIED VIA mysql_native_password USING PASSWORD(");
		sqlb_password(&b, password);
		sqlb_raw(&b, ")");
	} else {
		sqlb_raw(&b, "ALTER USER ");
		sqlb_account(&b, user, host);
		sqlb_raw(&b, " IDENTIFIED BY ");
		sqlb_password(&b, password);
	}
	unsigned code = mdb_run(&b);
	sqlb_wipe(&b);
	return code;
}

static int grant_all_on(MYSQL *conn, const char *db, const char *user, const char *host,
			struct ct_error *err)
{
	struct sqlb b;
	sqlb_init(&b, conn);
	sqlb_raw(&b, "GRANT ALL PRIVILEGES ON ");
	sqlb_db_pattern(&b, db);
	sqlb_raw(&b, ".* TO ");
	sqlb_account(&b, user, host);
	unsigned code = mdb_run(&b);
	return code ? mdb_fail(&b, code, "GRANT", err) : 0;
}

/* --- databases ------------------------------------------------------------------ */

int mdb_create_databases(MYSQL *conn, const json_t *databases, struct ct_error *err)
{
	if (!json_is_array(databases))
		return json_is_null(databases) || !databases
			       ? 0
			       : ct_fail(err, 400, "databases must be a list.");
	size_t n = json_array_size(databases);
	char(*cs)[80] = calloc(n + 1, 80), (*coll)[80] = calloc(n + 1, 80);
	int rc = -1;
	if (!cs || !coll) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *d = json_array_get(databases, i);
		const char *name = guest_model_name(d);
		if (mdb_check_db_name(name, true, err) ||
		    resolve_charset(conn, guest_model_character_set(d), guest_model_collate(d),
				    cs[i], coll[i], err))
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct sqlb b;
		sqlb_init(&b, conn);
		sqlb_raw(&b, "CREATE DATABASE IF NOT EXISTS ");
		sqlb_ident(&b, guest_model_name(json_array_get(databases, i)));
		sqlb_raw(&b, " CHARACTER SET = ");
		sqlb_str(&b, cs[i]);
		sqlb_raw(&b, " COLLATE = ");
		sqlb_str(&b, coll[i]);
		unsigned code = mdb_run(&b);
		if (code) {
			mdb_fail(&b, code, "CREATE DATABASE", err);
			goto out;
		}
	}
	rc = n ? mdb_flush(conn, err) : 0;
out:
	free(cs);
	free(coll);
	return rc;
}

int mdb_create_database_op(const struct guest_instance *inst, const json_t *databases,
			   struct ct_error *err)
{
	if (mdb_refuse_on_replica(inst, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = mdb_create_databases(c, databases, err);
	libmariadb.mysql_close(c);
	return rc;
}

int mdb_delete_database(const struct guest_instance *inst, const json_t *database,
			struct ct_error *err)
{
	if (mdb_refuse_on_replica(inst, err))
		return -1;
	const char *name = guest_model_db_name(database);
	if (mdb_check_db_name(name, true, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, "DROP DATABASE ");
	sqlb_ident(&b, name);
	unsigned code = mdb_run(&b);
	int rc = 0;
	if (code == ER_DB_DROP_EXISTS)
		rc = ct_fail(err, 404, "Database %.80s cannot be found on the instance.", name);
	else if (code)
		rc = mdb_fail(&b, code, "DROP DATABASE", err);
	libmariadb.mysql_close(c);
	return rc;
}

static void append_limit(struct sqlb *b, int limit)
{
	if (limit > 0) {
		char lim[32];
		snprintf(lim, sizeof lim, " LIMIT %d", limit + 1);
		sqlb_raw(b, lim);
	}
}

static void append_not_in(struct sqlb *b, const char *col, const char *const *names)
{
	sqlb_raw(b, col);
	sqlb_raw(b, " NOT IN (");
	for (size_t i = 0; names[i]; i++) {
		if (i)
			sqlb_raw(b, ", ");
		sqlb_str(b, names[i]);
	}
	sqlb_raw(b, ")");
}

json_t *mdb_list_databases(const struct guest_instance *inst, int limit, const char *marker,
			   bool include_marker, struct ct_error *err)
{
	static const char *const hidden[] = {"mysql", "information_schema", "performance_schema",
					     "sys",   "lost+found",	    "#mysql50#lost+found",
					     NULL};
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	struct sqlb b;
	unsigned code;
	sqlb_init(&b, c);
	sqlb_raw(&b, "SELECT schema_name, default_character_set_name, default_collation_name "
		     "FROM information_schema.schemata WHERE ");
	append_not_in(&b, "schema_name", hidden);
	if (marker && *marker) {
		sqlb_raw(&b, include_marker ? " AND schema_name >= " : " AND schema_name > ");
		sqlb_str(&b, marker);
	}
	sqlb_raw(&b, " ORDER BY schema_name ASC");
	append_limit(&b, limit);
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res) {
		mdb_fail(&b, code, "Listing databases", err);
		libmariadb.mysql_close(c);
		return NULL;
	}
	json_t *items = json_array();
	char last[256] = "";
	MYSQL_ROW row;
	int count = 0;
	while ((row = libmariadb.mysql_fetch_row(res))) {
		if (limit <= 0 || count < limit)
			snprintf(last, sizeof last, "%s", row[0]);
		count++;
		json_array_append_new(items, guest_schema_pack(row[0], row[1], row[2]));
	}
	libmariadb.mysql_free_result(res);
	libmariadb.mysql_close(c);
	return guest_page(items, limit, last);
}

/* --- users ------------------------------------------------------------------------ */

struct new_user {
	const char *name;
	const char *password;
	char host[MDB_HOST_MAX + 1];
	const json_t *databases;
};

int mdb_create_users(MYSQL *conn, const json_t *users, struct ct_error *err)
{
	if (!users || json_is_null(users))
		return 0;
	if (!json_is_array(users))
		return ct_fail(err, 400, "users must be a list.");
	size_t n = json_array_size(users);
	struct new_user *u = calloc(n + 1, sizeof *u);
	int rc = -1;
	if (!u)
		return ct_fail(err, 500, "Out of memory.");
	for (size_t i = 0; i < n; i++) {
		const json_t *j = json_array_get(users, i);
		u[i].name = guest_model_name(j);
		u[i].password = guest_model_password(j);
		u[i].databases = guest_model_databases(j);
		if (mdb_check_user_name(u[i].name, true, err) ||
		    mdb_check_host(guest_model_host(j), u[i].host, err))
			goto out;
		if (u[i].password && *u[i].password && mdb_check_password(u[i].password, err))
			goto out;
		const json_t *d;
		size_t k;
		json_array_foreach (u[i].databases, k, d) {
			if (mdb_check_db_name(guest_model_db_name(d), true, err))
				goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct sqlb b;
		sqlb_init(&b, conn);
		sqlb_raw(&b, "CREATE USER ");
		sqlb_account(&b, u[i].name, u[i].host);
		if (u[i].password && *u[i].password) {
			sqlb_raw(&b, " IDENTIFIED BY ");
			sqlb_password(&b, u[i].password);
		}
		unsigned code = mdb_run(&b);
		if (code == ER_CANNOT_USER)
			ct_fail(err, 400, "A user with the name \"%.80s\" already exists.",
				u[i].name);
		else if (code)
			mdb_fail(&b, code, "CREATE USER", err);
		sqlb_wipe(&b);
		if (code)
			goto out;
		const json_t *d;
		size_t k;
		json_array_foreach (u[i].databases, k, d) {
			const char *db = guest_model_db_name(d);
			if (grant_all_on(conn, db, u[i].name, u[i].host, err))
				goto out;
		}
	}
	rc = n ? mdb_flush(conn, err) : 0;
out:
	free(u);
	return rc;
}

int mdb_create_user_op(const struct guest_instance *inst, const json_t *users, struct ct_error *err)
{
	if (mdb_refuse_on_replica(inst, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = mdb_create_users(c, users, err);
	libmariadb.mysql_close(c);
	return rc;
}

json_t *mdb_get_user(const struct guest_instance *inst, const char *username, const char *hostname,
		     struct ct_error *err)
{
	char host[MDB_HOST_MAX + 1];
	if (check_account(username, hostname, host, err))
		return NULL;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	json_t *out = NULL;
	if (!user_exists(c, username, host, err)) {
		json_t *dbs = user_databases(c, username, host, err);
		if (dbs)
			out = guest_user_pack(username, host, NULL, dbs, false);
	}
	libmariadb.mysql_close(c);
	return out;
}

json_t *mdb_list_users(const struct guest_instance *inst, int limit, const char *marker,
		       bool include_marker, struct ct_error *err)
{
	static const char *const hidden[] = {"os_admin", "root", "", NULL};
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	struct sqlb b;
	unsigned code;
	sqlb_init(&b, c);
	sqlb_raw(&b, "SELECT User, Host, CONCAT(User, '@', Host) AS Marker FROM mysql.user "
		     "WHERE Host != 'localhost' AND is_role = 'N' AND "
		     "User NOT REGEXP '^slave_[0-9a-fA-F]{8}$' AND ");
	append_not_in(&b, "User", hidden);
	if (marker && *marker) {
		sqlb_raw(&b, include_marker ? " AND CONCAT(User, '@', Host) >= "
					    : " AND CONCAT(User, '@', Host) > ");
		sqlb_str(&b, marker);
	}
	sqlb_raw(&b, " ORDER BY Marker");
	append_limit(&b, limit);
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res) {
		mdb_fail(&b, code, "Listing users", err);
		libmariadb.mysql_close(c);
		return NULL;
	}
	json_t *items = json_array();
	char last[512] = "";
	MYSQL_ROW row;
	int count = 0;
	while ((row = libmariadb.mysql_fetch_row(res))) {
		if (limit <= 0 || count < limit)
			snprintf(last, sizeof last, "%s", row[2]);
		count++;
		json_t *dbs = user_databases(c, row[0], row[1], err);
		if (!dbs) {
			json_decref(items);
			libmariadb.mysql_free_result(res);
			libmariadb.mysql_close(c);
			return NULL;
		}
		json_array_append_new(items, guest_user_pack(row[0], row[1], NULL, dbs, false));
	}
	libmariadb.mysql_free_result(res);
	libmariadb.mysql_close(c);
	return guest_page(items, limit, last);
}

int mdb_delete_user(const struct guest_instance *inst, const json_t *user, struct ct_error *err)
{
	if (mdb_refuse_on_replica(inst, err))
		return -1;
	char host[MDB_HOST_MAX + 1];
	const char *name = guest_model_name(user);
	if (check_account(name, guest_model_host(user), host, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = user_exists(c, name, host, err);
	if (!rc) {
		struct sqlb b;
		sqlb_init(&b, c);
		sqlb_raw(&b, "DROP USER ");
		sqlb_account(&b, name, host);
		unsigned code = mdb_run(&b);
		rc = code ? mdb_fail(&b, code, "DROP USER", err) : mdb_flush(c, err);
	}
	libmariadb.mysql_close(c);
	return rc;
}

int mdb_update_attributes(const struct guest_instance *inst, const char *username,
			  const char *hostname, const json_t *user_attrs, struct ct_error *err)
{
	char host[MDB_HOST_MAX + 1], new_host[MDB_HOST_MAX + 1];
	if (check_account(username, hostname, host, err))
		return -1;
	if (!json_is_object(user_attrs))
		return ct_fail(err, 400, "user_attrs must be an object.");
	const char *new_name = guest_model_name(user_attrs);
	const char *new_host_in = guest_model_host(user_attrs);
	const char *password = guest_model_password(user_attrs);
	if (new_name && mdb_check_user_name(new_name, true, err))
		return -1;
	if (new_host_in && mdb_check_host(new_host_in, new_host, err))
		return -1;
	if (password && mdb_check_password(password, err))
		return -1;
	if (!new_name)
		new_name = username;
	if (!new_host_in)
		strcpy(new_host, host);
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = user_exists(c, username, host, err);
	if (!rc && password) {
		unsigned code = mdb_set_password(c, username, host, password);
		if (code) {
			struct sqlb b = {.conn = c, .secret = true};
			rc = mdb_fail(&b, code, "Setting the password", err);
		}
	}
	if (!rc && (strcmp(new_name, username) || strcmp(new_host, host))) {
		struct sqlb b;
		sqlb_init(&b, c);
		sqlb_raw(&b, "RENAME USER ");
		sqlb_account(&b, username, host);
		sqlb_raw(&b, " TO ");
		sqlb_account(&b, new_name, new_host);
		unsigned code = mdb_run(&b);
		if (code == ER_CANNOT_USER)
			rc = ct_fail(err, 400, "A user with the name \"%.80s\" already exists.",
				     new_name);
		else if (code)
			rc = mdb_fail(&b, code, "RENAME USER", err);
	}
	if (!rc)
		rc = mdb_flush(c, err);
	libmariadb.mysql_close(c);
	return rc;
}

int mdb_change_passwords(const struct guest_instance *inst, const json_t *users,
			 struct ct_error *err)
{
	if (!json_is_array(users))
		return ct_fail(err, 400, "users must be a list.");
	size_t n = json_array_size(users);
	char(*hosts)[MDB_HOST_MAX + 1] = calloc(n + 1, MDB_HOST_MAX + 1);
	if (!hosts)
		return ct_fail(err, 500, "Out of memory.");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const json_t *u = json_array_get(users, i);
		rc = check_account(guest_model_name(u), guest_model_host(u), hosts[i], err);
		if (!rc)
			rc = mdb_check_password(guest_model_password(u), err);
	}
	MYSQL *c = rc ? NULL : mdb_connect_admin(inst, err);
	if (!c) {
		free(hosts);
		return -1;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const json_t *u = json_array_get(users, i);
		const char *name = guest_model_name(u);
		rc = user_exists(c, name, hosts[i], err);
		if (rc)
			break;
		unsigned code = mdb_set_password(c, name, hosts[i], guest_model_password(u));
		if (code) {
			struct sqlb b = {.conn = c, .secret = true};
			rc = mdb_fail(&b, code, "Setting the password", err);
		}
	}
	if (!rc)
		rc = mdb_flush(c, err);
	libmariadb.mysql_close(c);
	free(hosts);
	return rc;
}

/* --- access -------------------------------------------------------------------------- */

int mdb_grant_access(const struct guest_instance *inst, const char *username, const char *hostname,
		     const json_t *databases, struct ct_error *err)
{
	char host[MDB_HOST_MAX + 1];
	if (check_account(username, hostname, host, err))
		return -1;
	if (!json_is_array(databases))
		return ct_fail(err, 400, "databases must be a list.");
	const json_t *d;
	size_t i;
	json_array_foreach (databases, i, d) {
		if (mdb_check_db_name(guest_model_db_name(d), true, err))
			return -1;
	}
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = user_exists(c, username, host, err);
	json_array_foreach (databases, i, d) {
		if (rc)
			break;
		rc = grant_all_on(c, guest_model_db_name(d), username, host, err);
	}
	if (!rc)
		rc = mdb_flush(c, err);
	libmariadb.mysql_close(c);
	return rc;
}

int mdb_revoke_access(const struct guest_instance *inst, const char *username, const char *hostname,
		      const char *database, struct ct_error *err)
{
	char host[MDB_HOST_MAX + 1];
	if (check_account(username, hostname, host, err) || mdb_check_db_name(database, true, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = user_exists(c, username, host, err);
	if (!rc) {
		struct sqlb b;
		sqlb_init(&b, c);
		sqlb_raw(&b, "REVOKE ALL ON ");
		sqlb_db_pattern(&b, database);
		sqlb_raw(&b, ".* FROM ");
		sqlb_account(&b, username, host);
		unsigned code = mdb_run(&b);
		if (code == ER_NONEXISTING_GRANT)
			rc = ct_fail(err, 404, "Database %.80s cannot be found on the instance.",
				     database);
		else if (code)
			rc = mdb_fail(&b, code, "REVOKE", err);
		else
			rc = mdb_flush(c, err);
	}
	libmariadb.mysql_close(c);
	return rc;
}

/* --- root ----------------------------------------------------------------------------- */

json_t *mdb_enable_root(MYSQL *conn, const char *password, struct ct_error *err)
{
	char generated[GUEST_PASSWORD_LEN + 1];
	if (!password || !*password) {
		if (guest_random_password(generated, GUEST_PASSWORD_LEN, err))
			return NULL;
		password = generated;
	} else if (mdb_check_password(password, err)) {
		return NULL;
	}
	struct sqlb b;
	sqlb_init(&b, conn);
	sqlb_raw(&b, "CREATE USER IF NOT EXISTS 'root'@'%'");
	unsigned code = mdb_run(&b);
	if (!code)
		code = mdb_set_password(conn, "root", "%", password);
	json_t *out = NULL;
	if (code) {
		b.secret = true;
		mdb_fail(&b, code, "Enabling root", err);
		goto out;
	}
	sqlb_init(&b, conn);
	sqlb_raw(&b, "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION");
	code = mdb_run(&b);
	if (code) {
		mdb_fail(&b, code, "Enabling root", err);
		goto out;
	}
	if (mdb_flush(conn, err))
		goto out;
	out = guest_user_pack("root", "%", password, NULL, true);
out:
	explicit_bzero(generated, sizeof generated);
	return out;
}

json_t *mdb_enable_root_op(const struct guest_instance *inst, const char *password,
			   struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	json_t *out = mdb_enable_root(c, password, err);
	libmariadb.mysql_close(c);
	return out;
}

/* Drop every root account that is not root@localhost (also Trove's secure_root). */
static int drop_remote_root(MYSQL *conn, struct ct_error *err)
{
	struct sqlb b;
	unsigned code;
	sqlb_init(&b, conn);
	sqlb_raw(&b, "SELECT Host FROM mysql.user WHERE User = 'root' AND Host != 'localhost'");
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, "Listing root accounts", err);
	MYSQL_ROW row;
	int rc = 0;
	while (!rc && (row = libmariadb.mysql_fetch_row(res))) {
		struct sqlb d;
		sqlb_init(&d, conn);
		sqlb_raw(&d, "DROP USER ");
		sqlb_account(&d, "root", row[0] ? row[0] : "");
		code = mdb_run(&d);
		if (code)
			rc = mdb_fail(&d, code, "DROP USER root", err);
	}
	libmariadb.mysql_free_result(res);
	return rc ? rc : mdb_flush(conn, err);
}

int mdb_disable_root(const struct guest_instance *inst, struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = drop_remote_root(c, err);
	libmariadb.mysql_close(c);
	return rc;
}

int mdb_is_root_enabled(const struct guest_instance *inst, bool *enabled, struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	struct sqlb b;
	char found[8];
	sqlb_init(&b, c);
	sqlb_raw(&b, "SELECT 1 FROM mysql.user WHERE User = 'root' AND Host != 'localhost'");
	int rc = select_one(&b, found, sizeof found, "Root lookup", err);
	libmariadb.mysql_close(c);
	if (rc < 0)
		return -1;
	*enabled = rc == 0;
	return 0;
}

int mdb_secure_root(MYSQL *conn, struct ct_error *err)
{
	return drop_remote_root(conn, err);
}
