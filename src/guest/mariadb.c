/*
 * mariadb.c — the MariaDB/MySQL datastore manager: prepare (§2.3, §2.7), the
 * server's life (start, stop, restart, status: §1.5, §7.1, §7.2) and the
 * operation tables for the managers "mariadb" and "mysql". The server runs
 * detached (own session, not the agent's child) as the unprivileged service
 * user, from <run_dir>/my.cnf, with its data in <data_dir>/data; see
 * docs/guest-mariadb.md for the layout.
 * Data directories are copied from a template initialised once per server
 * build and init-relevant settings under cache_dir (mariadb-install-db takes
 * ~0.5 s, a copy ~0.03 s). The template's only account is root@localhost,
 * unix_socket only: nothing is reachable over TCP until prepare has created
 * the accounts it was asked for.
 * Owns the instance's run_dir, <data_dir>/data and <data_dir>/files (the
 * only directory SQL may read or write files in); may not touch the volume
 * outside them, nor any other instance.
 */
#define LOG_MODULE "guest.mariadb"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/backup_models.h"
#include "guest/mariadb_config.h"
#include "guest/mariadb_internal.h"
#include "guest/tls_files.h"

#define START_TIMEOUT_MS 180000
#define STOP_TIMEOUT_MS	 180000
#define CONFIG_MAX	 65536

static const char *const server_bins[] = {"/usr/sbin/mariadbd", "/usr/sbin/mysqld", NULL};
static const char *const install_bins[] = {"/usr/bin/mariadb-install-db",
					   "/usr/bin/mysql_install_db", NULL};

/* The server binary and the name its process has. */
static const char *server_bin(const char **comm)
{
	for (size_t i = 0; server_bins[i]; i++)
		if (access(server_bins[i], X_OK) == 0) {
			*comm = strrchr(server_bins[i], '/') + 1;
			/* Debian's mysqld is a link to mariadbd. */
			char target[256];
			ssize_t n = readlink(server_bins[i], target, sizeof target - 1);
			if (n > 0) {
				target[n] = '\0';
				if (strstr(target, "mariadbd"))
					*comm = "mariadbd";
			}
			return server_bins[i];
		}
	*comm = "mariadbd";
	return NULL;
}

static const char *install_bin(void)
{
	for (size_t i = 0; install_bins[i]; i++)
		if (access(install_bins[i], X_OK) == 0)
			return install_bins[i];
	return NULL;
}

/* --- files and directories ---------------------------------------------------- */

/* Everything the server reads or writes is its identity's alone (0700); the
 * run directory is root's and searchable only, the credentials root's. */
static int make_dirs(const struct guest_instance *inst, const struct mdb_paths *p,
		     const struct guest_identity *id, struct ct_error *err)
{
	if (guest_mkdir(inst->data_dir, 0700, id, err) ||
	    guest_mkdir(inst->run_dir, 0711, NULL, err) || guest_mkdir(p->confd, 0700, id, err) ||
	    guest_mkdir(p->mysqld_dir, 0700, id, err) || guest_mkdir(p->tmp, 0700, id, err) ||
	    guest_mkdir(p->log_dir, 0700, id, err) || guest_mkdir(p->files, 0700, id, err) ||
	    guest_mkdir(p->cred_dir, 0700, NULL, err))
		return -1;
	return 0;
}

static bool starts_with_key(const char *line, const char *key)
{
	while (*line == ' ' || *line == '\t')
		line++;
	for (; *key; key++, line++) {
		char c = *line == '-' ? '_' : *line;
		if (c != *key)
			return false;
	}
	return *line == ' ' || *line == '\t' || *line == '=' || *line == '\n' || *line == '\0';
}

/*
 * my.cnf = the base config (config_contents, or rendered from memory_mb) minus
 * its !include lines, then this instance's conf.d, then the settings that make
 * it this instance (paths, address, user). Later settings win, so the last
 * section always applies whatever the base config says.
 */
static int write_config(const struct guest_instance *inst, const struct mdb_paths *p,
			const struct guest_identity *id, const char *contents, struct ct_error *err)
{
	char *base = NULL;
	if (!contents || !*contents) {
		const char *comm;
		const char *bin = server_bin(&comm);
		enum mariadb_flavor fl = bin && !strcmp(comm, "mariadbd") ? MARIADB_FLAVOR_MARIADB
									  : MARIADB_FLAVOR_MYSQL;
		base = malloc(CONFIG_MAX);
		if (!base)
			return ct_fail(err, 500, "Out of memory.");
		if (mariadb_config_render(inst->memory_mb > 0 ? inst->memory_mb : 512, fl, inst->id,
					  base, CONFIG_MAX, err)) {
			free(base);
			return -1;
		}
		contents = base;
	}
	size_t cap = strlen(contents) + 4096;
	char *out = malloc(cap);
	if (!out) {
		free(base);
		return ct_fail(err, 500, "Out of memory.");
	}
	size_t n =
		(size_t)snprintf(out, cap,
				 "# ctrove guest agent, instance %s. Generated at every prepare; "
				 "do not edit.\n\n"
				 "# Defaults the base config below may change: a small temporary\n"
				 "# tablespace, as InnoDB writes it in full at every start.\n"
				 "[mysqld]\ninnodb_temp_data_file_path = ibtmp1:1M:autoextend\n\n",
				 inst->id);
	for (const char *line = contents; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		const char *t = line;
		while (*t == ' ' || *t == '\t')
			t++;
		if (strncmp(t, "!include", 8) != 0) {
			memcpy(out + n, line, len);
			n += len;
		}
		line += len;
	}
	int w = snprintf(
		out + n, cap - n,
		"\n!includedir %s\n\n"
		"# This instance (always last, so these win).\n"
		"[client]\nport = %d\nsocket = %s\n\n"
		"[mysqld]\nuser = %s\nbind-address = %s\nport = %d\nsocket = %s\npid-file = %s\n"
		"datadir = %s\ntmpdir = %s\nlog-error = %s\nbasedir = /usr\n"
		"skip-name-resolve\nskip-external-locking\n"
		"# Files the server reads or writes for SQL (INTO OUTFILE, LOAD_FILE,\n"
		"# LOAD DATA) only in this instance's own directory; no client files.\n"
		"secure-file-priv = %s\nlocal-infile = 0\n",
		p->confd, inst->port, p->sock, id->name, inst->bind_address, inst->port, p->sock,
		p->pid, p->datadir, p->tmp, p->err_log, p->files);
	free(base);
	if (w < 0 || (size_t)w >= cap - n) {
		free(out);
		return ct_fail(err, 500, "The config is too long.");
	}
	n += (size_t)w;
	struct guest_tls_paths tls;
	if (guest_tls_paths(inst, &tls, err)) {
		free(out);
		return -1;
	}
	if (guest_tls_present(&tls)) {
		/* The paths come from run_dir (the agent's config), never a message. */
		w = snprintf(out + n, cap - n,
			     "# TLS with the instance's certificate (docs/tls.md).\n"
			     "ssl_cert = %s\nssl_key = %s\nssl_ca = %s\n",
			     tls.cert, tls.key, tls.ca);
		if (w < 0 || (size_t)w >= cap - n) {
			free(out);
			return ct_fail(err, 500, "The config is too long.");
		}
		n += (size_t)w;
	}
	int rc = guest_write_file_owned(p->cnf, out, n, 0600, id, err);
	free(out);
	return rc;
}

/* FNV-1a over the server build and the settings fixed when a data directory is
 * initialised: a template is reused only where it would start. */
static uint64_t template_key(const char *bin, const char *cnf, const char *socket_user)
{
	static const char *const keys[] = {
		"innodb_data_file_path",   "innodb_page_size",		"innodb_log_file_size",
		"innodb_undo_tablespaces", "innodb_checksum_algorithm", "lower_case_table_names",
		"innodb_data_home_dir",	   "innodb_log_group_home_dir", NULL};
	uint64_t h = 1469598103934665603ull;
#define MIX(ptr, len)                                                                              \
	for (size_t k_ = 0; k_ < (len); k_++) {                                                    \
		h ^= ((const unsigned char *)(ptr))[k_];                                           \
		h *= 1099511628211ull;                                                             \
	}
	struct stat st;
	if (!stat(bin, &st)) {
		MIX(&st.st_ino, sizeof st.st_ino);
		MIX(&st.st_size, sizeof st.st_size);
		MIX(&st.st_mtime, sizeof st.st_mtime);
	}
	/* The accounts a template holds: the agent's socket user only. */
	MIX("accounts-2", sizeof "accounts-2");
	MIX(socket_user, strlen(socket_user) + 1);
	FILE *f = fopen(cnf, "r");
	if (f) {
		char line[1024];
		while (fgets(line, sizeof line, f))
			for (size_t i = 0; keys[i]; i++)
				if (starts_with_key(line, keys[i]))
					MIX(line, strlen(line));
		fclose(f);
	}
#undef MIX
	return h;
}

static bool has_mysql_schema(const char *datadir)
{
	char path[PATH_MAX + 128];
	struct stat st;
	snprintf(path, sizeof path, "%s/mysql", datadir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mariadb-install-db into dir with the instance's defaults file. Only
 * unix_socket accounts, for the agent's own user (root): never one for the
 * instance's user, so a template says nothing about who built it.
 * As root it runs the bootstrap server as Debian's own mysql user, never as
 * an instance's: install-db also chowns the plugin directory's
 * auth_pam_tool_dir (holding a setuid-root helper it re-chmods 04755) to the
 * user it is given, which must not be one a tenant's server runs as. The
 * result is handed to the instance (or to root, for a template) afterwards. */
#define MDB_INSTALL_USER "mysql"
static int install_db(const struct mdb_paths *p, const struct guest_identity *id, const char *dir,
		      const char *tools_log, struct ct_error *err)
{
	const char *bin = install_bin();
	if (!bin)
		return ct_fail(err, 501, "Initialising a data directory needs mariadb-install-db.");
	char a_defaults[PATH_MAX + 32], a_datadir[PATH_MAX + 32], a_user[96], a_socket_user[96];
	char self[64];
	guest_self_name(self, sizeof self);
	snprintf(a_defaults, sizeof a_defaults, "--defaults-file=%s", p->cnf);
	snprintf(a_datadir, sizeof a_datadir, "--datadir=%s", dir);
	snprintf(a_user, sizeof a_user, "--user=%s", MDB_INSTALL_USER);
	snprintf(a_socket_user, sizeof a_socket_user, "--auth-root-socket-user=%s", self);
	/* The instance's log and tmp directories are its user's alone: the
	 * bootstrap server (as mysql) writes both inside the new directory. */
	char a_log[PATH_MAX + 32], a_tmp[PATH_MAX + 32], install_log[PATH_MAX + 16];
	snprintf(install_log, sizeof install_log, "%s/install.err", dir);
	snprintf(a_log, sizeof a_log, "--log-error=%s", install_log);
	snprintf(a_tmp, sizeof a_tmp, "--tmpdir=%s", dir);
	const char *argv[] = {bin,
			      a_defaults,
			      a_datadir,
			      "--auth-root-authentication-method=socket",
			      "--skip-test-db",
			      "--skip-name-resolve",
			      a_socket_user,
			      id->drop ? a_user : NULL,
			      a_log,
			      a_tmp,
			      NULL};
	int rc = guest_run(argv, tools_log, NULL, err);
	if (rc)
		guest_log_tail(install_log);
	unlink(install_log);
	if (rc)
		return ct_fail(err, 500, "mariadb-install-db failed; see %s.", tools_log);
	return 0;
}

struct install_args {
	const struct mdb_paths *p;
	const struct guest_identity *id;
	const char *tools_log;
};

static int install_into(const void *ctx, const char *dir, struct ct_error *err)
{
	const struct install_args *a = ctx;
	return install_db(a->p, a->id, dir, a->tools_log, err);
}

/* Put a fresh data directory in place: a copy of the cached template (made
 * now if missing), or install-db straight into it when there is no cache.
 * Built beside the final path and renamed, so a crash leaves no half copy. */
static int init_datadir(const struct guest_instance *inst, const struct mdb_paths *p,
			const struct guest_identity *id, struct ct_error *err)
{
	char tools_log[PATH_MAX + 16], staging[PATH_MAX + 16], tmpl[PATH_MAX + 64];
	snprintf(tools_log, sizeof tools_log, "%s/tools.log", inst->run_dir);
	snprintf(staging, sizeof staging, "%s.new", p->datadir);
	if (guest_remove_tree(staging, err) || guest_remove_tree(p->datadir, err))
		return -1;
	const char *comm;
	const char *bin = server_bin(&comm);
	if (!bin)
		return ct_fail(err, 501, "No MariaDB or MySQL server is installed.");
	if (!inst->cache_dir[0]) {
		/* install-db's server (mysql) must get through the volume's root,
		 * the instance's own 0700, for as long as it runs. */
		if (guest_mkdir(staging, 0700, id, err))
			return -1;
		if (chmod(inst->data_dir, 0711))
			return ct_fail(err, 500, "Cannot chmod %s", inst->data_dir);
		int rc = install_db(p, id, staging, tools_log, err);
		if (chmod(inst->data_dir, 0700) && !rc)
			rc = ct_fail(err, 500, "Cannot chmod %s", inst->data_dir);
		if (rc)
			return -1;
	} else {
		char self[64];
		guest_self_name(self, sizeof self);
		snprintf(tmpl, sizeof tmpl, "%s/%s-%016llx", inst->cache_dir, comm,
			 (unsigned long long)template_key(bin, p->cnf, self));
		struct install_args args = {p, id, tools_log};
		if (!has_mysql_schema(tmpl) &&
		    guest_template_build(inst->cache_dir, tmpl, 0700, id, install_into, &args, err))
			return -1;
		/* Sparse: most of a fresh redo log is zeros (66 MB → 7 MB written). */
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

/* --- the server process ---------------------------------------------------------- */

/* A connection over the socket: os_admin when its credentials exist (a
 * secured data directory), else the agent's own unix_socket account (a fresh
 * one). NULL while the server is not accepting. A real login rather than a
 * bare connect() keeps "aborted connection" noise out of the server's log. */
static MYSQL *connect_local(const struct guest_instance *inst, const struct mdb_paths *p)
{
	if (access(p->sock, F_OK))
		return NULL;
	if (access(p->admin_cnf, F_OK) == 0) {
		MYSQL *c = mdb_connect_admin(inst, NULL);
		if (c)
			return c;
	}
	char self[64];
	guest_self_name(self, sizeof self);
	return mdb_connect(p->sock, self, NULL, 170, NULL);
}

static bool server_accepts(const struct guest_instance *inst, const struct mdb_paths *p)
{
	MYSQL *c = connect_local(inst, p);
	if (c)
		libmariadb.mysql_close(c);
	return c != NULL;
}

static pid_t running_pid(const struct mdb_paths *p, const char *comm)
{
	pid_t pid = guest_pidfile_read(p->pid);
	return guest_proc_state(pid, comm) == GUEST_PROC_GONE ? 0 : pid;
}

/* extra, extra2: more server options (NULL: none). */
static int start_server_with(const struct guest_instance *inst, const struct mdb_paths *p,
			     const char *extra, const char *extra2, struct ct_error *err)
{
	struct guest_identity id;
	const char *comm;
	const char *bin = server_bin(&comm);
	if (!bin)
		return ct_fail(err, 501, "No MariaDB or MySQL server is installed.");
	if (guest_identity_resolve(inst->os_user, &id, err) || make_dirs(inst, p, &id, err))
		return -1;
	unlink(p->stopped);
	if (running_pid(p, comm) && server_accepts(inst, p))
		return 0;
	char a_defaults[PATH_MAX + 32];
	snprintf(a_defaults, sizeof a_defaults, "--defaults-file=%s", p->cnf);
	const char *argv[] = {bin, a_defaults, extra, extra2, NULL};
	double t0 = guest_now();
	pid_t pid = guest_spawn_detached(argv, p->err_log, &id, err);
	if (pid < 0)
		return -1;
	while (!server_accepts(inst, p)) {
		if (guest_proc_state(pid, comm) == GUEST_PROC_GONE) {
			guest_log_tail(p->err_log);
			return ct_fail(err, 500,
				       "The database server exited during start-up; see %s.",
				       p->err_log);
		}
		if (guest_now() - t0 > START_TIMEOUT_MS / 1000.0) {
			guest_proc_terminate(pid, comm, SIGKILL, 5000);
			return ct_fail(err, 500, "The database server did not start in %d s.",
				       START_TIMEOUT_MS / 1000);
		}
		guest_sleep_ms(3);
	}
	log_info("started %s (pid %d) on %s:%d in %.3f s", comm, (int)pid, inst->bind_address,
		 inst->port, guest_now() - t0);
	return 0;
}

static int start_server(const struct guest_instance *inst, const struct mdb_paths *p,
			struct ct_error *err)
{
	return start_server_with(inst, p, NULL, NULL, err);
}

int mdb_start_socket_only(const struct guest_instance *inst, const struct mdb_paths *p,
			  struct ct_error *err)
{
	/* Replayed binary logs hold a whole statement's rows in one BINLOG
	 * statement, larger than a small flavor's max_allowed_packet. */
	return start_server_with(inst, p, "--skip-networking", "--max-allowed-packet=1073741824",
				 err);
}

static int stop_server(const struct guest_instance *inst, const struct mdb_paths *p,
		       struct ct_error *err)
{
	const char *comm;
	server_bin(&comm);
	/* Remember the stop was ours, so nothing restarts it or calls it a crash. */
	if (access(inst->run_dir, F_OK) == 0 && guest_write_file(p->stopped, "", 0, 0644, err))
		return -1;
	pid_t pid = running_pid(p, comm);
	if (!pid)
		return 0;
	double t0 = guest_now();
	if (guest_proc_terminate(pid, comm, SIGTERM, STOP_TIMEOUT_MS))
		return ct_fail(err, 500, "The database server (pid %d) did not stop in %d s.",
			       (int)pid, STOP_TIMEOUT_MS / 1000);
	log_info("stopped %s (pid %d) in %.3f s", comm, (int)pid, guest_now() - t0);
	return 0;
}

int mdb_stop_server(const struct guest_instance *inst, const struct mdb_paths *p,
		    struct ct_error *err)
{
	return stop_server(inst, p, err);
}

/* SELECT 1 as os_admin. */
static bool answers(const struct guest_instance *inst)
{
	MYSQL *c = mdb_connect_admin(inst, NULL);
	if (!c)
		return false;
	bool ok = libmariadb.mysql_query(c, "SELECT 1") == 0;
	if (ok) {
		MYSQL_RES *res = libmariadb.mysql_store_result(c);
		ok = res != NULL;
		if (res)
			libmariadb.mysql_free_result(res);
	}
	libmariadb.mysql_close(c);
	return ok;
}

static enum guest_status mdb_status(const struct guest_instance *inst)
{
	struct mdb_paths p;
	const char *comm;
	if (mdb_paths(inst, &p, NULL))
		return GUEST_STATUS_UNKNOWN;
	server_bin(&comm);
	return guest_server_status(inst, guest_pidfile_read(p.pid), comm, answers);
}

static bool no_query(const struct guest_instance *inst)
{
	(void)inst;
	return false;
}

static enum guest_status mdb_process_status(const struct guest_instance *inst)
{
	struct mdb_paths p;
	const char *comm;
	if (mdb_paths(inst, &p, NULL))
		return GUEST_STATUS_UNKNOWN;
	server_bin(&comm);
	return guest_server_status(inst, guest_pidfile_read(p.pid), comm, no_query);
}

static int mdb_start(const struct guest_instance *inst, struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err) || start_server(inst, &p, err))
		return -1;
	return guest_wait_healthy(inst, mdb_status, START_TIMEOUT_MS, err);
}

static int mdb_stop(const struct guest_instance *inst, struct ct_error *err)
{
	struct mdb_paths p;
	if (mdb_paths(inst, &p, err))
		return -1;
	return stop_server(inst, &p, err);
}

/* --- prepare ------------------------------------------------------------------------ */

/* Names, hosts and passwords checked before anything changes on disk. */
static int prevalidate(const json_t *kwargs, struct ct_error *err)
{
	const json_t *dbs = json_object_get(kwargs, "databases");
	const json_t *users = json_object_get(kwargs, "users");
	const json_t *v;
	size_t i;
	if ((dbs && !json_is_null(dbs) && !json_is_array(dbs)) ||
	    (users && !json_is_null(users) && !json_is_array(users)))
		return ct_fail(err, 400, "databases and users must be lists.");
	json_array_foreach (dbs, i, v) {
		if (mdb_check_db_name(guest_model_name(v), true, err))
			return -1;
	}
	json_array_foreach (users, i, v) {
		const char *pw = guest_model_password(v);
		char host[MDB_HOST_MAX + 1];
		if (mdb_check_user_name(guest_model_name(v), true, err) ||
		    mdb_check_host(guest_model_host(v), host, err))
			return -1;
		if (pw && *pw && mdb_check_password(pw, err))
			return -1;
	}
	const char *root_pw = guest_kw_string(kwargs, "root_password");
	if (root_pw && *root_pw && mdb_check_password(root_pw, err))
		return -1;
	if (guest_kw_present(kwargs, "backup_info")) {
		struct guest_restore_plan *plan = malloc(sizeof *plan);
		if (!plan)
			return ct_fail(err, 500, "Out of memory.");
		int rc = guest_restore_plan_from_json(json_object_get(kwargs, "backup_info"), plan,
						      err);
		guest_restore_plan_wipe(plan);
		free(plan);
		if (rc || mdb_pitr_check(json_object_get(kwargs, "backup_info"), err))
			return -1;
	}
	return guest_tls_prepare_check(kwargs, err);
}

/* Trove's secure(): the local-only admin account with a fresh random password
 * kept in a 0600 file, no anonymous accounts, no remote root (unless keep_root:
 * a restored instance keeps the root state of its backup, as in Trove). Run
 * over the socket as the agent's own unix_socket account. */
static int secure(const struct guest_instance *inst, const struct mdb_paths *p, MYSQL *conn,
		  bool keep_root, struct ct_error *err)
{
	struct guest_credentials cred = {.user = MDB_ADMIN_USER};
	struct sqlb b;
	unsigned code;
	(void)inst;
	if (guest_random_password(cred.password, GUEST_PASSWORD_LEN, err))
		return -1;
	sqlb_init(&b, conn);
	sqlb_raw(&b, "CREATE USER IF NOT EXISTS 'os_admin'@'localhost'");
	code = mdb_run(&b);
	if (!code)
		code = mdb_set_password(conn, MDB_ADMIN_USER, "localhost", cred.password);
	if (code) {
		b.secret = true;
		explicit_bzero(&cred, sizeof cred);
		return mdb_fail(&b, code, "Creating the admin account", err);
	}
	sqlb_init(&b, conn);
	sqlb_raw(&b, "GRANT ALL PRIVILEGES ON *.* TO 'os_admin'@'localhost' WITH GRANT OPTION");
	code = mdb_run(&b);
	if (!code) {
		sqlb_init(&b, conn);
		sqlb_raw(&b, "DROP USER IF EXISTS ''@'localhost', ''@'%'");
		code = mdb_run(&b);
	}
	if (code) {
		explicit_bzero(&cred, sizeof cred);
		return mdb_fail(&b, code, "Securing the server", err);
	}
	int rc = keep_root ? 0 : mdb_secure_root(conn, err);
	if (!rc)
		rc = guest_write_credentials(p->admin_cnf, &cred, p->sock, err);
	explicit_bzero(&cred, sizeof cred);
	return rc;
}

static int mdb_prepare(const struct guest_instance *inst, const json_t *kwargs,
		       struct ct_error *err)
{
	double t0 = guest_now();
	struct mdb_paths p;
	struct guest_identity id;
	if (!json_is_object(kwargs))
		return ct_fail(err, 400, "prepare needs its arguments as an object.");
	/* A restore (backup_info) is this manager's own step; the rest as for
	 * every manager. */
	json_t *others = json_copy((json_t *)kwargs);
	if (!others)
		return ct_fail(err, 500, "Out of memory.");
	json_object_del(others, "backup_info");
	json_object_del(others, "snapshot"); /* the agent attaches after prepare */
	int unsupported = guest_prepare_check_unsupported(others, err);
	json_decref(others);
	if (unsupported)
		return -1;
	if (guest_kw_present(kwargs, "snapshot") && !guest_kw_present(kwargs, "backup_info"))
		return ct_fail(err, 400,
			       "A MariaDB replica is seeded from its snapshot's backup: "
			       "prepare got a snapshot without backup_info.");
	if (prevalidate(kwargs, err) || mdb_paths(inst, &p, err) ||
	    guest_identity_resolve(inst->os_user, &id, err) || make_dirs(inst, &p, &id, err) ||
	    guest_mark_prepared(inst, false, err))
		return -1;
	log_info("prepare: instance %s on %s:%d", inst->id, inst->bind_address, inst->port);
	if (guest_tls_prepare_install(inst, kwargs, err) || stop_server(inst, &p, err) ||
	    write_config(inst, &p, &id, guest_kw_string(kwargs, "config_contents"), err) ||
	    mdb_update_overrides(inst, json_object_get(kwargs, "overrides"), false, err))
		return -1;
	double t_init = guest_now();
	/* A restore replaces whatever data directory there was; the accounts and
	 * data come from the backup (databases and users are empty then). */
	bool restoring = guest_kw_present(kwargs, "backup_info");
	if (restoring && mdb_restore(inst, &p, &id, json_object_get(kwargs, "backup_info"), err))
		return -1;
	/* A point in time: the archive replayed before any client can connect. */
	if (restoring && mdb_pitr_requested(json_object_get(kwargs, "backup_info")) &&
	    mdb_pitr_replay(inst, &p, &id, json_object_get(kwargs, "backup_info"), err))
		return -1;
	if (!restoring && !has_mysql_schema(p.datadir) && init_datadir(inst, &p, &id, err))
		return -1;
	double t_start = guest_now();
	if (start_server(inst, &p, err))
		return -1;
	double t_secure = guest_now();
	MYSQL *c = connect_local(inst, &p);
	if (!c)
		return ct_fail(err, 500, "Cannot log in to the new database server.");
	int rc = secure(inst, &p, c, restoring, err);
	if (!rc)
		rc = mdb_create_databases(c, json_object_get(kwargs, "databases"), err);
	if (!rc)
		rc = mdb_create_users(c, json_object_get(kwargs, "users"), err);
	const char *root_pw = guest_kw_string(kwargs, "root_password");
	if (!rc && root_pw && *root_pw && !restoring) {
		json_t *root = mdb_enable_root(c, root_pw, err);
		rc = root ? 0 : -1;
		json_decref(root);
	}
	libmariadb.mysql_close(c);
	if (rc || guest_mark_prepared(inst, true, err))
		return -1;
	double t1 = guest_now();
	log_info("prepare: done in %.3f s (data directory %.3f s, start %.3f s, accounts %.3f s)",
		 t1 - t0, t_start - t_init, t_secure - t_start, t1 - t_secure);
	return 0;
}

/* New files, then FLUSH SSL: the server's SSL context is rebuilt from them;
 * established sessions keep theirs, new ones get the new certificate. */
static int mdb_rotate_tls(const struct guest_instance *inst, const json_t *tls,
			  struct ct_error *err)
{
	if (guest_tls_install(inst, tls, err))
		return -1;
	MYSQL *c = mdb_connect_admin(inst, err);
	if (!c)
		return -1;
	struct sqlb b;
	sqlb_init(&b, c);
	sqlb_raw(&b, "FLUSH SSL");
	unsigned code = mdb_run(&b);
	libmariadb.mysql_close(c);
	if (code)
		return mdb_fail(&b, code, "Reloading the certificate", err);
	log_info("server certificate reloaded (FLUSH SSL)");
	return 0;
}

static int mdb_start_with_config(const struct guest_instance *inst, const char *contents,
				 struct ct_error *err)
{
	struct mdb_paths p;
	struct guest_identity id;
	if (mdb_paths(inst, &p, err) || guest_identity_resolve(inst->os_user, &id, err) ||
	    stop_server(inst, &p, err) || write_config(inst, &p, &id, contents, err) ||
	    start_server(inst, &p, err))
		return -1;
	log_info("started with the config of a new flavor");
	return guest_wait_healthy(inst, mdb_status, START_TIMEOUT_MS, err);
}

static json_t *mdb_fs_stats(const struct guest_instance *inst, struct ct_error *err)
{
	return guest_fs_stats(inst->data_dir, err);
}

#define MDB_OPS(manager_name)                                                                      \
	{                                                                                          \
		.name = manager_name, .prepare = mdb_prepare, .start = mdb_start,                  \
		.stop = mdb_stop, .status = mdb_status, .list_databases = mdb_list_databases,      \
		.create_database = mdb_create_database_op, .delete_database = mdb_delete_database, \
		.list_users = mdb_list_users, .create_user = mdb_create_user_op,                   \
		.get_user = mdb_get_user, .delete_user = mdb_delete_user,                          \
		.update_attributes = mdb_update_attributes,                                        \
		.change_passwords = mdb_change_passwords, .grant_access = mdb_grant_access,        \
		.revoke_access = mdb_revoke_access, .enable_root = mdb_enable_root_op,             \
		.disable_root = mdb_disable_root, .is_root_enabled = mdb_is_root_enabled,          \
		.get_filesystem_stats = mdb_fs_stats, .update_overrides = mdb_update_overrides,    \
		.apply_overrides = mdb_apply_overrides, .create_backup = mdb_create_backup,        \
		.rotate_tls = mdb_rotate_tls, .start_with_config = mdb_start_with_config,          \
		.log_files = mdb_log_files, .log_enable = mdb_log_enable,                          \
		.server_stats = mdb_server_stats,                                                  \
		.get_replication_snapshot = mdb_get_replication_snapshot,                          \
		.attach_replica = mdb_attach_replica, .detach_replica = mdb_detach_replica,        \
		.get_replica_context = mdb_get_replica_context,                                    \
		.make_read_only = mdb_make_read_only, .enable_as_master = mdb_enable_as_master,    \
		.demote_replication_master = mdb_demote_replication_master,                        \
		.get_latest_txn_id = mdb_get_latest_txn_id, .wait_for_txn = mdb_wait_for_txn,      \
		.get_last_txn = mdb_get_last_txn,                                                  \
		.set_synchronous_replication = mdb_set_synchronous_replication,                    \
		.archive_ship = mdb_archive_ship, .archive_source_dir = mdb_archive_source_dir,    \
		.process_status = mdb_process_status,                                              \
	}

const struct datastore_manager mariadb_manager = MDB_OPS("mariadb");
const struct datastore_manager mysql_manager = MDB_OPS("mysql");
