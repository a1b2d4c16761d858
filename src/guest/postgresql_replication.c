/*
 * postgresql_replication.c — PostgreSQL streaming replication behind the
 * replication slots of struct datastore_manager (trove-guest.md §5.3, the
 * contract in docs/guest-postgresql.md "Replication"): replication roles and
 * the pg_hba lines that admit them from the replicas' addresses only, one
 * physical slot per replica (ctrove_replica_<first 8 hex of its id>), seeding
 * a replica with pg_basebackup, re-pointing, promoting and demoting (pg_rewind)
 * a server, and the transaction positions failover compares.
 * A replica's settings are conf.d/90-ctrove-replica.conf (primary_conninfo
 * with passfile=, primary_slot_name) and <run>/replication.pgpass (0600, the
 * server's user): the password is in no config file, command line or log.
 * Owns those two files, <credentials>/replication_hba and
 * conf.d/90-ctrove-synchronous.conf; may not touch any other instance's files
 * nor the server's files beyond standby.signal.
 */
#define LOG_MODULE "guest.postgresql"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/postgresql_internal.h"

#define REPLICA_CONF	 "90-ctrove-replica.conf"
#define SYNC_CONF	 "90-ctrove-synchronous.conf"
#define PASSFILE	 "replication.pgpass"
#define HBA_ENTRIES	 "replication_hba"
#define ROLE_PREFIX	 "ctrove_repl_"
#define SLOT_PREFIX	 "ctrove_replica_"
#define ATTACH_TIMEOUT_S 180
/* A re-pointed standby that does not stream by then is rewound. */
#define REPOINT_TIMEOUT_S 30
/* pg_receivewal, pg_basebackup and pg_rewind's output, written as the
 * server's user (tools.log may be root's: the template copy writes it). */
#define TOOLS_LOG	  "replication.log"
#define PROMOTE_TIMEOUT_S 60
#define NAME_MAX_LEN	  63

/* Where the replica's master is, and as whom it connects. */
struct repl_source {
	char host[64];
	int port;
	char user[NAME_MAX_LEN + 1];
	char password[256];
	char slot[NAME_MAX_LEN + 1];
	unsigned timeline;    /* the source's timeline when it said where it is; 0: unknown */
	uint64_t switchpoint; /* where that timeline began (0: the first one) */
};

static int parse_lsn(const char *s, uint64_t *out);

/* --- names and files ------------------------------------------------------------ */

static void file_in(char *out, size_t size, const char *dir, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static bool is_ipv4(const char *s)
{
	struct in_addr a;
	return s && inet_pton(AF_INET, s, &a) == 1;
}

/* The role and slot names this file makes: [a-z0-9_], so they need no quoting
 * in pg_hba.conf or a replication command. */
static bool is_plain_name(const char *s)
{
	if (!s || !*s || strlen(s) > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* ctrove_replica_<the first 8 hex digits of the replica's id>. */
static int slot_of(const char *replica_id, char *out, size_t size, struct ct_error *err)
{
	char hex[9];
	size_t n = 0;
	for (const char *s = replica_id; s && *s && n < 8; s++) {
		if (!isxdigit((unsigned char)*s))
			break;
		hex[n++] = (char)tolower((unsigned char)*s);
	}
	hex[n] = '\0';
	if (n < 8)
		return ct_fail(err, 400, "Replica id %.64s is not an instance id.",
			       replica_id ? replica_id : "");
	snprintf(out, size, SLOT_PREFIX "%s", hex);
	return 0;
}

bool pg_repl_is_replica(const struct pg_paths *p)
{
	char path[PATH_MAX + 32];
	file_in(path, sizeof path, p->confd, REPLICA_CONF);
	return access(path, F_OK) == 0;
}

static void run_file(const struct guest_instance *inst, const char *name, char *out, size_t size)
{
	file_in(out, size, inst->run_dir, name);
}

/* A libpq conninfo value: single quotes, \ and ' escaped. */
static int conninfo_value(char *out, size_t size, const char *v)
{
	size_t o = 0;
	if (size < 3)
		return -1;
	out[o++] = '\'';
	for (; *v; v++) {
		if (o + 4 >= size)
			return -1;
		if (*v == '\'' || *v == '\\')
			out[o++] = '\\';
		out[o++] = *v;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return 0;
}

/* The conninfo for the source: password in the passfile, never in the text. */
static int source_conninfo(const struct guest_instance *inst, const struct repl_source *src,
			   const char *dbname, char *out, size_t size, struct ct_error *err)
{
	char pass[PATH_MAX + 32], q_pass[2 * PATH_MAX + 80], q_app[160];
	run_file(inst, PASSFILE, pass, sizeof pass);
	if (conninfo_value(q_pass, sizeof q_pass, pass) ||
	    conninfo_value(q_app, sizeof q_app, inst->id))
		return ct_fail(err, 500, "The replication settings are too long.");
	int n = snprintf(out, size,
			 "host=%s port=%d user=%s passfile=%s application_name=%s "
			 "sslmode=prefer connect_timeout=10%s%s",
			 src->host, src->port, src->user, q_pass, q_app, dbname ? " dbname=" : "",
			 dbname ? dbname : "");
	if (n < 0 || (size_t)n >= size)
		return ct_fail(err, 500, "The replication settings are too long.");
	return 0;
}

/* host:port:*:user:password — ':' and '\' escaped as .pgpass wants. */
static int write_passfile(const struct guest_instance *inst, const struct guest_identity *id,
			  const struct repl_source *src, struct ct_error *err)
{
	char path[PATH_MAX + 32], line[512];
	size_t n =
		(size_t)snprintf(line, sizeof line, "%s:%d:*:%s:", src->host, src->port, src->user);
	for (const char *s = src->password; *s; s++) {
		if (n + 4 >= sizeof line)
			return ct_fail(err, 400, "The replication password is too long.");
		if (*s == ':' || *s == '\\')
			line[n++] = '\\';
		line[n++] = *s;
	}
	line[n++] = '\n';
	run_file(inst, PASSFILE, path, sizeof path);
	int rc = guest_write_file_owned(path, line, n, 0600, id, err);
	explicit_bzero(line, sizeof line);
	return rc;
}

/* conf.d/90-ctrove-replica.conf: what makes the server a standby of src. */
static int write_replica_conf(const struct guest_instance *inst, const struct pg_paths *p,
			      const struct guest_identity *id, const struct repl_source *src,
			      struct ct_error *err)
{
	char conninfo[PATH_MAX * 2 + 512], text[PATH_MAX * 4 + 1024], path[PATH_MAX + 32];
	if (source_conninfo(inst, src, NULL, conninfo, sizeof conninfo, err))
		return -1;
	size_t n = (size_t)snprintf(text, sizeof text,
				    "# ctrove guest agent: this instance is a replica of %s:%d.\n"
				    "hot_standby = on\nprimary_conninfo = '",
				    src->host, src->port);
	for (const char *s = conninfo; *s && n + 4 < sizeof text; s++) {
		if (*s == '\'')
			text[n++] = '\'';
		text[n++] = *s;
	}
	int w = snprintf(text + n, sizeof text - n,
			 "'\nprimary_slot_name = '%s'\nrecovery_target_timeline = 'latest'\n",
			 src->slot);
	if (w < 0 || (size_t)w >= sizeof text - n)
		return ct_fail(err, 500, "The replication settings are too long.");
	n += (size_t)w;
	file_in(path, sizeof path, p->confd, REPLICA_CONF);
	return guest_write_file_owned(path, text, n, 0600, id, err);
}

static int write_standby_signal(const struct pg_paths *p, const struct guest_identity *id,
				struct ct_error *err)
{
	char path[PATH_MAX + 32];
	file_in(path, sizeof path, p->datadir, "standby.signal");
	return guest_write_file_owned(path, "", 0, 0600, id, err);
}

/* Forget the source: the server is (or is about to be) a primary. */
static void remove_replica_files(const struct guest_instance *inst, const struct pg_paths *p)
{
	char path[PATH_MAX + 32];
	file_in(path, sizeof path, p->confd, REPLICA_CONF);
	unlink(path);
	run_file(inst, PASSFILE, path, sizeof path);
	unlink(path);
	file_in(path, sizeof path, p->datadir, "standby.signal");
	unlink(path);
}

/* The source a replica's conf names, read back from the passfile (the one
 * place that has host, port, user and password together). */
static int read_source(const struct guest_instance *inst, const struct pg_paths *p,
		       struct repl_source *src, struct ct_error *err)
{
	char path[PATH_MAX + 32], line[512] = "";
	memset(src, 0, sizeof *src);
	run_file(inst, PASSFILE, path, sizeof path);
	FILE *f = fopen(path, "re");
	if (!f)
		return ct_fail(err, 422, "The instance is not a replica.");
	bool got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	char *host = line, *c1 = strchr(line, ':');
	char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
	char *c4 = c3 ? strchr(c3 + 1, ':') : NULL;
	if (!got || !c4) {
		explicit_bzero(line, sizeof line);
		return ct_fail(err, 500, "The replication settings are damaged.");
	}
	*c1 = *c2 = *c3 = *c4 = '\0';
	bool fits = strlen(host) < sizeof src->host && strlen(c3 + 1) < sizeof src->user;
	if (fits) {
		memcpy(src->host, host, strlen(host) + 1);
		memcpy(src->user, c3 + 1, strlen(c3 + 1) + 1);
	}
	src->port = atoi(c1 + 1);
	explicit_bzero(line, sizeof line);
	(void)p;
	if (!fits)
		return ct_fail(err, 500, "The replication settings are damaged.");
	return slot_of(inst->id, src->slot, sizeof src->slot, err);
}

/* --- pg_hba: replication roles from the replicas' addresses only ---------------- */

static void hba_entries_path(const struct pg_paths *p, char *out, size_t size)
{
	file_in(out, size, p->cred_dir, HBA_ENTRIES);
}

/*
 * The pg_hba.conf lines pg_write_hba puts before its "host replication all
 * reject": for every (role, address/prefix) pair written by add_hba_entries,
 * the role may connect for replication and to the postgres database
 * (pg_rewind) from there with scram-sha-256; anywhere else it is rejected (it never
 * reaches the tenants' "host all all" line). → bytes written, 0 when none.
 */
size_t pg_repl_hba_lines(const struct pg_paths *p, char *out, size_t size)
{
	char path[PATH_MAX + 32], line[256];
	hba_entries_path(p, path, sizeof path);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = 0;
	char rejects[4096] = "";
	size_t rn = 0;
	while (fgets(line, sizeof line, f)) {
		char role[NAME_MAX_LEN + 2], addr[64];
		int prefix = 0;
		if (sscanf(line, "%64s %63[0-9.]/%d", role, addr, &prefix) != 3 ||
		    !is_plain_name(role) || !is_ipv4(addr) || prefix < 8 || prefix > 32)
			continue;
		int w = snprintf(out + n, size - n,
				 "host    replication  %s  %s/%d  scram-sha-256\n"
				 "host    postgres     %s  %s/%d  scram-sha-256\n",
				 role, addr, prefix, role, addr, prefix);
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
		if (!strstr(rejects, role)) {
			w = snprintf(rejects + rn, sizeof rejects - rn,
				     "host    all          %s  0.0.0.0/0  reject\n"
				     "host    all          %s  ::/0       reject\n",
				     role, role);
			if (w > 0 && (size_t)w < sizeof rejects - rn)
				rn += (size_t)w;
		}
	}
	fclose(f);
	if (rn && n + rn < size) {
		memcpy(out + n, rejects, rn + 1);
		n += rn;
	}
	return n;
}

/* Append (role, address) pairs and make the running server read them. */
static int add_hba_entries(const struct guest_instance *inst, const struct pg_paths *p, PGconn *c,
			   const char *role, const json_t *addresses, struct ct_error *err)
{
	char path[PATH_MAX + 32], *old = NULL;
	hba_entries_path(p, path, sizeof path);
	size_t old_len = 0;
	FILE *f = fopen(path, "re");
	if (f) {
		old = malloc(65536);
		old_len = old ? fread(old, 1, 65535, f) : 0;
		fclose(f);
	}
	size_t cap = old_len + 64 * (json_array_size(addresses) + 1) + 256;
	char *text = malloc(cap);
	if (!text) {
		free(old);
		return ct_fail(err, 500, "Out of memory.");
	}
	memcpy(text, old ? old : "", old_len);
	free(old);
	size_t n = old_len;
	size_t i;
	const json_t *a;
	if (json_array_size(addresses) == 0) {
		/* No addresses given: every instance of this host (loopback). */
		n += (size_t)snprintf(text + n, cap - n, "%s 127.0.0.0/8\n", role);
	}
	json_array_foreach (addresses, i, a)
		n += (size_t)snprintf(text + n, cap - n, "%s %s/32\n", role, json_string_value(a));
	int rc = guest_write_file(path, text, n, 0600, err);
	free(text);
	if (rc)
		return -1;
	/* pg_hba keeps the tenants' TLS rule: reread what is in place. */
	bool tls = false;
	f = fopen(p->hba, "re");
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f))
			if (!strncmp(line, "hostssl", 7))
				tls = true;
		fclose(f);
	}
	struct guest_identity id;
	if (guest_identity_resolve(inst->os_user, &id, err) || pg_write_hba(p, &id, tls, err))
		return -1;
	PGresult *r = pg_select(c, "SELECT pg_catalog.pg_reload_conf()", 0, NULL,
				"Reloading the server's config", err);
	libpq.PQclear(r);
	return r ? 0 : -1;
}

/* A JSON array of IPv4 strings (or NULL / null: none). */
static int check_addresses(const json_t *addresses, struct ct_error *err)
{
	if (!addresses || json_is_null(addresses))
		return 0;
	if (!json_is_array(addresses) || json_array_size(addresses) > 64)
		return ct_fail(err, 400, "replica_addresses must be a list of IPv4 addresses.");
	size_t i;
	const json_t *a;
	json_array_foreach (addresses, i, a)
		if (!is_ipv4(json_string_value(a)))
			return ct_fail(err, 400, "%.64s is not an IPv4 address.",
				       json_is_string(a) ? json_string_value(a) : "(not a string)");
	return 0;
}

/* --- the source's side -------------------------------------------------------------- */

static int in_recovery(PGconn *c, bool *yes, struct ct_error *err)
{
	PGresult *r = pg_select(c, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL,
				"Reading the server's role", err);
	if (!r)
		return -1;
	*yes = libpq.PQntuples(r) == 1 && libpq.PQgetvalue(r, 0, 0)[0] == 't';
	libpq.PQclear(r);
	return 0;
}

/*
 * A new replication role (REPLICATION LOGIN, random password) that may also
 * run pg_rewind against this server (read access to the data directory's
 * files through the four functions pg_rewind calls, not SUPERUSER as Trove).
 */
static int create_role(PGconn *c, char *role, size_t role_size, char *password,
		       struct ct_error *err)
{
	char suffix[9];
	if (guest_random_password(suffix, 8, err))
		return -1;
	for (char *s = suffix; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	snprintf(role, role_size, ROLE_PREFIX "%s", suffix);
	if (guest_random_password(password, GUEST_PASSWORD_LEN, err))
		return -1;
	struct pgb b;
	pgb_init(&b, c);
	pgb_raw(&b, "CREATE ROLE ");
	pgb_ident(&b, role);
	pgb_raw(&b, " WITH REPLICATION LOGIN PASSWORD ");
	pgb_password(&b, password);
	if (pgb_run(&b, "Creating the replication role", err))
		return -1;
	static const char *const fns[] = {
		"pg_catalog.pg_ls_dir(text, boolean, boolean)",
		"pg_catalog.pg_stat_file(text, boolean)",
		"pg_catalog.pg_read_binary_file(text)",
		"pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)",
		NULL,
	};
	for (size_t i = 0; fns[i]; i++) {
		pgb_init(&b, c);
		pgb_raw(&b, "GRANT EXECUTE ON FUNCTION ");
		pgb_raw(&b, fns[i]);
		pgb_raw(&b, " TO ");
		pgb_ident(&b, role);
		if (pgb_run(&b, "Granting pg_rewind's functions", err))
			return -1;
	}
	/* pg_rewind reads through the postgres database, closed to PUBLIC. */
	pgb_init(&b, c);
	pgb_raw(&b, "GRANT CONNECT ON DATABASE postgres TO ");
	pgb_ident(&b, role);
	if (pgb_run(&b, "Granting pg_rewind's database", err))
		return -1;
	log_info("created replication role %s", role);
	return 0;
}

/* A physical slot reserving WAL from now; an existing one is kept. */
static int create_slot(PGconn *c, const char *slot, struct ct_error *err)
{
	const char *params[] = {slot};
	PGresult *r = pg_select(c,
				"SELECT pg_catalog.pg_create_physical_replication_slot($1, true) "
				"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots "
				"WHERE slot_name = $1)",
				1, params, "Creating a replication slot", err);
	libpq.PQclear(r);
	return r ? 0 : -1;
}

/*
 * log_position: {"timeline": this server's timeline, "switchpoint": where it
 * began (its history file's last line) or null}. A standby that has WAL of
 * the parent timeline past the switchpoint cannot follow and is rewound.
 */
static json_t *timeline_position(PGconn *c, struct ct_error *err)
{
	PGresult *r = pg_select(
		c,
		"SELECT tli, CASE WHEN tli > 1 THEN pg_catalog.pg_read_file('pg_wal/' || "
		"lpad(to_hex(tli), 8, '0') || '.history') END FROM (SELECT ('x' || "
		"substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))"
		"::bit(32)::int AS tli) t",
		0, NULL, "Reading the server's timeline", err);
	if (!r)
		return NULL;
	json_t *out = NULL;
	if (libpq.PQntuples(r) == 1) {
		json_int_t tli = strtoll(libpq.PQgetvalue(r, 0, 0), NULL, 10);
		const char *history = libpq.PQgetvalue(r, 0, 1);
		const char *last = NULL;
		for (const char *line = history; line && *line;) {
			if (isdigit((unsigned char)*line))
				last = line;
			line = strchr(line, '\n');
			line = line ? line + 1 : NULL;
		}
		unsigned parent;
		char lsn[32] = "";
		uint64_t v;
		bool has =
			last && sscanf(last, "%u %31s", &parent, lsn) == 2 && !parse_lsn(lsn, &v);
		out = json_pack("{s:I,s:s?}", "timeline", tli, "switchpoint", has ? lsn : NULL);
	}
	libpq.PQclear(r);
	if (!out)
		ct_fail(err, 500, "The server's timeline could not be read.");
	return out;
}

/* {"master", "replica_conf"} for a new role admitted from addresses, with a
 * slot for each of replica_ids (the others create theirs at attach). */
static json_t *new_context(const struct guest_instance *inst, const json_t *addresses,
			   const json_t *replica_ids, struct ct_error *err)
{
	struct pg_paths p;
	char role[NAME_MAX_LEN + 1], password[GUEST_PASSWORD_LEN + 1];
	if (check_addresses(addresses, err) || pg_paths(inst, &p, err))
		return NULL;
	if (replica_ids && !json_is_null(replica_ids) && !json_is_array(replica_ids)) {
		ct_fail(err, 400, "replica_ids must be a list of instance ids.");
		return NULL;
	}
	char slots[64][NAME_MAX_LEN + 1];
	size_t nslots = 0, i;
	const json_t *rid;
	json_array_foreach (replica_ids, i, rid) {
		if (nslots == 64 ||
		    slot_of(json_string_value(rid), slots[nslots], sizeof slots[nslots], err))
			return nslots == 64 ? (ct_fail(err, 400, "Too many replicas."), NULL)
					    : NULL;
		nslots++;
	}
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	bool standby = false;
	json_t *out = NULL;
	int rc = in_recovery(c, &standby, err);
	if (!rc && standby)
		rc = ct_fail(err, 422,
			     "Instance %s is a replica; replicas are made from its "
			     "replication source.",
			     inst->id);
	if (!rc)
		rc = create_role(c, role, sizeof role, password, err);
	for (size_t k = 0; !rc && k < nslots; k++)
		rc = create_slot(c, slots[k], err);
	if (!rc)
		rc = add_hba_entries(inst, &p, c, role, addresses, err);
	json_t *position = rc ? NULL : timeline_position(c, err);
	rc = rc || !position ? -1 : 0;
	libpq.PQfinish(c);
	if (!rc) {
		out = json_pack("{s:{s:s,s:i},s:{s:O,s:{s:s,s:s}}}", "master", "host",
				inst->bind_address, "port", inst->port, "replica_conf",
				"log_position", position, "replication_user", "name", role,
				"password", password);
		if (!out)
			ct_fail(err, 500, "Out of memory.");
	}
	json_decref(position);
	explicit_bzero(password, sizeof password);
	return out;
}

json_t *pg_get_replication_snapshot(const struct guest_instance *inst, const json_t *snapshot_info,
				    struct ct_error *err)
{
	if (!json_is_object(snapshot_info))
		return ct_fail(err, 400, "snapshot_info must be an object."), NULL;
	json_t *out = new_context(inst, json_object_get(snapshot_info, "replica_addresses"),
				  json_object_get(snapshot_info, "replica_ids"), err);
	if (!out)
		return NULL;
	struct statvfs vfs;
	double used = 0, total = 0;
	if (!statvfs(inst->data_dir, &vfs)) {
		total = (double)vfs.f_blocks * vfs.f_frsize / (1024.0 * 1024 * 1024);
		used = (double)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize / (1024.0 * 1024 * 1024);
	}
	json_object_set_new(out, "dataset",
			    json_pack("{s:s,s:f,s:f,s:n}", "datastore_manager", "postgresql",
				      "dataset_size", used, "volume_size", total, "snapshot_id"));
	json_object_set_new(out, "replication_strategy",
			    json_string("PostgresqlReplicationStreaming"));
	return out;
}

json_t *pg_get_replica_context(const struct guest_instance *inst, const json_t *replica_addresses,
			       struct ct_error *err)
{
	return new_context(inst, replica_addresses, NULL, err);
}

/* --- the replica's side ------------------------------------------------------------ */

/* replica_info / snapshot → where to replicate from (this instance's slot). */
static int parse_source(const struct guest_instance *inst, const json_t *info,
			struct repl_source *src, struct ct_error *err)
{
	memset(src, 0, sizeof *src);
	const json_t *master = json_object_get(info, "master");
	const json_t *user =
		json_object_get(json_object_get(info, "replica_conf"), "replication_user");
	const char *host = json_string_value(json_object_get(master, "host"));
	const char *name = json_string_value(json_object_get(user, "name"));
	const char *password = json_string_value(json_object_get(user, "password"));
	json_int_t port = json_integer_value(json_object_get(master, "port"));
	if (!json_is_object(info) || !is_ipv4(host) || port <= 0 || port > 65535)
		return ct_fail(err, 400, "The replication source's host and port are missing.");
	if (!is_plain_name(name) || !password || !*password || strlen(password) > 200 ||
	    strpbrk(password, "\n\r"))
		return ct_fail(err, 400, "The replication user is missing or invalid.");
	snprintf(src->host, sizeof src->host, "%s", host);
	src->port = (int)port;
	snprintf(src->user, sizeof src->user, "%s", name);
	snprintf(src->password, sizeof src->password, "%s", password);
	const json_t *pos = json_object_get(json_object_get(info, "replica_conf"), "log_position");
	json_int_t tli = json_integer_value(json_object_get(pos, "timeline"));
	const char *sw = json_string_value(json_object_get(pos, "switchpoint"));
	src->timeline = tli > 0 && tli < INT32_MAX ? (unsigned)tli : 0;
	if (sw && parse_lsn(sw, &src->switchpoint))
		return ct_fail(err, 400, "The replication source's switchpoint is invalid.");
	return slot_of(inst->id, src->slot, sizeof src->slot, err);
}

int pg_repl_check_snapshot(const struct guest_instance *inst, const json_t *snapshot,
			   struct ct_error *err)
{
	struct repl_source src;
	int rc = parse_source(inst, snapshot, &src, err);
	explicit_bzero(&src, sizeof src);
	return rc;
}

/* pg_receivewal's slot commands as the server's user, so the connection
 * leaves from the instance's own address like the walreceiver's. */
static int slot_command(const struct guest_instance *inst, const struct pg_paths *p,
			const struct guest_identity *id, const char *bin_dir,
			const struct repl_source *src, bool create, struct ct_error *err)
{
	char conninfo[PATH_MAX * 2 + 512], tool[PATH_MAX + 32], tools_log[PATH_MAX + 32];
	if (source_conninfo(inst, src, NULL, conninfo, sizeof conninfo, err))
		return -1;
	snprintf(tool, sizeof tool, "%s/pg_receivewal", bin_dir);
	file_in(tools_log, sizeof tools_log, p->log_dir, TOOLS_LOG);
	const char *argv[] = {tool,
			      "-d",
			      conninfo,
			      "-S",
			      src->slot,
			      create ? "--create-slot" : "--drop-slot",
			      create ? "--if-not-exists" : NULL,
			      NULL};
	if (guest_run(argv, tools_log, id, err)) {
		log_warning("pg_receivewal: %s", err ? err->message : "failed");
		return ct_fail(err, 500, "%s replication slot %s on %s:%d failed; see %s.",
			       create ? "Creating" : "Dropping", src->slot, src->host, src->port,
			       tools_log);
	}
	return 0;
}

/* Until the walreceiver streams from src (or timeout_s passed). */
static int wait_streaming(const struct guest_instance *inst, const struct repl_source *src,
			  int timeout_s, struct ct_error *err)
{
	double t0 = guest_now();
	char port[16], tli[16];
	snprintf(port, sizeof port, "%d", src->port);
	snprintf(tli, sizeof tli, "%u", src->timeline);
	const char *params[] = {src->host, port, tli};
	for (;;) {
		PGconn *c = pg_connect_admin(inst, NULL, NULL);
		if (c) {
			PGresult *r =
				pg_select(c,
					  "SELECT 1 FROM pg_catalog.pg_stat_wal_receiver "
					  "WHERE status = 'streaming' AND sender_host = $1 "
					  "AND sender_port = $2::int AND received_tli >= $3::int",
					  3, params, "Reading the replication state", NULL);
			bool ok = r && libpq.PQntuples(r) == 1;
			libpq.PQclear(r);
			libpq.PQfinish(c);
			if (ok) {
				log_info("replicating from %s:%d (slot %s) after %.3f s", src->host,
					 src->port, src->slot, guest_now() - t0);
				return 0;
			}
		}
		if (guest_now() - t0 > timeout_s)
			return ct_fail(err, 500,
				       "Replication from %s:%d did not start within %d s.",
				       src->host, src->port, timeout_s);
		guest_sleep_ms(100);
	}
}

/*
 * A base backup of src through this replica's slot, made beside the data
 * directory and put in its place only once complete: a failure leaves what
 * was there.
 */
static int basebackup(const struct guest_instance *inst, const struct pg_paths *p,
		      const struct guest_identity *id, const char *bin_dir,
		      const struct repl_source *src, struct ct_error *err)
{
	char conninfo[PATH_MAX * 2 + 512], tool[PATH_MAX + 32], tools_log[PATH_MAX + 32];
	char staging[PATH_MAX + 16];
	snprintf(staging, sizeof staging, "%s.seed", p->datadir);
	if (source_conninfo(inst, src, NULL, conninfo, sizeof conninfo, err) ||
	    guest_remove_tree(staging, err) || guest_mkdir(staging, 0700, id, err) ||
	    slot_command(inst, p, id, bin_dir, src, true, err))
		goto fail;
	snprintf(tool, sizeof tool, "%s/pg_basebackup", bin_dir);
	file_in(tools_log, sizeof tools_log, p->log_dir, TOOLS_LOG);
	const char *argv[] = {tool, "-D",     staging, "-d",	  conninfo,
			      "-X", "stream", "-S",    src->slot, "--checkpoint=fast",
			      "-w", NULL};
	double t0 = guest_now();
	if (guest_run(argv, tools_log, id, err)) {
		ct_fail(err, 500, "pg_basebackup from %s:%d failed; see %s.", src->host, src->port,
			tools_log);
		goto fail;
	}
	if (guest_remove_tree(p->datadir, err))
		goto fail;
	if (rename(staging, p->datadir)) {
		ct_fail(err, 500, "Cannot rename %s: %s", staging, strerror(errno));
		goto fail;
	}
	log_info("base backup from %s:%d (slot %s) in %.3f s", src->host, src->port, src->slot,
		 guest_now() - t0);
	return 0;
fail:
	guest_remove_tree(staging, NULL);
	return -1;
}

/* prepare with a snapshot: the data directory becomes a base backup of the
 * source, set up as its standby. Nothing is left in place when it fails. */
int pg_repl_seed(const struct guest_instance *inst, const struct pg_paths *p,
		 const struct guest_identity *id, const char *bin_dir, const json_t *snapshot,
		 struct ct_error *err)
{
	struct repl_source src;
	if (parse_source(inst, snapshot, &src, err))
		return -1;
	int rc = write_passfile(inst, id, &src, err);
	explicit_bzero(src.password, sizeof src.password);
	if (rc || guest_remove_tree(p->datadir, err) ||
	    basebackup(inst, p, id, bin_dir, &src, err) || write_standby_signal(p, id, err) ||
	    write_replica_conf(inst, p, id, &src, err)) {
		remove_replica_files(inst, p);
		guest_remove_tree(p->datadir, NULL);
		return -1;
	}
	return 0;
}

int pg_repl_wait_seeded(const struct guest_instance *inst, const struct pg_paths *p,
			struct ct_error *err)
{
	struct repl_source src;
	if (read_source(inst, p, &src, err))
		return -1;
	return wait_streaming(inst, &src, ATTACH_TIMEOUT_S, err);
}

#define REWIND_SLOT SLOT_PREFIX "rewind"

/*
 * A primary about to become a standby keeps its WAL from its last
 * checkpoint (a slot reserving from the redo point) until pg_rewind has read
 * it: its shutdown checkpoint would otherwise recycle the segment pg_rewind
 * looks for the common checkpoint in.
 */
static void hold_wal_for_rewind(const struct guest_instance *inst)
{
	struct ct_error e = {0};
	PGconn *c = pg_connect_admin(inst, NULL, &e);
	bool standby = true;
	if (c && !in_recovery(c, &standby, &e) && !standby && create_slot(c, REWIND_SLOT, &e))
		log_warning("WAL is not held for pg_rewind: %s", e.message);
	if (c)
		libpq.PQfinish(c);
}

/* A standby serves no replicas of its own: the slots it kept for them (and
 * for pg_rewind) would only hold WAL back. */
static void drop_replica_slots(const struct guest_instance *inst)
{
	struct ct_error e = {0};
	PGconn *c = pg_connect_admin(inst, NULL, &e);
	PGresult *r = c ? pg_select(c,
				    "SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM "
				    "pg_catalog.pg_replication_slots WHERE slot_name LIKE "
				    "'ctrove\\_replica\\_%' AND NOT active",
				    0, NULL, "Dropping the replicas' slots", &e)
			: NULL;
	if (!r)
		log_warning("the replicas' slots were not dropped: %s", e.message);
	libpq.PQclear(r);
	if (c)
		libpq.PQfinish(c);
}

/* True when the standby has received or replayed WAL of an older timeline
 * past the point src's timeline began: it cannot follow src without pg_rewind. */
static int standby_diverged(PGconn *c, const struct repl_source *src, bool *diverged,
			    struct ct_error *err)
{
	*diverged = false;
	if (!src->timeline || !src->switchpoint)
		return 0;
	PGresult *r =
		pg_select(c,
			  "SELECT greatest(pg_catalog.pg_last_wal_receive_lsn(), "
			  "pg_catalog.pg_last_wal_replay_lsn())::text, greatest(coalesce((SELECT "
			  "received_tli "
			  "FROM pg_catalog.pg_stat_wal_receiver), 0), (SELECT timeline_id FROM "
			  "pg_catalog.pg_control_checkpoint()))",
			  0, NULL, "Reading the standby's position", err);
	if (!r)
		return -1;
	uint64_t pos = 0;
	if (libpq.PQntuples(r) == 1 && !parse_lsn(libpq.PQgetvalue(r, 0, 0), &pos))
		*diverged = (unsigned)atoi(libpq.PQgetvalue(r, 0, 1)) < src->timeline &&
			    pos > src->switchpoint;
	libpq.PQclear(r);
	return 0;
}

/* Stopped server → rewound onto the source's timeline (pg_rewind says "no
 * rewind required" when it has not diverged; when it cannot rewind, a new
 * base backup replaces the data directory) → standby → started. A standby
 * that went past the source's switchpoint gets the base backup at once
 * (rewind=false): its restartpoints may have recycled the WAL back to the
 * last common checkpoint, and it would then wait for that WAL forever. */
static int rewind_and_start(const struct guest_instance *inst, const struct pg_paths *p,
			    const struct repl_source *src, bool rewind, struct ct_error *err)
{
	struct guest_identity id;
	char bin_dir[PATH_MAX], conninfo[PATH_MAX * 2 + 512], tool[PATH_MAX + 32];
	char tools_log[PATH_MAX + 32], target[PATH_MAX + 32], conf[PATH_MAX + 32];
	if (pg_server_pid(p))
		hold_wal_for_rewind(inst);
	if (guest_identity_resolve(inst->os_user, &id, err) ||
	    pg_bin_dir(p, bin_dir, sizeof bin_dir, err) < 0 || pg_server_stop(inst, p, err) ||
	    source_conninfo(inst, src, "postgres", conninfo, sizeof conninfo, err) ||
	    slot_command(inst, p, &id, bin_dir, src, true, err))
		return -1;
	snprintf(tool, sizeof tool, "%s/pg_rewind", bin_dir);
	snprintf(target, sizeof target, "--target-pgdata=%s", p->datadir);
	snprintf(conf, sizeof conf, "--config-file=%s", p->conf);
	file_in(tools_log, sizeof tools_log, p->log_dir, TOOLS_LOG);
	const char *argv[] = {tool, target, "--source-server", conninfo, conf, NULL};
	double t0 = guest_now();
	if (!rewind) {
		if (basebackup(inst, p, &id, bin_dir, src, err))
			return -1;
	} else if (guest_run(argv, tools_log, &id, err)) {
		log_warning("pg_rewind from %s:%d failed (see %s); taking a new base backup",
			    src->host, src->port, tools_log);
		if (basebackup(inst, p, &id, bin_dir, src, err))
			return -1;
	} else {
		log_info("pg_rewind from %s:%d in %.3f s", src->host, src->port, guest_now() - t0);
	}
	/* Its own os_admin password is the source's now; the agent logs in by peer. */
	unlink(p->admin_cnf);
	if (write_standby_signal(p, &id, err) || pg_server_start(inst, p, NULL, err))
		return -1;
	drop_replica_slots(inst);
	return wait_streaming(inst, src, ATTACH_TIMEOUT_S, err);
}

int pg_attach_replica(const struct guest_instance *inst, const json_t *replica_info, bool restart,
		      struct ct_error *err)
{
	struct pg_paths p;
	struct guest_identity id;
	struct repl_source src;
	if (pg_paths(inst, &p, err) || parse_source(inst, replica_info, &src, err) ||
	    guest_identity_resolve(inst->os_user, &id, err))
		return -1;
	int rc = write_passfile(inst, &id, &src, err);
	explicit_bzero(src.password, sizeof src.password);
	if (rc || write_replica_conf(inst, &p, &id, &src, err))
		return -1;
	bool standby = false;
	PGconn *c = pg_server_pid(&p) ? pg_connect_admin(inst, NULL, NULL) : NULL;
	if (c && in_recovery(c, &standby, err)) {
		libpq.PQfinish(c);
		return -1;
	}
	if (c && standby) {
		/* A running standby follows the new source after a reload, unless
		 * it has WAL past the point the source's timeline forked at. */
		char bin_dir[PATH_MAX];
		bool diverged = false;
		PGresult *r = standby_diverged(c, &src, &diverged, err) ||
					      pg_bin_dir(&p, bin_dir, sizeof bin_dir, err) < 0 ||
					      slot_command(inst, &p, &id, bin_dir, &src, true, err)
				      ? NULL
				      : pg_select(c, "SELECT pg_catalog.pg_reload_conf()", 0, NULL,
						  "Reloading the server's config", err);
		libpq.PQclear(r);
		libpq.PQfinish(c);
		if (!r)
			return -1;
		if (diverged) {
			log_info("has WAL past %s:%d's timeline %u: taking a new base backup",
				 src.host, src.port, src.timeline);
			return rewind_and_start(inst, &p, &src, false, err);
		}
		log_info("re-pointed to %s:%d", src.host, src.port);
		struct ct_error first = {0};
		if (!wait_streaming(inst, &src, REPOINT_TIMEOUT_S, &first))
			return 0;
		log_warning("%s: taking a new base backup", first.message);
		return rewind_and_start(inst, &p, &src, false, err);
	}
	if (c)
		libpq.PQfinish(c);
	if (c && !restart)
		hold_wal_for_rewind(inst);
	/* A primary (or a stopped server): it becomes a standby at restart, or
	 * at demote_replication_master (Trove's promote order). */
	if (!restart) {
		log_info("will replicate from %s:%d once demoted", src.host, src.port);
		return 0;
	}
	return rewind_and_start(inst, &p, &src, true, err);
}

int pg_demote_replication_master(const struct guest_instance *inst, struct ct_error *err)
{
	struct pg_paths p;
	struct repl_source src;
	if (pg_paths(inst, &p, err))
		return -1;
	if (!pg_repl_is_replica(&p))
		return ct_fail(err, 422,
			       "Instance %s has no replication source to follow; call "
			       "attach_replica first.",
			       inst->id);
	if (read_source(inst, &p, &src, err))
		return -1;
	return rewind_and_start(inst, &p, &src, true, err);
}

/* Best effort: the source may be gone (failover); its WAL cap
 * (max_slot_wal_keep_size) bounds what a forgotten slot holds. */
static void drop_own_slot(const struct guest_instance *inst, const struct pg_paths *p,
			  const struct repl_source *src)
{
	struct guest_identity id;
	char bin_dir[PATH_MAX];
	struct ct_error e = {0};
	if (guest_identity_resolve(inst->os_user, &id, &e) ||
	    pg_bin_dir(p, bin_dir, sizeof bin_dir, &e) < 0 ||
	    slot_command(inst, p, &id, bin_dir, src, false, &e))
		log_warning("slot %s on %s:%d was not dropped: %s", src->slot, src->host, src->port,
			    e.message);
	else
		log_info("dropped slot %s on %s:%d", src->slot, src->host, src->port);
}

json_t *pg_detach_replica(const struct guest_instance *inst, bool for_failover,
			  struct ct_error *err)
{
	struct pg_paths p;
	struct repl_source src;
	if (pg_paths(inst, &p, err))
		return NULL;
	if (!pg_repl_is_replica(&p))
		return json_pack("{s:n}", "replication_user");
	if (read_source(inst, &p, &src, err))
		return NULL;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	bool standby = false;
	int rc = in_recovery(c, &standby, err);
	if (!rc && standby) {
		PGresult *r = pg_select(c, "SELECT pg_catalog.pg_promote(true, 60)", 0, NULL,
					"Promoting the replica", err);
		rc = r && libpq.PQgetvalue(r, 0, 0)[0] == 't'
			     ? 0
			     : (r ? ct_fail(err, 500, "The replica was not promoted in %d s.",
					    PROMOTE_TIMEOUT_S)
				  : -1);
		libpq.PQclear(r);
	}
	libpq.PQfinish(c);
	if (rc)
		return NULL;
	/* A primary of its own: settings gone, and an os_admin password of its
	 * own (the replicated one is the old source's). */
	/* Its slot on the source: dropped here when the source lives on; on a
	 * failover or promote the source is dead or fenced (a connection would
	 * only wait out its timeout) or becomes a standby, whose demotion drops
	 * the slots it kept. */
	if (!for_failover)
		drop_own_slot(inst, &p, &src);
	remove_replica_files(inst, &p);
	c = pg_connect_bootstrap(inst, err);
	if (!c)
		return NULL;
	PGresult *r = pg_select(c, "SELECT pg_catalog.pg_reload_conf()", 0, NULL,
				"Reloading the server's config", err);
	libpq.PQclear(r);
	libpq.PQfinish(c);
	if (!r || pg_secure(inst, &p, err))
		return NULL;
	log_info("detached from %s:%d%s", src.host, src.port, for_failover ? " (failover)" : "");
	return json_pack("{s:s}", "replication_user", src.user);
}

int pg_enable_as_master(const struct guest_instance *inst, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	bool standby = false;
	int rc = in_recovery(c, &standby, err);
	libpq.PQfinish(c);
	if (!rc && standby)
		rc = ct_fail(err, 422, "Instance %s is still a replica; detach it first.",
			     inst->id);
	return rc;
}

/* Trove's PostgreSQL make_read_only is a no-op too: writes stop when the
 * server is demoted (its standby refuses them). */
int pg_make_read_only(const struct guest_instance *inst, bool read_only, struct ct_error *err)
{
	(void)inst, (void)err;
	log_info("make_read_only(%s): nothing to do for PostgreSQL", read_only ? "true" : "false");
	return 0;
}

/* --- positions ---------------------------------------------------------------------- */

static const char POSITION_SQL[] =
	"SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()"
	" ELSE pg_catalog.pg_current_wal_lsn() END";

json_t *pg_get_latest_txn_id(const struct guest_instance *inst, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	PGresult *r = pg_select(c, POSITION_SQL, 0, NULL, "Reading the WAL position", err);
	libpq.PQfinish(c);
	if (!r)
		return NULL;
	json_t *out = libpq.PQntuples(r) == 1 && !libpq.PQgetisnull(r, 0, 0)
			      ? json_string(libpq.PQgetvalue(r, 0, 0))
			      : NULL;
	libpq.PQclear(r);
	if (!out)
		ct_fail(err, 500, "The server has no WAL position.");
	return out;
}

/* "X/Y" (hex halves) → 64-bit LSN; compared as numbers, not as text
 * (Trove's BUG-18). */
static int parse_lsn(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long hi = strtoull(s, &end, 16);
	if (errno || *end != '/' || hi > 0xffffffffull || !isxdigit((unsigned char)end[1]))
		return -1;
	unsigned long long lo = strtoull(end + 1, &end, 16);
	if (errno || *end || lo > 0xffffffffull)
		return -1;
	*out = (uint64_t)hi << 32 | lo;
	return 0;
}

int pg_wait_for_txn(const struct guest_instance *inst, const char *txn, int timeout_s,
		    struct ct_error *err)
{
	uint64_t want, have = 0;
	if (parse_lsn(txn, &want))
		return ct_fail(err, 400, "%.64s is not a WAL position (like 0/3000148).",
			       txn ? txn : "(none)");
	if (timeout_s <= 0)
		timeout_s = 60;
	double t0 = guest_now();
	for (;;) {
		PGconn *c = pg_connect_admin(inst, NULL, err);
		if (!c)
			return -1;
		PGresult *r = pg_select(c, POSITION_SQL, 0, NULL, "Reading the WAL position", err);
		libpq.PQfinish(c);
		if (!r)
			return -1;
		bool ok = libpq.PQntuples(r) == 1 && !libpq.PQgetisnull(r, 0, 0) &&
			  !parse_lsn(libpq.PQgetvalue(r, 0, 0), &have) && have >= want;
		libpq.PQclear(r);
		if (ok)
			return 0;
		if (guest_now() - t0 > timeout_s)
			return ct_fail(err, 504,
				       "The replica did not reach WAL position %s within %d s.",
				       txn, timeout_s);
		guest_sleep_ms(50);
	}
}

/* [system identifier (the same on a source and all its replicas), replayed
 * (or, on a source, written) WAL position as an integer]. */
json_t *pg_get_last_txn(const struct guest_instance *inst, struct ct_error *err)
{
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return NULL;
	PGresult *r =
		pg_select(c,
			  "SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system())"
			  "::text, (SELECT * FROM (" /* the position, as text */
			  "SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN "
			  "pg_catalog.pg_last_wal_replay_lsn() ELSE "
			  "pg_catalog.pg_current_wal_lsn() END) l)::text",
			  0, NULL, "Reading the last transaction", err);
	libpq.PQfinish(c);
	if (!r)
		return NULL;
	uint64_t lsn = 0;
	json_t *out = NULL;
	if (libpq.PQntuples(r) == 1 && !libpq.PQgetisnull(r, 0, 1) &&
	    !parse_lsn(libpq.PQgetvalue(r, 0, 1), &lsn) && lsn <= INT64_MAX)
		out = json_pack("[s,I]", libpq.PQgetvalue(r, 0, 0), (json_int_t)lsn);
	libpq.PQclear(r);
	if (!out)
		ct_fail(err, 500, "The server has no WAL position.");
	return out;
}

/* --- synchronous commit --------------------------------------------------------------- */

/* synchronous_standby_names = 'ANY 1 (*)': a commit returns once one
 * replica has flushed it; '' (the file removed): asynchronous. By reload. */
int pg_set_synchronous_replication(const struct guest_instance *inst, bool enabled,
				   struct ct_error *err)
{
	struct pg_paths p;
	struct guest_identity id;
	char path[PATH_MAX + 32];
	if (pg_paths(inst, &p, err) || guest_identity_resolve(inst->os_user, &id, err))
		return -1;
	file_in(path, sizeof path, p.confd, SYNC_CONF);
	static const char text[] = "# ctrove guest agent: set_synchronous_replication(true).\n"
				   "synchronous_standby_names = 'ANY 1 (*)'\n"
				   "synchronous_commit = on\n";
	if (enabled) {
		if (guest_write_file_owned(path, text, sizeof text - 1, 0600, &id, err))
			return -1;
	} else if (unlink(path) && errno != ENOENT) {
		return ct_fail(err, 500, "Cannot remove %s: %s", path, strerror(errno));
	}
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	PGresult *r = pg_select(c, "SELECT pg_catalog.pg_reload_conf()", 0, NULL,
				"Reloading the server's config", err);
	libpq.PQclear(r);
	libpq.PQfinish(c);
	if (!r)
		return -1;
	log_info("synchronous replication %s", enabled ? "on" : "off");
	return 0;
}

/* --- a standby's users and databases are its source's ---------------------------- */

int pg_repl_refuse_on_replica(const struct guest_instance *inst, struct ct_error *err)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, err))
		return -1;
	if (pg_repl_is_replica(&p))
		return ct_fail(err, 400, "Instance %s is a replica and is read only.", inst->id);
	return 0;
}
