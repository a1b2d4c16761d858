/*
 * postgresql_client.c — see postgresql_client.h. Owns the table of libpq's
 * functions (the handle is client_library.c's); may not know SQL.
 */
#include "guest/postgresql_client.h"

#include <dlfcn.h>
#include <string.h>

#include "guest/client_library.h"

struct libpq_api libpq;

static const char *resolve(void *handle)
{
	const char *missing = NULL;
#define LIBPQ_RESOLVE(name)                                                                        \
	if (!missing && !(libpq.name = (__typeof__(libpq.name))dlsym(handle, #name)))              \
		missing = #name;
	LIBPQ_FUNCTIONS(LIBPQ_RESOLVE)
#undef LIBPQ_RESOLVE
	if (missing)
		memset(&libpq, 0, sizeof libpq);
	return missing;
}

static struct guest_client lib =
	GUEST_CLIENT_INIT(LIBPQ_SONAME, "the PostgreSQL client library", resolve);

int libpq_load(struct ct_error *err)
{
	return guest_client_load(&lib, err);
}
