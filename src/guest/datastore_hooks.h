/*
 * datastore_hooks.h — what the control plane and the guest agent need to know
 * about a datastore by its manager name (mariadb, mysql, postgresql): the port
 * its server listens on, the OS user it runs as by default, and the config
 * the taskmanager renders into prepare's config_contents. One row per manager,
 * so no caller branches on the name; an unknown manager is an error, never a
 * default. Part of libctrove (the taskmanager, compute/ and the agent use it).
 * Owns the table; may not touch files, the database or the bus.
 */
#ifndef CT_GUEST_DATASTORE_HOOKS_H
#define CT_GUEST_DATASTORE_HOOKS_H

#include <stddef.h>

#include "common/error.h"

struct datastore_hooks {
	const char *manager;	  /* the datastore version's manager name */
	int port;		  /* the datastore's usual TCP port */
	const char *service_user; /* the OS user its server runs as by default */
	/* The config prepare carries for a flavor of memory_mb into out[size];
	 * NULL: the guest writes the datastore's own (prepare gets ""). */
	int (*render_config)(const char *instance_id, long memory_mb, char *out, size_t size,
			     struct ct_error *err);
	/* The object suffix of a full and of an incremental backup (the backup
	 * contract): the taskmanager names <container>/<backup id><suffix>. */
	const char *backup_suffix_full;
	const char *backup_suffix_incremental;
};

/* The row of manager; NULL with 400 when ctrove does not know it. */
const struct datastore_hooks *datastore_hooks_find(const char *manager, struct ct_error *err);

#endif
