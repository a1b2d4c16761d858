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

#include "common/log.h"
#include "guest/guest_log.h"
#include "guest/mariadb_internal.h"
#include "guest/overrides_file.h"

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
	char slow[PATH_MAX + 64], general[PATH_MAX + 64];
	log_path(&p, guest_user_logs[0], slow, sizeof slow);
	log_path(&p, guest_user_logs[1], general, sizeof general);
	guest_log_files_of(p.err_log, p.confd, ".cnf", (const char *const[]){slow, general}, out,
			   n);
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
	guest_log_override_name(log, ".cnf", file, sizeof file);
	/* The file first: a server restarted in between comes up as asked. */
	int rc = overrides_file_store(inst, p.confd, file, OVERRIDES_MYCNF, values, !enable, err);
	if (!rc)
		rc = mdb_apply_overrides(inst, values, err);
	json_decref(values);
	if (!rc)
		log_info("%s log %s", log, enable ? "enabled" : "disabled");
	return rc;
}
