/*
 * datastore.h — the guest agent's datastore-manager interface: what an instance
 * looks like on disk (struct guest_instance) and the operations Trove's guest
 * RPC API (trove-guest.md §1.3) asks of a datastore (struct datastore_manager).
 * The MariaDB/MySQL manager (mariadb*.c) and the PostgreSQL manager implement it;
 * the RPC dispatcher calls it and passes arguments and results through in Trove's
 * wire JSON (serialized schemas and users, §3.1), so nothing is translated.
 * Owns the registry of managers (datastore.c); may not touch RPC, the control
 * plane or any datastore's files.
 */
#ifndef CT_GUEST_DATASTORE_H
#define CT_GUEST_DATASTORE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define GUEST_PATH_MAX 256

struct guest_backup_info; /* guest/backup_models.h */
struct backup_store;	  /* storage/store.h */
struct backup_key;	  /* guest/backup_stream.h */
struct store_object_info; /* storage/store.h */
struct guest_archive_ctx; /* guest/archive.h */

/*
 * One database instance. Paths are absolute. data_dir is the mounted volume:
 * the server's files go into a subdirectory of it (MariaDB: <data_dir>/data, as
 * Trove's <mount_point>/data), so the file system's lost+found never shows up as
 * a database. run_dir holds what must not be on the volume: the config, the
 * socket, the pid file, the error log and the 0600 credential files. cache_dir
 * (may be "") keeps pre-initialised template data directories shared by all
 * instances of a server version. os_user is the unprivileged account the server
 * runs as; when the agent runs as root it switches to it before exec, otherwise
 * the server runs as the agent's own user. Never root.
 */
struct guest_instance {
	char id[64];			/* instance uuid */
	char manager[32];		/* datastore manager: mariadb, mysql, postgresql */
	char data_dir[GUEST_PATH_MAX];	/* the mounted volume */
	char run_dir[GUEST_PATH_MAX];	/* config, socket, pid, credentials; not on the volume */
	char cache_dir[GUEST_PATH_MAX]; /* template data directories; "" = none */
	char bind_address[64];		/* e.g. 127.1.0.5 */
	int port;			/* e.g. 3306 */
	char os_user[64];		/* e.g. mysql */
	int memory_mb;			/* flavor RAM, used when prepare gets no config */
};

/*
 * Trove's service statuses (trove/instance/service_status.py) that a guest can
 * report; guest_status_description() gives the string the heartbeat carries.
 */
enum guest_status {
	GUEST_STATUS_RUNNING,  /* process up, SELECT 1 fails */
	GUEST_STATUS_PAUSED,   /* process stopped by SIGSTOP */
	GUEST_STATUS_SHUTDOWN, /* no server process */
	GUEST_STATUS_CRASHED,  /* reserved: the process died and cannot be started */
	GUEST_STATUS_FAILED,   /* prepare failed */
	GUEST_STATUS_BUILDING, /* prepare in progress */
	GUEST_STATUS_UNKNOWN,  /* indeterminate */
	GUEST_STATUS_HEALTHY,  /* SELECT 1 answered */
};

const char *guest_status_description(enum guest_status status);

/* One database log of an instance (guest_log.h). */
#define GUEST_LOG_MAX	   4
#define GUEST_LOG_NAME_MAX 32
struct guest_log_file {
	char name[GUEST_LOG_NAME_MAX]; /* error, slow_query, general */
	bool user;		       /* USER: enabled on request; SYS: always written */
	bool enabled;		       /* SYS: always; USER: its system override is in place */
	char path[PATH_MAX + 64];
};

/*
 * The operations. Every one borrows its arguments and takes `err` last. JSON
 * arguments are exactly what the RPC message carries for that method; JSON
 * results are new references the caller releases with json_decref, in the shape
 * the RPC reply must have. Names, hosts and passwords are validated by the
 * manager itself (400 with Trove's message); a missing user or database is 404;
 * a server that is not up is 422; anything else 500 with the detail logged.
 */
struct datastore_manager {
	const char *name;

	/* prepare(**kwargs): kwargs is the object of prepare's arguments
	 * (packages, databases, memory_mb, users, device_path, mount_point,
	 * backup_info, config_contents, root_password, overrides, cluster_config,
	 * snapshot, modules, ds_version). Leaves the server running and HEALTHY. */
	int (*prepare)(const struct guest_instance *inst, const json_t *kwargs,
		       struct ct_error *err);
	int (*start)(const struct guest_instance *inst, struct ct_error *err);
	/* stop_db(): clean stop, waits until the process is gone. */
	int (*stop)(const struct guest_instance *inst, struct ct_error *err);
	/* Never fails: an indeterminate state is GUEST_STATUS_UNKNOWN. */
	enum guest_status (*status)(const struct guest_instance *inst);

	/* list_databases / list_users → [[items...], next_marker or null]. */
	json_t *(*list_databases)(const struct guest_instance *inst, int limit, const char *marker,
				  bool include_marker, struct ct_error *err);
	/* databases: [serialized schema, ...]. */
	int (*create_database)(const struct guest_instance *inst, const json_t *databases,
			       struct ct_error *err);
	/* database: one serialized schema. */
	int (*delete_database)(const struct guest_instance *inst, const json_t *database,
			       struct ct_error *err);

	json_t *(*list_users)(const struct guest_instance *inst, int limit, const char *marker,
			      bool include_marker, struct ct_error *err);
	/* users: [serialized user, ...]. */
	int (*create_user)(const struct guest_instance *inst, const json_t *users,
			   struct ct_error *err);
	/* → serialized user; 404 when there is none. hostname NULL means "%". */
	json_t *(*get_user)(const struct guest_instance *inst, const char *username,
			    const char *hostname, struct ct_error *err);
	/* user: one serialized user. */
	int (*delete_user)(const struct guest_instance *inst, const json_t *user,
			   struct ct_error *err);
	/* user_attrs: {"name"?, "host"?, "password"?}. */
	int (*update_attributes)(const struct guest_instance *inst, const char *username,
				 const char *hostname, const json_t *user_attrs,
				 struct ct_error *err);
	/* users: [{"name", "host"?, "password"}, ...] (no underscores; the
	 * underscored form is accepted too). */
	int (*change_passwords)(const struct guest_instance *inst, const json_t *users,
				struct ct_error *err);

	/* databases: [name, ...] (strings). */
	int (*grant_access)(const struct guest_instance *inst, const char *username,
			    const char *hostname, const json_t *databases, struct ct_error *err);
	int (*revoke_access)(const struct guest_instance *inst, const char *username,
			     const char *hostname, const char *database, struct ct_error *err);

	/* enable_root() / enable_root_with_password(root_password): password NULL
	 * or "" generates one. → the serialized root user including the password. */
	json_t *(*enable_root)(const struct guest_instance *inst, const char *password,
			       struct ct_error *err);
	int (*disable_root)(const struct guest_instance *inst, struct ct_error *err);
	int (*is_root_enabled)(const struct guest_instance *inst, bool *enabled,
			       struct ct_error *err);

	/* → {"block_size", "total_blocks", "free_blocks", "total", "free", "used"}
	 * of the volume (§7.5). */
	json_t *(*get_filesystem_stats)(const struct guest_instance *inst, struct ct_error *err);

	/* update_overrides(overrides, remove): write the configuration group
	 * ({name: value}) as the instance's user override, or remove it; the
	 * running server is not touched (§6.2). */
	int (*update_overrides)(const struct guest_instance *inst, const json_t *overrides,
				bool remove, struct ct_error *err);
	/* apply_overrides(overrides): make the values live where the server can
	 * change them without a restart; a null value goes back to the base. */
	int (*apply_overrides)(const struct guest_instance *inst, const json_t *overrides,
			       struct ct_error *err);

	/* create_backup(backup_info): stream a backup of the running server into
	 * backup->location of store, sealed with key (guest/backup_stream.h), with
	 * the contract's metadata (datastore, backup_type, parent_id, format, the
	 * datastore's own LSNs); out receives what the store recorded. The generic
	 * part (guest/backups.c) has parsed backup_info, opened the store and
	 * reports to the conductor. Restore is a step of prepare (backups.h). NULL:
	 * the datastore has no backups (501). */
	int (*create_backup)(const struct guest_instance *inst,
			     const struct guest_backup_info *backup, struct backup_store *store,
			     const struct backup_key *key, struct store_object_info *out,
			     struct ct_error *err);
	/* ctrove: rotate_tls(ctrove_tls): put a new server certificate in place
	 * ({"cert", "key", "ca"}, guest/tls_files.h) and make the running server
	 * use it for new connections without a restart. */
	int (*rotate_tls)(const struct guest_instance *inst, const json_t *tls,
			  struct ct_error *err);
	/* start_db_with_conf_changes(config_contents): after a flavor resize, write
	 * the base config (config_contents, or rendered from memory_mb when empty;
	 * the configuration group's override is kept) and start the server. */
	int (*start_with_config)(const struct guest_instance *inst, const char *config_contents,
				 struct ct_error *err);
	/* Database logs (guest_log.h, trove-guest.md §7.8). log_files says which
	 * logs the instance has and where (paths and files only: the agent calls
	 * it in its own process); log_enable turns a USER log on or off for good
	 * (a system override) and at once on the running server; slow_ms is the
	 * slow_query threshold ([<manager>] guest_log_long_query_time: workers
	 * read no config). */
	int (*log_files)(const struct guest_instance *inst, struct guest_log_file *out, size_t *n,
			 struct ct_error *err);
	int (*log_enable)(const struct guest_instance *inst, const char *name, bool enable,
			  long slow_ms, struct ct_error *err);

	/* The counters a heartbeat carries (docs/metrics.md): {"connections",
	 * "queries" (since the server started), "replication_lag"? (seconds, on a
	 * replica only)}. */
	json_t *(*server_stats)(const struct guest_instance *inst, struct ct_error *err);

	/* --- replication (trove-guest.md §5, docs/replication.md). Shapes are
	 * the guest RPC's (the contract's table); a NULL slot answers 501. --- */
	/* get_replication_snapshot(snapshot_info): seed material for new replicas
	 * (MariaDB: a backup to snapshot_info's store, then a replication user
	 * admitted from snapshot_info.replica_addresses, or '%'). → {"dataset",
	 * "replication_strategy", "master", "replica_conf"}; ctrove adds "backup":
	 * {"checksum", "location", "size" (bytes)} when a backup was stored. */
	json_t *(*get_replication_snapshot)(const struct guest_instance *inst,
					    const json_t *snapshot_info, struct ct_error *err);
	/* attach_replica(replica_info, restart): replicate from replica_info's
	 * master; "dataset" present means first seeding from the restored
	 * snapshot. Returns once replication runs (180 s at most). */
	int (*attach_replica)(const struct guest_instance *inst, const json_t *replica_info,
			      bool restart, struct ct_error *err);
	/* detach_replica(for_failover) → {"replication_user": name or null}. */
	json_t *(*detach_replica)(const struct guest_instance *inst, bool for_failover,
				  struct ct_error *err);
	/* get_replica_context(replica_addresses?) → {"master", "replica_conf"}
	 * with a new replication user; replica_addresses NULL or [] admits '%'. */
	json_t *(*get_replica_context)(const struct guest_instance *inst,
				       const json_t *replica_addresses, struct ct_error *err);
	int (*make_read_only)(const struct guest_instance *inst, bool read_only,
			      struct ct_error *err);
	int (*enable_as_master)(const struct guest_instance *inst, struct ct_error *err);
	int (*demote_replication_master)(const struct guest_instance *inst, struct ct_error *err);
	/* → a JSON string: the position of the last transaction written here. */
	json_t *(*get_latest_txn_id)(const struct guest_instance *inst, struct ct_error *err);
	/* Wait until txn (get_latest_txn_id's answer on the source) is applied
	 * here; 504 after timeout_s seconds. */
	int (*wait_for_txn)(const struct guest_instance *inst, const char *txn, int timeout_s,
			    struct ct_error *err);
	/* → [master id string, integer seq] (Trove's (master, seq) pair). */
	json_t *(*get_last_txn)(const struct guest_instance *inst, struct ct_error *err);
	/* ctrove: commits on this source wait for one replica's acknowledgement
	 * (enabled) or not. */
	int (*set_synchronous_replication)(const struct guest_instance *inst, bool enabled,
					   struct ct_error *err);
	/* ctrove (issue 16): one round of continuous archiving, called in a
	 * worker every archive_info.interval seconds once start_archiving came
	 * (guest/archive.h; the generic part opened ctx->store, decoded ctx->key
	 * and loaded the progress state). Ship, in order and without skipping,
	 * every piece of the datastore's log that is complete and not shipped
	 * yet, each through guest_archive_put_file() (which numbers it and
	 * saves the progress), keeping the manager's own position under
	 * guest_archive_ds_state(ctx); then guest_archive_set_until() with the
	 * time up to which every commit is stored (also when nothing was new);
	 * guest_archive_set_gap() when something not shipped yet is gone. May
	 * remove local log files only once they are shipped. 422 when the server
	 * is not up (the round is retried); any other failure is retried with
	 * backoff. NULL: the datastore has no archive (start_archiving → 501). */
	int (*archive_ship)(const struct guest_instance *inst, struct guest_archive_ctx *ctx,
			    struct ct_error *err);
	/* The directory the server writes what archive_ship ships (the binary
	 * logs, pg_wal) and the name prefix of those files there ("" for all);
	 * paths only, the agent calls it in its own process. While nothing
	 * there changed since a round that caught up (archive_mark.h), the agent
	 * moves archived_until without a worker (issue 18: an idle instance
	 * costs no process a second). NULL: every round runs. */
	int (*archive_source_dir)(const struct guest_instance *inst, char *out, size_t size,
				  const char **prefix, struct ct_error *err);
	/* A heartbeat's probe in one go: the status and, when HEALTHY, the
	 * server_stats counters (a new reference, NULL when not read). Only the
	 * worker manager has it (one worker per heartbeat, not two); the agent
	 * falls back to status + server_stats without it. */
	json_t *(*health)(const struct guest_instance *inst, enum guest_status *status);
	/* The server's process alone, from its pid file and /proc (no
	 * connection; the agent calls it in its own process between full
	 * probes, [guest_agent] server_probe_interval): SHUTDOWN, PAUSED, or
	 * RUNNING for a live process. NULL: every heartbeat probes fully. */
	enum guest_status (*process_status)(const struct guest_instance *inst);
};

/* list_access(): the databases of get_user, the same for every datastore.
 * → [serialized schema, ...] */
json_t *datastore_list_access(const struct datastore_manager *m, const struct guest_instance *inst,
			      const char *username, const char *hostname, struct ct_error *err);

/* restart(): stop then start, the same for every datastore. */
int datastore_restart(const struct datastore_manager *m, const struct guest_instance *inst,
		      struct ct_error *err);

/* The manager for a datastore manager name ("mariadb", "mysql", ...), or NULL. */
const struct datastore_manager *datastore_manager_find(const char *manager);

/* True once prepare has finished successfully on this instance (its marker
 * file exists in run_dir); heartbeats start then. */
bool guest_is_prepared(const struct guest_instance *inst);

#endif
