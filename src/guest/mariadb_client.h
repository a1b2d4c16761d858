/*
 * mariadb_client.h — libmariadb (the MariaDB/MySQL client library) as the
 * MariaDB manager reaches it: loaded with dlopen() at the first connection
 * (client_library.h) rather than linked, so only a process that talks to a
 * MariaDB or MySQL server maps it. Calls go through the table `libmariadb`,
 * whose fields are the library's functions under their own names and with
 * their prototypes from <mysql.h>, so every call is type-checked like a direct
 * one: libmariadb.mysql_real_query(c, sql, len).
 * Owns the table; may be included only by src/guest/mariadb*.c.
 */
#ifndef CT_GUEST_MARIADB_CLIENT_H
#define CT_GUEST_MARIADB_CLIENT_H

#include <mysql.h>

#include "common/error.h"

#define LIBMARIADB_SONAME "libmariadb.so.3"

/* Every function the manager calls. */
#define LIBMARIADB_FUNCTIONS(X)                                                                    \
	X(mysql_init)                                                                              \
	X(mysql_options)                                                                           \
	X(mysql_real_connect)                                                                      \
	X(mysql_close)                                                                             \
	X(mysql_errno)                                                                             \
	X(mysql_error)                                                                             \
	X(mysql_get_server_info)                                                                   \
	X(mysql_real_escape_string)                                                                \
	X(mysql_query)                                                                             \
	X(mysql_real_query)                                                                        \
	X(mysql_store_result)                                                                      \
	X(mysql_fetch_row)                                                                         \
	X(mysql_num_fields)                                                                        \
	X(mysql_fetch_fields)                                                                      \
	X(mysql_free_result)

struct libmariadb_api {
#define LIBMARIADB_FIELD(name) __typeof__(name) *name;
	LIBMARIADB_FUNCTIONS(LIBMARIADB_FIELD)
#undef LIBMARIADB_FIELD
};

/* Filled by the first successful libmariadb_load(); NULL before. */
extern struct libmariadb_api libmariadb;

/* Load libmariadb unless it is loaded; 500 when it cannot be. */
int libmariadb_load(struct ct_error *err);

#endif
