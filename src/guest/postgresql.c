/*
 * postgresql.c — the PostgreSQL datastore manager: prepare (§2.6, §2.7), the
 * server's life (start, stop, restart, status: §1.5, §7.1, §7.2), the config
 * it renders from flavor RAM, and the operation table for the manager
 * "postgresql". The postmaster runs detached (own session, not the agent's
 * child) as the unprivileged service user, as `postgres -D <data_dir>/data
 * -c config_file=<run_dir>/postgresql.conf`; config, pg_hba, pg_ident, socket,
 * log and credentials live in run_dir, so a data directory is only data.
 * Data directories are copies of a template cluster initialised once per
 * server build under cache_dir (initdb ~0.5 s, a copy ~0.05 s). The template
 * has only the bootstrap superuser `postgres`, reachable by peer
 * authentication over the socket from the agent's OS user alone;
 * prepare adds os_admin (password in a 0600 file, socket only) and whatever it
 * was asked for; or, given a backup_info, restores a backup chain first
 * (postgresql_backup.c). See docs/guest-postgresql.md.
 * Owns the instance's run_dir and <data_dir>/data; may not touch the volume
 * outside <data_dir>/data, nor any other instance.
 */
#define LOG_MODULE "guest.postgresql"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/dbnames.h"
#include "common/log.h"
#include "guest/backup_models.h"
#include "guest/postgresql_internal.h"
#include "guest/tls_files.h"
#include "os/proc.h"

#define PG_LIB_DIR	 "/usr/lib/postgresql"
#define PG_DEFAULT_MAJOR 15
#define START_TIMEOUT_MS 180000
#define STOP_TIMEOUT_MS	 180000
#define CONFIG_MAX	 65536
/* What the template is initialised with; part of its cache key. */
#define INITDB_ARGS "-U postgres -E UTF8 --locale=C.UTF-8 --data-checksums"

/* --- server binaries ------------------------------------------------------------ */

static bool bin_dir_of(int major, char *out, size_t size)
{
	char path[PATH_MAX + 16];
	if ((size_t)snprintf(out, size, "%s/%d/bin", PG_LIB_DIR, major) >= size ||
	    (size_t)snprintf(path, sizeof path, "%s/postgres", out) >= sizeof path)
		return false;
	return access(path, X_OK) == 0;
}

/* The installed major version for ds_version ("15", "15.4"; NULL: 15, else
 * the newest installed). */
static int pick_major(const char *ds_version, char *bin, size_t size, struct ct_error *err)
{
	int want = ds_version && *ds_version ? atoi(ds_version) : 0;
	if (want > 0) {
		if (bin_dir_of(want, bin, size))
			return want;
		return ct_fail(err, 501, "PostgreSQL %d is not installed.", want);
	}
	if (bin_dir_of(PG_DEFAULT_MAJOR, bin, size))
		return PG_DEFAULT_MAJOR;
	int best = 0;
	DIR *d = opendir(PG_LIB_DIR);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int v = atoi(e->d_name);
		char tmp[PATH_MAX];
		if (v > best && bin_dir_of(v, tmp, sizeof tmp))
			best = v;
	}
	if (d)
		closedir(d);
	if (!best)
		return ct_fail(err, 501, "No PostgreSQL server is installed.");
	bin_dir_of(best, bin, size);
	return best;
}

/* The major version a data directory was made by (its PG_VERSION), or 0. */
static int data_major(const struct pg_paths *p)
{
	char path[PATH_MAX + 16], buf[16] = "";
	snprintf(path, sizeof path, "%s/PG_VERSION", p->datadir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 ? atoi(buf) : 0;
}

/* --- files and directories ------------------------------------------------------ */

/* Everything the server reads or writes is its identity's alone (0700); the
 * run directory is root's and searchable only, the credentials root's. */
static int make_dirs(const struct guest_instance *inst, const struct pg_paths *p,
		     const struct guest_identity *id, struct ct_error *err)
{
	if (guest_mkdir(inst->data_dir, 0700, id, err) ||
	    guest_mkdir(inst->run_dir, 0711, NULL, err) || guest_mkdir(p->confd, 0700, id, err) ||
	    guest_mkdir(p->sock_dir, 0700, id, err) || guest_mkdir(p->log_dir, 0700, id, err) ||
	    guest_mkdir(p->cred_dir, 0700, NULL, err))
		return -1;
	return 0;
}

/* A postgresql.conf string: quotes doubled; NUL/CR/LF cannot be in a value. */
static int conf_str(char *out, size_t size, const char *value, struct ct_error *err)
{
	size_t o = 0;
	if (size < 3)
		return ct_fail(err, 500, "Value too long.");
	out[o++] = '\'';
	for (const char *s = value; *s; s++) {
		if (*s == '\n' || *s == '\r')
			return ct_fail(err, 500, "A config value contains a line break.");
		if (o + 4 >= size)
			return ct_fail(err, 500, "A config value is too long.");
		if (*s == '\'' || *s == '\\')
			out[o++] = *s;
		out[o++] = *s;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return 0;
}

static int clamp(long v, long lo, long hi)
{
	return (int)(v < lo ? lo : v > hi ? hi : v);
}

/*
 * The base config for a flavor of memory_mb: shared_buffers a quarter of RAM
 * (16 MB .. 8 GB), effective_cache_size three quarters, max_connections 100 per
 * 512 MB (20 .. 500, as Trove's template), work_mem what is left after shared
 * buffers spread over three sorts per connection (1 .. 64 MB), and a config
 * that starts on PG 15 (no wal_keep_segments: [BUG-18] 3).
 */
static int render_config(int memory_mb, char *out, size_t size, struct ct_error *err)
{
	long ram = memory_mb > 0 ? memory_mb : 512;
	int shared = clamp(ram / 4, 16, 8192);
	int cache = clamp(ram * 3 / 4, 48, 1 << 20);
	int conns = clamp(ram * 100 / 512, 20, 500);
	int work_kb = clamp((ram - shared) * 1024 / (conns * 3L), 1024, 65536);
	int maint = clamp(ram / 16, 16, 2048);
	int n = snprintf(out, size,
			 "# Rendered by the ctrove guest agent for %ld MB of RAM.\n"
			 "max_connections = %d\n"
			 "shared_buffers = %dMB\n"
			 "effective_cache_size = %dMB\n"
			 "work_mem = %dkB\n"
			 "maintenance_work_mem = %dMB\n"
			 "huge_pages = off\n"
			 "dynamic_shared_memory_type = posix\n"
			 "wal_level = replica\n"
			 "max_wal_size = 1GB\n"
			 "min_wal_size = 80MB\n"
			 "wal_keep_size = 0\n"
			 "max_wal_senders = 10\n"
			 "password_encryption = scram-sha-256\n"
			 "log_line_prefix = '%%m [%%p] %%q%%u@%%d '\n"
			 "log_timezone = 'UTC'\n"
			 "timezone = 'UTC'\n"
			 "datestyle = 'iso, mdy'\n"
			 "lc_messages = 'C'\n"
			 "lc_monetary = 'C.UTF-8'\n"
			 "lc_numeric = 'C.UTF-8'\n"
			 "lc_time = 'C.UTF-8'\n"
			 "default_text_search_config = 'pg_catalog.english'\n",
			 ram, conns, shared, cache, work_kb, maint);
	if (n < 0 || (size_t)n >= size)
		return ct_fail(err, 500, "The config is too long.");
	return 0;
}

/*
 * The WAL the backups' replication slot may hold back (postgresql_backup.c):
 * a quarter of the volume, at least 64 MB, so a forgotten incremental chain
 * cannot fill it; past that the slot is invalidated and the next incremental
 * asks for a full backup.
 */
static long slot_keep_mb(const struct guest_instance *inst)
{
	struct statvfs vfs;
	long mb = 0;
	if (!statvfs(inst->data_dir, &vfs))
		mb = (long)((unsigned long long)vfs.f_blocks * vfs.f_frsize / 4 / (1024 * 1024));
	return mb < 64 ? 64 : mb;
}

static bool is_include_line(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return !strncmp(line, "include", 7);
}

/*
 * postgresql.conf = the base config (config_contents, or rendered from
 * memory_mb) minus its include lines, then include_dir <run>/conf.d, then the
 * settings that make it this instance (paths, address, authentication). The
 * last setting of a name wins, so the base config cannot move the instance.
 */
static int write_config(const struct guest_instance *inst, const struct pg_paths *p,
			const struct guest_identity *id, const char *contents, struct ct_error *err)
{
	char *base = NULL;
	if (!contents || !*contents) {
		base = malloc(CONFIG_MAX);
		if (!base)
			return ct_fail(err, 500, "Out of memory.");
		if (render_config(inst->memory_mb, base, CONFIG_MAX, err)) {
			free(base);
			return -1;
		}
		contents = base;
	}
	char q_data[PATH_MAX * 2 + 3], q_hba[PATH_MAX * 2 + 3], q_ident[PATH_MAX * 2 + 3];
	char q_sock[PATH_MAX * 2 + 3], q_confd[PATH_MAX * 2 + 3], q_addr[140];
	if (conf_str(q_data, sizeof q_data, p->datadir, err) ||
	    conf_str(q_hba, sizeof q_hba, p->hba, err) ||
	    conf_str(q_ident, sizeof q_ident, p->ident, err) ||
	    conf_str(q_sock, sizeof q_sock, p->sock_dir, err) ||
	    conf_str(q_confd, sizeof q_confd, p->confd, err) ||
	    conf_str(q_addr, sizeof q_addr,
		     inst->bind_address[0] ? inst->bind_address : "localhost", err)) {
		free(base);
		return -1;
	}
	size_t cap = strlen(contents) + 16384;
	char *out = malloc(cap);
	if (!out) {
		free(base);
		return ct_fail(err, 500, "Out of memory.");
	}
	size_t n =
		(size_t)snprintf(out, cap,
				 "# ctrove guest agent, instance %s. Generated at every prepare; "
				 "do not edit.\n\n",
				 inst->id);
	for (const char *line = contents; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		if (!is_include_line(line)) {
			memcpy(out + n, line, len);
			n += len;
		}
		line += len;
	}
	int w = snprintf(out + n, cap - n,
			 "\ninclude_dir = %s\n\n"
			 "# This instance (always last, so these win).\n"
			 "data_directory = %s\nhba_file = %s\nident_file = %s\n"
			 "listen_addresses = %s\nport = %d\n"
			 "unix_socket_directories = %s\nunix_socket_permissions = 0700\n"
			 "password_encryption = scram-sha-256\n"
			 "logging_collector = off\nlog_destination = 'stderr'\n"
			 "# Backups' WAL slot may keep at most this much (docs/backups.md).\n"
			 "max_slot_wal_keep_size = %ldMB\n",
			 q_confd, q_data, q_hba, q_ident, q_addr, inst->port, q_sock,
			 slot_keep_mb(inst));
	free(base);
	if (w < 0 || (size_t)w >= cap - n) {
		free(out);
		return ct_fail(err, 500, "The config is too long.");
	}
	n += (size_t)w;
	struct guest_tls_paths tls;
	char q_cert[PATH_MAX * 2 + 3], q_key[PATH_MAX * 2 + 3], q_ca[PATH_MAX * 2 + 3];
	if (guest_tls_paths(inst, &tls, err) ||
	    (guest_tls_present(&tls) && (conf_str(q_cert, sizeof q_cert, tls.cert, err) ||
					 conf_str(q_key, sizeof q_key, tls.key, err) ||
					 conf_str(q_ca, sizeof q_ca, tls.ca, err)))) {
		free(out);
		return -1;
	}
	if (guest_tls_present(&tls)) {
		w = snprintf(out + n, cap - n,
			     "# TLS with the instance's certificate (docs/tls.md).\n"
			     "ssl = on\nssl_cert_file = %s\nssl_key_file = %s\nssl_ca_file = %s\n",
			     q_cert, q_key, q_ca);
		if (w < 0 || (size_t)w >= cap - n) {
			free(out);
			return ct_fail(err, 500, "The config is too long.");
		}
		n += (size_t)w;
	}
	int rc = guest_write_file_owned(p->conf, out, n, 0600, id, err);
	free(out);
	return rc;
}

/*
 * pg_hba: the bootstrap superuser by peer authentication from the agent's OS
 * user only (pg_ident map "ctrove": not even the server's own identity, so
 * nothing a tenant's superuser starts with COPY ... TO PROGRAM logs in by
 * peer); os_admin by password, socket only (also for replication: backups
 * run pg_basebackup as os_admin); nobody else over the socket; over
 * TCP postgres, os_admin and replication are rejected and every other role
 * needs scram-sha-256 — over TLS only (hostssl) when the configuration group
 * says require_secure_transport.
 */
int pg_write_hba(const struct pg_paths *p, const struct guest_identity *id, bool require_tls,
		 struct ct_error *err)
{
	static const char hba[] = "# ctrove guest agent. Generated at every prepare; do not edit.\n"
				  "# TYPE  DATABASE     USER      ADDRESS     METHOD\n"
				  "local   all          postgres              peer map=ctrove\n"
				  "local   all          os_admin              scram-sha-256\n"
				  "local   replication  os_admin              scram-sha-256\n"
				  "local   all          all                   reject\n"
				  "host    all          postgres  0.0.0.0/0   reject\n"
				  "host    all          postgres  ::/0        reject\n"
				  "host    all          os_admin  0.0.0.0/0   reject\n"
				  "host    all          os_admin  ::/0        reject\n";
	/* Replication: only the roles replicas connect as, only from their
	 * addresses (postgresql_replication.c); nobody else. */
	static const char repl_reject[] = "host    replication  all       0.0.0.0/0   reject\n"
					  "host    replication  all       ::/0        reject\n";
	static const char tenants[] = "host    all          all       0.0.0.0/0   scram-sha-256\n"
				      "host    all          all       ::/0        scram-sha-256\n";
	static const char tenants_tls[] =
		"hostssl all          all       0.0.0.0/0   scram-sha-256\n"
		"hostssl all          all       ::/0        scram-sha-256\n";
	char text[sizeof hba + sizeof repl_reject + sizeof tenants_tls + 16384];
	size_t len = (size_t)snprintf(text, sizeof text, "%s", hba);
	len += pg_repl_hba_lines(p, text + len,
				 sizeof text - len - sizeof repl_reject - sizeof tenants_tls);
	len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", repl_reject,
				require_tls ? tenants_tls : tenants);
	if (guest_write_file_owned(p->hba, text, len, 0600, id, err))
		return -1;
	char self[64], ident[512];
	guest_self_name(self, sizeof self);
	int n = snprintf(ident, sizeof ident,
			 "# ctrove guest agent: the OS user that may log in as postgres.\n"
			 "ctrove  %s  postgres\n",
			 self);
	return guest_write_file_owned(p->ident, ident, (size_t)n, 0600, id, err);
}

/* FNV-1a over the server build and the initdb arguments: a template is reused
 * only by the build that made it. */
static uint64_t template_key(const char *bin_dir)
{
	uint64_t h = 1469598103934665603ull;
#define MIX(ptr, len)                                                                              \
	for (size_t k_ = 0; k_ < (len); k_++) {                                                    \
		h ^= ((const unsigned char *)(ptr))[k_];                                           \
		h *= 1099511628211ull;                                                             \
	}
	char path[PATH_MAX + 16];
	struct stat st;
	if ((size_t)snprintf(path, sizeof path, "%s/postgres", bin_dir) < sizeof path &&
	    !stat(path, &st)) {
		MIX(&st.st_ino, sizeof st.st_ino);
		MIX(&st.st_size, sizeof st.st_size);
		MIX(&st.st_mtime, sizeof st.st_mtime);
	}
	MIX(INITDB_ARGS, sizeof INITDB_ARGS);
#undef MIX
	return h;
}

static bool has_cluster(const char *dir)
{
	char path[PATH_MAX + 16];
	if ((size_t)snprintf(path, sizeof path, "%s/PG_VERSION", dir) >= sizeof path)
		return false;
	return access(path, F_OK) == 0;
}

/* initdb into dir (empty, owned by the service user) as the service user.
 * Its config files are removed: the instance's live in run_dir. */
static int run_initdb(const char *bin_dir, const struct guest_identity *id, const char *dir,
		      const char *tools_log, struct ct_error *err)
{
	char initdb[PATH_MAX];
	snprintf(initdb, sizeof initdb, "%s/initdb", bin_dir);
	const char *argv[] = {initdb,
			      "-D",
			      dir,
			      "-U",
			      "postgres",
			      "-E",
			      "UTF8",
			      "--locale=C.UTF-8",
			      "--data-checksums",
			      "--auth-local=peer",
			      "--auth-host=reject",
			      "--no-instructions",
			      NULL};
	if (guest_run(argv, tools_log, id, err))
		return ct_fail(err, 500, "initdb failed; see %s.", tools_log);
	static const char *const drop[] = {"postgresql.conf", "pg_hba.conf", "pg_ident.conf", NULL};
	for (size_t i = 0; drop[i]; i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/%s", dir, drop[i]);
		unlink(path);
	}
	return 0;
}

struct initdb_args {
	const char *bin_dir;
	const struct guest_identity *id;
	const char *tools_log;
};

static int initdb_into(const void *ctx, const char *dir, struct ct_error *err)
{
	const struct initdb_args *a = ctx;
	return run_initdb(a->bin_dir, a->id, dir, a->tools_log, err);
}

/* Put a fresh cluster in place: a copy of the cached template (made now if
 * missing), or initdb straight into it when there is no cache. Built beside
 * the final path and renamed, so a crash leaves no half copy. */
static int init_datadir(const struct guest_instance *inst, const struct pg_paths *p,
			const struct guest_identity *id, const char *bin_dir, int major,
			struct ct_error *err)
{
	char tools_log[PATH_MAX + 16], staging[PATH_MAX + 16], tmpl[PATH_MAX + 64];
	/* In the service user's log directory: initdb writes it as that user. */
	snprintf(tools_log, sizeof tools_log, "%s/tools.log", p->log_dir);
	snprintf(staging, sizeof staging, "%s.new", p->datadir);
	if (guest_remove_tree(staging, err) || guest_remove_tree(p->datadir, err))
		return -1;
	if (!inst->cache_dir[0]) {
		if (guest_mkdir(staging, 0700, id, err) ||
		    run_initdb(bin_dir, id, staging, tools_log, err))
			return -1;
	} else {
		snprintf(tmpl, sizeof tmpl, "%s/postgresql-%d-%016llx", inst->cache_dir, major,
			 (unsigned long long)template_key(bin_dir));
		struct initdb_args args = {bin_dir, id, tools_log};
		if (!has_cluster(tmpl) &&
		    guest_template_build(inst->cache_dir, tmpl, 0700, id, initdb_into, &args, err))
			return -1;
		if (guest_copy_tree(tmpl, staging, tools_log, err))
			return -1;
	}
	/* The copy is root's, like the template: hand it to this instance alone. */
	if (id->drop && guest_chown_tree(staging, id->uid, id->gid, err))
		return -1;
	if (chmod(staging, 0700))
		return ct_fail(err, 500, "Cannot chmod %s: %s", staging, strerror(errno));
	if (rename(staging, p->datadir))
		return ct_fail(err, 500, "Cannot rename %s: %s", staging, strerror(errno));
	return 0;
}

/* --- the server process ------------------------------------------------------------ */

/* Line 8 of postmaster.pid: "ready" once the postmaster accepts connections
 * (what pg_ctl waits for; polling it adds nothing to the server's log). */
static bool pidfile_ready(const struct pg_paths *p)
{
	char buf[1024];
	int fd = open(p->pid, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *line = buf;
	for (int i = 1; i < 8 && line; i++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return line && !strncmp(line, "ready", 5);
}

static pid_t running_pid(const struct pg_paths *p)
{
	pid_t pid = guest_pidfile_read(p->pid);
	return guest_proc_state(pid, "postgres") == GUEST_PROC_GONE ? 0 : pid;
}

/*
 * After a kill -9 of the postmaster its children notice and exit within
 * milliseconds; a new postmaster refuses to start while they still hold the
 * old shared memory. They are the old postmaster's process group (it led its
 * own session). Once none is left, the old lock files go: the postmaster
 * checks them with kill(pid, 0), which a dead postmaster nobody has reaped
 * yet (a zombie: it is not the agent's child) would still pass.
 */
static void clear_stale(const struct pg_paths *p)
{
	pid_t old = guest_pidfile_read(p->pid);
	if (old <= 1 || guest_proc_state(old, "postgres") != GUEST_PROC_GONE)
		return;
	double t0 = guest_now();
	while (os_proc_group_alive(old)) {
		if (guest_now() - t0 > 10.0)
			return; /* let the postmaster say what holds it */
		guest_sleep_ms(5);
	}
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof lock, "%s.lock", p->sock);
	if (guest_pidfile_read(lock) == old)
		unlink(lock);
	unlink(p->pid);
	log_warning("removed the lock files of postmaster %d, which is gone", (int)old);
}

/* extra: "name=value" settings for this start only (a restore's recovery
 * settings), NULL-terminated; NULL = none. */
static int start_server_with(const struct guest_instance *inst, const struct pg_paths *p,
			     const char *const *extra, struct ct_error *err)
{
	struct guest_identity id;
	char bin_dir[PATH_MAX], postgres[PATH_MAX + 16], a_conf[PATH_MAX + 16];
	int major = data_major(p);
	if (!major)
		return ct_fail(err, 422, "The instance has no database cluster; prepare it first.");
	if (!bin_dir_of(major, bin_dir, sizeof bin_dir))
		return ct_fail(err, 501, "PostgreSQL %d is not installed.", major);
	if (guest_identity_resolve(inst->os_user, &id, err) || make_dirs(inst, p, &id, err))
		return -1;
	unlink(p->stopped);
	if (running_pid(p) && pidfile_ready(p))
		return 0;
	clear_stale(p);
	snprintf(postgres, sizeof postgres, "%s/postgres", bin_dir);
	snprintf(a_conf, sizeof a_conf, "config_file=%s", p->conf);
	const char *argv[5 + 2 * PG_EXTRA_SETTINGS_MAX + 1] = {postgres, "-D", p->datadir, "-c",
							       a_conf};
	size_t argc = 5;
	for (size_t i = 0; extra && extra[i]; i++) {
		if (i == PG_EXTRA_SETTINGS_MAX)
			return ct_fail(err, 500, "Too many start-up settings.");
		argv[argc++] = "-c";
		argv[argc++] = extra[i];
	}
	argv[argc] = NULL;
	double t0 = guest_now();
	pid_t pid = guest_spawn_detached(argv, p->log, &id, err);
	if (pid < 0)
		return -1;
	/* Ready: our postmaster wrote "ready" into its pid file. */
	while (!(guest_pidfile_read(p->pid) == pid && pidfile_ready(p))) {
		if (guest_proc_state(pid, "postgres") == GUEST_PROC_GONE) {
			guest_log_tail(p->log);
			return ct_fail(err, 500,
				       "The database server exited during start-up; see %s.",
				       p->log);
		}
		if (guest_now() - t0 > START_TIMEOUT_MS / 1000.0) {
			guest_proc_terminate(pid, "postgres", SIGQUIT, 5000);
			return ct_fail(err, 500, "The database server did not start in %d s.",
				       START_TIMEOUT_MS / 1000);
		}
		guest_sleep_ms(2);
	}
	log_info("started postgres %d (pid %d) on %s:%d in %.3f s", major, (int)pid,
		 inst->bind_address, inst->port, guest_now() - t0);
	return 0;
}

static int start_server(const struct guest_instance *inst, const struct pg_paths *p,
			struct ct_error *err)
{
	return start_server_with(inst, p, NULL, err);
}

int pg_server_start(const struct guest_instance *inst, const struct pg_paths *p,
		    const char *const *extra_settings, struct ct_error *err)
{
	return start_server_with(inst, p, extra_settings, err);
}

pid_t pg_server_pid(const struct pg_paths *p)
{
	return running_pid(p);
}

/* Fast shutdown (SIGINT): sessions are ended, a checkpoint is written. */
static int stop_server(const struct guest_instance *inst, const struct pg_paths *p,
		       struct ct_error *err)
{
	/* Remember the stop was ours, so nothing restarts it or calls it a crash. */
	if (access(inst->run_dir, F_OK) == 0 && guest_write_file(p->stopped, "", 0, 0644, err))
		return -1;
	pid_t pid = running_pid(p);
	if (!pid)
		return 0;
	double t0 = guest_now();
	if (guest_proc_terminate(pid, "postgres", SIGINT, STOP_TIMEOUT_MS))
		return ct_fail(err, 500, "The database server (pid %d) did not stop in %d s.",
			       (int)pid, STOP_TIMEOUT_MS / 1000);
	log_info("stopped postgres (pid %d) in %.3f s", (int)pid, guest_now() - t0);
	return 0;
}

int pg_server_stop(const struct guest_instance *inst, const struct pg_paths *p,
		   struct ct_error *err)
{
	return stop_server(inst, p, err);
}

int pg_bin_dir(const struct pg_paths *p, char *bin, size_t size, struct ct_error *err)
{
	int major = data_major(p);
	if (!major)
		return ct_fail(err, 422, "The instance has no database cluster.");
	if (!bin_dir_of(major, bin, size))
		return ct_fail(err, 501, "PostgreSQL %d is not installed.", major);
	return major;
}

/* SELECT 1 as os_admin over the socket. */
static bool answers(const struct guest_instance *inst)
{
	PGconn *c = pg_connect_admin(inst, NULL, NULL);
	if (!c)
		return false;
	PGresult *res = libpq.PQexec(c, "SELECT 1");
	bool ok = res && libpq.PQresultStatus(res) == PGRES_TUPLES_OK;
	libpq.PQclear(res);
	libpq.PQfinish(c);
	return ok;
}

static enum guest_status pg_status(const struct guest_instance *inst)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, NULL))
		return GUEST_STATUS_UNKNOWN;
	return guest_server_status(inst, guest_pidfile_read(p.pid), "postgres", answers);
}

static bool no_query(const struct guest_instance *inst)
{
	(void)inst;
	return false;
}

static enum guest_status pg_process_status(const struct guest_instance *inst)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, NULL))
		return GUEST_STATUS_UNKNOWN;
	return guest_server_status(inst, guest_pidfile_read(p.pid), "postgres", no_query);
}

static int pg_start(const struct guest_instance *inst, struct ct_error *err)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, err) || start_server(inst, &p, err))
		return -1;
	return guest_wait_healthy(inst, pg_status, START_TIMEOUT_MS, err);
}

static int pg_stop(const struct guest_instance *inst, struct ct_error *err)
{
	struct pg_paths p;
	if (pg_paths(inst, &p, err))
		return -1;
	return stop_server(inst, &p, err);
}

/* --- prepare ---------------------------------------------------------------------------- */

/* Trove has no secure() for PostgreSQL (§2.6 step 9); this one: os_admin, a
 * superuser with a fresh random password kept in a 0600 file, and the
 * maintenance databases closed to PUBLIC. Run as postgres by peer. */
static int secure(const struct guest_instance *inst, const struct pg_paths *p, struct ct_error *err)
{
	struct guest_credentials cred = {.user = PG_ADMIN_USER};
	PGconn *c = pg_connect_bootstrap(inst, err);
	if (!c)
		return -1;
	int rc = guest_random_password(cred.password, GUEST_PASSWORD_LEN, err);
	int exists = rc ? -1
			: pg_exists(c, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
				    PG_ADMIN_USER, "Admin lookup", err);
	rc = exists < 0 ? -1 : 0;
	if (!rc) {
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, exists ? "ALTER ROLE " : "CREATE ROLE ");
		pgb_ident(&b, PG_ADMIN_USER);
		pgb_raw(&b, " WITH SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS LOGIN "
			    "PASSWORD ");
		pgb_password(&b, cred.password);
		rc = pgb_run(&b, "Creating the admin role", err);
	}
	static const char *const closed[] = {"postgres", "template1", NULL};
	for (size_t i = 0; !rc && closed[i]; i++) {
		struct pgb b;
		pgb_init(&b, c);
		pgb_raw(&b, "REVOKE ALL ON DATABASE ");
		pgb_ident(&b, closed[i]);
		pgb_raw(&b, " FROM PUBLIC");
		rc = pgb_run(&b, "Securing the server", err);
	}
	libpq.PQfinish(c);
	if (!rc)
		rc = guest_write_credentials(p->admin_cnf, &cred, p->sock_dir, err);
	explicit_bzero(&cred, sizeof cred);
	return rc;
}

/* Names, passwords and a restore's backup_info checked before anything
 * changes on disk. */
static int prevalidate(const json_t *kwargs, struct ct_error *err)
{
	if (guest_kw_present(kwargs, "backup_info")) {
		struct guest_restore_plan *r = malloc(sizeof *r);
		if (!r)
			return ct_fail(err, 500, "Out of memory.");
		int rc = guest_restore_plan_from_json(json_object_get(kwargs, "backup_info"), r,
						      err);
		guest_restore_plan_wipe(r);
		free(r);
		if (rc)
			return -1;
	}
	bool pitr;
	if (guest_kw_present(kwargs, "backup_info") &&
	    pg_pitr_requested(json_object_get(kwargs, "backup_info"), &pitr, err))
		return -1;
	if (pg_check_databases(json_object_get(kwargs, "databases"), err) ||
	    pg_check_users(json_object_get(kwargs, "users"), err))
		return -1;
	const char *root_pw = guest_kw_string(kwargs, "root_password");
	if (root_pw && *root_pw && dbnames_check_password(DBNAMES_POSTGRESQL, root_pw, err))
		return -1;
	return 0;
}

int pg_secure(const struct guest_instance *inst, const struct pg_paths *p, struct ct_error *err)
{
	return secure(inst, p, err);
}

static int pg_prepare(const struct guest_instance *inst, const json_t *kwargs, struct ct_error *err)
{
	double t0 = guest_now();
	struct pg_paths p;
	struct guest_identity id;
	char bin_dir[PATH_MAX];
	if (!json_is_object(kwargs))
		return ct_fail(err, 400, "prepare needs its arguments as an object.");
	/* A restore is this manager's to do (postgresql_backup.c); the generic
	 * check still refuses the other arguments no manager supports. */
	const json_t *backup_info = json_object_get(kwargs, "backup_info");
	bool restore = guest_kw_present(kwargs, "backup_info");
	json_t *others = json_copy((json_t *)kwargs);
	if (!others)
		return ct_fail(err, 500, "Out of memory.");
	json_object_del(others, "backup_info");
	/* A replica of a PostgreSQL source is seeded by pg_basebackup
	 * (postgresql_replication.c), not from a stored backup. */
	bool seed = !restore && guest_kw_present(kwargs, "snapshot");
	if (seed)
		json_object_del(others, "snapshot");
	int unsupported = guest_prepare_check_unsupported(others, err);
	json_decref(others);
	if (unsupported || prevalidate(kwargs, err) || guest_tls_prepare_check(kwargs, err) ||
	    pg_paths(inst, &p, err) ||
	    (seed && pg_repl_check_snapshot(inst, json_object_get(kwargs, "snapshot"), err)))
		return -1;
	int major = pick_major(guest_kw_string(kwargs, "ds_version"), bin_dir, sizeof bin_dir, err);
	if (major <= 0 || guest_identity_resolve(inst->os_user, &id, err) ||
	    make_dirs(inst, &p, &id, err) || guest_mark_prepared(inst, false, err))
		return -1;
	log_info("prepare: instance %s on %s:%d, PostgreSQL %d", inst->id, inst->bind_address,
		 inst->port, major);
	if (guest_tls_prepare_install(inst, kwargs, err) || stop_server(inst, &p, err) ||
	    write_config(inst, &p, &id, guest_kw_string(kwargs, "config_contents"), err) ||
	    pg_update_overrides(inst, json_object_get(kwargs, "overrides"), false, err))
		return -1;
	double t_init = guest_now();
	if (restore) {
		if (pg_restore_backup(inst, &p, &id, major, backup_info, err))
			return -1;
	} else if (seed) {
		if (pg_repl_seed(inst, &p, &id, bin_dir, json_object_get(kwargs, "snapshot"), err))
			return -1;
	} else {
		int have = data_major(&p);
		if (have && have != major)
			return ct_fail(err, 400,
				       "The volume holds a PostgreSQL %d cluster, not %d.", have,
				       major);
		if (!have && init_datadir(inst, &p, &id, bin_dir, major, err))
			return -1;
	}
	double t_start = guest_now();
	if (start_server(inst, &p, err))
		return -1;
	double t_secure = guest_now();
	if (seed) {
		/* A hot standby: its users, databases and os_admin are the source's. */
		if (pg_repl_wait_seeded(inst, &p, err) || guest_mark_prepared(inst, true, err))
			return -1;
		log_info("prepare: replica ready in %.3f s (seeding %.3f s)", guest_now() - t0,
			 t_start - t_init);
		return 0;
	}
	if (secure(inst, &p, err))
		return -1;
	PGconn *c = pg_connect_admin(inst, NULL, err);
	if (!c)
		return -1;
	int rc = pg_create_databases(inst, c, json_object_get(kwargs, "databases"), err);
	if (!rc)
		rc = pg_create_users(inst, c, json_object_get(kwargs, "users"), err);
	const char *root_pw = guest_kw_string(kwargs, "root_password");
	if (!rc && root_pw && *root_pw) {
		json_t *root = pg_enable_root(c, root_pw, err);
		rc = root ? 0 : -1;
		json_decref(root);
	}
	libpq.PQfinish(c);
	if (rc || guest_mark_prepared(inst, true, err))
		return -1;
	double t1 = guest_now();
	log_info("prepare: done in %.3f s (data directory %.3f s, start %.3f s, accounts %.3f s)",
		 t1 - t0, t_start - t_init, t_secure - t_start, t1 - t_secure);
	return 0;
}

static int pg_start_with_config(const struct guest_instance *inst, const char *contents,
				struct ct_error *err)
{
	struct pg_paths p;
	struct guest_identity id;
	if (pg_paths(inst, &p, err) || guest_identity_resolve(inst->os_user, &id, err) ||
	    stop_server(inst, &p, err) || write_config(inst, &p, &id, contents, err) ||
	    start_server(inst, &p, err))
		return -1;
	log_info("started with the config of a new flavor");
	return guest_wait_healthy(inst, pg_status, START_TIMEOUT_MS, err);
}

static json_t *pg_fs_stats(const struct guest_instance *inst, struct ct_error *err)
{
	return guest_fs_stats(inst->data_dir, err);
}

const struct datastore_manager postgresql_manager = {
	.name = "postgresql",
	.prepare = pg_prepare,
	.start = pg_start,
	.stop = pg_stop,
	.status = pg_status,
	.list_databases = pg_list_databases,
	.create_database = pg_create_database_op,
	.delete_database = pg_delete_database,
	.list_users = pg_list_users,
	.create_user = pg_create_user_op,
	.get_user = pg_get_user,
	.delete_user = pg_delete_user,
	.update_attributes = pg_update_attributes,
	.change_passwords = pg_change_passwords,
	.grant_access = pg_grant_access,
	.revoke_access = pg_revoke_access,
	.enable_root = pg_enable_root_op,
	.disable_root = pg_disable_root,
	.is_root_enabled = pg_is_root_enabled,
	.get_filesystem_stats = pg_fs_stats,
	.update_overrides = pg_update_overrides,
	.apply_overrides = pg_apply_overrides,
	.create_backup = pg_create_backup,
	.rotate_tls = pg_rotate_tls,
	.start_with_config = pg_start_with_config,
	.log_files = pg_log_files,
	.log_enable = pg_log_enable,
	.server_stats = pg_server_stats,
	.get_replication_snapshot = pg_get_replication_snapshot,
	.attach_replica = pg_attach_replica,
	.detach_replica = pg_detach_replica,
	.get_replica_context = pg_get_replica_context,
	.make_read_only = pg_make_read_only,
	.enable_as_master = pg_enable_as_master,
	.demote_replication_master = pg_demote_replication_master,
	.get_latest_txn_id = pg_get_latest_txn_id,
	.wait_for_txn = pg_wait_for_txn,
	.get_last_txn = pg_get_last_txn,
	.set_synchronous_replication = pg_set_synchronous_replication,
	.archive_ship = pg_archive_ship,
	.archive_source_dir = pg_archive_source_dir,
	.process_status = pg_process_status,
};
