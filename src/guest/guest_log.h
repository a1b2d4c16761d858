/*
 * guest_log.h — Trove's guest log API on the agent's side (trove-guest.md
 * §7.8): guest_log_list and guest_log_action over the logs a datastore
 * manager names (datastore.h, log_files/log_enable). Publishing copies what
 * a log gained since the last publish into the backup store the message
 * describes (storage/store.h), as parts of whole lines
 * <container>/<id>/<datastore>-<log>/log-<UTC time>, each with its line count
 * (meta "lines"), plus the metafile <id>/<datastore>-<log>_metafile; discard
 * removes them. What was published is remembered in <run_dir>/guest_logs/.
 * Owns that state and the published objects; may not touch the server's
 * settings (the manager does) or RPC.
 */
#ifndef CT_GUEST_GUEST_LOG_H
#define CT_GUEST_GUEST_LOG_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "guest/datastore.h"
#include "storage/store.h"

/* The USER logs both managers have, in the order log_files lists them. */
#define GUEST_USER_LOGS 2
extern const char *const guest_user_logs[GUEST_USER_LOGS]; /* slow_query, general */

/* The system override in conf.d that turns a USER log on:
 * 10-system-001-enable_<log>_log<ext> (ext ".cnf", ".conf"). */
void guest_log_override_name(const char *log, const char *ext, char *out, size_t size);

/* log_files() of a manager whose USER logs are those overrides in confd: the
 * error log (SYS, always on) at error_path, then guest_user_logs[i] at
 * user_paths[i], enabled while its override exists. */
void guest_log_files_of(const char *error_path, const char *confd, const char *ext,
			const char *const user_paths[GUEST_USER_LOGS], struct guest_log_file *out,
			size_t *n);

/* [view, ...] of every log of the instance: {name, type, status, published,
 * pending, container, prefix, metafile} (trove-api.md §6.8). */
json_t *guest_log_list(const struct guest_instance *inst, const struct datastore_manager *ds,
		       struct ct_error *err);

struct guest_log_request {
	const char *name;
	bool enable, disable, publish, discard;
	const struct store_access *store; /* NULL: publish and discard answer 501 */
};

/* The log's view after the action: 400 enable with disable, or enabling a
 * SYS log; 404 a log the datastore does not have. */
json_t *guest_log_action(const struct guest_instance *inst, const struct datastore_manager *ds,
			 const struct guest_log_request *r, struct ct_error *err);

#endif
