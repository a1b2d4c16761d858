/*
 * postgresql_sql.c — the PostgreSQL manager's layout, libpq connections and
 * statement builder (trove-guest.md §10.1). Every identifier that reaches the
 * server is quoted by PQescapeIdentifier, every literal by PQescapeLiteral,
 * values in queries travel as parameters, and every statement goes through
 * the extended protocol, which runs exactly one statement: a name is stored
 * literally, never executed. Passwords are sent only as SCRAM verifiers made
 * on the client, and the admin sessions turn off statement logging, so
 * neither a password nor its verifier reaches the server's log.
 * Owns nothing; may not start or stop processes.
 */
#define LOG_MODULE "guest.postgresql"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/postgresql_internal.h"

int pg_paths(const struct guest_instance *inst, struct pg_paths *p, struct ct_error *err)
{
	const char *r = inst->run_dir;
	memset(p, 0, sizeof *p);
	if (!inst->data_dir[0] || !r[0] || inst->data_dir[0] != '/' || r[0] != '/')
		return ct_fail(err, 500,
			       "The instance's data and run directories must be absolute.");
	if (inst->port <= 0 || inst->port > 65535)
		return ct_fail(err, 500, "The instance has no valid port.");
	snprintf(p->datadir, sizeof p->datadir, "%s/data", inst->data_dir);
	snprintf(p->conf, sizeof p->conf, "%s/postgresql.conf", r);
	snprintf(p->hba, sizeof p->hba, "%s/pg_hba.conf", r);
	snprintf(p->ident, sizeof p->ident, "%s/pg_ident.conf", r);
	snprintf(p->confd, sizeof p->confd, "%s/conf.d", r);
	snprintf(p->sock_dir, sizeof p->sock_dir, "%s/socket", r);
	snprintf(p->sock, sizeof p->sock, "%s/socket/.s.PGSQL.%d", r, inst->port);
	snprintf(p->pid, sizeof p->pid, "%s/data/postmaster.pid", inst->data_dir);
	snprintf(p->log_dir, sizeof p->log_dir, "%s/log", r);
	snprintf(p->log, sizeof p->log, "%s/log/postgresql.log", r);
	snprintf(p->cred_dir, sizeof p->cred_dir, "%s/credentials", r);
	snprintf(p->admin_cnf, sizeof p->admin_cnf, "%s/credentials/os_admin.cnf", r);
	snprintf(p->stopped, sizeof p->stopped, "%s/.stopped", r);
	if (strlen(p->sock) > PG_SOCKET_MAX)
		return ct_fail(err, 500, "The socket path %s is longer than %d bytes.", p->sock,
			       PG_SOCKET_MAX);
	return 0;
}

/* --- connections ---------------------------------------------------------------- */

/* Server notices ("role does not exist, skipping") go to the agent's log. */
static void notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("server notice: %s", message);
}

static PGconn *connect_as(const struct guest_instance *inst, const char *user, const char *password,
			  const char *dbname, struct ct_error *err)
{
	struct pg_paths p;
	char port[16];
	if (pg_paths(inst, &p, err))
		return NULL;
	if (access(p.sock, F_OK)) {
		ct_fail(err, 422, "The database server is not running.");
		return NULL;
	}
	snprintf(port, sizeof port, "%d", inst->port);
	/* Superuser sessions: no statement of theirs is ever logged, not even
	 * one that fails. */
	const char *keys[] = {"host",
			      "port",
			      "dbname",
			      "user",
			      "password",
			      "connect_timeout",
			      "sslmode",
			      "gssencmode",
			      "application_name",
			      "options",
			      "client_encoding",
			      NULL};
	const char *vals[] = {p.sock_dir,
			      port,
			      dbname ? dbname : "postgres",
			      user,
			      password ? password : "",
			      "10",
			      "disable",
			      "disable",
			      "ctrove-guestagent",
			      "-c log_statement=none -c log_min_error_statement=panic "
			      "-c log_min_duration_statement=-1 -c statement_timeout=0",
			      "UTF8",
			      NULL};
	if (libpq_load(err))
		return NULL;
	PGconn *c = libpq.PQconnectdbParams(keys, vals, 0);
	if (!c) {
		ct_fail(err, 500, "Out of memory.");
		return NULL;
	}
	if (libpq.PQstatus(c) != CONNECTION_OK) {
		const char *m = libpq.PQerrorMessage(c);
		if (strstr(m, "No such file") || strstr(m, "Connection refused") ||
		    strstr(m, "starting up") || strstr(m, "shutting down") ||
		    strstr(m, "in recovery mode"))
			ct_fail(err, 422, "The database server is not running.");
		else if (strstr(m, "does not exist") && dbname)
			ct_fail(err, 404, "Database %.80s cannot be found on the instance.",
				dbname);
		else
			ct_fail(err, 500, "Cannot connect as %s: %.300s", user, m);
		libpq.PQfinish(c);
		return NULL;
	}
	libpq.PQsetNoticeProcessor(c, notice, NULL);
	return c;
}

PGconn *pg_connect_admin(const struct guest_instance *inst, const char *dbname,
			 struct ct_error *err)
{
	struct pg_paths p;
	struct guest_credentials cred;
	if (pg_paths(inst, &p, err))
		return NULL;
	/* A replica's os_admin is its source's, password unknown here: the agent
	 * logs in by peer instead (postgresql_replication.c). */
	if (access(p.admin_cnf, F_OK) && pg_repl_is_replica(&p))
		return pg_connect_bootstrap(inst, err);
	if (guest_read_credentials(p.admin_cnf, &cred, err)) {
		if (err && err->status == 404)
			ct_fail(err, 422, "The database server is not prepared.");
		return NULL;
	}
	PGconn *c = connect_as(inst, cred.user, cred.password, dbname, err);
	explicit_bzero(&cred, sizeof cred);
	return c;
}

PGconn *pg_connect_bootstrap(const struct guest_instance *inst, struct ct_error *err)
{
	return connect_as(inst, PG_BOOTSTRAP_USER, NULL, NULL, err);
}

/* --- statements ------------------------------------------------------------------- */

void pgb_init(struct pgb *b, PGconn *conn)
{
	b->conn = conn;
	b->n = 0;
	b->s[0] = '\0';
	b->overflow = false;
	b->secret = false;
}

void pgb_raw(struct pgb *b, const char *text)
{
	size_t len = strlen(text);
	if (b->overflow || b->n + len + 1 > sizeof b->s) {
		b->overflow = true;
		return;
	}
	memcpy(b->s + b->n, text, len + 1);
	b->n += len;
}

void pgb_ident(struct pgb *b, const char *name)
{
	char *q = libpq.PQescapeIdentifier(b->conn, name, strlen(name));
	if (!q) {
		b->overflow = true;
		return;
	}
	pgb_raw(b, q);
	libpq.PQfreemem(q);
}

void pgb_literal(struct pgb *b, const char *value)
{
	char *q = libpq.PQescapeLiteral(b->conn, value, strlen(value));
	if (!q) {
		b->overflow = true;
		return;
	}
	pgb_raw(b, q);
	explicit_bzero(q, strlen(q));
	libpq.PQfreemem(q);
}

void pgb_password(struct pgb *b, const char *password)
{
	b->secret = true;
	/* The role name only matters for md5; SCRAM verifiers survive a rename. */
	char *v = libpq.PQencryptPasswordConn(b->conn, password, "", "scram-sha-256");
	if (!v) {
		b->overflow = true;
		return;
	}
	pgb_literal(b, v);
	explicit_bzero(v, strlen(v));
	libpq.PQfreemem(v);
}

/* SQLSTATE → the status Trove would answer. */
static int status_of(const char *state)
{
	static const struct {
		const char *state;
		int status;
	} map[] = {
		{"42710", 400}, /* duplicate_object (role) */
		{"42P04", 400}, /* duplicate_database */
		{"42939", 400}, /* reserved_name */
		{"42602", 400}, /* invalid_name */
		{"22023", 400}, /* invalid_parameter_value (encoding, locale) */
		{"22021", 400}, /* character_not_in_repertoire */
		{"0A000", 400}, /* feature_not_supported */
		{"3D000", 404}, /* invalid_catalog_name */
		{"42704", 404}, /* undefined_object */
		{"55006", 409}, /* object_in_use */
		{"2BP01", 409}, /* dependent_objects_still_exist */
		{"57P03", 422}, /* cannot_connect_now */
		{"57P01", 422}, /* admin_shutdown */
	};
	if (!state)
		return 500;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].state, state))
			return map[i].status;
	if (!strncmp(state, "08", 2))
		return 422;
	return 500;
}

static int result_fail(PGconn *conn, PGresult *res, bool secret, const char *what,
		       struct ct_error *err)
{
	const char *state = res ? libpq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? libpq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int status = status_of(state);
	if (!msg)
		msg = libpq.PQerrorMessage(conn);
	if (secret) /* the message could quote the statement */
		return ct_fail(err, status, "%s failed: server error %s.", what,
			       state ? state : "?");
	if (status == 500)
		log_error("%s failed: %s %s", what, state ? state : "?", msg);
	return ct_fail(err, status, "%s failed: %.300s", what, msg);
}

int pgb_run(struct pgb *b, const char *what, struct ct_error *err)
{
	if (b->overflow) {
		explicit_bzero(b->s, sizeof b->s);
		return ct_fail(err, 500, "%s failed: the statement is too long.", what);
	}
	PGresult *res = libpq.PQexecParams(b->conn, b->s, 0, NULL, NULL, NULL, NULL, 0);
	if (b->secret)
		explicit_bzero(b->s, sizeof b->s);
	int rc = 0;
	ExecStatusType st = res ? libpq.PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = result_fail(b->conn, res, b->secret, what, err);
	libpq.PQclear(res);
	return rc;
}

PGresult *pg_select(PGconn *conn, const char *sql, int nparams, const char *const *params,
		    const char *what, struct ct_error *err)
{
	PGresult *res = libpq.PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!res || libpq.PQresultStatus(res) != PGRES_TUPLES_OK) {
		result_fail(conn, res, false, what, err);
		libpq.PQclear(res);
		return NULL;
	}
	return res;
}

int pg_exists(PGconn *conn, const char *sql, const char *param, const char *what,
	      struct ct_error *err)
{
	const char *params[] = {param};
	PGresult *res = pg_select(conn, sql, param ? 1 : 0, params, what, err);
	if (!res)
		return -1;
	int found = libpq.PQntuples(res) > 0;
	libpq.PQclear(res);
	return found;
}

static int simple(PGconn *conn, const char *sql, struct ct_error *err)
{
	struct pgb b;
	pgb_init(&b, conn);
	pgb_raw(&b, sql);
	return pgb_run(&b, sql, err);
}

int pg_begin(PGconn *conn, struct ct_error *err)
{
	return simple(conn, "BEGIN", err);
}

int pg_commit(PGconn *conn, struct ct_error *err)
{
	return simple(conn, "COMMIT", err);
}

void pg_rollback(PGconn *conn)
{
	libpq.PQclear(libpq.PQexec(conn, "ROLLBACK"));
}
