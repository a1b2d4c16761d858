/*
 * postgresql_users.c — databases, users, access and root on a PostgreSQL
 * instance (trove-guest.md §3.1, §3.4, §3.5, §7.9), over the os_admin
 * connection. Arguments and results are Trove's serialized schemas and users;
 * names follow dbnames' DBNAMES_POSTGRESQL rules and every request is checked
 * as a whole before its first statement. Choices (docs/guest-postgresql.md):
 * databases are owned by os_admin and closed to PUBLIC; access to one is
 * CONNECT/CREATE/TEMP on it plus USAGE/CREATE on its public schema, so a user
 * can create tables on PG 15; a user's databases are those whose ACL names
 * it or that it owns; deleting a user (or disabling root) hands what it owns
 * to os_admin and drops the role, instead of failing or leaving a superuser
 * with an unknown password ([BUG-18] 8).
 * Owns nothing; may not start or stop the server or touch its files.
 */
#define LOG_MODULE "guest.postgresql"

#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/dbnames.h"
#include "common/log.h"
#include "guest/postgresql_internal.h"

/* --- validation and wire formats ---------------------------------------------- */

static int check_user(const char *name, struct ct_error *err)
{
	if (!name || !*name)
		return ct_fail(err, 400, "User name cannot be empty.");
	return dbnames_check_user(DBNAMES_POSTGRESQL, name, err);
}

static int check_db(const char *name, struct ct_error *err)
{
	if (!name || !*name)
		return ct_fail(err, 400, "Database name cannot be empty.");
	return dbnames_check_database(DBNAMES_POSTGRESQL, name, err);
}

static int check_password(const char *password, struct ct_error *err)
{
	if (!password)
		return ct_fail(err, 400, "The password is missing.");
	return dbnames_check_password(DBNAMES_POSTGRESQL, password, err);
}

/* A database's encoding and locale, checked before anything runs. */
struct db_spec {
	const char *name;
	char encoding[64]; /* "" = the template's (UTF8) */
	char locale[128];  /* "" = the template's (C.UTF-8) */
};

static bool is_token(const char *s, const char *extra, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr(extra, s[n]))
			return false;
	return n > 0 && n <= max;
}

/* Trove passes MySQL's names through (§3.4): utf8/utf8mb3/utf8mb4 mean UTF8;
 * otherwise a PostgreSQL server encoding and an installed locale. */
static int resolve_db(const json_t *d, struct db_spec *s, struct ct_error *err)
{
	memset(s, 0, sizeof *s);
	s->name = guest_model_db_name(d);
	if (check_db(s->name, err))
		return -1;
	const char *cs = json_is_object(d) ? guest_model_character_set(d) : NULL;
	const char *coll = json_is_object(d) ? guest_model_collate(d) : NULL;
	if (cs && *cs) {
		if (!strcasecmp(cs, "utf8") || !strcasecmp(cs, "utf8mb3") ||
		    !strcasecmp(cs, "utf8mb4"))
			cs = "UTF8";
		/* libpq knows the server encodings and their aliases. */
		if (libpq_load(err))
			return -1;
		int id = is_token(cs, "_-", 32) ? libpq.pg_char_to_encoding(cs) : -1;
		if (id < 0 || libpq.pg_valid_server_encoding_id(id) == 0)
			return ct_fail(err, 400, "'%.80s' is not a valid character set.", cs);
		snprintf(s->encoding, sizeof s->encoding, "%s", libpq.pg_encoding_to_char(id));
	}
	if (coll && *coll) {
		locale_t l = is_token(coll, "._@-", 100)
				     ? newlocale(LC_COLLATE_MASK | LC_CTYPE_MASK, coll, (locale_t)0)
				     : (locale_t)0;
		if (!l)
			return ct_fail(err, 400, "'%.80s' is not a valid collation.", coll);
		freelocale(l);
		snprintf(s->locale, sizeof s->locale, "%s", coll);
	} else if (s->encoding[0] && strcmp(s->encoding, "UTF8")) {
		/* The template's C.UTF-8 fits UTF8 only; C fits every encoding. */
		snprintf(s->locale, sizeof s->locale, "C");
	}
	return 0;
}

int pg_check_databases(const json_t *databases, struct ct_error *err)
{
	if (!databases || json_is_null(databases))
		return 0;
	if (!json_is_array(databases))
		return ct_fail(err, 400, "databases must be a list.");
	const json_t *d;
	size_t i;
	json_array_foreach (databases, i, d) {
		struct db_spec s;
		if (resolve_db(d, &s, err))
			return -1;
	}
	return 0;
}

int pg_check_users(const json_t *users, struct ct_error *err)
{
	if (!users || json_is_null(users))
		return 0;
	if (!json_is_array(users))
		return ct_fail(err, 400, "users must be a list.");
	const json_t *u;
	size_t i;
	json_array_foreach (users, i, u) {
		const char *name = guest_model_name(u);
		const char *pw = guest_model_password(u);
		if (check_user(name, err) || (pw && *pw && check_password(pw, err)))
			return -1;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(name, guest_model_name(json_array_get(users, k))))
				return ct_fail(err, 400,
					       "A user with the name \"%.80s\" already exists.",
					       name);
		const json_t *dbs = guest_model_databases(u);
		const json_t *d;
		size_t k;
		json_array_foreach (dbs, k, d) {
			if (check_db(guest_model_db_name(d), err))
				return -1;
		}
	}
	return 0;
}

/* --- lookups ------------------------------------------------------------------- */

static int user_exists(PGconn *c, const char *name, struct ct_error *err)
{
	int r = pg_exists(c, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolcanlogin AND rolname = $1",
			  name, "User lookup", err);
	if (r < 0)
		return -1;
	return r ? 0 : ct_fail(err, 404, "User %.80s cannot be found on the instance.", name);
}

static int role_taken(PGconn *c, const char *name, struct ct_error *err)
{
	int r = pg_exists(c, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", name,
			  "User lookup", err);
	if (r < 0)
		return -1;
	return r ? ct_fail(err, 400, "A user with the name \"%.80s\" already exists.", name) : 0;
}

static int db_exists(PGconn *c, const char *name, struct ct_error *err)
{
	int r = pg_exists(c, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", name,
			  "Database lookup", err);
	if (r < 0)
		return -1;
	return r ? 0 : ct_fail(err, 404, "Database %.80s cannot be found on the instance.", name);
}

/* Each login role with the databases it may connect to by an explicit grant
 * (the ACL names it, whatever quoting its name needs) or owns. */
#define USER_QUERY                                                                                 \
	"SELECT r.rolname, COALESCE((SELECT json_agg(d.datname::text ORDER BY d.datname::text "    \
	"COLLATE \"C\") FROM pg_catalog.pg_database d WHERE NOT d.datistemplate AND d.datname "    \
	"NOT IN " PG_HIDDEN_DBS " AND (d.datdba = r.oid OR EXISTS (SELECT 1 FROM "                 \
	"pg_catalog.aclexplode(d.datacl) a WHERE a.grantee = r.oid AND a.privilege_type = "        \
	"'CONNECT'))), '[]'::json)::text FROM pg_catalog.pg_roles r WHERE r.rolcanlogin AND "      \
	"r.rolname NOT IN " PG_HIDDEN_ROLES " AND r.rolname::text !~ '^pg_' AND "                  \
	"r.rolname::text !~ '^ctrove_repl_'"

static json_t *user_row(PGresult *res, int row)
{
	json_t *names = json_loads(libpq.PQgetvalue(res, row, 1), 0, NULL);
	json_t *dbs = json_array();
	const json_t *n;
	size_t i;
	json_array_foreach (names, i, n)
		json_array_append_new(dbs, guest_schema_pack(json_string_value(n), NULL, NULL));
	json_decref(names);
	return guest_user_pack(libpq.PQgetvalue(res, row, 0), "%", NULL, dbs, false);
}

/* --- grants ---------------------------------------------------------------------- */

/* Inside database db, as os_admin: one statement on its public schema for
 * user (GRANT ALL ON ... TO / REVOKE ALL ON ... FROM). A database whose public
 * schema was dropped has nothing to grant. */
static int schema_public(const struct guest_instance *inst, const char *db, const char *user,
			 bool grant, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, db, err);
	if (!c)
		return -1;
	int rc = pg_exists(c, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'public'",
			   NULL, "Schema lookup", err);
	if (rc > 0) {
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, grant ? "GRANT ALL ON SCHEMA public TO "
				  : "REVOKE ALL ON SCHEMA public FROM ");
		pgb_ident(&b, user);
		rc = pgb_run(&b, grant ? "GRANT" : "REVOKE", err);
	}
	libpq.PQfinish(c);
	return rc < 0 ? -1 : 0;
}

static int grant_db(const struct guest_instance *inst, PGconn *c, const char *db, const char *user,
		    struct ct_error *err)
{
	struct pgb b;
	pgb_init(&b, c);
	pgb_raw(&b, "GRANT ALL ON DATABASE ");
	pgb_ident(&b, db);
	pgb_raw(&b, " TO ");
	pgb_ident(&b, user);
	if (pgb_run(&b, "GRANT", err))
		return -1;
	return schema_public(inst, db, user, true, err);
}

/* What role owns, in every database it owns or is granted something in, goes
 * to os_admin; then its remaining privileges and the role itself go. */
static int drop_role(const struct guest_instance *inst, PGconn *c, const char *role,
		     struct ct_error *err)
{
	const char *params[] = {role};
	PGresult *res = pg_select(
		c,
		"SELECT DISTINCT d.datname FROM pg_catalog.pg_shdepend s JOIN "
		"pg_catalog.pg_database d "
		"ON d.oid = s.dbid WHERE s.refclassid = 'pg_catalog.pg_authid'::regclass AND "
		"s.refobjid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AND "
		"d.datallowconn AND d.datname <> current_database()",
		1, params, "Listing the user's objects", err);
	if (!res)
		return -1;
	int rc = 0;
	for (int i = 0; !rc && i < libpq.PQntuples(res) + 1; i++) {
		bool here = i == libpq.PQntuples(res); /* last: this database and shared objects */
		PGconn *dc = here ? c : pg_connect_admin(inst, libpq.PQgetvalue(res, i, 0), err);
		if (!dc) {
			rc = -1;
			break;
		}
		struct pgb b;
		pgb_init(&b, dc);
		pgb_raw(&b, "REASSIGN OWNED BY ");
		pgb_ident(&b, role);
		pgb_raw(&b, " TO ");
		pgb_ident(&b, PG_ADMIN_USER);
		rc = pgb_run(&b, "REASSIGN OWNED", err);
		if (!rc) {
			pgb_init(&b, dc);
			pgb_raw(&b, "DROP OWNED BY ");
			pgb_ident(&b, role);
			rc = pgb_run(&b, "DROP OWNED", err);
		}
		if (!here)
			libpq.PQfinish(dc);
	}
	libpq.PQclear(res);
	if (rc)
		return -1;
	struct pgb b;
	pgb_init(&b, c);
	pgb_raw(&b, "DROP ROLE ");
	pgb_ident(&b, role);
	return pgb_run(&b, "DROP ROLE", err);
}

/* --- databases ------------------------------------------------------------------ */

int pg_create_databases(const struct guest_instance *inst, PGconn *c, const json_t *databases,
			struct ct_error *err)
{
	(void)inst;
	if (pg_check_databases(databases, err))
		return -1;
	const json_t *d;
	size_t i;
	json_array_foreach (databases, i, d) {
		struct db_spec s;
		resolve_db(d, &s, NULL);
		int exists = pg_exists(c, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
				       s.name, "Database lookup", err);
		if (exists < 0)
			return -1;
		if (exists) /* as MariaDB's CREATE DATABASE IF NOT EXISTS */
			continue;
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, "CREATE DATABASE ");
		pgb_ident(&b, s.name);
		pgb_raw(&b, " TEMPLATE template0");
		if (s.encoding[0]) {
			pgb_raw(&b, " ENCODING ");
			pgb_literal(&b, s.encoding);
		}
		if (s.locale[0]) {
			pgb_raw(&b, " LC_COLLATE ");
			pgb_literal(&b, s.locale);
			pgb_raw(&b, " LC_CTYPE ");
			pgb_literal(&b, s.locale);
		}
		if (pgb_run(&b, "CREATE DATABASE", err))
			return -1;
		/* Only the users it is granted to may connect (PUBLIC may by default). */
		pgb_init(&b, c);
		pgb_raw(&b, "REVOKE ALL ON DATABASE ");
		pgb_ident(&b, s.name);
		pgb_raw(&b, " FROM PUBLIC");
		if (pgb_run(&b, "REVOKE", err))
			return -1;
	}
	return 0;
}

int pg_create_database_op(const struct guest_instance *inst, const json_t *databases,
			  struct ct_error *err)
{
	if (pg_check_databases(databases, err))
		return -1;
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = pg_create_databases(inst, c, databases, err);
	libpq.PQfinish(c);
	return rc;
}

int pg_delete_database(const struct guest_instance *inst, const json_t *database,
		       struct ct_error *err)
{
	const char *name = guest_model_db_name(database);
	if (check_db(name, err))
		return -1;
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = db_exists(c, name, err);
	if (!rc) {
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, "DROP DATABASE ");
		pgb_ident(&b, name);
		/* Sessions still in it would make the drop fail. */
		pgb_raw(&b, " WITH (FORCE)");
		rc = pgb_run(&b, "DROP DATABASE", err);
	}
	libpq.PQfinish(c);
	return rc;
}

static void append_page(struct pgb *b, const char *column, const char *marker, bool include,
			int limit)
{
	if (marker && *marker) {
		pgb_raw(b, " AND ");
		pgb_raw(b, column);
		pgb_raw(b, include ? " COLLATE \"C\" >= $1" : " COLLATE \"C\" > $1");
	}
	pgb_raw(b, " ORDER BY ");
	pgb_raw(b, column);
	pgb_raw(b, " COLLATE \"C\"");
	if (limit > 0) {
		char lim[32];
		snprintf(lim, sizeof lim, " LIMIT %d", limit + 1);
		pgb_raw(b, lim);
	}
}

json_t *pg_list_databases(const struct guest_instance *inst, int limit, const char *marker,
			  bool include_marker, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	struct pgb b;
	pgb_init(&b, c);
	pgb_raw(&b,
		"SELECT datname, pg_catalog.pg_encoding_to_char(encoding), datcollate FROM "
		"pg_catalog.pg_database WHERE NOT datistemplate AND datname NOT IN " PG_HIDDEN_DBS);
	append_page(&b, "datname::text", marker, include_marker, limit);
	const char *params[] = {marker};
	PGresult *res =
		pg_select(c, b.s, marker && *marker ? 1 : 0, params, "Listing databases", err);
	libpq.PQfinish(c);
	if (!res)
		return NULL;
	json_t *items = json_array();
	int n = libpq.PQntuples(res);
	for (int i = 0; i < n; i++)
		json_array_append_new(items, guest_schema_pack(libpq.PQgetvalue(res, i, 0),
							       libpq.PQgetvalue(res, i, 1),
							       libpq.PQgetvalue(res, i, 2)));
	json_t *out = guest_page(items, limit,
				 limit > 0 && n > limit ? libpq.PQgetvalue(res, limit - 1, 0) : "");
	libpq.PQclear(res);
	return out;
}

/* --- users ------------------------------------------------------------------------ */

int pg_create_users(const struct guest_instance *inst, PGconn *c, const json_t *users,
		    struct ct_error *err)
{
	if (pg_check_users(users, err))
		return -1;
	const json_t *u, *d;
	size_t i, k;
	/* Everything that can be refused is refused before the first change. */
	json_array_foreach (users, i, u) {
		if (role_taken(c, guest_model_name(u), err))
			return -1;
		json_array_foreach (guest_model_databases(u), k, d) {
			if (db_exists(c, guest_model_db_name(d), err))
				return -1;
		}
	}
	json_array_foreach (users, i, u) {
		const char *name = guest_model_name(u);
		const char *pw = guest_model_password(u);
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, "CREATE ROLE ");
		pgb_ident(&b, name);
		pgb_raw(&b, " WITH LOGIN");
		if (pw && *pw) {
			pgb_raw(&b, " PASSWORD ");
			pgb_password(&b, pw);
		}
		if (pgb_run(&b, "CREATE ROLE", err))
			return -1;
		json_array_foreach (guest_model_databases(u), k, d) {
			if (grant_db(inst, c, guest_model_db_name(d), name, err))
				return -1;
		}
	}
	return 0;
}

int pg_create_user_op(const struct guest_instance *inst, const json_t *users, struct ct_error *err)
{
	if (pg_check_users(users, err))
		return -1;
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = pg_create_users(inst, c, users, err);
	libpq.PQfinish(c);
	return rc;
}

json_t *pg_get_user(const struct guest_instance *inst, const char *username, const char *hostname,
		    struct ct_error *err)
{
	(void)hostname; /* no hosts in PostgreSQL (§3.4) */
	if (check_user(username, err))
		return NULL;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	const char *params[] = {username};
	PGresult *res =
		pg_select(c, USER_QUERY " AND r.rolname = $1", 1, params, "User lookup", err);
	libpq.PQfinish(c);
	if (!res)
		return NULL;
	json_t *out = NULL;
	if (libpq.PQntuples(res) == 0)
		ct_fail(err, 404, "User %.80s cannot be found on the instance.", username);
	else
		out = user_row(res, 0);
	libpq.PQclear(res);
	return out;
}

json_t *pg_list_users(const struct guest_instance *inst, int limit, const char *marker,
		      bool include_marker, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	struct pgb b;
	pgb_init(&b, c);
	pgb_raw(&b, USER_QUERY);
	append_page(&b, "r.rolname::text", marker, include_marker, limit);
	const char *params[] = {marker};
	PGresult *res = pg_select(c, b.s, marker && *marker ? 1 : 0, params, "Listing users", err);
	libpq.PQfinish(c);
	if (!res)
		return NULL;
	json_t *items = json_array();
	int n = libpq.PQntuples(res);
	for (int i = 0; i < n; i++)
		json_array_append_new(items, user_row(res, i));
	json_t *out = guest_page(items, limit,
				 limit > 0 && n > limit ? libpq.PQgetvalue(res, limit - 1, 0) : "");
	libpq.PQclear(res);
	return out;
}

int pg_delete_user(const struct guest_instance *inst, const json_t *user, struct ct_error *err)
{
	const char *name = guest_model_name(user);
	if (check_user(name, err))
		return -1;
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = user_exists(c, name, err);
	if (!rc)
		rc = drop_role(inst, c, name, err);
	libpq.PQfinish(c);
	return rc;
}

static int set_password(PGconn *c, const char *name, const char *password, struct ct_error *err)
{
	struct pgb b;
	pgb_init(&b, c);
	pgb_raw(&b, "ALTER ROLE ");
	pgb_ident(&b, name);
	pgb_raw(&b, " WITH PASSWORD ");
	pgb_password(&b, password);
	return pgb_run(&b, "Setting the password", err);
}

int pg_update_attributes(const struct guest_instance *inst, const char *username,
			 const char *hostname, const json_t *user_attrs, struct ct_error *err)
{
	(void)hostname;
	if (check_user(username, err))
		return -1;
	if (!json_is_object(user_attrs))
		return ct_fail(err, 400, "user_attrs must be an object.");
	const char *new_name = guest_model_name(user_attrs);
	const char *password = guest_model_password(user_attrs);
	if ((new_name && check_user(new_name, err)) || (password && check_password(password, err)))
		return -1;
	bool rename = new_name && strcmp(new_name, username);
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = user_exists(c, username, err);
	if (!rc && rename)
		rc = role_taken(c, new_name, err);
	if (!rc)
		rc = pg_begin(c, err);
	if (!rc && password)
		rc = set_password(c, username, password, err);
	if (!rc && rename) {
		/* SCRAM verifiers do not depend on the name: the password stays. */
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, "ALTER ROLE ");
		pgb_ident(&b, username);
		pgb_raw(&b, " RENAME TO ");
		pgb_ident(&b, new_name);
		rc = pgb_run(&b, "Renaming the user", err);
	}
	if (!rc)
		rc = pg_commit(c, err);
	else
		pg_rollback(c);
	libpq.PQfinish(c);
	return rc;
}

int pg_change_passwords(const struct guest_instance *inst, const json_t *users,
			struct ct_error *err)
{
	if (!json_is_array(users))
		return ct_fail(err, 400, "users must be a list.");
	const json_t *u;
	size_t i;
	/* Both forms: {"name", "password"} as the API sends it, and {"_name", ...}
	 * (Trove's PostgreSQL guest accepted only the latter: [BUG-18] 6). */
	json_array_foreach (users, i, u) {
		if (check_user(guest_model_name(u), err) ||
		    check_password(guest_model_password(u), err))
			return -1;
	}
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = 0;
	json_array_foreach (users, i, u) {
		if ((rc = user_exists(c, guest_model_name(u), err)))
			break;
	}
	if (!rc)
		rc = pg_begin(c, err);
	json_array_foreach (users, i, u) {
		if (rc)
			break;
		rc = set_password(c, guest_model_name(u), guest_model_password(u), err);
	}
	if (!rc)
		rc = pg_commit(c, err);
	else
		pg_rollback(c);
	libpq.PQfinish(c);
	return rc;
}

/* --- access ------------------------------------------------------------------------ */

int pg_grant_access(const struct guest_instance *inst, const char *username, const char *hostname,
		    const json_t *databases, struct ct_error *err)
{
	(void)hostname;
	if (check_user(username, err))
		return -1;
	if (!json_is_array(databases))
		return ct_fail(err, 400, "databases must be a list.");
	const json_t *d;
	size_t i;
	json_array_foreach (databases, i, d) {
		if (check_db(guest_model_db_name(d), err))
			return -1;
	}
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = user_exists(c, username, err);
	json_array_foreach (databases, i, d) {
		if (rc)
			break;
		rc = db_exists(c, guest_model_db_name(d), err);
	}
	json_array_foreach (databases, i, d) {
		if (rc)
			break;
		rc = grant_db(inst, c, guest_model_db_name(d), username, err);
	}
	libpq.PQfinish(c);
	return rc;
}

int pg_revoke_access(const struct guest_instance *inst, const char *username, const char *hostname,
		     const char *database, struct ct_error *err)
{
	(void)hostname;
	if (check_user(username, err) || check_db(database, err))
		return -1;
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = user_exists(c, username, err);
	if (!rc)
		rc = db_exists(c, database, err);
	if (!rc) {
		const char *params[] = {database, username};
		PGresult *res = pg_select(
			c,
			"SELECT 1 FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a "
			"WHERE d.datname = $1 AND a.grantee = (SELECT oid FROM pg_catalog.pg_roles "
			"WHERE rolname = $2)",
			2, params, "Access lookup", err);
		if (!res)
			rc = -1;
		else if (libpq.PQntuples(res) == 0)
			rc = ct_fail(err, 404, "Database %.80s cannot be found on the instance.",
				     database);
		libpq.PQclear(res);
	}
	if (!rc) {
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, "REVOKE ALL ON DATABASE ");
		pgb_ident(&b, database);
		pgb_raw(&b, " FROM ");
		pgb_ident(&b, username);
		rc = pgb_run(&b, "REVOKE", err);
	}
	if (!rc)
		rc = schema_public(inst, database, username, false, err);
	libpq.PQfinish(c);
	return rc;
}

/* --- root -------------------------------------------------------------------------- */

json_t *pg_enable_root(PGconn *c, const char *password, struct ct_error *err)
{
	char generated[GUEST_PASSWORD_LEN + 1] = "";
	if (!password || !*password) {
		if (guest_random_password(generated, GUEST_PASSWORD_LEN, err))
			return NULL;
		password = generated;
	} else if (check_password(password, err)) {
		return NULL;
	}
	json_t *out = NULL;
	int exists = pg_exists(c, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
			       PG_ROOT_USER, "Root lookup", err);
	if (exists >= 0) {
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, exists ? "ALTER ROLE " : "CREATE ROLE ");
		pgb_ident(&b, PG_ROOT_USER);
		pgb_raw(&b, " WITH SUPERUSER CREATEDB CREATEROLE INHERIT REPLICATION BYPASSRLS "
			    "LOGIN PASSWORD ");
		pgb_password(&b, password);
		if (!pgb_run(&b, "Enabling root", err))
			out = guest_user_pack(PG_ROOT_USER, "%", password, NULL, true);
	}
	explicit_bzero(generated, sizeof generated);
	return out;
}

json_t *pg_enable_root_op(const struct guest_instance *inst, const char *password,
			  struct ct_error *err)
{
	if (password && *password && check_password(password, err))
		return NULL;
	if (pg_repl_refuse_on_replica(inst, err))
		return NULL;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	json_t *out = pg_enable_root(c, password, err);
	libpq.PQfinish(c);
	return out;
}

int pg_disable_root(const struct guest_instance *inst, struct ct_error *err)
{
	if (pg_repl_refuse_on_replica(inst, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = pg_exists(c, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", PG_ROOT_USER,
			   "Root lookup", err);
	if (rc > 0)
		rc = drop_role(inst, c, PG_ROOT_USER, err);
	libpq.PQfinish(c);
	return rc < 0 ? -1 : 0;
}

int pg_is_root_enabled(const struct guest_instance *inst, bool *enabled, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = pg_exists(c,
			   "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1 AND rolsuper AND "
			   "rolcanlogin",
			   PG_ROOT_USER, "Root lookup", err);
	libpq.PQfinish(c);
	if (rc < 0)
		return -1;
	*enabled = rc > 0;
	return 0;
}
