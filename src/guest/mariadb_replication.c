/*
 * mariadb_replication.c — MariaDB GTID replication (trove-guest.md §5.2,
 * docs/guest-mariadb.md "Replication"): the seed snapshot (a backup through
 * the backups path, then a replication user slave_<8 hex>), attaching a
 * replica (gtid_slave_pos from the restored xtrabackup_binlog_info, CHANGE
 * MASTER TO ... MASTER_USE_GTID=slave_pos, START SLAVE, wait for
 * Slave_running), detaching it, promotion helpers, transaction positions and
 * semi-synchronous commits. Every binary log is on from the first start
 * (mariadb_config.c), so no step here restarts the server unless asked.
 * Owns the system overrides 50-system-001-slave-replication.cnf (a replica:
 * read_only, semi-sync replica side) and 50-system-002-synchronous.cnf (a
 * source's semi-sync); may not touch the rest of the instance's config, its
 * data directory (it only reads xtrabackup_binlog_info) or the users' accounts.
 */
#define LOG_MODULE "guest.mariadb"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/backups.h"
#include "guest/mariadb_internal.h"
#include "guest/overrides_file.h"

#define STRATEGY	   "MariaDBGTIDReplication"
#define REPLICA_OVERRIDE   "50-system-001-slave-replication.cnf"
#define SYNC_OVERRIDE	   "50-system-002-synchronous.cnf"
#define ATTACH_TIMEOUT_S   180
#define DETACH_TIMEOUT_S   180
#define GTID_MAX	   4096
#define REPL_PASSWORD_LEN  16
#define REPL_USER_ATTEMPTS 5
/* How long a commit on a synchronous source waits for a replica's
 * acknowledgement before MariaDB gives up and commits asynchronously: a day,
 * so that while a replica is attached it never silently falls back (the
 * failover decision is the control plane's, within failover_timeout); an
 * operator who wants writes without replicas turns synchronous mode off. */
#define SEMI_SYNC_TIMEOUT_MS 86400000LL

/* --- small helpers ----------------------------------------------------------- */

/* First column of the first row of the trusted statement sql into out; 1 when
 * there is no row or it is NULL. */
static int select_text(MYSQL *c, const char *sql, char *out, size_t size, const char *what,
		       struct ct_error *err)
{
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, sql);
	unsigned code;
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, what, err);
	MYSQL_ROW row = libmariadb.mysql_fetch_row(res);
	int rc = 1;
	if (row && row[0] && strlen(row[0]) < size) {
		snprintf(out, size, "%s", row[0]);
		rc = 0;
	}
	libmariadb.mysql_free_result(res);
	return rc;
}

static int run_raw(MYSQL *c, const char *sql, const char *what, struct ct_error *err)
{
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, sql);
	unsigned code = mdb_run(&b);
	return code ? mdb_fail(&b, code, what, err) : 0;
}

/* What SHOW SLAVE STATUS says; present=false on a server that is no replica. */
struct slave_status {
	bool present;
	char master_user[MDB_USER_NAME_MAX + 1];
	char master_server_id[24];
	char io_running[16];  /* Yes, No, Connecting */
	char sql_running[16]; /* Yes, No */
	char last_io_error[256];
	char last_sql_error[256];
};

static void copy_field(char *out, size_t size, const char *value)
{
	snprintf(out, size, "%s", value ? value : "");
}

static int slave_status(MYSQL *c, struct slave_status *s, struct ct_error *err)
{
	memset(s, 0, sizeof *s);
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, "SHOW SLAVE STATUS");
	unsigned code;
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, "Reading the replica's status", err);
	unsigned n = libmariadb.mysql_num_fields(res);
	MYSQL_FIELD *f = libmariadb.mysql_fetch_fields(res);
	MYSQL_ROW row = libmariadb.mysql_fetch_row(res);
	s->present = row != NULL;
	for (unsigned i = 0; row && f && i < n; i++) {
		const char *name = f[i].name;
		if (!strcmp(name, "Master_User"))
			copy_field(s->master_user, sizeof s->master_user, row[i]);
		else if (!strcmp(name, "Master_Server_Id"))
			copy_field(s->master_server_id, sizeof s->master_server_id, row[i]);
		else if (!strcmp(name, "Slave_IO_Running"))
			copy_field(s->io_running, sizeof s->io_running, row[i]);
		else if (!strcmp(name, "Slave_SQL_Running"))
			copy_field(s->sql_running, sizeof s->sql_running, row[i]);
		else if (!strcmp(name, "Last_IO_Error"))
			copy_field(s->last_io_error, sizeof s->last_io_error, row[i]);
		else if (!strcmp(name, "Last_SQL_Error"))
			copy_field(s->last_sql_error, sizeof s->last_sql_error, row[i]);
	}
	libmariadb.mysql_free_result(res);
	return 0;
}

/* A GTID list as MariaDB writes it: domain-server-seq[,...], or "". */
static bool gtid_list_ok(const char *s)
{
	if (strlen(s) >= GTID_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == ','))
			return false;
	return true;
}

/* An IPv4 address or a host name: [A-Za-z0-9.-], what CHANGE MASTER takes. */
static bool host_ok(const char *h)
{
	size_t n = h ? strlen(h) : 0;
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-'))
			return false;
	return true;
}

static json_t *master_of(const struct guest_instance *inst)
{
	return json_pack("{s:s,s:i}", "host", inst->bind_address, "port", inst->port);
}

/* The overrides a replica keeps across restarts. */
static int store_replica_override(const struct guest_instance *inst, const struct mdb_paths *p,
				  bool replica, struct ct_error *err)
{
	json_t *values =
		json_pack("{s:b,s:b}", "read_only", true, "rpl_semi_sync_slave_enabled", true);
	if (!values)
		return ct_fail(err, 500, "Out of memory.");
	int rc = overrides_file_store(inst, p->confd, REPLICA_OVERRIDE, OVERRIDES_MYCNF, values,
				      !replica, err);
	json_decref(values);
	return rc;
}

static bool is_replica(const struct mdb_paths *p)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", p->confd, REPLICA_OVERRIDE);
	return access(path, F_OK) == 0;
}

int mdb_refuse_on_replica(const struct guest_instance *inst, struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	if (is_replica(&p))
		return ct_fail(err, 400, "Instance %s is a replica and is read only.", inst->id);
	return 0;
}

/* --- replication users ------------------------------------------------------- */

/* replica_addresses (NULL or []: '%') → hosts[], each an IPv4 address. */
static int replica_hosts(const json_t *addresses, char hosts[][INET_ADDRSTRLEN], size_t max,
			 size_t *n, struct ct_error *err)
{
	*n = 0;
	if (!addresses || json_is_null(addresses) || json_array_size(addresses) == 0) {
		snprintf(hosts[0], INET_ADDRSTRLEN, "%%");
		*n = 1;
		return 0;
	}
	if (!json_is_array(addresses) || json_array_size(addresses) > max)
		return ct_fail(err, 400,
			       "replica_addresses must be a list of at most %zu "
			       "IPv4 addresses.",
			       max);
	size_t i;
	json_t *v;
	json_array_foreach (addresses, i, v) {
		const char *s = json_string_value(v);
		struct in_addr a;
		if (!s || inet_pton(AF_INET, s, &a) != 1)
			return ct_fail(err, 400,
				       "replica_addresses: '%.64s' is not an IPv4 address.",
				       s ? s : "");
		inet_ntop(AF_INET, &a, hosts[*n], INET_ADDRSTRLEN);
		(*n)++;
	}
	return 0;
}

/* A new slave_<8 hex> account per host with a random password and
 * REPLICATION SLAVE, written to the binary log so replicas get it too.
 * → {"name", "password"}. */
static json_t *create_replication_user(MYSQL *c, const json_t *addresses, struct ct_error *err)
{
	char hosts[16][INET_ADDRSTRLEN];
	size_t nhosts;
	if (replica_hosts(addresses, hosts, 16, &nhosts, err))
		return NULL;
	char password[REPL_PASSWORD_LEN + 1];
	if (guest_random_password(password, REPL_PASSWORD_LEN, err))
		return NULL;
	for (int attempt = 0; attempt < REPL_USER_ATTEMPTS; attempt++) {
		unsigned char r[4];
		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
			return ct_fail(err, 500, "No randomness for a user name."), NULL;
		char name[MDB_USER_NAME_MAX + 1];
		snprintf(name, sizeof name, "slave_%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
		unsigned code = 0;
		size_t made = 0;
		for (; made < nhosts; made++) {
			struct sqlb b;
			sqlb_init(&b, c);
			sqlb_raw(&b, "CREATE USER ");
			sqlb_account(&b, name, hosts[made]);
			sqlb_raw(&b, " IDENTIFIED BY ");
			sqlb_password(&b, password);
			code = mdb_run(&b);
			sqlb_wipe(&b);
			if (code)
				break;
			sqlb_init(&b, c);
			sqlb_raw(&b, "GRANT REPLICATION SLAVE ON *.* TO ");
			sqlb_account(&b, name, hosts[made]);
			code = mdb_run(&b);
			if (code) {
				mdb_fail(&b, code, "Granting replication", err);
				explicit_bzero(password, sizeof password);
				return NULL;
			}
		}
		if (code == 1396 && made == 0) /* ER_CANNOT_USER: the name is taken */
			continue;
		if (code) {
			explicit_bzero(password, sizeof password);
			ct_fail(err, 500, "Creating the replication user failed: server error %u.",
				code);
			return NULL;
		}
		if (mdb_flush(c, err)) {
			explicit_bzero(password, sizeof password);
			return NULL;
		}
		log_info("replication user %s created for %zu host(s)", name, nhosts);
		json_t *user = json_pack("{s:s,s:s}", "name", name, "password", password);
		explicit_bzero(password, sizeof password);
		if (!user)
			ct_fail(err, 500, "Out of memory.");
		return user;
	}
	explicit_bzero(password, sizeof password);
	return ct_fail(err, 500, "No free replication user name after %d attempts.",
		       REPL_USER_ATTEMPTS),
	       NULL;
}

/* DROP USER for every host of name (replicated users have the source's). */
static int drop_replication_user(MYSQL *c, const char *name, struct ct_error *err)
{
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, "SELECT Host FROM mysql.user WHERE User = ");
	sqlb_str(&b, name);
	unsigned code;
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res)
		return mdb_fail(&b, code, "Listing the replication user's hosts", err);
	char hosts[16][MDB_HOST_MAX + 1];
	size_t n = 0;
	MYSQL_ROW row;
	while ((row = libmariadb.mysql_fetch_row(res)) && n < 16)
		if (row[0])
			snprintf(hosts[n++], sizeof hosts[0], "%s", row[0]);
	libmariadb.mysql_free_result(res);
	for (size_t i = 0; i < n; i++) {
		sqlb_init(&b, c);
		sqlb_raw(&b, "DROP USER IF EXISTS ");
		sqlb_account(&b, name, hosts[i]);
		if ((code = mdb_run(&b)))
			return mdb_fail(&b, code, "Dropping the replication user", err);
	}
	return n ? mdb_flush(c, err) : 0;
}

/* --- source side -------------------------------------------------------------- */

static json_t *replica_conf(json_t *user, const char *gtid_pos)
{
	json_t *pos = gtid_pos ? json_pack("{s:s}", "gtid_pos", gtid_pos) : json_object();
	return json_pack("{s:o,s:o}", "log_position", pos, "replication_user", user);
}

json_t *mdb_get_replication_snapshot(const struct guest_instance *inst, const json_t *snapshot_info,
				     struct ct_error *err)
{
	const struct datastore_manager *m = datastore_manager_find(inst->manager);
	if (!m || !json_is_object(snapshot_info))
		return ct_fail(err, 400, "get_replication_snapshot needs snapshot_info."), NULL;
	const json_t *addresses = json_object_get(snapshot_info, "replica_addresses");
	char hosts[16][INET_ADDRSTRLEN];
	size_t nhosts;
	if (replica_hosts(addresses, hosts, 16, &nhosts, err))
		return NULL;
	/* The backup first, the user after it: the user reaches the replica
	 * through the binary log, as in Trove. */
	json_t *stored = guest_backup_create(m, inst, snapshot_info, err);
	if (!stored)
		return NULL;
	MYSQL *c = mdb_connect_admin(inst, err);
	json_t *user = c ? create_replication_user(c, addresses, err) : NULL;
	if (c)
		libmariadb.mysql_close(c);
	json_t *stats = user ? guest_fs_stats(inst->data_dir, err) : NULL;
	if (!stats) {
		json_decref(user);
		json_decref(stored);
		return NULL;
	}
	json_t *out = json_pack(
		"{s:{s:s,s:O,s:O,s:O},s:s,s:o,s:o,s:o}", "dataset", "datastore_manager",
		inst->manager, "dataset_size", json_object_get(stats, "used"), "volume_size",
		json_object_get(stats, "total"), "snapshot_id",
		json_object_get(snapshot_info, "id") ? json_object_get(snapshot_info, "id")
						     : json_null(),
		"replication_strategy", STRATEGY, "master", master_of(inst), "replica_conf",
		replica_conf(user, NULL), "backup", stored);
	json_decref(stats);
	if (!out)
		ct_fail(err, 500, "Out of memory.");
	else
		log_info("replication snapshot %s taken",
			 json_string_value(json_object_get(snapshot_info, "id")));
	return out;
}

json_t *mdb_get_replica_context(const struct guest_instance *inst, const json_t *replica_addresses,
				struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	json_t *user = create_replication_user(c, replica_addresses, err);
	char gtid[GTID_MAX] = "";
	if (user && select_text(c, "SELECT @@global.gtid_binlog_pos", gtid, sizeof gtid,
				"Reading the binary log position", err) < 0) {
		json_decref(user);
		user = NULL;
	}
	libmariadb.mysql_close(c);
	if (!user)
		return NULL;
	json_t *out = json_pack("{s:o,s:o}", "master", master_of(inst), "replica_conf",
				replica_conf(user, gtid));
	if (!out)
		ct_fail(err, 500, "Out of memory.");
	return out;
}

/* --- replica side ---------------------------------------------------------------- */

/* The GTID (third field) of the restored <datadir>/xtrabackup_binlog_info;
 * "" when the backup had none. */
static int restored_gtid(const struct mdb_paths *p, char *out, size_t size, struct ct_error *err)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/xtrabackup_binlog_info", p->datadir);
	FILE *f = fopen(path, "r");
	if (!f)
		return ct_fail(err, 500, "The restored snapshot has no xtrabackup_binlog_info.");
	char line[GTID_MAX + 512];
	bool got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	out[0] = '\0';
	if (!got)
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	char *field = line;
	for (int i = 0; i < 2 && field; i++) {
		field = strchr(field, '\t');
		if (field)
			field++;
	}
	if (field) {
		if (!gtid_list_ok(field))
			return ct_fail(err, 500, "xtrabackup_binlog_info holds no GTID list.");
		snprintf(out, size, "%s", field);
	}
	return 0;
}

static int wait_replicating(MYSQL *c, int timeout_s, struct ct_error *err)
{
	struct slave_status s;
	for (int waited = 0;; waited++) {
		char running[16] = "";
		int rc = select_text(c,
				     "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
				     "WHERE VARIABLE_NAME = 'SLAVE_RUNNING'",
				     running, sizeof running, "Reading Slave_running", err);
		if (rc < 0 || slave_status(c, &s, err))
			return -1;
		if (!strcmp(running, "ON") && !strcmp(s.io_running, "Yes") &&
		    !strcmp(s.sql_running, "Yes"))
			return 0;
		if (waited >= timeout_s)
			break;
		guest_sleep_ms(1000);
	}
	log_error("replication did not start: IO %s (%s), SQL %s (%s)", s.io_running,
		  s.last_io_error, s.sql_running, s.last_sql_error);
	return ct_fail(err, 500, "Replication did not start within %d s: %.200s", timeout_s,
		       s.last_io_error[0] ? s.last_io_error : s.last_sql_error);
}

int mdb_attach_replica(const struct guest_instance *inst, const json_t *info, bool restart,
		       struct ct_error *err)
{
	const json_t *master = json_object_get(info, "master");
	const json_t *user =
		json_object_get(json_object_get(info, "replica_conf"), "replication_user");
	const char *strategy = json_string_value(json_object_get(info, "replication_strategy"));
	const char *host = json_string_value(json_object_get(master, "host"));
	json_int_t port = json_integer_value(json_object_get(master, "port"));
	const char *name = json_string_value(json_object_get(user, "name"));
	const char *password = json_string_value(json_object_get(user, "password"));
	const json_t *dataset = json_object_get(info, "dataset");
	if (strategy && strcmp(strategy, STRATEGY))
		return ct_fail(err, 400, "Replication strategy %.64s is not %s.", strategy,
			       STRATEGY);
	if (!host_ok(host) || port < 1 || port > 65535)
		return ct_fail(err, 400, "replica_info has no usable master host and port.");
	if (!name || mdb_check_user_name(name, false, err) || !password ||
	    mdb_check_password(password, err))
		return err->status ? -1
				   : ct_fail(err, 400, "replica_info has no replication user.");
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	if (json_is_object(dataset)) {
		json_t *stats = guest_fs_stats(inst->data_dir, err);
		if (!stats)
			return -1;
		double need = json_number_value(json_object_get(dataset, "dataset_size"));
		double have = json_number_value(json_object_get(stats, "total"));
		json_decref(stats);
		if (need > have)
			return ct_fail(err, 400,
				       "The volume (%.1f GB) is smaller than the "
				       "snapshot's data (%.1f GB).",
				       have, need);
	}
	char gtid[GTID_MAX] = "";
	if (json_is_object(dataset) && restored_gtid(&p, gtid, sizeof gtid, err))
		return -1;
	/* The override first: a restart in between comes back read-only. */
	if (store_replica_override(inst, &p, true, err))
		return -1;
	if (restart) {
		const struct datastore_manager *m = datastore_manager_find(inst->manager);
		if (!m || datastore_restart(m, inst, err))
			return -1;
	}
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = run_raw(c, "SET GLOBAL read_only = ON", "Making the replica read-only", err);
	if (!rc)
		rc = run_raw(c, "SET GLOBAL rpl_semi_sync_slave_enabled = ON",
			     "Enabling semi-synchronous acknowledgements", err);
	if (!rc)
		rc = run_raw(c, "STOP SLAVE", "Stopping replication", err);
	if (!rc && json_is_object(dataset)) {
		struct sqlb b;
		sqlb_init(&b, c);
		sqlb_raw(&b, "SET GLOBAL gtid_slave_pos = ");
		sqlb_str(&b, gtid);
		unsigned code = mdb_run(&b);
		if (code)
			rc = mdb_fail(&b, code, "Setting the replica's GTID position", err);
		else
			log_info("replica starts after GTID '%s' of the snapshot", gtid);
	} else if (!rc) {
		/* An existing server (a demoted source, a replica moving to a new
		 * source) goes on from what it has, which for a former source is
		 * its own binary log, not the empty slave position. */
		rc = run_raw(c, "SET GLOBAL gtid_slave_pos = @@global.gtid_current_pos",
			     "Setting the replica's GTID position", err);
	}
	if (!rc) {
		struct sqlb b;
		char num[16];
		snprintf(num, sizeof num, "%d", (int)port);
		sqlb_init(&b, c);
		sqlb_raw(&b, "CHANGE MASTER TO MASTER_HOST = ");
		sqlb_str(&b, host);
		sqlb_raw(&b, ", MASTER_PORT = ");
		sqlb_raw(&b, num);
		sqlb_raw(&b, ", MASTER_USER = ");
		sqlb_str(&b, name);
		sqlb_raw(&b, ", MASTER_PASSWORD = ");
		sqlb_password(&b, password);
		sqlb_raw(&b, ", MASTER_CONNECT_RETRY = 15, MASTER_USE_GTID = slave_pos");
		unsigned code = mdb_run(&b);
		sqlb_wipe(&b);
		if (code)
			rc = mdb_fail(&b, code, "CHANGE MASTER TO", err);
	}
	if (!rc)
		rc = run_raw(c, "START SLAVE", "Starting replication", err);
	if (!rc)
		rc = wait_replicating(c, ATTACH_TIMEOUT_S, err);
	libmariadb.mysql_close(c);
	if (!rc)
		log_info("replicating from %s:%d as %s", host, (int)port, name);
	return rc;
}

json_t *mdb_detach_replica(const struct guest_instance *inst, bool for_failover,
			   struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return NULL;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	struct slave_status s;
	int rc = slave_status(c, &s, err);
	if (!rc && s.present) {
		rc = run_raw(c, "STOP SLAVE", "Stopping replication", err);
		if (!rc)
			rc = run_raw(c, "RESET SLAVE ALL", "Forgetting the source", err);
		for (int waited = 0; !rc; waited++) {
			char running[16] = "";
			if (select_text(
				    c,
				    "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
				    "WHERE VARIABLE_NAME = 'SLAVE_RUNNING'",
				    running, sizeof running, "Reading Slave_running", err) < 0)
				rc = -1;
			else if (strcmp(running, "ON"))
				break;
			else if (waited >= DETACH_TIMEOUT_S)
				rc = ct_fail(err, 500, "Replication did not stop within %d s.",
					     DETACH_TIMEOUT_S);
			else
				guest_sleep_ms(1000);
		}
	}
	/* A failover keeps the user: the new source's replicas may still use it. */
	if (!rc && s.present && !for_failover && s.master_user[0])
		rc = drop_replication_user(c, s.master_user, err);
	if (!rc)
		rc = run_raw(c, "SET GLOBAL rpl_semi_sync_slave_enabled = OFF",
			     "Disabling semi-synchronous acknowledgements", err);
	if (!rc)
		rc = run_raw(c, "SET GLOBAL read_only = OFF", "Making the server writable", err);
	libmariadb.mysql_close(c);
	if (!rc)
		rc = store_replica_override(inst, &p, false, err);
	if (rc)
		return NULL;
	log_info("detached from the source%s", for_failover ? " (failover)" : "");
	json_t *out = json_pack("{s:s?}", "replication_user",
				s.present && s.master_user[0] ? s.master_user : NULL);
	if (!out)
		ct_fail(err, 500, "Out of memory.");
	return out;
}

/* --- promotion helpers and positions ------------------------------------------------ */

int mdb_make_read_only(const struct guest_instance *inst, bool read_only, struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	int rc = run_raw(c, read_only ? "SET GLOBAL read_only = ON" : "SET GLOBAL read_only = OFF",
			 "Changing read_only", err);
	libmariadb.mysql_close(c);
	if (!rc)
		log_info("read_only %s", read_only ? "on" : "off");
	return rc;
}

/* The binary log is on from the first start, so a source needs nothing more. */
int mdb_enable_as_master(const struct guest_instance *inst, struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	char on[8] = "";
	int rc = select_text(c, "SELECT @@global.log_bin", on, sizeof on, "Reading log_bin", err);
	libmariadb.mysql_close(c);
	if (rc < 0)
		return -1;
	if (strcmp(on, "1"))
		return ct_fail(err, 500, "The server writes no binary log; it cannot be a source.");
	return 0;
}

static int set_synchronous(const struct guest_instance *inst, bool enabled, struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	json_t *values = enabled ? json_pack("{s:b,s:s,s:I}", "rpl_semi_sync_master_enabled", true,
					     "rpl_semi_sync_master_wait_point", "AFTER_SYNC",
					     "rpl_semi_sync_master_timeout",
					     (json_int_t)SEMI_SYNC_TIMEOUT_MS)
				 : json_pack("{s:b}", "rpl_semi_sync_master_enabled", false);
	if (!values)
		return ct_fail(err, 500, "Out of memory.");
	/* The file first: a restart in between comes back as asked. */
	int rc = overrides_file_store(inst, p.confd, SYNC_OVERRIDE, OVERRIDES_MYCNF, values,
				      !enabled, err);
	if (!rc)
		rc = mdb_apply_overrides(inst, values, err);
	json_decref(values);
	if (!rc)
		log_info("synchronous replication %s", enabled ? "on" : "off");
	return rc;
}

/* A demoted source no longer waits for acknowledgements. */
int mdb_demote_replication_master(const struct guest_instance *inst, struct ct_error *err)
{
	return set_synchronous(inst, false, err);
}

json_t *mdb_get_latest_txn_id(const struct guest_instance *inst, struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	char gtid[GTID_MAX] = "";
	int rc = select_text(c, "SELECT @@global.gtid_binlog_pos", gtid, sizeof gtid,
			     "Reading the binary log position", err);
	libmariadb.mysql_close(c);
	return rc < 0 ? NULL : json_string(gtid);
}

int mdb_wait_for_txn(const struct guest_instance *inst, const char *txn, int timeout_s,
		     struct ct_error *err)
{
	if (!txn || !gtid_list_ok(txn))
		return ct_fail(err, 400, "'%.64s' is not a MariaDB GTID position.", txn ? txn : "");
	if (timeout_s < 1)
		timeout_s = 60;
	struct mdb_paths p;
	struct guest_credentials cred;
	if (mdb_paths(inst, &p, err) || guest_read_credentials(p.admin_cnf, &cred, err))
		return -1;
	/* The session outlives the wait. */
	MYSQL *c = mdb_connect(p.sock, cred.user, cred.password, timeout_s + 30, err);
	explicit_bzero(&cred, sizeof cred);
	if (!c)
		return -1;
	struct sqlb b;
	char num[16];
	snprintf(num, sizeof num, "%d", timeout_s);
	sqlb_init(&b, c);
	sqlb_raw(&b, "SELECT MASTER_GTID_WAIT(");
	sqlb_str(&b, txn);
	sqlb_raw(&b, ", ");
	sqlb_raw(&b, num);
	sqlb_raw(&b, ")");
	unsigned code;
	MYSQL_RES *res = mdb_select(&b, &code);
	if (!res) {
		mdb_fail(&b, code, "Waiting for the transaction", err);
		libmariadb.mysql_close(c);
		return -1;
	}
	MYSQL_ROW row = libmariadb.mysql_fetch_row(res);
	int answer = row && row[0] ? atoi(row[0]) : -2;
	libmariadb.mysql_free_result(res);
	libmariadb.mysql_close(c);
	if (answer == 0)
		return 0;
	if (answer == -1)
		return ct_fail(err, 504, "Transaction %.200s was not applied within %d s.", txn,
			       timeout_s);
	return ct_fail(err, 500, "Waiting for transaction %.200s failed.", txn);
}

/* Trove: (Master_Server_Id, the seq of that server's entry in gtid_slave_pos). */
json_t *mdb_get_last_txn(const struct guest_instance *inst, struct ct_error *err)
{
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return NULL;
	struct slave_status s;
	char pos[GTID_MAX] = "";
	int rc = slave_status(c, &s, err);
	if (!rc && select_text(c, "SELECT @@global.gtid_slave_pos", pos, sizeof pos,
			       "Reading the replica's GTID position", err) < 0)
		rc = -1;
	libmariadb.mysql_close(c);
	if (rc)
		return NULL;
	if (!s.present || !s.master_server_id[0])
		return json_pack("[n,i]", 0);
	long long seq = 0;
	unsigned long long master = strtoull(s.master_server_id, NULL, 10);
	for (char *save = NULL, *e = strtok_r(pos, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		unsigned long long domain, server, n;
		if (sscanf(e, "%llu-%llu-%llu", &domain, &server, &n) == 3 && server == master &&
		    (long long)n > seq)
			seq = (long long)n;
	}
	return json_pack("[s,I]", s.master_server_id, (json_int_t)seq);
}

int mdb_set_synchronous_replication(const struct guest_instance *inst, bool enabled,
				    struct ct_error *err)
{
	return set_synchronous(inst, enabled, err);
}
