/*
 * mariadb_client.c — see mariadb_client.h. Owns the table of libmariadb's
 * functions (the handle is client_library.c's); may not know SQL.
 */
#include "guest/mariadb_client.h"

#include <dlfcn.h>
#include <string.h>

#include "guest/client_library.h"

struct libmariadb_api libmariadb;

static const char *resolve(void *handle)
{
	const char *missing = NULL;
#define LIBMARIADB_RESOLVE(name)                                                                   \
	if (!missing && !(libmariadb.name = (__typeof__(libmariadb.name))dlsym(handle, #name)))    \
		missing = #name;
	LIBMARIADB_FUNCTIONS(LIBMARIADB_RESOLVE)
#undef LIBMARIADB_RESOLVE
	if (missing)
		memset(&libmariadb, 0, sizeof libmariadb);
	return missing;
}

static struct guest_client lib =
	GUEST_CLIENT_INIT(LIBMARIADB_SONAME, "the MariaDB client library", resolve);

int libmariadb_load(struct ct_error *err)
{
	return guest_client_load(&lib, err);
}
