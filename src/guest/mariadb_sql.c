/*
 * mariadb_sql.c — the MariaDB/MySQL manager's layout, validation rules
 * (trove-guest.md §3.2), statement builder and connections. Every identifier
 * that reaches the server is backtick-quoted with backticks doubled and every
 * literal is escaped by the client library for the connection's character set;
 * statements are single (no CLIENT_MULTI_STATEMENTS), so even a name that got
 * past validation is stored literally, never executed. Statements holding a
 * password are never logged and are wiped after use.
 * Owns nothing; may not start or stop processes.
 */
#define LOG_MODULE "guest.mariadb"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "guest/mariadb_internal.h"

int mdb_paths(const struct guest_instance *inst, struct mdb_paths *p, struct ct_error *err)
{
	const char *r = inst->run_dir;
	memset(p, 0, sizeof *p);
	if (!inst->data_dir[0] || !r[0] || inst->data_dir[0] != '/' || r[0] != '/')
		return ct_fail(err, 500,
			       "The instance's data and run directories must be absolute.");
	snprintf(p->datadir, sizeof p->datadir, "%s/data", inst->data_dir);
	snprintf(p->cnf, sizeof p->cnf, "%s/my.cnf", r);
	snprintf(p->confd, sizeof p->confd, "%s/conf.d", r);
	snprintf(p->mysqld_dir, sizeof p->mysqld_dir, "%s/mysqld", r);
	snprintf(p->sock, sizeof p->sock, "%s/mysqld/mysqld.sock", r);
	snprintf(p->pid, sizeof p->pid, "%s/mysqld/mysqld.pid", r);
	snprintf(p->tmp, sizeof p->tmp, "%s/tmp", r);
	snprintf(p->log_dir, sizeof p->log_dir, "%s/log", r);
	snprintf(p->err_log, sizeof p->err_log, "%s/log/mysqld.err", r);
	snprintf(p->cred_dir, sizeof p->cred_dir, "%s/credentials", r);
	snprintf(p->admin_cnf, sizeof p->admin_cnf, "%s/credentials/os_admin.cnf", r);
	snprintf(p->stopped, sizeof p->stopped, "%s/.stopped", r);
	snprintf(p->files, sizeof p->files, "%s/files", inst->data_dir);
	if (strlen(p->sock) > MDB_SOCKET_MAX)
		return ct_fail(err, 500, "The socket path %s is longer than %d bytes.", p->sock,
			       MDB_SOCKET_MAX);
	return 0;
}

/* --- validation ----------------------------------------------------------- */

static const char *const reserved_dbs[] = {"mysql", "information_schema", "performance_schema",
					   "sys",   "lost+found",	  "#mysql50#lost+found",
					   NULL};
static const char *const reserved_users[] = {"os_admin", "root", NULL};

bool mdb_is_reserved_db(const char *name)
{
	for (size_t i = 0; reserved_dbs[i]; i++)
		if (!strcmp(name, reserved_dbs[i]))
			return true;
	return false;
}

/* Replication accounts Trove creates: slave_<8 hex>. */
static bool is_replication_user(const char *name)
{
	if (strncmp(name, "slave_", 6) || strlen(name) != 14)
		return false;
	for (size_t i = 6; i < 14; i++)
		if (!isxdigit((unsigned char)name[i]))
			return false;
	return true;
}

bool mdb_is_reserved_user(const char *name)
{
	for (size_t i = 0; reserved_users[i]; i++)
		if (!strcmp(name, reserved_users[i]))
			return true;
	return is_replication_user(name);
}

/*
 * Decode one UTF-8 code point; -1 on invalid input. Python's repr() escapes
 * every non-printable character, and Trove refuses names whose repr has a
 * backslash: control characters, and the format and separator characters below.
 */
static long utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	long cp;
	int extra;
	if (p[0] < 0x80) {
		cp = p[0];
		extra = 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		extra = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		extra = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		extra = 3;
	} else {
		return -1;
	}
	for (int i = 1; i <= extra; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	static const long min[] = {0, 0x80, 0x800, 0x10000};
	if (cp < min[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pp = p + 1 + extra;
	return cp;
}

static bool printable(long cp)
{
	return !(cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad ||
		 (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
		 (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff ||
		 (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0x1680 || cp == 0x180e);
}

/* Trove's user-name/password character rule; *chars gets the length in
 * characters. bmp_only: MariaDB's account columns are utf8mb3. */
static bool account_chars_ok(const char *s, bool bmp_only, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	while (*p) {
		long cp = utf8_next(&p);
		if (cp < 0 || !printable(cp) || (bmp_only && cp > 0xffff))
			return false;
		if (cp < 0x80 && strchr("'\";`,/\\", (int)cp))
			return false;
		n++;
	}
	*chars = n;
	return true;
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

int mdb_check_db_name(const char *name, bool check_reserved, struct ct_error *err)
{
	if (!name || !*name)
		return ct_fail(err, 400, "Database name cannot be empty.");
	size_t len = strlen(name);
	if (len > MDB_DB_NAME_MAX)
		return ct_fail(err, 400, "Database name '%.80s' is too long. Max length = %d.",
			       name, MDB_DB_NAME_MAX);
	/* ^[A-Za-z0-9_-]+[\s?#@]*[A-Za-z0-9_-]+$ without control characters:
	 * word characters, one run of separators (space ? # @) inside. */
	bool ok = len >= 2 && is_word(name[0]) && is_word(name[len - 1]);
	int runs = 0;
	for (size_t i = 0; ok && i < len; i++) {
		char c = name[i];
		if (is_word(c))
			continue;
		if (c == ' ' || c == '?' || c == '#' || c == '@') {
			if (!strchr(" ?#@", name[i - 1]))
				runs++;
			continue;
		}
		ok = false;
	}
	if (!ok || runs > 1)
		return ct_fail(err, 400, "'%.80s' is not a valid schema name.", name);
	if (check_reserved && mdb_is_reserved_db(name))
		return ct_fail(err, 400,
			       "Database name \"%s\" is on the reserved list: ['mysql', "
			       "'information_schema', 'performance_schema', 'sys'].",
			       name);
	return 0;
}

int mdb_check_user_name(const char *name, bool check_reserved, struct ct_error *err)
{
	size_t chars = 0;
	if (!name || !*name)
		return ct_fail(err, 400, "User name cannot be empty.");
	if (strlen(name) > 4 * MDB_USER_NAME_MAX || !account_chars_ok(name, true, &chars) ||
	    isspace((unsigned char)name[0]) || isspace((unsigned char)name[strlen(name) - 1]))
		return ct_fail(err, 400, "'%.80s' is not a valid user name.", name);
	if (chars > MDB_USER_NAME_MAX)
		return ct_fail(err, 400, "User name '%.80s' is too long. Max length = %d.", name,
			       MDB_USER_NAME_MAX);
	if (check_reserved && mdb_is_reserved_user(name))
		return ct_fail(err, 400,
			       "User name \"%.80s\" is on the reserved list: ['os_admin', 'root'].",
			       name);
	return 0;
}

int mdb_check_password(const char *password, struct ct_error *err)
{
	size_t chars = 0;
	/* The message never repeats the password. */
	if (!password)
		return ct_fail(err, 400, "The password is missing.");
	if (strlen(password) > 4 * MDB_PASSWORD_MAX || !account_chars_ok(password, false, &chars))
		return ct_fail(err, 400,
			       "The password is not valid: it may not contain ' \" ; ` , / \\ or "
			       "control characters.");
	if (chars > MDB_PASSWORD_MAX)
		return ct_fail(err, 400, "The password is longer than %d characters.",
			       MDB_PASSWORD_MAX);
	return 0;
}

int mdb_check_host(const char *host, char *out, struct ct_error *err)
{
	if (!host || !*host || !strcmp(host, "%")) {
		strcpy(out, "%");
		return 0;
	}
	size_t len = strlen(host);
	char probe[MDB_HOST_MAX + 1];
	if (len > MDB_HOST_MAX)
		return ct_fail(err, 400, "'%.80s' is not a valid hostname.", host);
	/* hostname_require_valid_ip: with every % read as 1, an IP address or CIDR. */
	for (size_t i = 0; i <= len; i++)
		probe[i] = host[i] == '%' ? '1' : host[i];
	char *slash = strchr(probe, '/');
	int max_prefix = strchr(probe, ':') ? 128 : 32;
	if (slash) {
		*slash = '\0';
		const char *d = slash + 1;
		char *end;
		errno = 0;
		long pfx = strtol(d, &end, 10);
		if (!*d || *end || !isdigit((unsigned char)*d) || errno || pfx < 0 ||
		    pfx > max_prefix)
			return ct_fail(err, 400, "'%.80s' is not a valid hostname.", host);
	}
	unsigned char addr[16];
	if (inet_pton(AF_INET, probe, addr) != 1 && inet_pton(AF_INET6, probe, addr) != 1)
		return ct_fail(err, 400, "'%.80s' is not a valid hostname.", host);
	memcpy(out, host, len + 1);
	return 0;
}

/* --- statements ------------------------------------------------------------ */

void sqlb_init(struct sqlb *b, MYSQL *conn)
{
	b->conn = conn;
	b->n = 0;
	b->s[0] = '\0';
	b->overflow = false;
	b->secret = false;
}

static void sqlb_putc(struct sqlb *b, char c)
{
	if (b->n + 1 >= sizeof b->s) {
		b->overflow = true;
		return;
	}
	b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

void sqlb_raw(struct sqlb *b, const char *text)
{
	for (; *text; text++)
		sqlb_putc(b, *text);
}

void sqlb_ident(struct sqlb *b, const char *name)
{
	sqlb_putc(b, '`');
	for (; *name; name++) {
		if (*name == '`')
			sqlb_putc(b, '`');
		sqlb_putc(b, *name);
	}
	sqlb_putc(b, '`');
}

void sqlb_db_pattern(struct sqlb *b, const char *name)
{
	sqlb_putc(b, '`');
	for (; *name; name++) {
		if (*name == '`')
			sqlb_putc(b, '`');
		else if (*name == '_' || *name == '%' || *name == '\\')
			sqlb_putc(b, '\\');
		sqlb_putc(b, *name);
	}
	sqlb_putc(b, '`');
}

void sqlb_str(struct sqlb *b, const char *value)
{
	size_t len = strlen(value);
	if (b->overflow || b->n + 2 * len + 3 >= sizeof b->s) {
		b->overflow = true;
		return;
	}
	b->s[b->n++] = '\'';
	/* Honours the session's NO_BACKSLASH_ESCAPES (then quotes are doubled). */
	unsigned long w = libmariadb.mysql_real_escape_string(b->conn, b->s + b->n, value,
							      (unsigned long)len);
	if (w == (unsigned long)-1) {
		b->overflow = true;
		return;
	}
	b->n += w;
	b->s[b->n++] = '\'';
	b->s[b->n] = '\0';
}

void sqlb_account(struct sqlb *b, const char *user, const char *host)
{
	sqlb_str(b, user);
	sqlb_putc(b, '@');
	sqlb_str(b, host);
}

void sqlb_password(struct sqlb *b, const char *password)
{
	b->secret = true;
	sqlb_str(b, password);
}

void sqlb_wipe(struct sqlb *b)
{
	explicit_bzero(b->s, sizeof b->s);
	b->n = 0;
}

unsigned mdb_run(struct sqlb *b)
{
	if (b->overflow)
		return 1;
	if (libmariadb.mysql_real_query(b->conn, b->s, (unsigned long)b->n)) {
		unsigned code = libmariadb.mysql_errno(b->conn);
		return code ? code : 1;
	}
	MYSQL_RES *res = libmariadb.mysql_store_result(b->conn);
	if (res)
		libmariadb.mysql_free_result(res);
	return 0;
}

MYSQL_RES *mdb_select(struct sqlb *b, unsigned *code)
{
	*code = 0;
	if (b->overflow) {
		*code = 1;
		return NULL;
	}
	if (libmariadb.mysql_real_query(b->conn, b->s, (unsigned long)b->n)) {
		*code = libmariadb.mysql_errno(b->conn);
		if (!*code)
			*code = 1;
		return NULL;
	}
	MYSQL_RES *res = libmariadb.mysql_store_result(b->conn);
	if (!res) {
		*code = libmariadb.mysql_errno(b->conn);
		if (!*code)
			*code = 1;
	}
	return res;
}

int mdb_fail(const struct sqlb *b, unsigned code, const char *what, struct ct_error *err)
{
	if (b->overflow)
		return ct_fail(err, 500, "%s failed: the statement is too long.", what);
	if (b->secret)
		return ct_fail(err, 500, "%s failed: server error %u.", what, code);
	return ct_fail(err, 500, "%s failed: server error %u: %.300s", what, code,
		       libmariadb.mysql_error(b->conn));
}

/* --- connections ------------------------------------------------------------ */

MYSQL *mdb_connect(const char *sock, const char *user, const char *password, int timeout_s,
		   struct ct_error *err)
{
	if (libmariadb_load(err))
		return NULL;
	MYSQL *c = libmariadb.mysql_init(NULL);
	if (!c) {
		ct_fail(err, 500, "Out of memory.");
		return NULL;
	}
	unsigned int connect_timeout = 5, io_timeout = (unsigned)timeout_s;
	my_bool off = 0;
	libmariadb.mysql_options(c, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	libmariadb.mysql_options(c, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	libmariadb.mysql_options(c, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	libmariadb.mysql_options(c, MYSQL_OPT_LOCAL_INFILE, &off);
	libmariadb.mysql_options(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!libmariadb.mysql_real_connect(c, "localhost", user, password, NULL, 0, sock, 0)) {
		unsigned code = libmariadb.mysql_errno(c);
		/* 2002: no socket / refused — the server is not up. */
		if (code == 2002 || code == 2003 || code == 2013)
			ct_fail(err, 422, "The database server is not running (error %u).", code);
		else
			ct_fail(err, 500, "Cannot connect as %s: error %u: %.200s", user, code,
				libmariadb.mysql_error(c));
		libmariadb.mysql_close(c);
		return NULL;
	}
	return c;
}

MYSQL *mdb_connect_admin(const struct guest_instance *inst, struct ct_error *err)
{
	struct mdb_paths p;
	struct guest_credentials cred;
	if (mdb_paths(inst, &p, err))
		return NULL;
	if (guest_read_credentials(p.admin_cnf, &cred, err)) {
		if (err)
			err->status = err->status == 404 ? 422 : err->status;
		return NULL;
	}
	MYSQL *c = mdb_connect(p.sock, cred.user, cred.password, 170, err);
	explicit_bzero(&cred, sizeof cred);
	return c;
}

enum mdb_dialect mdb_dialect(MYSQL *conn)
{
	const char *v = libmariadb.mysql_get_server_info(conn);
	return v && strstr(v, "MariaDB") ? MDB_DIALECT_MARIADB : MDB_DIALECT_MYSQL;
}

int mdb_flush(MYSQL *conn, struct ct_error *err)
{
	struct sqlb b;
	sqlb_init(&b, conn);
	sqlb_raw(&b, "FLUSH PRIVILEGES");
	unsigned code = mdb_run(&b);
	if (code)
		return mdb_fail(&b, code, "FLUSH PRIVILEGES", err);
	return 0;
}
