/*
 * postgresql_client.h — libpq as the PostgreSQL manager reaches it: loaded
 * with dlopen() at the first connection (client_library.h) rather than
 * linked, so only a process that talks to a PostgreSQL server maps it and
 * what it links (Kerberos, LDAP, SASL, GnuTLS: 3.5 MiB resident). Calls go
 * through the table `libpq`, whose fields are the library's functions under
 * their own names and with their prototypes from <libpq-fe.h>, so every call
 * is type-checked like a direct one: libpq.PQexec(c, sql).
 * Owns the table; may be included only by src/guest/postgresql*.c.
 */
#ifndef CT_GUEST_POSTGRESQL_CLIENT_H
#define CT_GUEST_POSTGRESQL_CLIENT_H

#include <libpq-fe.h>

#include "common/error.h"

#define LIBPQ_SONAME "libpq.so.5"

/* Every function the manager calls. */
#define LIBPQ_FUNCTIONS(X)                                                                         \
	X(PQconnectdbParams)                                                                       \
	X(PQstatus)                                                                                \
	X(PQerrorMessage)                                                                          \
	X(PQsetNoticeProcessor)                                                                    \
	X(PQfinish)                                                                                \
	X(PQescapeIdentifier)                                                                      \
	X(PQescapeLiteral)                                                                         \
	X(PQencryptPasswordConn)                                                                   \
	X(PQfreemem)                                                                               \
	X(PQexec)                                                                                  \
	X(PQexecParams)                                                                            \
	X(PQresultStatus)                                                                          \
	X(PQresultErrorField)                                                                      \
	X(PQntuples)                                                                               \
	X(PQgetvalue)                                                                              \
	X(PQgetisnull)                                                                             \
	X(PQclear)                                                                                 \
	X(pg_char_to_encoding)                                                                     \
	X(pg_valid_server_encoding_id)                                                             \
	X(pg_encoding_to_char)

struct libpq_api {
#define LIBPQ_FIELD(name) __typeof__(name) *name;
	LIBPQ_FUNCTIONS(LIBPQ_FIELD)
#undef LIBPQ_FIELD
};

/* Filled by the first successful libpq_load(); NULL before. */
extern struct libpq_api libpq;

/* Load libpq unless it is loaded; 500 when it cannot be. */
int libpq_load(struct ct_error *err);

#endif
