/*
 * dbnames.c — see dbnames.h.
 */
#include "common/dbnames.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mysql_reserved_users[] = {"os_admin", "root", NULL};
static const char *const mysql_reserved_dbs[] = {"mysql", "information_schema",
						 "performance_schema", "sys", NULL};
/* replicator: the streaming-replication role (trove-guest.md §10.2). */
static const char *const pg_reserved_users[] = {"os_admin", "postgres", "replicator", "root", NULL};
static const char *const pg_reserved_dbs[] = {"os_admin", "postgres", "template0", "template1",
					      NULL};

int dbnames_family_of(const char *manager)
{
	if (!strcmp(manager, "mysql") || !strcmp(manager, "mariadb"))
		return DBNAMES_MYSQL;
	if (!strcmp(manager, "postgresql"))
		return DBNAMES_POSTGRESQL;
	return -1;
}

static bool listed(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

bool dbnames_reserved_user(enum dbnames_family f, const char *name)
{
	return listed(f == DBNAMES_MYSQL ? mysql_reserved_users : pg_reserved_users, name);
}

bool dbnames_reserved_database(enum dbnames_family f, const char *name)
{
	return listed(f == DBNAMES_MYSQL ? mysql_reserved_dbs : pg_reserved_dbs, name);
}

/* Characters, not bytes; -1 for malformed UTF-8. */
static long utf8_chars(const char *s)
{
	long n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int extra = *p < 0x80		  ? 0
			    : (*p & 0xe0) == 0xc0 ? 1
			    : (*p & 0xf0) == 0xe0 ? 2
			    : (*p & 0xf8) == 0xf0 ? 3
						  : -1;
		if (extra < 0)
			return -1;
		p++;
		for (int i = 0; i < extra; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return -1;
		n++;
	}
	return n;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool is_word(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* ^[A-Za-z0-9_-]+[\s?#@]*[A-Za-z0-9_-]+$ with a space as the only whitespace. */
static bool mysql_db_pattern(const char *s)
{
	const char *p = s;
	while (is_word(*p))
		p++;
	if (p == s)
		return false;
	const char *sep = p;
	while (*p == ' ' || *p == '?' || *p == '#' || *p == '@')
		p++;
	const char *word2 = p;
	while (is_word(*p))
		p++;
	if (*p)
		return false;
	/* "ab" matches with an empty separator: the first run gives back one char. */
	if (p == word2)
		return sep == p && sep - s >= 2;
	return true;
}

int dbnames_check_database(enum dbnames_family f, const char *name, struct ct_error *err)
{
	long chars = utf8_chars(name);
	if (f == DBNAMES_MYSQL) {
		if (chars < 1 || chars > 64 || strchr(name, '\\') || has_control(name) ||
		    !mysql_db_pattern(name))
			return ct_fail(err, 400, "'%.80s' is not a valid schema name.", name);
	} else {
		/* PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1):
		 * a longer UTF-8 name would be stored as another name. */
		size_t len = strlen(name);
		if (chars < 2 || len > 63 || has_control(name) || name[len - 1] == ' ')
			return ct_fail(err, 400, "'%.80s' is not a valid schema name.", name);
	}
	if (dbnames_reserved_database(f, name))
		return ct_fail(err, 400, "'%.80s' is not a valid schema name.", name);
	return 0;
}

static bool mysql_bad_chars(const char *s)
{
	size_t len = strlen(s);
	if (len && (s[0] == ' ' || s[len - 1] == ' ' || s[0] == '\t' || s[len - 1] == '\t'))
		return true;
	return strpbrk(s, "'\";`,/\\") != NULL || has_control(s);
}

int dbnames_check_user(enum dbnames_family f, const char *name, struct ct_error *err)
{
	long chars = utf8_chars(name);
	if (f == DBNAMES_MYSQL) {
		if (chars < 1 || chars > 16 || mysql_bad_chars(name))
			return ct_fail(err, 400, "'%.80s' is not a valid user name.", name);
		if (dbnames_reserved_user(f, name))
			return ct_fail(err, 400,
				       "User name \"%s\" is on the reserved list: ['os_admin', "
				       "'root'].",
				       name);
		return 0;
	}
	/* 63 bytes, as for databases; pg_* and public are reserved by the server. */
	if (chars < 1 || strlen(name) > 63 || has_control(name) || !strcmp(name, "public") ||
	    !strncmp(name, "pg_", 3))
		return ct_fail(err, 400, "'%.80s' is not a valid user name.", name);
	if (dbnames_reserved_user(f, name))
		return ct_fail(err, 400,
			       "User name \"%s\" is on the reserved list: ['os_admin', "
			       "'postgres', 'replicator', 'root'].",
			       name);
	return 0;
}

int dbnames_check_password(enum dbnames_family f, const char *password, struct ct_error *err)
{
	long chars = utf8_chars(password);
	if (chars < 1 || chars > 255)
		return ct_fail(err, 400, "The password must be 1 to 255 characters long.");
	if (f == DBNAMES_MYSQL && mysql_bad_chars(password))
		return ct_fail(err, 400,
			       "The password contains a character that is not allowed: "
			       "quotes, backquotes, ';', ',', '/', '\\\\', control characters, or "
			       "leading or trailing spaces.");
	if (has_control(password))
		return ct_fail(err, 400, "The password contains a control character.");
	return 0;
}

int dbnames_check_host(const char *host, struct ct_error *err)
{
	if (!host || !strcmp(host, "%"))
		return 0;
	char copy[128];
	size_t len = strlen(host);
	if (len == 0 || len >= sizeof copy)
		return ct_fail(err, 400, "'%.80s' is not a valid hostname.", host);
	for (size_t i = 0; i <= len; i++)
		copy[i] = host[i] == '%' ? '1' : host[i];
	char *slash = strchr(copy, '/');
	if (slash) {
		char *end;
		long prefix = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end || prefix < 0 || prefix > 128)
			return ct_fail(err, 400, "'%.80s' is not a valid hostname.", host);
		*slash = '\0';
	}
	unsigned char buf[16];
	if (inet_pton(AF_INET, copy, buf) == 1 || inet_pton(AF_INET6, copy, buf) == 1)
		return 0;
	return ct_fail(err, 400, "'%.80s' is not a valid hostname.", host);
}

static const char *canonical_charset(const char *charset)
{
	return !strcmp(charset, "utf8") ? "utf8mb3" : charset;
}

/* "utf8_general_ci" -> "utf8mb3_general_ci" into buf. */
static const char *canonical_collation(const char *collation, char *buf, size_t size)
{
	if (!strncmp(collation, "utf8_", 5)) {
		snprintf(buf, size, "utf8mb3_%s", collation + 5);
		return buf;
	}
	return collation;
}

int dbnames_mysql_charset(const char *charset, const char *collation, char *charset_out,
			  size_t charset_size, char *collation_out, size_t collation_size,
			  struct ct_error *err)
{
	bool has_cs = charset && *charset, has_coll = collation && *collation;
	if (!has_cs && !has_coll) {
		charset = "utf8mb4";
		collation = "utf8mb4_general_ci";
		has_cs = has_coll = true;
	}
	char buf[160];
	const char *cs = has_cs ? canonical_charset(charset) : NULL;
	const char *coll = has_coll ? canonical_collation(collation, buf, sizeof buf) : NULL;
	const struct mysql_collation *found = NULL;
	for (size_t i = 0; i < mysql_collation_count && !found; i++) {
		const struct mysql_collation *c = &mysql_collations[i];
		if (coll ? !strcmp(c->collation, coll) : (!strcmp(c->charset, cs) && c->is_default))
			found = c;
	}
	if (!found) {
		if (coll)
			return ct_fail(err, 400, "'%.64s' not a valid collation.", collation);
		return ct_fail(err, 400, "'%.64s' not a valid character set.", charset);
	}
	if (cs && strcmp(found->charset, cs))
		return ct_fail(err, 400, "'%.64s' not a valid collation for charset '%.64s'.",
			       collation, charset);
	snprintf(charset_out, charset_size, "%s", found->charset);
	snprintf(collation_out, collation_size, "%s", found->collation);
	return 0;
}
