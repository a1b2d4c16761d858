/*
 * datastore.c — the registry of datastore managers and the status names of
 * datastore.h. Owns the registry table; may not touch any datastore's files
 * except the prepare marker that every manager writes through
 * guest_mark_prepared().
 */
#include "guest/datastore.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest/guest_internal.h"

const char *guest_status_description(enum guest_status status)
{
	switch (status) {
	case GUEST_STATUS_RUNNING: return "running";
	case GUEST_STATUS_PAUSED: return "paused";
	case GUEST_STATUS_SHUTDOWN: return "shutdown";
	case GUEST_STATUS_CRASHED: return "crashed";
	case GUEST_STATUS_FAILED: return "failed to spawn";
	case GUEST_STATUS_BUILDING: return "building";
	case GUEST_STATUS_HEALTHY: return "healthy";
	case GUEST_STATUS_UNKNOWN: break;
	}
	return "unknown";
}

static const struct datastore_manager *const managers[] = {
	&mariadb_manager,
	&mysql_manager,
	&postgresql_manager,
};

const struct datastore_manager *datastore_manager_find(const char *manager)
{
	if (!manager)
		return NULL;
	for (size_t i = 0; i < sizeof managers / sizeof managers[0]; i++)
		if (!strcmp(managers[i]->name, manager))
			return managers[i];
	return NULL;
}

static void marker_path(const struct guest_instance *inst, char *out, size_t size)
{
	snprintf(out, size, "%s/.guestagent.prepare.end", inst->run_dir);
}

bool guest_is_prepared(const struct guest_instance *inst)
{
	char path[PATH_MAX];
	marker_path(inst, path, sizeof path);
	return access(path, F_OK) == 0;
}

int guest_mark_prepared(const struct guest_instance *inst, bool done, struct ct_error *err)
{
	char path[PATH_MAX];
	marker_path(inst, path, sizeof path);
	if (!done) {
		unlink(path);
		return 0;
	}
	return guest_write_file(path, "", 0, 0644, err);
}

int datastore_restart(const struct datastore_manager *m, const struct guest_instance *inst,
		      struct ct_error *err)
{
	if (m->stop(inst, err))
		return -1;
	return m->start(inst, err);
}

json_t *datastore_list_access(const struct datastore_manager *m, const struct guest_instance *inst,
			      const char *username, const char *hostname, struct ct_error *err)
{
	json_t *user = m->get_user(inst, username, hostname, err);
	if (!user)
		return NULL;
	json_t *dbs = json_incref((json_t *)guest_model_databases(user));
	json_decref(user);
	return dbs ? dbs : json_array();
}
