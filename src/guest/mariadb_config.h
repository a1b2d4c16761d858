/*
 * mariadb_config.h — the base MySQL/MariaDB config Trove's controller renders
 * from its config.template (trove-guest.md §2.4), for the taskmanager to put in
 * prepare's config_contents, and used by the guest when that is empty.
 * Owns nothing; may not touch files (the guest writes what this renders).
 */
#ifndef CT_GUEST_MARIADB_CONFIG_H
#define CT_GUEST_MARIADB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Which server the config is for: MariaDB-only keys (query cache) or
 * MySQL-only keys (secure-file-priv, default_authentication_plugin,
 * performance_schema). Chosen by the server the datastore version runs, not by
 * the manager name: Debian's "mysql" is MariaDB. */
enum mariadb_flavor { MARIADB_FLAVOR_MARIADB, MARIADB_FLAVOR_MYSQL };

/*
 * Render the config for flavor RAM memory_mb into out[size] (NUL-terminated).
 * Every RAM-scaled value is int(k * ram / 512) as in Trove's template; the
 * paths are Trove's (/var/lib/mysql/data, /var/run/mysqld/...) — the guest
 * overrides them with the instance's own. instance_id gives server_id.
 * 0, or -1 (400 for memory_mb < 1, 500 when out is too small).
 */
int mariadb_config_render(int memory_mb, enum mariadb_flavor flavor, const char *instance_id,
			  char *out, size_t size, struct ct_error *err);

/* Trove's server_id for an instance: crc32(id) & 0x7fffffff, never 0. */
uint32_t mariadb_server_id(const char *instance_id);

#endif
