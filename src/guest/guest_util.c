/*
 * guest_util.c — see guest_util.h. Owns nothing; may not know any datastore's
 * SQL or layout. Secrets pass through here only into 0600 files.
 */
#define LOG_MODULE "guest"

#include "guest/guest_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"
#include "os/proc.h"
#include "os/spawn.h"

int guest_identity_resolve(const char *os_user, struct guest_identity *id, struct ct_error *err)
{
	memset(id, 0, sizeof *id);
	if (geteuid() != 0) {
		id->uid = geteuid();
		id->gid = getegid();
		id->drop = false;
		guest_self_name(id->name, sizeof id->name);
		return 0;
	}
	if (!os_user || !*os_user)
		return ct_fail(err, 500, "No service user is configured for the database server.");
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwnam_r(os_user, &pw, buf, sizeof buf, &res) != 0 || !res)
		return ct_fail(err, 500, "Service user %s does not exist.", os_user);
	if (pw.pw_uid == 0)
		return ct_fail(err, 500, "The database server may not run as root.");
	id->uid = pw.pw_uid;
	id->gid = pw.pw_gid;
	id->drop = true;
	snprintf(id->name, sizeof id->name, "%s", os_user);
	return 0;
}

void guest_self_name(char *out, size_t size)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res)
		snprintf(out, size, "%s", pw.pw_name);
	else
		snprintf(out, size, "%u", (unsigned)geteuid());
}

int guest_random_password(char *out, size_t len, struct ct_error *err)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;
	while (i < len) {
		unsigned char r[64];
		if (ids_random(r, sizeof r))
			return ct_fail(err, 500, "No random bytes available.");
		/* 62 * 4 = 248: reject 248..255 so every character is equally likely. */
		for (size_t k = 0; k < sizeof r && i < len; k++)
			if (r[k] < 248)
				out[i++] = alnum[r[k] % 62];
	}
	out[len] = '\0';
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int guest_write_file(const char *path, const char *content, size_t len, mode_t mode,
		     struct ct_error *err)
{
	return guest_write_file_owned(path, content, len, mode, NULL, err);
}

int guest_write_file_owned(const char *path, const char *content, size_t len, mode_t mode,
			   const struct guest_identity *id, struct ct_error *err)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
		return ct_fail(err, 500, "Path too long: %s", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return ct_fail(err, 500, "Cannot create %s: %s", tmp, strerror(errno));
	/* umask may have narrowed mode; set it exactly. */
	if (fchmod(fd, mode) || (id && id->drop && fchown(fd, id->uid, id->gid)) ||
	    write_all(fd, content, len) || fsync(fd)) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return ct_fail(err, 500, "Cannot write %s: %s", path, strerror(e));
	}
	close(fd);
	if (rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return ct_fail(err, 500, "Cannot rename %s: %s", tmp, strerror(e));
	}
	return 0;
}

int guest_write_credentials(const char *path, const struct guest_credentials *cred,
			    const char *socket, struct ct_error *err)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "[client]\nuser = %s\npassword = %s\nhost = localhost\n",
			 cred->user, cred->password);
	if (n > 0 && socket && (size_t)n < sizeof buf)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "socket = %s\n", socket);
	if (n < 0 || (size_t)n >= sizeof buf)
		return ct_fail(err, 500, "Credentials too long for %s", path);
	int rc = guest_write_file(path, buf, (size_t)n, 0600, err);
	explicit_bzero(buf, sizeof buf);
	return rc;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t k = 0;
	while (s[k] == ' ' || s[k] == '\t')
		k++;
	memmove(s, s + k, n - k + 1);
}

int guest_read_credentials(const char *path, struct guest_credentials *cred, struct ct_error *err)
{
	memset(cred, 0, sizeof *cred);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return ct_fail(err, 404, "Credential file %s does not exist.", path);
		return ct_fail(err, 500, "Cannot open %s: %s", path, strerror(errno));
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return ct_fail(err, 500, "Cannot read %s", path);
	}
	char line[512];
	while (fgets(line, sizeof line, f)) {
		char *eq = strchr(line, '=');
		if (!eq || line[0] == '[' || line[0] == '#')
			continue;
		*eq = '\0';
		char *key = line, *val = eq + 1;
		trim(key);
		trim(val);
		if (!strcmp(key, "user"))
			snprintf(cred->user, sizeof cred->user, "%s", val);
		else if (!strcmp(key, "password"))
			snprintf(cred->password, sizeof cred->password, "%s", val);
	}
	explicit_bzero(line, sizeof line);
	fclose(f);
	if (!cred->user[0])
		return ct_fail(err, 500, "Credential file %s has no user.", path);
	return 0;
}

int guest_mkdir(const char *path, mode_t mode, const struct guest_identity *id,
		struct ct_error *err)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
		return ct_fail(err, 500, "Path too long: %s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return ct_fail(err, 500, "Cannot create %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, mode) && errno != EEXIST)
		return ct_fail(err, 500, "Cannot create %s: %s", p, strerror(errno));
	if (chmod(p, mode))
		return ct_fail(err, 500, "Cannot chmod %s: %s", p, strerror(errno));
	if (id && id->drop && chown(p, id->uid, id->gid))
		return ct_fail(err, 500, "Cannot chown %s: %s", p, strerror(errno));
	return 0;
}

/* nftw passes no context: the owner being given, per thread. */
static _Thread_local uid_t chown_uid;
static _Thread_local gid_t chown_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_uid == chown_uid && st->st_gid == chown_gid)
		return 0;
	return lchown(path, chown_uid, chown_gid) && errno != ENOENT ? -1 : 0;
}

int guest_chown_tree(const char *path, uid_t uid, gid_t gid, struct ct_error *err)
{
	if (geteuid() != 0)
		return 0;
	chown_uid = uid;
	chown_gid = gid;
	if (nftw(path, chown_entry, 16, FTW_PHYS))
		return ct_fail(err, 500, "Cannot chown %s: %s", path, strerror(errno));
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) && errno != ENOENT ? -1 : 0;
	return unlink(path) && errno != ENOENT ? -1 : 0;
}

int guest_remove_tree(const char *path, struct ct_error *err)
{
	struct stat st;
	if (lstat(path, &st) && errno == ENOENT)
		return 0;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS))
		return ct_fail(err, 500, "Cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* The child side of every process the guest starts: the service user's
 * identity when id says so, stdout and stderr appended to out_path. */
static struct os_child child_of(const char *const argv[], const char *out_path,
				const struct guest_identity *id, int report_fd)
{
	return (struct os_child){
		.argv = argv,
		.out_path = out_path,
		.drop_identity = id && id->drop,
		.uid = id ? id->uid : 0,
		.gid = id ? id->gid : 0,
		.report_fd = report_fd,
	};
}

pid_t guest_spawn_detached(const char *const argv[], const char *out_path,
			   const struct guest_identity *id, struct ct_error *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC))
		return ct_fail(err, 500, "pipe: %s", strerror(errno));
	struct os_child child = child_of(argv, out_path, id, pfd[1]);
	pid_t g = os_spawn_detached(&child);
	close(pfd[1]);
	struct os_exec_report report;
	int failed = os_exec_report_read(pfd[0], &report);
	if (g < 0)
		return ct_fail(err, 500, "Cannot start %s: fork failed", argv[0]);
	if (failed)
		return ct_fail(err, 500, "Cannot start %s: %s", argv[0], strerror(report.error));
	return g;
}

int guest_run(const char *const argv[], const char *out_path, const struct guest_identity *id,
	      struct ct_error *err)
{
	struct os_child child = child_of(argv, out_path, id, 0);
	pid_t c = os_spawn(&child);
	if (c < 0)
		return ct_fail(err, 500, "fork: %s", strerror(errno));
	int status;
	while (waitpid(c, &status, 0) < 0)
		if (errno != EINTR)
			return ct_fail(err, 500, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ct_fail(err, 500, "%s failed (status %d)", argv[0],
			       WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
	return 0;
}

pid_t guest_pidfile_read(const char *path)
{
	pid_t pid;
	unsigned long long start;
	bool has_start;
	return os_pidfile_read(path, &pid, &start, &has_start) ? 0 : pid;
}

enum guest_proc_state guest_proc_state(pid_t pid, const char *comm)
{
	if (pid <= 1)
		return GUEST_PROC_GONE;
	if (kill(pid, 0) && errno == ESRCH)
		return GUEST_PROC_GONE;
	struct os_proc_info info;
	if (os_proc_info(pid, &info))
		return GUEST_PROC_GONE;
	if (comm && strncmp(info.comm, comm, 15) != 0)
		return GUEST_PROC_GONE;
	if (info.state == 'Z' || info.state == 'X' || info.state == 'x')
		return GUEST_PROC_GONE;
	if (info.state == 'T' || info.state == 't')
		return GUEST_PROC_STOPPED;
	return GUEST_PROC_ALIVE;
}

int guest_proc_terminate(pid_t pid, const char *comm, int sig, int timeout_ms)
{
	if (guest_proc_state(pid, comm) == GUEST_PROC_GONE)
		return 0;
	if (kill(pid, sig) && errno == ESRCH)
		return 0;
	/* A stopped process must run to act on SIGTERM. */
	kill(pid, SIGCONT);
	double deadline = guest_now() + timeout_ms / 1000.0;
	while (guest_now() < deadline) {
		if (guest_proc_state(pid, comm) == GUEST_PROC_GONE)
			return 0;
		guest_sleep_ms(5);
	}
	return guest_proc_state(pid, comm) == GUEST_PROC_GONE ? 0 : -1;
}

static double gb_round(double bytes)
{
	double gb = bytes / (1024.0 * 1024.0 * 1024.0);
	/* Half up by hand: round() alone would map libm into the agent. */
	double r = (double)(unsigned long long)(gb * 100.0 + 0.5) / 100.0;
	if (bytes > 0 && r < 0.01)
		r = 0.01;
	return r;
}

json_t *guest_fs_stats(const char *path, struct ct_error *err)
{
	struct statvfs st;
	if (statvfs(path, &st)) {
		ct_fail(err, 500, "Cannot stat the file system of %s: %s", path, strerror(errno));
		return NULL;
	}
	double total = (double)st.f_blocks * (double)st.f_bsize;
	double free_bytes = (double)st.f_bfree * (double)st.f_bsize;
	return json_pack("{s:I,s:I,s:I,s:f,s:I,s:f}", "block_size", (json_int_t)st.f_bsize,
			 "total_blocks", (json_int_t)st.f_blocks, "free_blocks",
			 (json_int_t)st.f_bfree, "total", gb_round(total), "free",
			 (json_int_t)st.f_bfree * (json_int_t)st.f_bsize, "used",
			 gb_round(total - free_bytes));
}

int guest_copy_tree(const char *src, const char *dst, const char *log_path, struct ct_error *err)
{
	/* Sparse: most of a fresh redo log or WAL segment is zeros. */
	const char *argv[] = {"/bin/cp", "-a", "--reflink=auto", "--sparse=always", src, dst, NULL};
	if (guest_run(argv, log_path, NULL, err))
		return ct_fail(err, 500, "Copying the template data directory failed; see %s.",
			       log_path);
	return 0;
}

void guest_log_tail(const char *path)
{
	char buf[2048];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof buf - 1, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	log_error("tail of %s: %s", path, buf);
}

const char *guest_kw_string(const json_t *kwargs, const char *key)
{
	const json_t *v = json_object_get(kwargs, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool guest_kw_present(const json_t *kwargs, const char *key)
{
	const json_t *v = json_object_get(kwargs, key);
	if (!v || json_is_null(v))
		return false;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return true;
}

int guest_prepare_check_unsupported(const json_t *kwargs, struct ct_error *err)
{
	static const char *const unsupported[] = {"backup_info", "snapshot", "cluster_config",
						  NULL};
	for (size_t i = 0; unsupported[i]; i++)
		if (guest_kw_present(kwargs, unsupported[i]))
			return ct_fail(err, 501, "prepare with %s is not supported yet.",
				       unsupported[i]);
	if (guest_kw_present(kwargs, "modules"))
		log_warning("prepare: modules are not supported yet and were ignored");
	return 0;
}

json_t *guest_page(json_t *items, int limit, const char *last)
{
	json_t *next = json_null();
	if (limit > 0 && json_array_size(items) > (size_t)limit) {
		json_array_remove(items, (size_t)limit);
		next = json_string(last);
	}
	return json_pack("[o,o]", items, next);
}

double guest_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void guest_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int guest_wait_healthy(const struct guest_instance *inst,
		       enum guest_status (*status)(const struct guest_instance *inst),
		       int timeout_ms, struct ct_error *err)
{
	double t0 = guest_now();
	for (;;) {
		enum guest_status s = status(inst);
		if (s == GUEST_STATUS_HEALTHY)
			return 0;
		if (s == GUEST_STATUS_SHUTDOWN)
			return ct_fail(err, 500, "The database server stopped during start-up.");
		if (guest_now() - t0 > timeout_ms / 1000.0)
			return ct_fail(err, 500, "The database server is not healthy after %d s.",
				       timeout_ms / 1000);
		guest_sleep_ms(10);
	}
}

enum guest_status guest_server_status(const struct guest_instance *inst, pid_t pid,
				      const char *comm,
				      bool (*answers)(const struct guest_instance *inst))
{
	switch (guest_proc_state(pid, comm)) {
	case GUEST_PROC_GONE: return GUEST_STATUS_SHUTDOWN;
	case GUEST_PROC_STOPPED: return GUEST_STATUS_PAUSED;
	case GUEST_PROC_ALIVE: break;
	}
	return answers(inst) ? GUEST_STATUS_HEALTHY : GUEST_STATUS_RUNNING;
}

static void copy_str(char *dst, size_t size, const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	snprintf(dst, size, "%s", v ? v : "");
}

void guest_instance_from_json(const json_t *j, struct guest_instance *inst)
{
	memset(inst, 0, sizeof *inst);
	copy_str(inst->id, sizeof inst->id, j, "id");
	copy_str(inst->manager, sizeof inst->manager, j, "manager");
	copy_str(inst->data_dir, sizeof inst->data_dir, j, "data_dir");
	copy_str(inst->run_dir, sizeof inst->run_dir, j, "run_dir");
	copy_str(inst->cache_dir, sizeof inst->cache_dir, j, "cache_dir");
	copy_str(inst->bind_address, sizeof inst->bind_address, j, "bind_address");
	copy_str(inst->os_user, sizeof inst->os_user, j, "os_user");
	inst->port = (int)json_integer_value(json_object_get(j, "port"));
	inst->memory_mb = (int)json_integer_value(json_object_get(j, "memory_mb"));
}

int guest_template_build(const char *cache_dir, const char *tmpl, mode_t mode,
			 const struct guest_identity *id,
			 int (*init)(const void *ctx, const char *dir, struct ct_error *err),
			 const void *ctx, struct ct_error *err)
{
	char build[PATH_MAX + 128], rnd[9];
	if (guest_random_password(rnd, 8, err))
		return -1;
	snprintf(build, sizeof build, "%s.build-%s", tmpl, rnd);
	if (guest_mkdir(cache_dir, 0711, NULL, err) || guest_mkdir(build, mode, id, err))
		return -1;
	double t0 = guest_now();
	if (init(ctx, build, err) || guest_chown_tree(build, 0, 0, err)) {
		guest_remove_tree(build, NULL);
		return -1;
	}
	if (rename(build, tmpl))
		guest_remove_tree(build, NULL);
	else
		log_info("initialised template %s in %.3f s", tmpl, guest_now() - t0);
	return 0;
}
