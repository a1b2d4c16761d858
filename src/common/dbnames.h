/*
 * dbnames.h — the rules for database, user, password and host names that
 * datastores accept (spec trove-api.md §8.3, trove-guest.md §3.2, §3.4). The API
 * applies them before accepting a request and the guest agent again before
 * touching a server, so a name that reaches SQL has passed them twice (and is
 * quoted there anyway). Pure functions; messages are Trove's.
 */
#ifndef CT_COMMON_DBNAMES_H
#define CT_COMMON_DBNAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum dbnames_family { DBNAMES_MYSQL, DBNAMES_POSTGRESQL };

/* mysql and mariadb -> MYSQL, postgresql -> POSTGRESQL; -1 when unsupported. */
int dbnames_family_of(const char *manager);

/* 400 "'<name>' is not a valid schema name." and friends. */
int dbnames_check_database(enum dbnames_family f, const char *name, struct ct_error *err);
int dbnames_check_user(enum dbnames_family f, const char *name, struct ct_error *err);
int dbnames_check_password(enum dbnames_family f, const char *password, struct ct_error *err);
/* MySQL host: "%" or an IPv4/IPv6 address or CIDR with '%' wildcards. */
int dbnames_check_host(const char *host, struct ct_error *err);

/* Reserved names (never created, deleted, granted or listed). */
bool dbnames_reserved_user(enum dbnames_family f, const char *name);
bool dbnames_reserved_database(enum dbnames_family f, const char *name);

/* Resolve MySQL character set / collation (either may be NULL or ""), filling
 * the effective pair; 400 when unknown or mismatched. "utf8" is an alias of
 * "utf8mb3". With neither given: utf8mb4 / utf8mb4_general_ci (see
 * docs/api-differences.md). */
int dbnames_mysql_charset(const char *charset, const char *collation, char *charset_out,
			  size_t charset_size, char *collation_out, size_t collation_size,
			  struct ct_error *err);

struct mysql_collation {
	const char *charset;
	const char *collation;
	bool is_default;
};
extern const struct mysql_collation mysql_collations[];
extern const size_t mysql_collation_count;

#endif
