/*
 * postgresql_overrides.c — configuration groups on a PostgreSQL instance
 * (trove-guest.md §6): update_overrides writes or removes the user override
 * <run>/conf.d/20-user-001-common.conf, which postgresql.conf includes after
 * the base config and before the instance's own settings (a group wins over
 * the flavor's values, never over the instance's paths) and which a restart
 * reads again; apply_overrides reloads the server (pg_reload_conf) and waits
 * until it has read the files, so a value is live when the call returns.
 * Values a reload cannot change wait for a restart (the control plane says
 * RESTART_REQUIRED). require_secure_transport is ctrove's own parameter, not a
 * GUC: it never goes into the file, it renders pg_hba.conf's tenant lines as
 * hostssl (pg_write_hba), which the same reload reads. rotate_tls puts new
 * certificate files in place and reloads the same way. Owns the user override
 * file; may not touch the rest of the instance's config.
 */
#define LOG_MODULE "guest.postgresql"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/overrides.h"
#include "guest/overrides_file.h"
#include "guest/postgresql_internal.h"
#include "guest/tls_files.h"

#define REQUIRE_TLS "require_secure_transport"

static bool wants_tls(const json_t *overrides)
{
	const json_t *v = json_object_get(overrides, REQUIRE_TLS);
	const char *s = json_string_value(v);
	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0) ||
	       (s && (!strcasecmp(s, "on") || !strcasecmp(s, "true") || !strcmp(s, "1")));
}

int pg_update_overrides(const struct guest_instance *inst, const json_t *overrides, bool remove,
			struct ct_error *err)
{
	struct pg_paths p;
	struct guest_identity id;
	if (pg_paths(inst, &p, err) || guest_identity_resolve(inst->os_user, &id, err))
		return -1;
	bool require_tls = !remove && wants_tls(overrides);
	json_t *gucs = json_is_object(overrides) ? json_copy((json_t *)overrides) : NULL;
	if (gucs)
		json_object_del(gucs, REQUIRE_TLS);
	int rc = overrides_file_store(inst, p.confd, OVERRIDES_PGCONF_FILE, OVERRIDES_PGCONF,
				      gucs ? gucs : overrides, remove, err) ||
		 pg_write_hba(&p, &id, require_tls, err);
	json_decref(gucs);
	return rc ? -1 : 0;
}

static char *one_value(PGconn *c, const char *sql, struct ct_error *err)
{
	PGresult *r = pg_select(c, sql, 0, NULL, "reading the config load time", err);
	if (!r)
		return NULL;
	char *v = libpq.PQntuples(r) == 1 ? strdup(libpq.PQgetvalue(r, 0, 0)) : NULL;
	libpq.PQclear(r);
	if (!v)
		ct_fail(err, 500, "The server did not say when it read its config.");
	return v;
}

/* pg_reload_conf(), then wait until the server has read its files. */
static int reload(const struct guest_instance *inst, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = -1;
	char *before = one_value(c, "SELECT pg_conf_load_time()::text", err);
	char *reloaded = before ? one_value(c, "SELECT pg_reload_conf()::text", err) : NULL;
	if (reloaded) {
		/* This backend reads the files too when the postmaster signals it;
		 * once it has, new sessions see the new values. */
		struct timespec pause = {0, 10 * 1000000L};
		bool broken = false;
		for (int i = 0; i < 500 && rc; i++) {
			char *now = one_value(c, "SELECT pg_conf_load_time()::text", err);
			if (!now) {
				broken = true;
				break;
			}
			if (strcmp(now, before))
				rc = 0;
			free(now);
			if (rc)
				nanosleep(&pause, NULL);
		}
		if (rc && !broken)
			ct_fail(err, 504, "The server did not reload its configuration in time.");
	}
	free(before);
	free(reloaded);
	libpq.PQfinish(c);
	if (!rc)
		log_info("configuration reloaded");
	return rc;
}

int pg_apply_overrides(const struct guest_instance *inst, const json_t *overrides,
		       struct ct_error *err)
{
	if (overrides_check(overrides, true, err))
		return -1;
	return reload(inst, err);
}

int pg_rotate_tls(const struct guest_instance *inst, const json_t *tls, struct ct_error *err)
{
	if (guest_tls_install(inst, tls, err) || reload(inst, err))
		return -1;
	log_info("server certificate reloaded");
	return 0;
}
