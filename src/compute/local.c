/*
 * local.c — the local compute driver (local.h): its table and the operations
 * behind it. May not touch the control-plane database except through
 * address.c, nor the bus.
 */
#define LOG_MODULE "compute"
#include "compute/local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/crash_point.h"
#include "common/log.h"
#include "compute/address.h"
#include "compute/guest_bus_tls.h"
#include "compute/guest_conf.h"
#include "compute/instance_user.h"
#include "compute/netfilter.h"
#include "compute/paths.h"
#include "compute/process.h"
#include "compute/volume.h"
#include "guest/datastore_hooks.h"
#include "os/proc.h"

static int instance_dir(const char *id, char *out, struct ct_error *err)
{
	char base[PATH_MAX];
	if (paths_check_id(id, err) || paths_instances_dir(base, err))
		return -1;
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", base, id) >= PATH_MAX)
		return ct_fail(err, 500, "instance path too long");
	return 0;
}

static int run_dir(const char *id, char *out, struct ct_error *err)
{
	if (paths_check_id(id, err))
		return -1;
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", cfg_str(CFG_LOCAL_RUN_ROOT), id) >= 80)
		return ct_fail(err, 500, "[local] run_root is too long for unix sockets");
	return 0;
}

static int guestagent_path(char *out, struct ct_error *err)
{
	const char *configured = cfg_str(CFG_LOCAL_GUESTAGENT);
	if (*configured) {
		snprintf(out, PATH_MAX, "%s", configured);
		return 0;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return ct_fail(err, 500, "cannot find the ctrove binary");
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	if ((size_t)snprintf(out, PATH_MAX, "%s/ctrove-guestagent", self) >= PATH_MAX)
		return ct_fail(err, 500, "path too long");
	return 0;
}

/* argv of the agent, for spawning and for recognising it. */
struct agent_cmd {
	char binary[PATH_MAX];
	char conf[PATH_MAX + 16];
	char pid_file[PATH_MAX + 32];
	char log_file[PATH_MAX + 32];
	const char *argv[4];
};

static int agent_cmd(const char *id, struct agent_cmd *c, struct ct_error *err)
{
	char dir[PATH_MAX];
	if (instance_dir(id, dir, err) || guestagent_path(c->binary, err))
		return -1;
	snprintf(c->conf, sizeof c->conf, "%s/guest.conf", dir);
	snprintf(c->pid_file, sizeof c->pid_file, "%s/guestagent.pid", dir);
	snprintf(c->log_file, sizeof c->log_file, "%s/guestagent.log", dir);
	c->argv[0] = c->binary;
	c->argv[1] = "--config-file";
	c->argv[2] = c->conf;
	c->argv[3] = NULL;
	return 0;
}

/* guest_info.conf + trove-guestagent.conf in one file, 0600 (it holds the key and
 * the guest's own broker password). */
static int write_guest_conf(const struct compute_spec *s, const char *path, const char *address,
			    const char *mount_point, const struct instance_user *user,
			    struct ct_error *err)
{
	char rdir[PATH_MAX], templates[PATH_MAX + 16];
	const struct datastore_hooks *hooks = datastore_hooks_find(s->manager, err);
	if (!hooks || run_dir(s->id, rdir, err))
		return -1;
	if (!s->transport_url || !*s->transport_url)
		return ct_fail(err, 500, "the guest has no transport URL of its own");
	snprintf(templates, sizeof templates, "%s/templates", cfg_str(CFG_STATE_PATH));
	char tmp[PATH_MAX + 32];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return ct_fail(err, 500, "path too long");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return ct_fail(err, 500, "cannot write %s", tmp);
	}
	char defaults[4096];
	if (guest_conf_defaults(s, "local", cfg_int(CFG_LOCAL_GUEST_REPORT_INTERVAL), defaults,
				sizeof defaults, err)) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fprintf(f,
		"%s"
		"\n[guest_agent]\n"
		"data_dir = %s\n"
		"run_dir = %s\n"
		"cache_dir = %s\n"
		"bind_address = %s\n"
		"port = %d\n"
		"memory_mb = %ld\n"
		"service_user = %s\n"
		"server_probe_interval = %ld\n",
		defaults, mount_point, rdir, templates, address, hooks->port, s->memory_mb,
		user->name, cfg_int(CFG_LOCAL_GUEST_PROBE_INTERVAL));
	explicit_bzero(defaults, sizeof defaults);
	char dir[PATH_MAX];
	if (instance_dir(s->id, dir, err) || guest_bus_tls_write(f, s->transport_url, dir, err)) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	bool ok = !ferror(f);
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path))
		return ct_fail(err, 500, "cannot write %s", path);
	return 0;
}

static int cidr_list(const json_t *cidrs, const char ***out, size_t *n)
{
	*n = json_array_size(cidrs);
	*out = NULL;
	if (*n == 0)
		return 0;
	*out = calloc(*n, sizeof **out);
	if (!*out)
		return -1;
	for (size_t i = 0; i < *n; i++)
		(*out)[i] = json_string_value(json_array_get(cidrs, i));
	return 0;
}

static int apply_rules(const char *id, const char *address, const char *manager,
		       const json_t *allowed_cidrs, struct ct_error *err)
{
	const struct datastore_hooks *hooks = datastore_hooks_find(manager, err);
	if (!hooks)
		return -1;
	const char **cidrs;
	size_t n;
	if (cidr_list(allowed_cidrs, &cidrs, &n))
		return ct_fail(err, 500, "out of memory");
	if (n == 0) {
		/* Open to anyone: no rules needed, so no packet filter either. */
		if (netfilter_remove(id, err) && err->status != 501)
			return -1;
		return 0;
	}
	int port = hooks->port;
	int rc = netfilter_apply(id, address, &port, 1, cidrs, n, err);
	free(cidrs);
	return rc;
}

/* The database runs as an unprivileged user that must reach its data dir
 * below ours: every directory from state_path down is searchable (0711),
 * never listable; the files in them keep their own modes (guest.conf 0600). */
static int traversable(const char *dir, struct ct_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", dir);
	const char *state = cfg_str(CFG_STATE_PATH);
	size_t stop = strlen(state);
	for (;;) {
		struct stat st;
		if (stat(path, &st))
			return ct_fail(err, 500, "cannot stat %s", path);
		if ((st.st_mode & 0111) != 0111 && chmod(path, (st.st_mode & 07777) | 0111))
			return ct_fail(err, 500, "cannot make %s searchable", path);
		/* Walk up as far as state_path, never beyond it. */
		char *slash = strrchr(path, '/');
		if (!slash || slash == path || strncmp(path, state, stop) || strlen(path) <= stop)
			return 0;
		*slash = '\0';
	}
}

/* The guests' run directories sit side by side under run_root: searchable,
 * never listable, so no instance learns another's paths from it. */
static int seal_run_root(struct ct_error *err)
{
	const char *root = cfg_str(CFG_LOCAL_RUN_ROOT);
	if (paths_mkdir_p(root, 0711, err))
		return -1;
	if (chmod(root, 0711))
		return ct_fail(err, 500, "cannot chmod %s", root);
	return 0;
}

/* <run_root>/<id> is a link to <instance dir>/run: sockets keep short paths
 * under run_root (tmpfs), while what the guest keeps in its run directory (the
 * server's config, the agent's credentials, the prepared and stopped markers)
 * is on disk and survives a reboot. An instance made before this keeps its
 * plain directory. */
static int link_run_dir(const char *id, struct ct_error *err)
{
	char dir[PATH_MAX], rdir[PATH_MAX], target[PATH_MAX + 8];
	if (instance_dir(id, dir, err) || run_dir(id, rdir, err))
		return -1;
	snprintf(target, sizeof target, "%s/run", dir);
	if (mkdir(target, 0711) && errno != EEXIST)
		return ct_fail(err, 500, "cannot create %s: %s", target, strerror(errno));
	struct stat st;
	if (!lstat(rdir, &st))
		return 0;
	if (symlink(target, rdir) && errno != EEXIST)
		return ct_fail(err, 500, "cannot link %s: %s", rdir, strerror(errno));
	return 0;
}

struct user_job {
	const char *id;
	const char *request_id; /* the task's, for the log lines */
	struct instance_user user;
	struct ct_error err;
	int rc;
};

static void *ensure_user(void *arg)
{
	struct user_job *j = arg;
	log_set_context(j->request_id, j->id);
	j->rc = instance_user_ensure(j->id, &j->user, &j->err);
	return NULL;
}

static bool local_agent_alive(const char *id);

/* The machine of a build resumed after a crash whose agent already runs:
 * every step before the agent is done, and its config holds the broker
 * password it runs with, so nothing is made or written again. */
static int report_running(const struct compute_spec *s, struct compute_server *out,
			  struct ct_error *err)
{
	if (address_lookup(s->id, out->address, err) ||
	    volume_mount_point(s->id, out->mount_point, err))
		return -1;
	log_info("the guest agent already runs at %s: the machine is up", out->address);
	return 0;
}

static int local_create(const struct compute_spec *s, struct compute_server *out,
			struct ct_error *err)
{
	char dir[PATH_MAX], mount[PATH_MAX], address[ADDRESS_MAX];
	struct agent_cmd cmd;
	/* An unknown datastore fails here, before anything is made. */
	if (!datastore_hooks_find(s->manager, err))
		return -1;
	if (local_agent_alive(s->id))
		return report_running(s, out, err);
	if (instance_dir(s->id, dir, err) || paths_mkdir_p(dir, 0711, err) ||
	    traversable(dir, err) || seal_run_root(err) || link_run_dir(s->id, err))
		return -1;
	/* useradd takes 25-100 ms (it locks and rewrites four files): it runs
	 * while the volume is made, which takes longer. */
	struct user_job job = {.id = s->id, .request_id = log_request_id()};
	pthread_t thread;
	bool threaded = pthread_create(&thread, NULL, ensure_user, &job) == 0;
	if (!threaded)
		ensure_user(&job);
	int rc = address_allocate(s->id, address, err);
	if (!rc) {
		log_info("address %s", address);
		CT_CRASH_POINT("create.address_allocated");
		snprintf(out->address, sizeof out->address, "%s", address);
		rc = volume_create(s->id, (int)s->volume_gb, err) ||
		     volume_mount_point(s->id, mount, err);
	}
	if (!rc) {
		snprintf(out->mount_point, sizeof out->mount_point, "%s", mount);
		rc = apply_rules(s->id, address, s->manager, s->allowed_cidrs, err);
	}
	if (threaded)
		pthread_join(thread, NULL);
	if (rc)
		return -1;
	if (job.rc) {
		*err = job.err;
		return -1;
	}
	/* Replicas reach their source from their own address (docs/replication.md);
	 * without nftables they come from 127.0.0.1, which the source then admits. */
	struct ct_error no_snat;
	if (netfilter_snat_apply(s->id, address, (unsigned)job.user.uid, &no_snat)) {
		if (no_snat.status != 501) {
			*err = no_snat;
			return -1;
		}
		log_warning("outgoing connections leave from 127.0.0.1: %s", no_snat.message);
	}
	CT_CRASH_POINT("create.rules_applied");
	if (agent_cmd(s->id, &cmd, err) ||
	    write_guest_conf(s, cmd.conf, address, mount, &job.user, err))
		return -1;
	CT_CRASH_POINT("create.config_written");
	struct proc_spec spec = {.argv = cmd.argv,
				 .pid_file = cmd.pid_file,
				 .log_file = cmd.log_file,
				 .work_dir = dir};
	pid_t pid;
	if (proc_spawn(&spec, &pid, err))
		return -1;
	log_info("guest agent running as pid %d", (int)pid);
	CT_CRASH_POINT("create.agent_spawned");
	return 0;
}

static bool local_agent_alive(const char *id)
{
	struct agent_cmd cmd;
	struct ct_error err;
	return !agent_cmd(id, &cmd, &err) && proc_alive(cmd.pid_file, cmd.argv) > 0;
}

/* The marker that keeps a fenced instance's agent from being started again
 * (recovery, restart) until it is unfenced. */
static int fence_marker(const char *id, char *out, struct ct_error *err)
{
	char dir[PATH_MAX];
	if (instance_dir(id, dir, err))
		return -1;
	if ((size_t)snprintf(out, PATH_MAX, "%s/fenced", dir) >= PATH_MAX)
		return ct_fail(err, 500, "instance path too long");
	return 0;
}

/* The rule netfilter_snat_apply() made at create, again (idempotent). */
static int restore_snat(const char *id, struct ct_error *err)
{
	char address[ADDRESS_MAX];
	struct instance_user user;
	if (address_lookup(id, address, err) || instance_user_lookup(id, &user, err))
		return -1;
	struct ct_error no_snat;
	if (netfilter_snat_apply(id, address, (unsigned)user.uid, &no_snat)) {
		if (no_snat.status != 501) {
			*err = no_snat;
			return -1;
		}
	}
	return 0;
}

static int local_ensure_running(const char *id, struct ct_error *err)
{
	struct agent_cmd cmd;
	char marker[PATH_MAX];
	if (agent_cmd(id, &cmd, err) || fence_marker(id, marker, err))
		return -1;
	if (!access(marker, F_OK))
		return ct_fail(err, 409, "Instance %s is fenced after a failover.", id);
	if (proc_alive(cmd.pid_file, cmd.argv))
		return 0;
	if (access(cmd.conf, R_OK))
		return ct_fail(err, 500, "instance %s has no guest configuration", id);
	char dir[PATH_MAX];
	/* After a reboot run_root (on tmpfs) is gone: made again 0711 before the
	 * agent would make it with its own, wider, default. The loop device,
	 * mount and outgoing-address rule went too: made again from the image
	 * file and the rows before the agent starts its database on them. */
	if (instance_dir(id, dir, err) || seal_run_root(err) || link_run_dir(id, err) ||
	    volume_attach(id, err) || restore_snat(id, err))
		return -1;
	struct proc_spec spec = {.argv = cmd.argv,
				 .pid_file = cmd.pid_file,
				 .log_file = cmd.log_file,
				 .work_dir = dir};
	pid_t pid;
	if (proc_spawn(&spec, &pid, err))
		return -1;
	log_info("guest agent restarted as pid %d", (int)pid);
	return 0;
}

static int local_set_access(const char *id, const char *manager, const json_t *allowed_cidrs,
			    struct ct_error *err)
{
	char address[ADDRESS_MAX];
	if (address_lookup(id, address, err))
		return -1;
	return apply_rules(id, address, manager, allowed_cidrs, err);
}

/* Grown under the running server: only file systems that grow mounted (XFS)
 * qualify, since stopping the database is the taskmanager's call, not ours. */
static int local_resize_volume(const char *id, long new_size_gb, struct ct_error *err)
{
	if (new_size_gb < 1 || new_size_gb > INT_MAX)
		return ct_fail(err, 400,
			       "Volume 'size' needs to be a positive integer value, "
			       "%ld cannot be accepted.",
			       new_size_gb);
	int online = volume_grows_online(id, err);
	if (online < 0)
		return -1;
	if (!online)
		return ct_fail(err, 400,
			       "The volume of instance %s is ext4, which cannot grow while the "
			       "database runs on this host; only XFS volumes ([local] volume_fs = "
			       "xfs) can be resized.",
			       id);
	return volume_grow(id, (int)new_size_gb, err);
}

/* guest.conf with its memory_mb line replaced, written as write_guest_conf does. */
static int rewrite_guest_memory(const char *path, long memory_mb, struct ct_error *err)
{
	FILE *in = fopen(path, "re");
	if (!in)
		return ct_fail(err, 500, "instance has no guest configuration %s", path);
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		if (fd >= 0)
			close(fd);
		fclose(in);
		return ct_fail(err, 500, "cannot write %s", tmp);
	}
	char line[4096];
	bool replaced = false;
	while (fgets(line, sizeof line, in)) {
		if (!strncmp(line, "memory_mb =", 11) || !strncmp(line, "memory_mb=", 10)) {
			fprintf(out, "memory_mb = %ld\n", memory_mb);
			replaced = true;
		} else {
			fputs(line, out);
		}
	}
	bool ok = !ferror(in) && !ferror(out) && replaced;
	fclose(in);
	ok = fclose(out) == 0 && ok;
	if (!ok || rename(tmp, path)) {
		unlink(tmp);
		return ct_fail(err, 500, "cannot rewrite %s", path);
	}
	return 0;
}

/* Nova's resize on one machine: the agent comes back with the new flavor's
 * memory (it renders configs from it); the database stays as the taskmanager
 * left it (stopped: stop_db's marker keeps the agent from starting it). */
static int local_resize_flavor(const char *id, const char *flavor_id, long memory_mb,
			       struct ct_error *err)
{
	(void)flavor_id; /* one machine: only the memory changes */
	struct agent_cmd cmd;
	if (memory_mb < 1)
		return ct_fail(err, 400, "A flavor needs a positive amount of RAM.");
	if (agent_cmd(id, &cmd, err) || rewrite_guest_memory(cmd.conf, memory_mb, err) ||
	    proc_stop(cmd.pid_file, cmd.argv, 5000, err))
		return -1;
	log_info("guest agent restarting with %ld MB of memory", memory_mb);
	return local_ensure_running(id, err);
}

struct leftovers {
	const char *needle;
	int found;
};

static int kill_if_mentions(pid_t pid, void *ctx)
{
	struct leftovers *l = ctx;
	if (pid != getpid() && os_proc_cmdline_mentions(pid, l->needle)) {
		kill(pid, SIGKILL);
		l->found++;
	}
	return 0;
}

/* SIGKILL every process whose arguments mention the instance's run directory
 * (the database server and anything it started): what the agent leaves behind
 * when it cannot stop the server itself. */
static void kill_leftovers(const char *rdir)
{
	for (int round = 0; round < 50; round++) {
		struct leftovers l = {rdir, 0};
		if (os_proc_each(kill_if_mentions, &l) < 0 || !l.found)
			return;
		if (round == 0)
			log_warning("killed %d leftover process(es) of %s", l.found, rdir);
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static int local_destroy(const char *id, struct ct_error *err)
{
	char dir[PATH_MAX], rdir[PATH_MAX];
	struct agent_cmd cmd;
	if (instance_dir(id, dir, err) || run_dir(id, rdir, err) || agent_cmd(id, &cmd, err))
		return -1;
	if (proc_stop(cmd.pid_file, cmd.argv, 5000, err))
		return -1;
	CT_CRASH_POINT("delete.agent_stopped");
	kill_leftovers(rdir);
	kill_leftovers(dir);
	if (instance_user_stop_processes(id, err))
		return -1;
	CT_CRASH_POINT("delete.server_stopped");
	if ((netfilter_snat_remove(id, err) || netfilter_remove(id, err)) && err->status != 501)
		return -1;
	CT_CRASH_POINT("delete.rules_removed");
	if (volume_delete(id, err))
		return -1;
	if (paths_remove_tree(rdir, err) || paths_remove_tree(dir, err))
		return -1;
	/* Last: until the files are gone a uid given again could own them. */
	if (instance_user_remove(id, err) || address_free(id, err))
		return -1;
	CT_CRASH_POINT("delete.address_released");
	return 0;
}

/* Traffic first (a server still running can take no write from then on),
 * then the processes: the agent at once with SIGKILL (it must not stop the
 * server "cleanly" or report anything), then everything of the instance's
 * run directory and OS user. */
static int local_fence(const char *id, struct ct_error *err)
{
	char dir[PATH_MAX], rdir[PATH_MAX], marker[PATH_MAX], address[ADDRESS_MAX];
	struct agent_cmd cmd;
	if (instance_dir(id, dir, err) || run_dir(id, rdir, err) || agent_cmd(id, &cmd, err) ||
	    fence_marker(id, marker, err) || address_lookup(id, address, err))
		return -1;
	int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ct_fail(err, 500, "cannot write %s", marker);
	close(fd);
	if (netfilter_fence(id, address, err) || proc_stop(cmd.pid_file, cmd.argv, 0, err))
		return -1;
	kill_leftovers(rdir);
	kill_leftovers(dir);
	if (instance_user_stop_processes(id, err))
		return -1;
	log_warning("fenced: agent and server killed, traffic to %s reset", address);
	return 0;
}

static int local_unfence(const char *id, struct ct_error *err)
{
	char marker[PATH_MAX];
	if (fence_marker(id, marker, err) || netfilter_unfence(id, err))
		return -1;
	if (unlink(marker) && errno != ENOENT)
		return ct_fail(err, 500, "cannot remove %s", marker);
	log_info("unfenced");
	return 0;
}

/* Without loop devices or nftables the driver says so once and degrades
 * (plain directories; 501 for allowed_cidrs): never fatal. A configuration
 * it cannot use at all is. */
static int local_init(struct ct_error *err)
{
	/* A bad uid range would fail every create: refuse to start instead. */
	uid_t first, last;
	if (instance_user_parse_range(cfg_str(CFG_LOCAL_INSTANCE_UID_RANGE), &first, &last, err))
		return -1;
	struct ct_error degraded = {0};
	if (volume_init(&degraded))
		log_warning("volumes: %s", degraded.message);
	if (netfilter_init(&degraded))
		log_warning("allowed_cidrs cannot be enforced: %s", degraded.message);
	return 0;
}

const struct compute_driver compute_local_driver = {
	.name = "local",
	.volume_types = false,
	.init = local_init,
	.create = local_create,
	.destroy = local_destroy,
	.agent_alive = local_agent_alive,
	.ensure_running = local_ensure_running,
	.set_access = local_set_access,
	.resize_volume = local_resize_volume,
	.resize_flavor = local_resize_flavor,
	.attach_storage = NULL,
	.fence = local_fence,
	.unfence = local_unfence,
};
