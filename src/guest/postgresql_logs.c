/*
 * postgresql_logs.c — the database logs of a PostgreSQL instance
 * (trove-guest.md §7.8). The server writes every message to one file (its
 * standard error, <run>/log/postgresql.log: no logging collector), so the
 * three logs are that file: error (SYS) always; slow_query (USER:
 * log_min_duration_statement) and general (USER: log_statement = 'all') add
 * their lines to it once enabled. Each USER log is a system override in conf.d
 * (10-system-001-enable_<log>_log.conf) made live with a reload, so unlike
 * Trove's general log no restart is needed. Owns those two override files; may
 * not touch the published copies (guest_log.c) or the rest of the config.
 */
#define LOG_MODULE "guest.postgresql"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "guest/guest_log.h"
#include "guest/overrides_file.h"
#include "guest/postgresql_internal.h"

int pg_log_files(const struct guest_instance *inst, struct guest_log_file *out, size_t *n,
		 struct ct_error *err)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, err))
		return -1;
	/* Every log is the one server log file. */
	guest_log_files_of(p.log, p.confd, ".conf", (const char *const[]){p.log, p.log}, out, n);
	return 0;
}

int pg_log_enable(const struct guest_instance *inst, const char *log, bool enable, long slow_ms,
		  struct ct_error *err)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, err))
		return -1;
	json_t *values;
	if (log && !strcmp(log, "slow_query"))
		values = json_pack("{s:I}", "log_min_duration_statement", (json_int_t)slow_ms);
	else if (log && !strcmp(log, "general"))
		values = json_pack("{s:s}", "log_statement", "all");
	else
		return ct_fail(err, 400, "Log '%s' cannot be enabled or disabled.", log ? log : "");
	if (!values)
		return ct_fail(err, 500, "Out of memory.");
	char file[128];
	guest_log_override_name(log, ".conf", file, sizeof file);
	int rc = overrides_file_store(inst, p.confd, file, OVERRIDES_PGCONF, values, !enable, err);
	json_decref(values);
	/* Reloading reads conf.d again: a removed file puts the default back. */
	if (!rc) {
		json_t *none = json_object();
		rc = none ? pg_apply_overrides(inst, none, err)
			  : ct_fail(err, 500, "Out of memory.");
		json_decref(none);
	}
	if (!rc)
		log_info("%s log %s", log, enable ? "enabled" : "disabled");
	return rc;
}
