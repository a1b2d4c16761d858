/*
 * worker.c — see worker.h. The agent side (a manager table whose functions
 * pack their arguments and start a worker) and the worker side (unpack, call
 * the real manager, answer) share the argument names below. Owns the workers
 * it starts; may not touch RPC, the control plane or a datastore's files.
 */
#define LOG_MODULE "guest"

#include "guest/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/archive.h"
#include "guest/backups.h"
#include "guest/guest_util.h"

extern char **environ;

/* --- the agent's side ------------------------------------------------------ */

static json_t *instance_json(const struct guest_instance *inst)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:i}", "id", inst->id, "manager",
			 inst->manager, "data_dir", inst->data_dir, "run_dir", inst->run_dir,
			 "cache_dir", inst->cache_dir, "bind_address", inst->bind_address, "port",
			 inst->port, "os_user", inst->os_user, "memory_mb", inst->memory_mb);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Everything the worker writes; NULL when it cannot be read. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* Start `<this executable> --worker` with request on its stdin; its stdout
 * comes back in *answer. The pid, or -1. */
static pid_t spawn_worker(const char *request, char **answer, size_t *answer_len,
			  struct ct_error *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		ct_fail(err, 500, "Cannot start a worker: pipe: %s", strerror(errno));
		goto fail;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	if (log_fileno() != STDERR_FILENO)
		posix_spawn_file_actions_adddup2(&fa, log_fileno(), STDERR_FILENO);
	posix_spawnattr_init(&attr);
	/* The agent blocks SIGTERM and SIGINT in every thread; a worker must not. */
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	/* Named as the agent was started, so process listings tell them apart. */
	char *const argv[] = {program_invocation_name, "--worker", NULL};
	pid_t pid;
	int e = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e) {
		ct_fail(err, 500, "Cannot start a worker: %s", strerror(e));
		goto fail;
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	/* The worker reads all of its request before it answers; a worker that
	 * died early shows as EPIPE here and as its exit status below. */
	(void)write_all(in[1], request, strlen(request));
	close(in[1]);
	*answer = read_all(out[0], answer_len);
	close(out[0]);
	return pid;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -1;
}

/* Run op with args (stolen; NULL when packing them failed) in a worker: its
 * result (a new reference; JSON null for "nothing"), or NULL with err set. */
static json_t *call(const struct guest_instance *inst, const char *op, json_t *args,
		    struct ct_error *err)
{
	json_t *req =
		args ? json_pack("{s:s,s:o,s:o,s:b,s:s?}", "op", op, "instance",
				 instance_json(inst), "args", args, "debug",
				 log_min_level == LOG_LEVEL_DEBUG, "request_id", log_request_id())
		     : NULL;
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text) {
		ct_fail(err, 500, "Out of memory.");
		return NULL;
	}
	char *answer = NULL;
	size_t answer_len = 0;
	pid_t pid = spawn_worker(text, &answer, &answer_len, err);
	explicit_bzero(text, strlen(text)); /* it may hold passwords */
	free(text);
	if (pid < 0)
		return NULL;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	json_t *out = answer ? json_loadb(answer, answer_len, 0, NULL) : NULL;
	if (answer)
		explicit_bzero(answer, answer_len); /* enable_root answers a password */
	free(answer);
	json_t *result = json_object_get(out, "result");
	const json_t *error = json_object_get(out, "error");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || (!result && !json_is_object(error))) {
		if (WIFSIGNALED(status))
			log_error("worker %d for %s was killed by signal %d", (int)pid, op,
				  WTERMSIG(status));
		else
			log_error("worker %d for %s exited with status %d and %s", (int)pid, op,
				  WEXITSTATUS(status), out ? "an answer" : "no answer");
		json_decref(out);
		ct_fail(err, 500, "The guest agent's worker for %s failed.", op);
		return NULL;
	}
	if (!result) {
		int code = (int)json_integer_value(json_object_get(error, "status"));
		const char *message = json_string_value(json_object_get(error, "message"));
		ct_fail(err, code ? code : 500, "%s", message ? message : "Unknown error.");
		json_decref(out);
		return NULL;
	}
	json_incref(result);
	json_decref(out);
	return result;
}

static int call_done(const struct guest_instance *inst, const char *op, json_t *args,
		     struct ct_error *err)
{
	json_t *r = call(inst, op, args, err);
	json_decref(r);
	return r ? 0 : -1;
}

static json_t *copy(const json_t *v)
{
	return v ? json_deep_copy(v) : NULL;
}

static int w_prepare(const struct guest_instance *inst, const json_t *kwargs, struct ct_error *err)
{
	return call_done(inst, "prepare", json_pack("{s:o?}", "kwargs", copy(kwargs)), err);
}

static int w_start(const struct guest_instance *inst, struct ct_error *err)
{
	return call_done(inst, "start", json_object(), err);
}

static int w_stop(const struct guest_instance *inst, struct ct_error *err)
{
	return call_done(inst, "stop", json_object(), err);
}

static enum guest_status w_status(const struct guest_instance *inst)
{
	struct ct_error err = {0};
	json_t *r = call(inst, "status", json_object(), &err);
	json_int_t v = json_is_integer(r) ? json_integer_value(r) : -1;
	enum guest_status s = v >= GUEST_STATUS_RUNNING && v <= GUEST_STATUS_HEALTHY
				      ? (enum guest_status)v
				      : GUEST_STATUS_UNKNOWN;
	json_decref(r);
	return s;
}

static json_t *page_args(int limit, const char *marker, bool include_marker)
{
	return json_pack("{s:i,s:s?,s:b}", "limit", limit, "marker", marker, "include_marker",
			 include_marker);
}

static json_t *w_list_databases(const struct guest_instance *inst, int limit, const char *marker,
				bool include_marker, struct ct_error *err)
{
	return call(inst, "list_databases", page_args(limit, marker, include_marker), err);
}

static int w_create_database(const struct guest_instance *inst, const json_t *databases,
			     struct ct_error *err)
{
	return call_done(inst, "create_database", json_pack("{s:o?}", "databases", copy(databases)),
			 err);
}

static int w_delete_database(const struct guest_instance *inst, const json_t *database,
			     struct ct_error *err)
{
	return call_done(inst, "delete_database", json_pack("{s:o?}", "database", copy(database)),
			 err);
}

static json_t *w_list_users(const struct guest_instance *inst, int limit, const char *marker,
			    bool include_marker, struct ct_error *err)
{
	return call(inst, "list_users", page_args(limit, marker, include_marker), err);
}

static int w_create_user(const struct guest_instance *inst, const json_t *users,
			 struct ct_error *err)
{
	return call_done(inst, "create_user", json_pack("{s:o?}", "users", copy(users)), err);
}

static json_t *w_get_user(const struct guest_instance *inst, const char *username,
			  const char *hostname, struct ct_error *err)
{
	return call(inst, "get_user",
		    json_pack("{s:s?,s:s?}", "username", username, "hostname", hostname), err);
}

static int w_delete_user(const struct guest_instance *inst, const json_t *user,
			 struct ct_error *err)
{
	return call_done(inst, "delete_user", json_pack("{s:o?}", "user", copy(user)), err);
}

static int w_update_attributes(const struct guest_instance *inst, const char *username,
			       const char *hostname, const json_t *user_attrs, struct ct_error *err)
{
	return call_done(inst, "update_attributes",
			 json_pack("{s:s?,s:s?,s:o?}", "username", username, "hostname", hostname,
				   "user_attrs", copy(user_attrs)),
			 err);
}

static int w_change_passwords(const struct guest_instance *inst, const json_t *users,
			      struct ct_error *err)
{
	return call_done(inst, "change_passwords", json_pack("{s:o?}", "users", copy(users)), err);
}

static int w_grant_access(const struct guest_instance *inst, const char *username,
			  const char *hostname, const json_t *databases, struct ct_error *err)
{
	return call_done(inst, "grant_access",
			 json_pack("{s:s?,s:s?,s:o?}", "username", username, "hostname", hostname,
				   "databases", copy(databases)),
			 err);
}

static int w_revoke_access(const struct guest_instance *inst, const char *username,
			   const char *hostname, const char *database, struct ct_error *err)
{
	return call_done(inst, "revoke_access",
			 json_pack("{s:s?,s:s?,s:s?}", "username", username, "hostname", hostname,
				   "database", database),
			 err);
}

static json_t *w_enable_root(const struct guest_instance *inst, const char *password,
			     struct ct_error *err)
{
	return call(inst, "enable_root", json_pack("{s:s?}", "password", password), err);
}

static int w_disable_root(const struct guest_instance *inst, struct ct_error *err)
{
	return call_done(inst, "disable_root", json_object(), err);
}

static int w_is_root_enabled(const struct guest_instance *inst, bool *enabled, struct ct_error *err)
{
	json_t *r = call(inst, "is_root_enabled", json_object(), err);
	*enabled = json_is_true(r);
	json_decref(r);
	return r ? 0 : -1;
}

/* Writing the override file opens no database session: nothing to isolate,
 * and a change reaches many instances at once without a process each. */
static int w_update_overrides(const struct guest_instance *inst, const json_t *overrides,
			      bool remove, struct ct_error *err)
{
	const struct datastore_manager *m = datastore_manager_find(inst->manager);
	if (!m || !m->update_overrides)
		return ct_fail(err, 400, "datastore_manager '%s' is not supported", inst->manager);
	return m->update_overrides(inst, overrides, remove, err);
}

static int w_apply_overrides(const struct guest_instance *inst, const json_t *overrides,
			     struct ct_error *err)
{
	return call_done(inst, "apply_overrides", json_pack("{s:o?}", "overrides", copy(overrides)),
			 err);
}

static int w_rotate_tls(const struct guest_instance *inst, const json_t *tls, struct ct_error *err)
{
	return call_done(inst, "rotate_tls", json_pack("{s:o?}", "tls", copy(tls)), err);
}

static int w_start_with_config(const struct guest_instance *inst, const char *config_contents,
			       struct ct_error *err)
{
	return call_done(inst, "start_with_config",
			 json_pack("{s:s?}", "config_contents", config_contents), err);
}

/* A statvfs: nothing to isolate. */
static json_t *w_filesystem_stats(const struct guest_instance *inst, struct ct_error *err)
{
	const struct datastore_manager *m = datastore_manager_find(inst->manager);
	if (!m) {
		ct_fail(err, 400, "datastore_manager '%s' is not supported", inst->manager);
		return NULL;
	}
	return m->get_filesystem_stats(inst, err);
}

json_t *guest_worker_create_backup(const struct guest_instance *inst, const json_t *backup_info,
				   struct ct_error *err)
{
	return call(inst, "create_backup", json_pack("{s:o?}", "backup_info", copy(backup_info)),
		    err);
}

json_t *guest_worker_archive_ship(const struct guest_instance *inst, const json_t *archive_info,
				  struct ct_error *err)
{
	return call(inst, "archive_ship", json_pack("{s:o?}", "archive_info", copy(archive_info)),
		    err);
}

/* Paths and stat() only: nothing to isolate. */
static int w_log_files(const struct guest_instance *inst, struct guest_log_file *out, size_t *n,
		       struct ct_error *err)
{
	const struct datastore_manager *m = datastore_manager_find(inst->manager);
	if (!m || !m->log_files)
		return ct_fail(err, 501, "Log actions are not supported.");
	return m->log_files(inst, out, n, err);
}

static int w_log_enable(const struct guest_instance *inst, const char *name, bool enable,
			long slow_ms, struct ct_error *err)
{
	return call_done(inst, "log_enable",
			 json_pack("{s:s,s:b,s:I}", "name", name, "enable", enable, "slow_ms",
				   (json_int_t)slow_ms),
			 err);
}

static json_t *w_server_stats(const struct guest_instance *inst, struct ct_error *err)
{
	return call(inst, "server_stats", json_object(), err);
}

/* A heartbeat's status and counters from one worker (issue 18: a process
 * per heartbeat, not two). */
static json_t *w_health(const struct guest_instance *inst, enum guest_status *status)
{
	struct ct_error err = {0};
	json_t *r = call(inst, "health", json_object(), &err);
	json_int_t v = json_integer_value(json_object_get(r, "status"));
	*status = json_is_integer(json_object_get(r, "status")) && v >= GUEST_STATUS_RUNNING &&
				  v <= GUEST_STATUS_HEALTHY
			  ? (enum guest_status)v
			  : GUEST_STATUS_UNKNOWN;
	json_t *counters = json_incref(json_object_get(r, "server"));
	json_decref(r);
	return counters;
}

/* --- replication: every call opens a session, so each runs in a worker --- */

static json_t *w_get_replication_snapshot(const struct guest_instance *inst,
					  const json_t *snapshot_info, struct ct_error *err)
{
	return call(inst, "get_replication_snapshot",
		    json_pack("{s:o?}", "snapshot_info", copy(snapshot_info)), err);
}

static int w_attach_replica(const struct guest_instance *inst, const json_t *replica_info,
			    bool restart, struct ct_error *err)
{
	return call_done(
		inst, "attach_replica",
		json_pack("{s:o?,s:b}", "replica_info", copy(replica_info), "restart", restart),
		err);
}

static json_t *w_detach_replica(const struct guest_instance *inst, bool for_failover,
				struct ct_error *err)
{
	return call(inst, "detach_replica", json_pack("{s:b}", "for_failover", for_failover), err);
}

static json_t *w_get_replica_context(const struct guest_instance *inst,
				     const json_t *replica_addresses, struct ct_error *err)
{
	return call(inst, "get_replica_context",
		    json_pack("{s:o?}", "replica_addresses", copy(replica_addresses)), err);
}

static int w_make_read_only(const struct guest_instance *inst, bool read_only, struct ct_error *err)
{
	return call_done(inst, "make_read_only", json_pack("{s:b}", "read_only", read_only), err);
}

static int w_enable_as_master(const struct guest_instance *inst, struct ct_error *err)
{
	return call_done(inst, "enable_as_master", json_object(), err);
}

static int w_demote_replication_master(const struct guest_instance *inst, struct ct_error *err)
{
	return call_done(inst, "demote_replication_master", json_object(), err);
}

static json_t *w_get_latest_txn_id(const struct guest_instance *inst, struct ct_error *err)
{
	return call(inst, "get_latest_txn_id", json_object(), err);
}

static int w_wait_for_txn(const struct guest_instance *inst, const char *txn, int timeout_s,
			  struct ct_error *err)
{
	return call_done(inst, "wait_for_txn",
			 json_pack("{s:s?,s:i}", "txn", txn, "timeout", timeout_s), err);
}

static json_t *w_get_last_txn(const struct guest_instance *inst, struct ct_error *err)
{
	return call(inst, "get_last_txn", json_object(), err);
}

static int w_set_synchronous_replication(const struct guest_instance *inst, bool enabled,
					 struct ct_error *err)
{
	return call_done(inst, "set_synchronous_replication",
			 json_pack("{s:b}", "enabled", enabled), err);
}

const struct datastore_manager guest_worker_manager = {
	.name = "worker",
	.prepare = w_prepare,
	.start = w_start,
	.stop = w_stop,
	.status = w_status,
	.list_databases = w_list_databases,
	.create_database = w_create_database,
	.delete_database = w_delete_database,
	.list_users = w_list_users,
	.create_user = w_create_user,
	.get_user = w_get_user,
	.delete_user = w_delete_user,
	.update_attributes = w_update_attributes,
	.change_passwords = w_change_passwords,
	.grant_access = w_grant_access,
	.revoke_access = w_revoke_access,
	.enable_root = w_enable_root,
	.disable_root = w_disable_root,
	.is_root_enabled = w_is_root_enabled,
	.get_filesystem_stats = w_filesystem_stats,
	.update_overrides = w_update_overrides,
	.apply_overrides = w_apply_overrides,
	.rotate_tls = w_rotate_tls,
	.start_with_config = w_start_with_config,
	.log_files = w_log_files,
	.log_enable = w_log_enable,
	.server_stats = w_server_stats,
	.health = w_health,
	.get_replication_snapshot = w_get_replication_snapshot,
	.attach_replica = w_attach_replica,
	.detach_replica = w_detach_replica,
	.get_replica_context = w_get_replica_context,
	.make_read_only = w_make_read_only,
	.enable_as_master = w_enable_as_master,
	.demote_replication_master = w_demote_replication_master,
	.get_latest_txn_id = w_get_latest_txn_id,
	.wait_for_txn = w_wait_for_txn,
	.get_last_txn = w_get_last_txn,
	.set_synchronous_replication = w_set_synchronous_replication,
};

/* --- the worker's side ----------------------------------------------------- */

static json_t *done(int rc)
{
	return rc ? NULL : json_null();
}

/* {"status", "server"?}: counters that could be read mean a server that
 * answers (HEALTHY) over one connection; only without them is status()
 * asked (its process check costs no connection when the server is down). */
static json_t *health(const struct datastore_manager *m, const struct guest_instance *inst,
		      struct ct_error *err)
{
	struct ct_error stats_err = {0};
	json_t *counters = m->server_stats ? m->server_stats(inst, &stats_err) : NULL;
	if (!json_is_object(counters)) {
		json_decref(counters);
		counters = NULL;
	}
	enum guest_status status = counters ? GUEST_STATUS_HEALTHY : m->status(inst);
	json_t *out = json_pack("{s:i,s:o?}", "status", (int)status, "server", counters);
	if (!out)
		ct_fail(err, 500, "Out of memory.");
	return out;
}

/* A replication op (NULL slot: 501); NULL with err untouched when op is none. */
static json_t *run_replication(const struct datastore_manager *m, const struct guest_instance *inst,
			       const char *op, const json_t *args, struct ct_error *err)
{
#define ARG(name) json_object_get(args, name)
#define SLOT(slot)                                                                                 \
	if (!m->slot)                                                                              \
		return ct_fail(err, 501, "%s is not supported for %s.", #slot, m->name), NULL;
	if (!strcmp(op, "get_replication_snapshot")) {
		SLOT(get_replication_snapshot);
		return m->get_replication_snapshot(inst, ARG("snapshot_info"), err);
	}
	if (!strcmp(op, "attach_replica")) {
		SLOT(attach_replica);
		return done(m->attach_replica(inst, ARG("replica_info"),
					      json_is_true(ARG("restart")), err));
	}
	if (!strcmp(op, "detach_replica")) {
		SLOT(detach_replica);
		return m->detach_replica(inst, json_is_true(ARG("for_failover")), err);
	}
	if (!strcmp(op, "get_replica_context")) {
		SLOT(get_replica_context);
		return m->get_replica_context(inst, ARG("replica_addresses"), err);
	}
	if (!strcmp(op, "make_read_only")) {
		SLOT(make_read_only);
		return done(m->make_read_only(inst, json_is_true(ARG("read_only")), err));
	}
	if (!strcmp(op, "enable_as_master")) {
		SLOT(enable_as_master);
		return done(m->enable_as_master(inst, err));
	}
	if (!strcmp(op, "demote_replication_master")) {
		SLOT(demote_replication_master);
		return done(m->demote_replication_master(inst, err));
	}
	if (!strcmp(op, "get_latest_txn_id")) {
		SLOT(get_latest_txn_id);
		return m->get_latest_txn_id(inst, err);
	}
	if (!strcmp(op, "wait_for_txn")) {
		SLOT(wait_for_txn);
		return done(m->wait_for_txn(inst, json_string_value(ARG("txn")),
					    (int)json_integer_value(ARG("timeout")), err));
	}
	if (!strcmp(op, "get_last_txn")) {
		SLOT(get_last_txn);
		return m->get_last_txn(inst, err);
	}
	if (!strcmp(op, "set_synchronous_replication")) {
		SLOT(set_synchronous_replication);
		return done(
			m->set_synchronous_replication(inst, json_is_true(ARG("enabled")), err));
	}
#undef SLOT
#undef ARG
	return NULL;
}

/* The real manager's answer to op: a new reference, or NULL with err set. */
static json_t *run(const struct datastore_manager *m, const struct guest_instance *inst,
		   const char *op, const json_t *args, struct ct_error *err)
{
	const char *username = json_string_value(json_object_get(args, "username"));
	const char *hostname = json_string_value(json_object_get(args, "hostname"));
	int limit = (int)json_integer_value(json_object_get(args, "limit"));
	const char *marker = json_string_value(json_object_get(args, "marker"));
	bool include_marker = json_is_true(json_object_get(args, "include_marker"));
#define ARG(name) json_object_get(args, name)

	if (!strcmp(op, "prepare"))
		return done(m->prepare(inst, ARG("kwargs"), err));
	if (!strcmp(op, "start"))
		return done(m->start(inst, err));
	if (!strcmp(op, "stop"))
		return done(m->stop(inst, err));
	if (!strcmp(op, "status"))
		return json_integer(m->status(inst));
	if (!strcmp(op, "list_databases"))
		return m->list_databases(inst, limit, marker, include_marker, err);
	if (!strcmp(op, "create_database"))
		return done(m->create_database(inst, ARG("databases"), err));
	if (!strcmp(op, "delete_database"))
		return done(m->delete_database(inst, ARG("database"), err));
	if (!strcmp(op, "list_users"))
		return m->list_users(inst, limit, marker, include_marker, err);
	if (!strcmp(op, "create_user"))
		return done(m->create_user(inst, ARG("users"), err));
	if (!strcmp(op, "get_user"))
		return m->get_user(inst, username, hostname, err);
	if (!strcmp(op, "delete_user"))
		return done(m->delete_user(inst, ARG("user"), err));
	if (!strcmp(op, "update_attributes"))
		return done(m->update_attributes(inst, username, hostname, ARG("user_attrs"), err));
	if (!strcmp(op, "change_passwords"))
		return done(m->change_passwords(inst, ARG("users"), err));
	if (!strcmp(op, "grant_access"))
		return done(m->grant_access(inst, username, hostname, ARG("databases"), err));
	if (!strcmp(op, "revoke_access"))
		return done(m->revoke_access(inst, username, hostname,
					     json_string_value(ARG("database")), err));
	if (!strcmp(op, "enable_root"))
		return m->enable_root(inst, json_string_value(ARG("password")), err);
	if (!strcmp(op, "disable_root"))
		return done(m->disable_root(inst, err));
	if (!strcmp(op, "is_root_enabled")) {
		bool on = false;
		return m->is_root_enabled(inst, &on, err) ? NULL : json_boolean(on);
	}
	if (!strcmp(op, "update_overrides") && m->update_overrides)
		return done(m->update_overrides(inst, ARG("overrides"), json_is_true(ARG("remove")),
						err));
	if (!strcmp(op, "apply_overrides") && m->apply_overrides)
		return done(m->apply_overrides(inst, ARG("overrides"), err));
	if (!strcmp(op, "create_backup"))
		return guest_backup_create(m, inst, ARG("backup_info"), err);
	if (!strcmp(op, "archive_ship"))
		return guest_archive_ship(m, inst, ARG("archive_info"), err);
	if (!strcmp(op, "rotate_tls") && m->rotate_tls)
		return done(m->rotate_tls(inst, ARG("tls"), err));
	if (!strcmp(op, "start_with_config") && m->start_with_config)
		return done(
			m->start_with_config(inst, json_string_value(ARG("config_contents")), err));
	if (!strcmp(op, "server_stats") && m->server_stats)
		return m->server_stats(inst, err);
	if (!strcmp(op, "health"))
		return health(m, inst, err);
	if (!strcmp(op, "log_enable") && m->log_enable)
		return done(m->log_enable(inst, json_string_value(ARG("name")),
					  json_is_true(ARG("enable")),
					  (long)json_integer_value(ARG("slow_ms")), err));
	json_t *repl = run_replication(m, inst, op, args, err);
	if (repl || err->status)
		return repl;
#undef ARG
	ct_fail(err, 500, "The worker has no operation %.40s.", op);
	return NULL;
}

int guest_worker_main(void)
{
	json_t *req = json_loadf(stdin, 0, NULL);
	if (!json_is_object(req)) {
		json_decref(req);
		fprintf(stderr, "ctrove-guestagent --worker: no request on stdin\n");
		return 1;
	}
	log_open(NULL, json_is_true(json_object_get(req, "debug")));
	struct guest_instance inst;
	guest_instance_from_json(json_object_get(req, "instance"), &inst);
	log_set_context(json_string_value(json_object_get(req, "request_id")), inst.id);
	const char *op = json_string_value(json_object_get(req, "op"));
	const json_t *args = json_object_get(req, "args");
	struct ct_error err = {0};
	const struct datastore_manager *m = datastore_manager_find(inst.manager);
	json_t *result = NULL;
	if (!m)
		ct_fail(&err, 400, "datastore_manager '%s' is not supported", inst.manager);
	else if (!op)
		ct_fail(&err, 500, "The worker was given no operation.");
	else
		result = run(m, &inst, op, args, &err);
	json_t *answer = result ? json_pack("{s:o}", "result", result)
				: json_pack("{s:{s:i,s:s}}", "error", "status",
					    err.status ? err.status : 500, "message", err.message);
	int rc = answer && json_dumpf(answer, stdout, JSON_COMPACT) == 0 && fflush(stdout) == 0 ? 0
												: 1;
	json_decref(answer);
	json_decref(req);
	return rc;
}
