/*
 * mariadb_logs.c — the database logs of a MariaDB/MySQL instance
 * (trove-guest.md §7.8): the error log (SYS, always written: log-error in
 * my.cnf), and the slow_query and general logs (USER) in the server's log
 * directory, turned on and off by a system override in conf.d
 * (10-system-001-enable_<log>_log.cnf, read before the user's group) and at
 * once with SET GLOBAL. Owns those two override files; may not touch the
 * published copies (guest_log.c) or the rest of the config.
 */
#define LOG_MODULE "guest.mariadb"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/mariadb_internal.h"
#include "guest/overrides_file.h"

static const char *const user_logs[] = {"slow_query", "general"};

static void override_name(const char *log, char *out, size_t size)
{
	snprintf(out, size, "10-system-001-enable_%s_log.cnf", log);
}

static void log_path(const struct mdb_paths *p, const char *log, char *out, size_t size)
{
	snprintf(out, size, "%s/mariadb-%s.log", p->log_dir, log);
}

int mdb_log_files(const struct guest_instance *inst, struct guest_log_file *out, size_t *n,
		  struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	*n = 0;
	out[*n] = (struct guest_log_file){.name = "error", .user = false, .enabled = true};
	snprintf(out[*n].path, sizeof out[*n].path, "%s", p.err_log);
	(*n)++;
	for (size_t i = 0; i < sizeof user_logs / sizeof user_logs[0]; i++) {
		char file[128], override[2 * PATH_MAX];
		override_name(user_logs[i], file, sizeof file);
		snprintf(override, sizeof override, "%s/%s", p.confd, file);
		struct guest_log_file *f = &out[(*n)++];
		*f = (struct guest_log_file){.user = true, .enabled = access(override, F_OK) == 0};
		snprintf(f->name, sizeof f->name, "%s", user_logs[i]);
		log_path(&p, user_logs[i], f->path, sizeof f->path);
	}
	return 0;
}

/* The settings that turn log on (Trove's) or off. */
static json_t *settings(const struct mdb_paths *p, const char *log, bool enable, long slow_ms)
{
	char path[2 * PATH_MAX];
	log_path(p, log, path, sizeof path);
	if (!strcmp(log, "slow_query"))
		return enable ? json_pack("{s:s,s:f,s:s}", "slow_query_log_file", path,
					  "long_query_time", slow_ms / 1000.0, "slow_query_log",
					  "ON")
			      : json_pack("{s:s}", "slow_query_log", "OFF");
	return enable ? json_pack("{s:s,s:s,s:s}", "general_log_file", path, "log_output", "FILE",
				  "general_log", "ON")
		      : json_pack("{s:s}", "general_log", "OFF");
}

int mdb_log_enable(const struct guest_instance *inst, const char *log, bool enable, long slow_ms,
		   struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	if (!log || (strcmp(log, "slow_query") && strcmp(log, "general")))
		return ct_fail(err, 400, "Log '%s' cannot be enabled or disabled.", log ? log : "");
	json_t *values = settings(&p, log, enable, slow_ms);
	if (!values)
		return ct_fail(err, 500, "Out of memory.");
	char file[128];
	override_name(log, file, sizeof file);
	/* The file first: a server restarted in between comes up as asked. */
	int rc = overrides_file_store(inst, p.confd, file, OVERRIDES_MYCNF, values, !enable, err);
	if (!rc)
		rc = mdb_apply_overrides(inst, values, err);
	json_decref(values);
	if (!rc)
		log_info("%s log %s", log, enable ? "enabled" : "disabled");
	return rc;
}
