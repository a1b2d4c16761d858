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
#include <unistd.h>

#include "common/log.h"
#include "guest/overrides_file.h"
#include "guest/postgresql_internal.h"

static const char *const user_logs[] = {"slow_query", "general"};

static void override_name(const char *log, char *out, size_t size)
{
	snprintf(out, size, "10-system-001-enable_%s_log.conf", log);
}

int pg_log_files(const struct guest_instance *inst, struct guest_log_file *out, size_t *n,
		 struct ct_error *err)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, err))
		return -1;
	*n = 0;
	out[*n] = (struct guest_log_file){.name = "error", .user = false, .enabled = true};
	snprintf(out[*n].path, sizeof out[*n].path, "%s", p.log);
	(*n)++;
	for (size_t i = 0; i < sizeof user_logs / sizeof user_logs[0]; i++) {
		char file[128], override[2 * PATH_MAX];
		override_name(user_logs[i], file, sizeof file);
		snprintf(override, sizeof override, "%s/%s", p.confd, file);
		struct guest_log_file *f = &out[(*n)++];
		*f = (struct guest_log_file){.user = true, .enabled = access(override, F_OK) == 0};
		snprintf(f->name, sizeof f->name, "%s", user_logs[i]);
		snprintf(f->path, sizeof f->path, "%s", p.log);
	}
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
	override_name(log, file, sizeof file);
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
