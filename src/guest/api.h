/*
 * api.h — the guest client: the calling side of the guest agent's RPC API
 * (Trove's trove/guestagent/api.py, trove-guest.md §1.3), used by the API
 * server and the taskmanager. One typed function per guest method; the method
 * names, their argument names and the models' wire JSON (guest/models.h) are
 * known here and in the agent, nowhere else. Topic guestagent.<instance id>,
 * payloads encrypted with the instance's own key (instances.encrypted_key,
 * decrypted with inst_rpc_key_encr_key).
 * Owns nothing beyond one call; may not read or write control-plane rows.
 *
 * Every function returns 0 (or a result) on success and fails with: 504 when
 * the guest did not answer in time, 503 when the bus is down, the guest's own
 * status for its errors (400 bad name, 404 no such user, 422 not running ...),
 * 500 when it answered something malformed (detail in the log).
 */
#ifndef CT_GUEST_API_H
#define CT_GUEST_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/error.h"
#include "guest/models.h"
#include "storage/store.h"

/* Timeouts of Trove's guest API (agent_call_low/high_timeout). */
#define GUEST_TIMEOUT_LOW  15
#define GUEST_TIMEOUT_HIGH 180

/* Which guest: the instance's id and its encrypted_key column ("" or NULL =
 * plain-text payloads). Both borrowed. */
struct guest_ref {
	const char *id;
	const char *encrypted_key;
};

/* prepare's arguments (§2.1) that ctrove sets; the others go as Trove's
 * defaults (null, [] for modules). Everything borrowed. */
struct guest_prepare_args {
	const struct guest_database *databases;
	size_t n_databases;
	const struct guest_user *users;
	size_t n_users;
	long memory_mb;
	const char *mount_point;
	const char *config_contents; /* the rendered base config; NULL = null */
	const char *root_password;   /* NULL = null */
	const char *ds_version;
	const json_t *overrides;		  /* the attached group's values; NULL = null */
	const struct guest_restore_info *restore; /* backup_info; NULL = null */
	const struct guest_tls *tls;		  /* ctrove: the server certificate; NULL = none */
	const json_t
		*snapshot; /* a replica's seed (get_replication_snapshot's answer); NULL = null */
};

/* A page request of list_databases / list_users (§3.5). */
struct guest_page_request {
	int limit;
	const char *marker; /* NULL = from the start */
	bool include_marker;
};

/* get_filesystem_stats (§7.5): sizes in GB, blocks as the file system counts. */
struct guest_fs_stats {
	long long block_size, total_blocks, free_blocks;
	double total, free, used;
};

/* --- life cycle (casts and calls of the taskmanager) ------------------------ */

/* Declare the guest's queues so a cast sent before the agent starts waits. */
int guest_declare_queue(const char *instance_id, struct ct_error *err);
/* prepare: a cast; the guest reports its progress with heartbeats. */
int guest_prepare(const struct guest_ref *g, const struct guest_prepare_args *args,
		  struct ct_error *err);
int guest_restart(const struct guest_ref *g, struct ct_error *err);
/* Trove's resize_fs(online=true): grow the file system on the agent's own
 * volume after the compute driver grew the device. */
int guest_resize_fs(const struct guest_ref *g, struct ct_error *err);
int guest_stop_db(const struct guest_ref *g, struct ct_error *err);
/* ctrove: put a new server certificate in place and make the running server
 * use it without a restart. */
int guest_rotate_tls(const struct guest_ref *g, const struct guest_tls *tls, struct ct_error *err);
/* After a flavor resize: write the base config (NULL or "" = the guest renders
 * it from its flavor's memory) and start the stopped server. */
int guest_start_db_with_conf_changes(const struct guest_ref *g, const char *config_contents,
				     const char *ds_version, struct ct_error *err);

/* --- configuration groups (§6.2) ------------------------------------------------ */

/* Persist a group's values ({name: typed value}) as the instance's user
 * override, or remove that override (remove true, overrides {}). */
int guest_update_overrides(const struct guest_ref *g, const json_t *overrides, bool remove,
			   struct ct_error *err);
/* Apply values to the running server; a null value puts the setting back to
 * what the instance's config without the group gives. */
int guest_apply_overrides(const struct guest_ref *g, const json_t *overrides, struct ct_error *err);
int guest_get_filesystem_stats(const struct guest_ref *g, struct guest_fs_stats *out,
			       struct ct_error *err);

/* --- databases ---------------------------------------------------------------- */

int guest_create_databases(const struct guest_ref *g, const struct guest_database *dbs, size_t n,
			   struct ct_error *err);
int guest_delete_database(const struct guest_ref *g, const char *name, struct ct_error *err);
/* *dbs malloc'd (free()); next = the next page's marker, "" when none. */
int guest_list_databases(const struct guest_ref *g, const struct guest_page_request *page,
			 struct guest_database **dbs, size_t *n, char next[GUEST_MARKER_SIZE],
			 struct ct_error *err);

/* --- users ----------------------------------------------------------------------- */

int guest_create_users(const struct guest_ref *g, const struct guest_user *users, size_t n,
		       struct ct_error *err);
/* *users malloc'd (guest_users_free()). */
int guest_list_users(const struct guest_ref *g, const struct guest_page_request *page,
		     struct guest_user **users, size_t *n, char next[GUEST_MARKER_SIZE],
		     struct ct_error *err);
/* 404 "User <name> cannot be found on the instance." when there is none;
 * out zeroed or cleared before, guest_user_clear() after. */
int guest_get_user(const struct guest_ref *g, const char *name, const char *host,
		   struct guest_user *out, struct ct_error *err);
/* new_name / new_host / new_password NULL = unchanged. */
int guest_update_attributes(const struct guest_ref *g, const char *name, const char *host,
			    const char *new_name, const char *new_host, const char *new_password,
			    struct ct_error *err);
/* Each user's name, host and password (databases ignored). */
int guest_change_passwords(const struct guest_ref *g, const struct guest_user *users, size_t n,
			   struct ct_error *err);
int guest_delete_user(const struct guest_ref *g, const char *name, const char *host,
		      struct ct_error *err);

/* --- access -------------------------------------------------------------------- */

/* Grants every database of dbs (only names count). */
int guest_grant_access(const struct guest_ref *g, const char *name, const char *host,
		       const struct guest_database *dbs, size_t n, struct ct_error *err);
int guest_revoke_access(const struct guest_ref *g, const char *name, const char *host,
			const char *database, struct ct_error *err);
/* *dbs malloc'd (free()). */
int guest_list_access(const struct guest_ref *g, const char *name, const char *host,
		      struct guest_database **dbs, size_t *n, struct ct_error *err);

/* --- root ------------------------------------------------------------------------ */

/* enable_root: the guest picks the password. root: zeroed or cleared before,
 * guest_user_clear() after (it holds the password). */
int guest_enable_root(const struct guest_ref *g, struct guest_user *root, struct ct_error *err);
int guest_enable_root_with_password(const struct guest_ref *g, const char *password,
				    struct guest_user *root, struct ct_error *err);
int guest_disable_root(const struct guest_ref *g, struct ct_error *err);

/* --- database logs (trove-guest.md §7.8) ------------------------------------------ */

/* What POST /instances/{id}/log asks of a log. store: where publish and
 * discard write (sealed in the message with the instance's key; NULL = the
 * guest answers 501 to them). */
struct guest_log_args {
	const char *name;
	bool enable, disable, publish, discard;
	const struct store_access *store;
};
/* guest_log_list: *logs = [{name, type, status, published, pending, container,
 * prefix, metafile}, ...], checked, a new reference. */
int guest_list_logs(const struct guest_ref *g, json_t **logs, struct ct_error *err);
/* guest_log_action: *log = the log's view after it, checked, a new reference. */
int guest_act_on_log(const struct guest_ref *g, const struct guest_log_args *args, json_t **log,
		     struct ct_error *err);

/* --- keys -------------------------------------------------------------------------- */

/* The instance's plain key from its encrypted form; malloc'd, NULL if none. */
char *guest_instance_key(const char *encrypted_key, struct ct_error *err);
/* A new key and its encrypted form (base64) for a new instance. */
int guest_new_key(char key[33], char *encrypted, size_t size, struct ct_error *err);

/* --- failover (ctrove) ---------------------------------------------------------- */

/* set_synchronous_replication: on a replication source, make commits wait for
 * one replica (MariaDB semi-sync, PostgreSQL synchronous_standby_names) or not. */
int guest_set_synchronous_replication(const struct guest_ref *g, bool enabled,
				      struct ct_error *err);

/* --- backups ------------------------------------------------------------------ */

/* create_backup (cast): the guest reports through the conductor's update_backup. */
int guest_create_backup(const struct guest_ref *g, const struct guest_backup_request *r,
			struct ct_error *err);
/* A new random 32-byte backup data key, sealed like the instances' keys
 * (inst_rpc_key_encr_key) into sealed[size]; the key itself is not kept. */
int guest_new_backup_key(char *sealed, size_t size, struct ct_error *err);
/* The base64 data key of a sealed one; malloc'd (wipe and free it), NULL with err. */
char *guest_backup_key_open(const char *sealed, struct ct_error *err);

/* --- replication (trove-guest.md §5, the replication contract) ----------------- */

/* get_replication_snapshot: snapshot_info as the contract describes (borrowed);
 * *snapshot = {dataset, replication_strategy, master, replica_conf}, checked,
 * a new reference (it holds a replication password: never log it). */
int guest_get_replication_snapshot(const struct guest_ref *g, const json_t *snapshot_info,
				   json_t **snapshot, struct ct_error *err);
/* attach_replica: replica_info is a snapshot or a replica context (borrowed). */
int guest_attach_replica(const struct guest_ref *g, const json_t *replica_info, bool restart,
			 struct ct_error *err);
int guest_detach_replica(const struct guest_ref *g, bool for_failover, struct ct_error *err);
/* get_replica_context: a new replication user admitted from replica_addresses
 * (a JSON array of IPv4 strings, borrowed; NULL = not sent). *context = {master,
 * replica_conf}, checked, a new reference (holds a password). */
int guest_get_replica_context(const struct guest_ref *g, const json_t *replica_addresses,
			      json_t **context, struct ct_error *err);
int guest_make_read_only(const struct guest_ref *g, bool read_only, struct ct_error *err);
int guest_enable_as_master(const struct guest_ref *g, struct ct_error *err);
int guest_demote_replication_master(const struct guest_ref *g, struct ct_error *err);
/* The source's latest transaction (MariaDB GTID position, PostgreSQL LSN). */
int guest_get_latest_txn_id(const struct guest_ref *g, char *txn, size_t size,
			    struct ct_error *err);
/* Wait on a replica until txn is applied; 504 after timeout_s seconds. */
int guest_wait_for_txn(const struct guest_ref *g, const char *txn, int timeout_s,
		       struct ct_error *err);
/* A replica's [master id, last applied sequence]. */
int guest_get_last_txn(const struct guest_ref *g, char *master_id, size_t size, long long *seq,
		       struct ct_error *err);
/* --- PITR archive (the PITR contract) ------------------------------------------- */

/* start_archiving (ctrove, cast): ship the binlogs / WAL continuously under
 * a->prefix; the guest reports through the conductor's update_archive. Sent
 * again to refresh the store's credentials. The archive's data key is made and
 * opened with guest_new_backup_key() / guest_backup_key_open(). */
int guest_start_archiving(const struct guest_ref *g, const struct guest_archive_request *a,
			  struct ct_error *err);

#endif
