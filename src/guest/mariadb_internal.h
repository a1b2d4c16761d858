/*
 * mariadb_internal.h — what the MariaDB/MySQL manager's files share: the
 * instance layout, Trove's validation rules (§3.2), the statement builder that
 * quotes every identifier and escapes every literal (§10), and admin
 * connections. Owns nothing; may not be included outside src/guest/mariadb*.c.
 */
#ifndef CT_GUEST_MARIADB_INTERNAL_H
#define CT_GUEST_MARIADB_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest/guest_internal.h"
#include "guest/mariadb_client.h"

#define MDB_ADMIN_USER	  "os_admin"
#define MDB_DB_NAME_MAX	  64
#define MDB_USER_NAME_MAX 16
#define MDB_PASSWORD_MAX  255
#define MDB_HOST_MAX	  255
#define MDB_SOCKET_MAX	  107

/* Where an instance's files are (see docs/guest-mariadb.md). */
struct mdb_paths {
	char datadir[PATH_MAX];	   /* <data_dir>/data */
	char cnf[PATH_MAX];	   /* <run>/my.cnf */
	char confd[PATH_MAX];	   /* <run>/conf.d (overrides) */
	char mysqld_dir[PATH_MAX]; /* <run>/mysqld, the server's: socket, pid */
	char sock[PATH_MAX];
	char pid[PATH_MAX];
	char tmp[PATH_MAX];	/* <run>/tmp, the server's tmpdir */
	char log_dir[PATH_MAX]; /* <run>/log, the server's */
	char err_log[PATH_MAX];
	char cred_dir[PATH_MAX];  /* <run>/credentials, 0700 agent-only */
	char admin_cnf[PATH_MAX]; /* os_admin.cnf, 0600 */
	char stopped[PATH_MAX];	  /* marker: stopped on purpose */
	char files[PATH_MAX];	  /* <data_dir>/files: secure_file_priv, os_user 0700 */
};

int mdb_paths(const struct guest_instance *inst, struct mdb_paths *p, struct ct_error *err);

/* Which SQL dialect the server speaks (from its version string). */
enum mdb_dialect { MDB_DIALECT_MARIADB, MDB_DIALECT_MYSQL };

/* --- validation (Trove's MySQL models, §3.2) --------------------------- */
bool mdb_is_reserved_db(const char *name);
bool mdb_is_reserved_user(const char *name);
int mdb_check_db_name(const char *name, bool check_reserved, struct ct_error *err);
int mdb_check_user_name(const char *name, bool check_reserved, struct ct_error *err);
int mdb_check_password(const char *password, struct ct_error *err);
/* NULL or "" → "%" (written to out[MDB_HOST_MAX + 1]). */
int mdb_check_host(const char *host, char *out, struct ct_error *err);

/* --- statements --------------------------------------------------------- */
struct sqlb {
	MYSQL *conn;
	char s[8192];
	size_t n;
	bool overflow;
	bool secret; /* holds a password: never logged, wiped after use */
};

void sqlb_init(struct sqlb *b, MYSQL *conn);
/* Trusted SQL text only (keywords, constants). */
void sqlb_raw(struct sqlb *b, const char *text);
/* `name`, every ` doubled. */
void sqlb_ident(struct sqlb *b, const char *name);
/* A database name as a GRANT/REVOKE pattern: `name` with _ and % escaped so
 * they match themselves only, not any character. */
void sqlb_db_pattern(struct sqlb *b, const char *name);
/* 'value' escaped by the client library for the connection (mysql_real_escape_string). */
void sqlb_str(struct sqlb *b, const char *value);
/* 'user'@'host' */
void sqlb_account(struct sqlb *b, const char *user, const char *host);
/* A password literal; marks the statement secret. */
void sqlb_password(struct sqlb *b, const char *password);
void sqlb_wipe(struct sqlb *b);

/* Run b; 0, or the server's error number (2000+ for client errors). A result
 * set is discarded. Never fills err; see mdb_fail. */
unsigned mdb_run(struct sqlb *b);
/* Run b and store its result (NULL on error, *code set). */
MYSQL_RES *mdb_select(struct sqlb *b, unsigned *code);
/* 500 for an unexpected server error in `what`. The server's message is kept
 * out when the statement was secret (it can quote the password). */
int mdb_fail(const struct sqlb *b, unsigned code, const char *what, struct ct_error *err);

/* --- connections --------------------------------------------------------- */
/* os_admin over the socket, credentials from the 0600 file. 422 when the
 * server is not running. */
MYSQL *mdb_connect_admin(const struct guest_instance *inst, struct ct_error *err);
/* user with password (NULL: none, e.g. unix_socket auth) over the socket. */
MYSQL *mdb_connect(const char *sock, const char *user, const char *password, int timeout_s,
		   struct ct_error *err);
enum mdb_dialect mdb_dialect(MYSQL *conn);
/* FLUSH PRIVILEGES (Trove issues it after every account change). */
int mdb_flush(MYSQL *conn, struct ct_error *err);

/* --- users and databases (mariadb_users.c) -------------------------------- */
int mdb_create_databases(MYSQL *conn, const json_t *databases, struct ct_error *err);
int mdb_create_users(MYSQL *conn, const json_t *users, struct ct_error *err);
json_t *mdb_enable_root(MYSQL *conn, const char *password, struct ct_error *err);
/* Drop every root account but root@localhost (Trove's secure_root). */
int mdb_secure_root(MYSQL *conn, struct ct_error *err);
/* The password statement of the server's dialect for 'user'@'host'. */
unsigned mdb_set_password(MYSQL *conn, const char *user, const char *host, const char *password);

/* Operation table entries implemented in mariadb_users.c. */
json_t *mdb_list_databases(const struct guest_instance *inst, int limit, const char *marker,
			   bool include_marker, struct ct_error *err);
int mdb_create_database_op(const struct guest_instance *inst, const json_t *databases,
			   struct ct_error *err);
int mdb_delete_database(const struct guest_instance *inst, const json_t *database,
			struct ct_error *err);
json_t *mdb_list_users(const struct guest_instance *inst, int limit, const char *marker,
		       bool include_marker, struct ct_error *err);
int mdb_create_user_op(const struct guest_instance *inst, const json_t *users,
		       struct ct_error *err);
json_t *mdb_get_user(const struct guest_instance *inst, const char *username, const char *hostname,
		     struct ct_error *err);
int mdb_delete_user(const struct guest_instance *inst, const json_t *user, struct ct_error *err);
int mdb_update_attributes(const struct guest_instance *inst, const char *username,
			  const char *hostname, const json_t *user_attrs, struct ct_error *err);
int mdb_change_passwords(const struct guest_instance *inst, const json_t *users,
			 struct ct_error *err);
int mdb_grant_access(const struct guest_instance *inst, const char *username, const char *hostname,
		     const json_t *databases, struct ct_error *err);
int mdb_revoke_access(const struct guest_instance *inst, const char *username, const char *hostname,
		      const char *database, struct ct_error *err);
json_t *mdb_enable_root_op(const struct guest_instance *inst, const char *password,
			   struct ct_error *err);
int mdb_disable_root(const struct guest_instance *inst, struct ct_error *err);
int mdb_is_root_enabled(const struct guest_instance *inst, bool *enabled, struct ct_error *err);

/* mariadb_overrides.c: configuration groups. */
int mdb_update_overrides(const struct guest_instance *inst, const json_t *overrides, bool remove,
			 struct ct_error *err);
int mdb_apply_overrides(const struct guest_instance *inst, const json_t *overrides,
			struct ct_error *err);

/* mariadb_backup.c: backups with mariabackup, and the restore step of prepare
 * (backup_info present): the chain into the data directory, owned by id. */
int mdb_create_backup(const struct guest_instance *inst, const struct guest_backup_info *backup,
		      struct backup_store *store, const struct backup_key *key,
		      struct store_object_info *out, struct ct_error *err);
int mdb_restore(const struct guest_instance *inst, const struct mdb_paths *p,
		const struct guest_identity *id, const json_t *backup_info, struct ct_error *err);

/* mariadb_archive.c: the binary log archive (archive_ship slot) and the
 * event headers it reads. */
#define MDB_BINLOG_HEADER	      19 /* timestamp, type, server_id, size, next, flags */
#define MDB_BINLOG_FORMAT_DESCRIPTION 15
#define MDB_BINLOG_GTID_EVENT	      162
struct mdb_binlog_scan {
	uint32_t first_ts, last_ts; /* smallest and largest non-zero event time */
	char first_gtid[64], last_gtid[64];
	unsigned events, transactions;
	uint64_t end;
};
/* Walk the event headers of [from, to) of an open binary log (from < 4: the
 * whole file from its magic number); 500 if an event crosses `to`. */
int mdb_binlog_scan(int fd, uint64_t from, uint64_t to, struct mdb_binlog_scan *s,
		    struct ct_error *err);
/* Bytes of the magic number and the format description event. */
int mdb_binlog_header_size(int fd, uint64_t *out, struct ct_error *err);
struct guest_archive_ctx;
int mdb_archive_ship(const struct guest_instance *inst, struct guest_archive_ctx *ctx,
		     struct ct_error *err);
/* Where the binary logs are written (the archive_source_dir slot). */
int mdb_archive_source_dir(const struct guest_instance *inst, char *out, size_t size,
			   const char **prefix, struct ct_error *err);

/* mariadb_pitr.c: point-in-time restore — after mdb_restore, when backup_info
 * has restore_point: replay the source's archive from the restored backup's
 * binary log position up to and including restore_point.time, with the
 * server reachable only over its socket. The server is stopped at the end. */
bool mdb_pitr_requested(const json_t *backup_info);
int mdb_pitr_check(const json_t *backup_info, struct ct_error *err);
int mdb_pitr_replay(const struct guest_instance *inst, const struct mdb_paths *p,
		    const struct guest_identity *id, const json_t *backup_info,
		    struct ct_error *err);
/* mariadb.c: start the server with networking off (replay), and stop it. */
int mdb_start_socket_only(const struct guest_instance *inst, const struct mdb_paths *p,
			  struct ct_error *err);
int mdb_stop_server(const struct guest_instance *inst, const struct mdb_paths *p,
		    struct ct_error *err);

/* mariadb_binlog_backup.c (issue 12): an incremental backup made of the
 * binary logs since its parent's position, and its restore. */
struct guest_backup_ref;
struct store_meta;
struct mdb_binlog_end {
	char file[64];
	char pos[24];
	char gtid[200];
};
/* 0: done; 1: not possible this way (the parent records no binary log
 * position, or the server no longer has a file since it): use mariabackup;
 * -1 with err. */
int mdb_binlog_incremental(const struct guest_instance *inst, const struct mdb_paths *p,
			   const struct guest_backup_info *backup, const struct store_meta *parent,
			   struct backup_store *store, const struct backup_key *key,
			   struct store_object_info *out, struct ct_error *err);
/* A chain link: 1 when it is made of binary logs (its SQL is then decrypted
 * into <root>/inc<index>.sql and *end set), 0 when it is not, -1 with err. */
int mdb_binlog_restore_fetch(struct backup_store *store, const struct guest_backup_ref *link,
			     const struct backup_key *key, const char *root, size_t index,
			     const char *log, struct mdb_binlog_end *end, struct ct_error *err);
/* Apply <root>/inc<i>.sql for every i <= last that exists, with the server
 * reachable only over its socket, stop it, and record *end as the data's
 * binary log position (xtrabackup_binlog_info, for point-in-time restore). */
int mdb_binlog_restore_apply(const struct guest_instance *inst, const struct mdb_paths *p,
			     const struct guest_identity *id, const char *root, size_t last,
			     const struct mdb_binlog_end *end, const char *log,
			     struct ct_error *err);
/* Feed an SQL file (mariadb-binlog output) to the server over its socket as
 * the agent's own account; output appended to log. */
int mdb_apply_sql_file(const struct mdb_paths *p, const char *sql, const char *log,
		       struct ct_error *err);

/* mariadb_stats.c: the counters heartbeats carry. */
json_t *mdb_server_stats(const struct guest_instance *inst, struct ct_error *err);

/* mariadb_logs.c: the database logs (error, slow_query, general). */
int mdb_log_files(const struct guest_instance *inst, struct guest_log_file *out, size_t *n,
		  struct ct_error *err);
int mdb_log_enable(const struct guest_instance *inst, const char *log, bool enable, long slow_ms,
		   struct ct_error *err);

/* mariadb_replication.c: GTID replication (datastore.h's replication slots),
 * and the guard users and databases calls take on a read-only replica (400). */
json_t *mdb_get_replication_snapshot(const struct guest_instance *inst, const json_t *snapshot_info,
				     struct ct_error *err);
int mdb_attach_replica(const struct guest_instance *inst, const json_t *info, bool restart,
		       struct ct_error *err);
json_t *mdb_detach_replica(const struct guest_instance *inst, bool for_failover,
			   struct ct_error *err);
json_t *mdb_get_replica_context(const struct guest_instance *inst, const json_t *replica_addresses,
				struct ct_error *err);
int mdb_make_read_only(const struct guest_instance *inst, bool read_only, struct ct_error *err);
int mdb_enable_as_master(const struct guest_instance *inst, struct ct_error *err);
int mdb_demote_replication_master(const struct guest_instance *inst, struct ct_error *err);
json_t *mdb_get_latest_txn_id(const struct guest_instance *inst, struct ct_error *err);
int mdb_wait_for_txn(const struct guest_instance *inst, const char *txn, int timeout_s,
		     struct ct_error *err);
json_t *mdb_get_last_txn(const struct guest_instance *inst, struct ct_error *err);
int mdb_set_synchronous_replication(const struct guest_instance *inst, bool enabled,
				    struct ct_error *err);
int mdb_refuse_on_replica(const struct guest_instance *inst, struct ct_error *err);

#endif
