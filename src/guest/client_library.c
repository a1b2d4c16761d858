/*
 * client_library.c — see client_library.h. Owns the handles of the libraries
 * it is given; may not know what a library is for.
 */
#define LOG_MODULE "guest"

#include "guest/client_library.h"

#include <dlfcn.h>
#include <stdio.h>

#include "common/log.h"

static int load(struct guest_client *lib, struct ct_error *err)
{
	char why[512];
	/* RTLD_LOCAL: its symbols stay out of the global namespace. */
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (h) {
		const char *missing = lib->resolve(h);
		if (!missing) {
			lib->handle = h;
			return 0;
		}
		snprintf(why, sizeof why, "it has no function %s", missing);
		dlclose(h);
	} else {
		const char *e = dlerror();
		snprintf(why, sizeof why, "%s", e ? e : "unknown error");
	}
	if (!lib->failure_logged)
		log_error("cannot load %s (%s): %s", lib->what, lib->soname, why);
	lib->failure_logged = true;
	return ct_fail(err, 500, "The guest agent cannot load %s (%s): %.300s", lib->what,
		       lib->soname, why);
}

int guest_client_load(struct guest_client *lib, struct ct_error *err)
{
	pthread_mutex_lock(&lib->lock);
	int rc = lib->handle ? 0 : load(lib, err);
	pthread_mutex_unlock(&lib->lock);
	return rc;
}
