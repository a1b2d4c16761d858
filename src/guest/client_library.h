/*
 * client_library.h — a datastore's client library (libmariadb, libpq) loaded
 * with dlopen() the first time a manager talks to its server, instead of being
 * linked into ctrove-guestagent. A process then maps only the client of the
 * datastore it works on, and the agent itself none: its database sessions run
 * in short-lived worker processes (worker.h). libpq alone brings about 30
 * libraries (Kerberos, LDAP, SASL, GnuTLS) and 3.5 MiB of resident memory
 * into any process that maps it. PostgreSQL's server loads libpq into itself
 * for replication the same way.
 *
 * guest_client_load() loads the library once per process and calls the
 * owner's resolve(), which fills its table of function pointers; the library
 * stays until the process exits. A library that cannot be loaded or lacks a
 * function is a 500 with the loader's reason, logged once.
 * Used by mariadb_client.c and postgresql_client.c.
 * Owns the handles of the libraries it is given; may not know what a library
 * is for.
 */
#ifndef CT_GUEST_CLIENT_LIBRARY_H
#define CT_GUEST_CLIENT_LIBRARY_H

#include <pthread.h>
#include <stdbool.h>

#include "common/error.h"

struct guest_client {
	const char *soname; /* e.g. "libpq.so.5" */
	const char *what;   /* e.g. "the PostgreSQL client library" */
	/* Fill the owner's table from handle: NULL, or the name of a missing
	 * function (the table is left cleared). */
	const char *(*resolve)(void *handle);
	pthread_mutex_t lock;
	void *handle;
	bool failure_logged;
};

#define GUEST_CLIENT_INIT(so, description, resolve_fn)                                             \
	{                                                                                          \
		.soname = (so), .what = (description), .resolve = (resolve_fn),                    \
		.lock = PTHREAD_MUTEX_INITIALIZER                                                  \
	}

/* Load the library unless it is loaded. 500 when it cannot be loaded. */
int guest_client_load(struct guest_client *lib, struct ct_error *err);

#endif
