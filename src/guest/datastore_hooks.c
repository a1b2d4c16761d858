/*
 * datastore_hooks.c — see datastore_hooks.h. Owns the table of managers.
 */
#include "guest/datastore_hooks.h"

#include <string.h>

#include "guest/mariadb_config.h"

/* Debian's "mysql" is MariaDB, so both managers render MariaDB's config. */
static int render_mariadb(const char *instance_id, long memory_mb, char *out, size_t size,
			  struct ct_error *err)
{
	return mariadb_config_render((int)memory_mb, MARIADB_FLAVOR_MARIADB, instance_id, out, size,
				     err);
}

static const struct datastore_hooks hooks[] = {
	{.manager = "mariadb",
	 .port = 3306,
	 .service_user = "mysql",
	 .render_config = render_mariadb,
	 .backup_suffix_full = ".xbstream.zst.enc",
	 .backup_suffix_incremental = ".xbstream.zst.enc"},
	{.manager = "mysql",
	 .port = 3306,
	 .service_user = "mysql",
	 .render_config = render_mariadb,
	 .backup_suffix_full = ".xbstream.zst.enc",
	 .backup_suffix_incremental = ".xbstream.zst.enc"},
	{.manager = "postgresql",
	 .port = 5432,
	 .service_user = "postgres",
	 .render_config = NULL,
	 .backup_suffix_full = ".tar.zst.enc",
	 .backup_suffix_incremental = ".wal.tar.zst.enc"},
};

const struct datastore_hooks *datastore_hooks_find(const char *manager, struct ct_error *err)
{
	for (size_t i = 0; manager && i < sizeof hooks / sizeof hooks[0]; i++)
		if (!strcmp(hooks[i].manager, manager))
			return &hooks[i];
	ct_fail(err, 400,
		"Datastore manager '%.64s' is not supported by ctrove (mariadb, mysql, "
		"postgresql).",
		manager ? manager : "");
	return NULL;
}
