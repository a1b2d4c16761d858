/*
 * postgresql_internal.h — what the PostgreSQL manager's files share: the
 * instance layout, libpq connections (as os_admin, or as the bootstrap
 * superuser `postgres` by peer authentication), the statement builder that
 * quotes every identifier with PQescapeIdentifier and every literal with
 * PQescapeLiteral and sends passwords only as SCRAM verifiers, and the
 * operations prepare runs. Owns nothing; may not be included outside
 * src/guest/postgresql*.c.
 */
#ifndef CT_GUEST_POSTGRESQL_INTERNAL_H
#define CT_GUEST_POSTGRESQL_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest/guest_internal.h"
#include "guest/postgresql_client.h"

#define PG_ADMIN_USER	  "os_admin"
#define PG_BOOTSTRAP_USER "postgres"
#define PG_ROOT_USER	  "root"
#define PG_SOCKET_MAX	  107
/* Trusted SQL: the databases and roles no listing shows. */
#define PG_HIDDEN_DBS	"('postgres', 'os_admin')"
#define PG_HIDDEN_ROLES "('os_admin', 'postgres', 'root', 'replicator')"

/* Where an instance's files are (see docs/guest-postgresql.md). */
struct pg_paths {
	char datadir[PATH_MAX];	  /* <data_dir>/data, 0700 os_user */
	char conf[PATH_MAX];	  /* <run>/postgresql.conf */
	char hba[PATH_MAX];	  /* <run>/pg_hba.conf */
	char ident[PATH_MAX];	  /* <run>/pg_ident.conf */
	char confd[PATH_MAX];	  /* <run>/conf.d (overrides, later) */
	char sock_dir[PATH_MAX];  /* <run>/socket, 0700 os_user */
	char sock[PATH_MAX];	  /* <sock_dir>/.s.PGSQL.<port> */
	char pid[PATH_MAX];	  /* <datadir>/postmaster.pid */
	char log_dir[PATH_MAX];	  /* <run>/log, os_user */
	char log[PATH_MAX];	  /* <run>/log/postgresql.log */
	char cred_dir[PATH_MAX];  /* <run>/credentials, 0700 agent-only */
	char admin_cnf[PATH_MAX]; /* os_admin.cnf, 0600 */
	char stopped[PATH_MAX];	  /* marker: stopped on purpose */
};

int pg_paths(const struct guest_instance *inst, struct pg_paths *p, struct ct_error *err);

/* --- connections (postgresql_sql.c) ------------------------------------------- */

/* As os_admin with the password of its 0600 file, over the socket, to dbname
 * (NULL: "postgres"). 422 when the server is not up or not yet secured. */
PGconn *pg_connect_admin(const struct guest_instance *inst, const char *dbname,
			 struct ct_error *err);
/* As the bootstrap superuser `postgres`, by peer authentication (pg_ident maps
 * the agent's OS user alone to it); used before os_admin exists. */
PGconn *pg_connect_bootstrap(const struct guest_instance *inst, struct ct_error *err);

/* --- statements -------------------------------------------------------------- */

struct pgb {
	PGconn *conn;
	char s[4096];
	size_t n;
	bool overflow;
	bool secret; /* holds a password verifier: never logged, wiped after use */
};

void pgb_init(struct pgb *b, PGconn *conn);
/* Trusted SQL text only (keywords, constants). */
void pgb_raw(struct pgb *b, const char *text);
/* "name", quoted by PQescapeIdentifier. */
void pgb_ident(struct pgb *b, const char *name);
/* 'value', quoted by PQescapeLiteral. */
void pgb_literal(struct pgb *b, const char *value);
/* The SCRAM-SHA-256 verifier of password (PQencryptPasswordConn) as a
 * literal: the server, its logs and its statistics never see the password. */
void pgb_password(struct pgb *b, const char *password);
/* Run b as one statement (extended protocol: never several); the error's
 * status comes from the SQLSTATE. Wipes a secret statement. */
int pgb_run(struct pgb *b, const char *what, struct ct_error *err);

/* One statement with text parameters returning rows; NULL and err set when it
 * fails. Caller PQclear()s. */
PGresult *pg_select(PGconn *conn, const char *sql, int nparams, const char *const *params,
		    const char *what, struct ct_error *err);
/* 1 when sql with params returns a row, 0 when none, -1 on error. */
int pg_exists(PGconn *conn, const char *sql, const char *param, const char *what,
	      struct ct_error *err);
/* BEGIN / COMMIT / ROLLBACK (ROLLBACK never fails). */
int pg_begin(PGconn *conn, struct ct_error *err);
int pg_commit(PGconn *conn, struct ct_error *err);
void pg_rollback(PGconn *conn);

/* --- operations (postgresql_users.c) ---------------------------------------------- */

int pg_create_databases(const struct guest_instance *inst, PGconn *conn, const json_t *databases,
			struct ct_error *err);
int pg_create_users(const struct guest_instance *inst, PGconn *conn, const json_t *users,
		    struct ct_error *err);
json_t *pg_enable_root(PGconn *conn, const char *password, struct ct_error *err);
/* Validation of prepare's databases, users and root password. */
int pg_check_databases(const json_t *databases, struct ct_error *err);
int pg_check_users(const json_t *users, struct ct_error *err);

json_t *pg_list_databases(const struct guest_instance *inst, int limit, const char *marker,
			  bool include_marker, struct ct_error *err);
int pg_create_database_op(const struct guest_instance *inst, const json_t *databases,
			  struct ct_error *err);
int pg_delete_database(const struct guest_instance *inst, const json_t *database,
		       struct ct_error *err);
json_t *pg_list_users(const struct guest_instance *inst, int limit, const char *marker,
		      bool include_marker, struct ct_error *err);
int pg_create_user_op(const struct guest_instance *inst, const json_t *users, struct ct_error *err);
json_t *pg_get_user(const struct guest_instance *inst, const char *username, const char *hostname,
		    struct ct_error *err);
int pg_delete_user(const struct guest_instance *inst, const json_t *user, struct ct_error *err);
int pg_update_attributes(const struct guest_instance *inst, const char *username,
			 const char *hostname, const json_t *user_attrs, struct ct_error *err);
int pg_change_passwords(const struct guest_instance *inst, const json_t *users,
			struct ct_error *err);
int pg_grant_access(const struct guest_instance *inst, const char *username, const char *hostname,
		    const json_t *databases, struct ct_error *err);
int pg_revoke_access(const struct guest_instance *inst, const char *username, const char *hostname,
		     const char *database, struct ct_error *err);
json_t *pg_enable_root_op(const struct guest_instance *inst, const char *password,
			  struct ct_error *err);
int pg_disable_root(const struct guest_instance *inst, struct ct_error *err);
int pg_is_root_enabled(const struct guest_instance *inst, bool *enabled, struct ct_error *err);

/* --- the server and its binaries (postgresql.c) ------------------------------ */

#define PG_EXTRA_SETTINGS_MAX 8
/* Start the postmaster and wait until it accepts connections; extra_settings
 * ("name=value", NULL-terminated, may be NULL) apply to this start only. */
int pg_server_start(const struct guest_instance *inst, const struct pg_paths *p,
		    const char *const *extra_settings, struct ct_error *err);
int pg_server_stop(const struct guest_instance *inst, const struct pg_paths *p,
		   struct ct_error *err);
/* The running postmaster's pid, or 0. */
pid_t pg_server_pid(const struct pg_paths *p);
/* The binaries of the data directory's major version → that version, or -1. */
int pg_bin_dir(const struct pg_paths *p, char *bin, size_t size, struct ct_error *err);

/* --- backups (postgresql_backup.c) ------------------------------------------------ */

struct guest_backup_info;
struct backup_store;
struct backup_key;
struct store_object_info;
int pg_create_backup(const struct guest_instance *inst, const struct guest_backup_info *backup,
		     struct backup_store *store, const struct backup_key *key,
		     struct store_object_info *out, struct ct_error *err);
/* prepare's restore: the chain in backup_info into a new data directory,
 * recovered to the end of its last backup and stopped. Nothing of a failed
 * restore is left running or in place. */
int pg_restore_backup(const struct guest_instance *inst, const struct pg_paths *p,
		      const struct guest_identity *id, int major, const json_t *backup_info,
		      struct ct_error *err);

/* --- WAL positions and names (postgresql_wal.c) ------------------------------------ */

#define PG_LSN_TEXT_MAX 32
#define PG_WAL_NAME_LEN 24
int pg_lsn_parse(const char *text, uint64_t *out);
void pg_lsn_format(uint64_t lsn, char out[PG_LSN_TEXT_MAX]);
/* XLogFileName, and back (-1: not a segment name). */
void pg_wal_file_name(unsigned tli, uint64_t segno, uint64_t seg_size,
		      char out[PG_WAL_NAME_LEN + 1]);
int pg_wal_file_parse(const char *name, uint64_t seg_size, unsigned *tli, uint64_t *segno);
/* A power of two from 1 MB to 1 GB, as initdb --wal-segsize allows. */
bool pg_wal_seg_size_ok(uint64_t seg_size);
/* The one value of a one-row query (param may be NULL), copied into out. */
int pg_select_one(PGconn *c, const char *sql, const char *param, const char *what, char *out,
		  size_t size, struct ct_error *err);

/* --- continuous archive and restore to a time (issue 16, docs/pitr.md) ------------- */

struct guest_archive_ctx;
/* The archive_ship slot (postgresql_archive.c): the WAL flushed since the
 * last round, in order, through a physical slot of its own. */
int pg_archive_ship(const struct guest_instance *inst, struct guest_archive_ctx *ctx,
		    struct ct_error *err);
/* pg_wal of the data directory (the archive_source_dir slot). */
int pg_archive_source_dir(const struct guest_instance *inst, char *out, size_t size,
			  const char **prefix, struct ct_error *err);
/* What a restore to a time replays (postgresql_pitr.c). */
struct pg_pitr_plan {
	long long time;	 /* unix s: every commit up to and including it */
	bool to_end;	 /* no commit after `time` in the archive: replay all of it */
	char target[64]; /* recovery_target_time's value, UTC */
};
/* backup_info.restore_point present? (400 when it is there but malformed.) */
int pg_pitr_requested(const json_t *backup_info, bool *yes, struct ct_error *err);
/* The archive objects after the chain's stop_lsn up to the first one that
 * begins after the restore point, verified and decrypted into wal_dir as
 * whole segments (owned by id); then whether a commit after the time is in
 * them (else recovery replays to the end: PostgreSQL refuses a time target it
 * does not pass). 422 when the archive has a hole or does not reach. */
int pg_pitr_fetch(const json_t *backup_info, uint64_t stop_lsn, const char *wal_dir,
		  const struct guest_identity *id, const char *bin_dir, const char *log,
		  struct pg_pitr_plan *plan, struct ct_error *err);

/* postgresql_overrides.c: configuration groups. */
/* pg_hba.conf (postgresql.c): tenants by password over TCP, over TLS only when
 * require_tls. */
int pg_write_hba(const struct pg_paths *p, const struct guest_identity *id, bool require_tls,
		 struct ct_error *err);
/* rotate_tls (postgresql_overrides.c): new files, then a reload. */
int pg_rotate_tls(const struct guest_instance *inst, const json_t *tls, struct ct_error *err);
int pg_update_overrides(const struct guest_instance *inst, const json_t *overrides, bool remove,
			struct ct_error *err);
int pg_apply_overrides(const struct guest_instance *inst, const json_t *overrides,
		       struct ct_error *err);

/* postgresql_stats.c: the counters heartbeats carry. */
json_t *pg_server_stats(const struct guest_instance *inst, struct ct_error *err);

/* postgresql_logs.c: the database logs (error, slow_query, general). */
int pg_log_files(const struct guest_instance *inst, struct guest_log_file *out, size_t *n,
		 struct ct_error *err);
int pg_log_enable(const struct guest_instance *inst, const char *log, bool enable, long slow_ms,
		  struct ct_error *err);

/* postgresql_replication.c: streaming replication (docs/guest-postgresql.md
 * "Replication"); the manager's replication slots are these functions. */
/* True when conf.d makes this instance a standby of another. */
bool pg_repl_is_replica(const struct pg_paths *p);
/* pg_hba.conf lines admitting the replication roles from their replicas'
 * addresses (pg_write_hba puts them before its replication reject). */
size_t pg_repl_hba_lines(const struct pg_paths *p, char *out, size_t size);
/* prepare with a snapshot: pg_basebackup into the empty data directory, set
 * up as a standby; then, once started, wait until it streams. */
int pg_repl_seed(const struct guest_instance *inst, const struct pg_paths *p,
		 const struct guest_identity *id, const char *bin_dir, const json_t *snapshot,
		 struct ct_error *err);
/* The snapshot's source and replication user, checked before prepare
 * touches anything (400). */
int pg_repl_check_snapshot(const struct guest_instance *inst, const json_t *snapshot,
			   struct ct_error *err);
int pg_repl_wait_seeded(const struct guest_instance *inst, const struct pg_paths *p,
			struct ct_error *err);
/* 400 when the instance is a replica (its users and databases are its source's). */
int pg_repl_refuse_on_replica(const struct guest_instance *inst, struct ct_error *err);
/* os_admin with a fresh password of this instance's own (postgresql.c). */
int pg_secure(const struct guest_instance *inst, const struct pg_paths *p, struct ct_error *err);
json_t *pg_get_replication_snapshot(const struct guest_instance *inst, const json_t *snapshot_info,
				    struct ct_error *err);
json_t *pg_get_replica_context(const struct guest_instance *inst, const json_t *replica_addresses,
			       struct ct_error *err);
int pg_attach_replica(const struct guest_instance *inst, const json_t *replica_info, bool restart,
		      struct ct_error *err);
json_t *pg_detach_replica(const struct guest_instance *inst, bool for_failover,
			  struct ct_error *err);
int pg_enable_as_master(const struct guest_instance *inst, struct ct_error *err);
int pg_demote_replication_master(const struct guest_instance *inst, struct ct_error *err);
int pg_make_read_only(const struct guest_instance *inst, bool read_only, struct ct_error *err);
json_t *pg_get_latest_txn_id(const struct guest_instance *inst, struct ct_error *err);
int pg_wait_for_txn(const struct guest_instance *inst, const char *txn, int timeout_s,
		    struct ct_error *err);
json_t *pg_get_last_txn(const struct guest_instance *inst, struct ct_error *err);
int pg_set_synchronous_replication(const struct guest_instance *inst, bool enabled,
				   struct ct_error *err);

#endif
