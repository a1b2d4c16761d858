/*
 * agent.c — see agent.h. The dispatch table at the end lists every guest RPC
 * method of spec trove-guest.md §1.3 with its arguments; methods whose
 * datastore work has not landed answer NotImplementedError (501).
 */
#define LOG_MODULE "guest"
#include "guest/agent.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "guest/archive.h"
#include "guest/archive_mark.h"
#include "guest/backup_models.h"
#include "guest/datastore_hooks.h"
#include "guest/guest_log.h"
#include "guest/volume_fs.h"
#include "guest/worker.h"
#include "rpc/client.h"
#include "rpc/server.h"

struct guest_agent {
	struct guest_instance inst;
	const struct datastore_manager *ds;
	char topic[128];
	struct rpc_server *server;
	struct rpc_client *client; /* casts to the conductor */
	pthread_t heartbeat_thread;
	bool heartbeat_running;
	pthread_mutex_t lock; /* guards stop and building; wakes the heartbeat */
	pthread_cond_t wake;
	bool stopping;
	bool building; /* prepare in progress */
	bool failed;   /* prepare failed */
	/* create_backup runs beside the RPC server, which keeps answering. */
	pthread_t backup_thread;
	bool backup_thread_started; /* joined at the next backup or at exit */
	bool backup_running;	    /* guarded by lock */
	json_t *backup_info;	    /* the running backup's arguments */
	/* Continuous archiving (archive.h): a thread once archive_info exists. */
	pthread_t archive_thread;
	bool archive_thread_started;
	pthread_cond_t archive_wake; /* start_archiving or stop */
	json_t *archive_info;	     /* guarded by lock; replaced by start_archiving */
	int archive_interval;	     /* guarded by lock */
	bool archive_fresh;	     /* guarded by lock: new archive_info, run a round */
	/* The last full probe of the server (guarded by lock): when it was
	 * (CLOCK_MONOTONIC s) and whether it found the server HEALTHY. */
	time_t probed_at;
	bool probed_healthy;
};

static time_t monotonic_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A server found HEALTHY less than server_probe_interval ago whose process
 * is still alive and running is still HEALTHY: no worker, no connection. */
static bool still_healthy(struct guest_agent *a)
{
	long every = cfg_int(CFG_GUEST_PROBE_INTERVAL);
	const struct datastore_manager *real = datastore_manager_find(a->inst.manager);
	if (every <= 0 || !real || !real->process_status)
		return false;
	pthread_mutex_lock(&a->lock);
	bool recent = a->probed_healthy && monotonic_s() - a->probed_at < every;
	pthread_mutex_unlock(&a->lock);
	return recent && real->process_status(&a->inst) == GUEST_STATUS_RUNNING;
}

/* The server's status and, when HEALTHY, its counters (new reference or
 * NULL): one worker with the health slot, else status then server_stats. */
static json_t *probe_server(struct guest_agent *a, enum guest_status *status)
{
	json_t *counters = NULL;
	if (a->ds->health) {
		counters = a->ds->health(&a->inst, status);
	} else {
		*status = a->ds->status(&a->inst);
		struct ct_error stats_err = {0};
		if (*status == GUEST_STATUS_HEALTHY && a->ds->server_stats)
			counters = a->ds->server_stats(&a->inst, &stats_err);
	}
	pthread_mutex_lock(&a->lock);
	a->probed_at = monotonic_s();
	a->probed_healthy = *status == GUEST_STATUS_HEALTHY;
	pthread_mutex_unlock(&a->lock);
	return counters;
}

/* Send one heartbeat now with the current status; a periodic one
 * (may_skip_probe) only checks the process of a recently HEALTHY server. */
static void send_heartbeat_probing(struct guest_agent *a, bool may_skip_probe)
{
	pthread_mutex_lock(&a->lock);
	bool building = a->building, failed = a->failed;
	pthread_mutex_unlock(&a->lock);
	enum guest_status status;
	json_t *counters = NULL;
	if (building)
		status = GUEST_STATUS_BUILDING;
	else if (failed)
		status = GUEST_STATUS_FAILED;
	else if (!guest_is_prepared(&a->inst))
		return; /* nothing to report before prepare, as in Trove */
	else if (may_skip_probe && still_healthy(a))
		status = GUEST_STATUS_HEALTHY;
	else
		counters = probe_server(a, &status);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	json_t *args = json_pack("{s:s,s:{s:s},s:f}", "instance_id", a->inst.id, "payload",
				 "service_status", guest_status_description(status), "sent",
				 (double)tv.tv_sec + (double)tv.tv_usec / 1e6);
	/* ctrove: the volume's usage rides along (Trove's conductor reads only
	 * service_status), so showing an instance needs no call to the guest. */
	if (!building && !failed) {
		struct ct_error stats_err = {0};
		json_t *stats = a->ds->get_filesystem_stats(&a->inst, &stats_err);
		json_t *used = json_object_get(stats, "used"),
		       *total = json_object_get(stats, "total");
		if (json_is_number(used) && json_is_number(total))
			json_object_set_new(json_object_get(args, "payload"), "volume",
					    json_pack("{s:O,s:O}", "used", used, "total", total));
		json_decref(stats);
	}
	/* ctrove: the server's counters for the metrics endpoint (docs/metrics.md),
	 * so a scrape never calls a guest. */
	if (status == GUEST_STATUS_HEALTHY && json_is_object(counters))
		json_object_set(json_object_get(args, "payload"), "server", counters);
	json_decref(counters);
	const char *key = cfg_str(CFG_INSTANCE_RPC_ENCR_KEY);
	struct rpc_target target = {.topic = cfg_str(CFG_CONDUCTOR_QUEUE),
				    .key = *key ? key : NULL,
				    .instance_id = *key ? a->inst.id : NULL};
	struct ct_error err = {0};
	if (rpc_cast(a->client, &target, "heartbeat", args, NULL, &err))
		log_warning("heartbeat not sent: %s", err.message);
	else
		log_debug("heartbeat: %s", guest_status_description(status));
	json_decref(args);
}

/* After an action: always a full probe. */
static void send_heartbeat(struct guest_agent *a)
{
	send_heartbeat_probing(a, false);
}

static void *heartbeat_loop(void *arg)
{
	struct guest_agent *a = arg;
	log_set_context(NULL, a->inst.id);
	pthread_mutex_lock(&a->lock);
	while (!a->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec +=
			cfg_int(CFG_REPORT_INTERVAL) > 0 ? cfg_int(CFG_REPORT_INTERVAL) : 30;
		pthread_cond_timedwait(&a->wake, &a->lock, &until);
		if (a->stopping)
			break;
		pthread_mutex_unlock(&a->lock);
		send_heartbeat_probing(a, true);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static json_t *done(int rc)
{
	return rc ? NULL : json_null();
}

static const char *arg_string(const struct rpc_request *req, const char *key)
{
	return json_string_value(json_object_get(req->args, key));
}

static json_t *on_prepare(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	struct guest_instance inst = a->inst;
	const char *mount = arg_string(req, "mount_point");
	if (!inst.data_dir[0] && mount)
		snprintf(inst.data_dir, sizeof inst.data_dir, "%s", mount);
	/* A control plane that crashed while prepare was on its way may send it
	 * again when it resumes the build: a second one is ignored, never run
	 * over the first's data (docs/crash_recovery.md). */
	pthread_mutex_lock(&a->lock);
	bool again = a->building || guest_is_prepared(&a->inst);
	if (!again) {
		a->building = true;
		a->failed = false;
	}
	pthread_mutex_unlock(&a->lock);
	if (again) {
		log_warning("prepare again: ignored (prepare is done or in progress)");
		send_heartbeat(a);
		return json_null();
	}
	send_heartbeat(a);
	int rc = a->ds->prepare(&inst, req->args, err);
	/* Trove §2.3 step 11: a replica starts replicating before it is ACTIVE. */
	const json_t *snapshot = json_object_get(req->args, "snapshot");
	if (!rc && json_is_object(snapshot)) {
		rc = a->ds->attach_replica(&inst, snapshot, false, err);
		if (!rc)
			log_info("prepare: replicating from the snapshot's source");
	}
	pthread_mutex_lock(&a->lock);
	a->building = false;
	a->failed = rc != 0;
	pthread_mutex_unlock(&a->lock);
	if (rc)
		log_error("prepare failed: %s", err->message);
	else
		log_info("prepare finished");
	send_heartbeat(a);
	return done(rc);
}

static json_t *on_rpc_ping(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	(void)req;
	(void)err;
	return json_true();
}

static json_t *on_restart(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	int rc = datastore_restart(a->ds, &a->inst, err);
	send_heartbeat(a);
	return done(rc);
}

static json_t *on_stop_db(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	int rc = a->ds->stop(&a->inst, err);
	send_heartbeat(a);
	return done(rc);
}

static json_t *on_create_database(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->create_database(&a->inst, json_object_get(req->args, "databases"), err));
}

static json_t *on_delete_database(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->delete_database(&a->inst, json_object_get(req->args, "database"), err));
}

static int arg_limit(const struct rpc_request *req)
{
	const json_t *v = json_object_get(req->args, "limit");
	return json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 100000
		       ? (int)json_integer_value(v)
		       : 0;
}

static json_t *on_list_databases(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return a->ds->list_databases(&a->inst, arg_limit(req), arg_string(req, "marker"),
				     json_is_true(json_object_get(req->args, "include_marker")),
				     err);
}

static json_t *on_create_user(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->create_user(&a->inst, json_object_get(req->args, "users"), err));
}

static json_t *on_delete_user(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->delete_user(&a->inst, json_object_get(req->args, "user"), err));
}

static json_t *on_get_user(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return a->ds->get_user(&a->inst, arg_string(req, "username"), arg_string(req, "hostname"),
			       err);
}

static json_t *on_list_users(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return a->ds->list_users(&a->inst, arg_limit(req), arg_string(req, "marker"),
				 json_is_true(json_object_get(req->args, "include_marker")), err);
}

static json_t *on_change_passwords(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->change_passwords(&a->inst, json_object_get(req->args, "users"), err));
}

static json_t *on_update_attributes(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->update_attributes(&a->inst, arg_string(req, "username"),
					     arg_string(req, "hostname"),
					     json_object_get(req->args, "user_attrs"), err));
}

static json_t *on_grant_access(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->grant_access(&a->inst, arg_string(req, "username"),
					arg_string(req, "hostname"),
					json_object_get(req->args, "databases"), err));
}

static json_t *on_revoke_access(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->revoke_access(&a->inst, arg_string(req, "username"),
					 arg_string(req, "hostname"), arg_string(req, "database"),
					 err));
}

static json_t *on_list_access(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return datastore_list_access(a->ds, &a->inst, arg_string(req, "username"),
				     arg_string(req, "hostname"), err);
}

static json_t *on_enable_root(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return a->ds->enable_root(&a->inst, arg_string(req, "root_password"), err);
}

static json_t *on_disable_root(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	return done(a->ds->disable_root(&a->inst, err));
}

static json_t *on_is_root_enabled(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	bool enabled = false;
	if (a->ds->is_root_enabled(&a->inst, &enabled, err))
		return NULL;
	return json_boolean(enabled);
}

static json_t *on_filesystem_stats(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	return a->ds->get_filesystem_stats(&a->inst, err);
}

/* The device of the agent's own volume; "" when it has none to mount or
 * grow (the local driver's agents: their host owns the volume). */
static const char *volume_device(void)
{
	return cfg_bool(CFG_GUEST_MOUNT_DEVICE) ? cfg_str(CFG_DEVICE_PATH) : "";
}

/* Where the volume tools write: the agent's log file, when it has one. */
static const char *tools_log(void)
{
	return *cfg_str(CFG_LOG_FILE) ? cfg_str(CFG_LOG_FILE) : NULL;
}

/* Trove's resize_fs after Cinder grew the volume: the device is the agent's
 * own device_path, whatever the caller names (volume_fs.h). */
static json_t *on_resize_fs(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	(void)req;
	return done(guest_volume_grow(volume_device(), tools_log(), err));
}

static json_t *on_update_overrides(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	if (!a->ds->update_overrides)
		return ct_fail(err, 501, "update_overrides is not supported here."), NULL;
	return done(a->ds->update_overrides(&a->inst, json_object_get(req->args, "overrides"),
					    json_is_true(json_object_get(req->args, "remove")),
					    err));
}

static json_t *on_apply_overrides(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	if (!a->ds->apply_overrides)
		return ct_fail(err, 501, "apply_overrides is not supported here."), NULL;
	return done(a->ds->apply_overrides(&a->inst, json_object_get(req->args, "overrides"), err));
}

/* --- create_backup (the conductor hears BUILDING, then COMPLETED or FAILED) --- */

static void cast_to_conductor(struct guest_agent *a, const char *method, json_t *args)
{
	const char *key = cfg_str(CFG_INSTANCE_RPC_ENCR_KEY);
	struct rpc_target target = {.topic = cfg_str(CFG_CONDUCTOR_QUEUE),
				    .key = *key ? key : NULL,
				    .instance_id = *key ? a->inst.id : NULL};
	struct ct_error err = {0};
	if (!args || rpc_cast(a->client, &target, method, args, NULL, &err))
		log_warning("%s not sent: %s", method, args ? err.message : "out of memory");
	json_decref(args);
}

/* Trove's update_backup: fields ({state, ...}, stolen) plus who and when. */
static void update_backup(struct guest_agent *a, const char *backup_id, json_t *fields)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	if (fields) {
		json_object_set_new(fields, "instance_id", json_string(a->inst.id));
		json_object_set_new(fields, "backup_id", json_string(backup_id));
		json_object_set_new(fields, "sent",
				    json_real((double)tv.tv_sec + (double)tv.tv_usec / 1e6));
	}
	cast_to_conductor(a, "update_backup", fields);
}

static void backup_failed(struct guest_agent *a, const char *backup_id, const char *backup_type,
			  const char *message)
{
	update_backup(a, backup_id,
		      json_pack("{s:s,s:b,s:s?}", "state", "FAILED", "success", false,
				"backup_type", backup_type));
	/* As Trove's guest: the instance's fault says why. */
	cast_to_conductor(a, "notify_exc_info",
			  json_pack("{s:{s:s,s:s},s:s,s:s}", "serialized_notification",
				    "instance_id", a->inst.id, "event_type",
				    "trove.instance.create_backup", "message", message, "exception",
				    "BackupCreationError"));
}

static void *backup_main(void *arg)
{
	struct guest_agent *a = arg;
	json_t *info = a->backup_info;
	const char *id = json_string_value(json_object_get(info, "id"));
	const char *type = json_string_value(json_object_get(info, "backup_type"));
	log_set_context(NULL, a->inst.id);
	/* Trove reports the volume's used GB at the start. */
	struct ct_error stats_err = {0};
	json_t *stats = a->ds->get_filesystem_stats(&a->inst, &stats_err);
	const json_t *used = json_object_get(stats, "used");
	update_backup(a, id,
		      json_pack("{s:s,s:s?,s:f}", "state", "BUILDING", "backup_type", type, "size",
				json_is_number(used) ? json_number_value(used) : 0.0));
	json_decref(stats);
	struct ct_error err = {0};
	double t0 = (double)time(NULL);
	json_t *r = guest_worker_create_backup(&a->inst, info, &err);
	if (r) {
		double bytes = (double)json_integer_value(json_object_get(r, "size"));
		json_t *fields =
			json_pack("{s:s,s:b,s:O,s:O,s:f,s:s?}", "state", "COMPLETED", "success",
				  true, "checksum", json_object_get(r, "checksum"), "location",
				  json_object_get(r, "location"), "size",
				  bytes / (1024.0 * 1024.0 * 1024.0), "backup_type", type);
		/* ctrove (issue 16): where point-in-time replay may start. */
		json_t *consistent = json_object_get(r, "consistent_time");
		if (fields && json_is_integer(consistent))
			json_object_set(fields, "consistent_time", consistent);
		update_backup(a, id, fields);
		log_info("backup %s completed in about %.0f s", id, (double)time(NULL) - t0);
	} else {
		log_error("backup %s failed: %s", id, err.message);
		backup_failed(a, id, type, err.message);
	}
	json_decref(r);
	pthread_mutex_lock(&a->lock);
	a->backup_info = NULL;
	a->backup_running = false;
	pthread_mutex_unlock(&a->lock);
	json_decref(info);
	log_set_context(NULL, NULL);
	return NULL;
}

static json_t *on_create_backup(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	const json_t *info = json_object_get(req->args, "backup_info");
	const char *id = json_string_value(json_object_get(info, "id"));
	const char *type = json_string_value(json_object_get(info, "backup_type"));
	if (!id || !*id || strlen(id) >= 64)
		return ct_fail(err, 400, "create_backup: backup_info has no id."), NULL;
	pthread_mutex_lock(&a->lock);
	bool busy = a->backup_running;
	bool join = !busy && a->backup_thread_started;
	pthread_mutex_unlock(&a->lock);
	if (busy) {
		backup_failed(a, id, type, "Another backup of this instance is running.");
		return ct_fail(err, 409, "Another backup of this instance is running."), NULL;
	}
	if (join) {
		pthread_join(a->backup_thread, NULL);
		a->backup_thread_started = false;
	}
	json_t *copy = json_deep_copy(info);
	pthread_mutex_lock(&a->lock);
	a->backup_info = copy;
	a->backup_running = copy != NULL;
	pthread_mutex_unlock(&a->lock);
	if (copy && pthread_create(&a->backup_thread, NULL, backup_main, a) == 0) {
		a->backup_thread_started = true;
		return json_null();
	}
	pthread_mutex_lock(&a->lock);
	a->backup_info = NULL;
	a->backup_running = false;
	pthread_mutex_unlock(&a->lock);
	json_decref(copy);
	backup_failed(a, id, type, "The guest agent could not start the backup.");
	return ct_fail(err, 500, "The guest agent could not start the backup."), NULL;
}

/* --- continuous archiving (the conductor hears update_archive) --- */

#define ARCHIVE_BACKOFF_MAX   60  /* seconds between retries of a failing round */
#define ARCHIVE_REPORT_PERIOD 5	  /* seconds: a moving archived_until alone is sent this often */
#define ARCHIVE_ROUND_MAX_GAP 300 /* seconds: a real round at least this often, quiet or not */

struct archive_report {
	json_int_t last_seq, archived_until;
	char gap[GUEST_ARCHIVE_GAP_MAX];
	time_t sent;
	bool any;
};

/* update_archive after each shipped object, on a new gap, and at most every
 * ARCHIVE_REPORT_PERIOD seconds for a moving archived_until. */
static void report_archive(struct guest_agent *a, const json_t *round, struct archive_report *last)
{
	json_int_t seq = json_integer_value(json_object_get(round, "last_seq"));
	json_int_t until = json_integer_value(json_object_get(round, "archived_until"));
	const char *gap = json_string_value(json_object_get(round, "gap"));
	time_t now = time(NULL);
	bool changed = !last->any || seq != last->last_seq || strcmp(gap ? gap : "", last->gap);
	bool moved = until != last->archived_until && now - last->sent >= ARCHIVE_REPORT_PERIOD;
	if (!changed && !moved)
		return;
	cast_to_conductor(a, "update_archive",
			  json_pack("{s:s,s:I,s:I,s:s?}", "instance_id", a->inst.id,
				    "archived_until", until, "last_seq", seq, "gap", gap));
	last->last_seq = seq;
	last->archived_until = until;
	snprintf(last->gap, sizeof last->gap, "%s", gap ? gap : "");
	last->sent = now;
	last->any = true;
}

/* Where the server writes what a round ships, for archive_mark_take. */
struct archive_source {
	char dir[PATH_MAX];
	const char *prefix;
	bool known;
};

static void archive_source_find(const struct guest_agent *a, struct archive_source *src)
{
	const struct datastore_manager *real = datastore_manager_find(a->inst.manager);
	struct ct_error err = {0};
	src->known =
		real && real->archive_source_dir &&
		!real->archive_source_dir(&a->inst, src->dir, sizeof src->dir, &src->prefix, &err);
}

/* Nothing was written since the last round caught up (its mark, taken
 * before it began): every commit before `until` is shipped, so the round
 * is what that worker would have answered, without the worker. */
static bool archive_quiet(const struct archive_source *src, const struct archive_mark *before,
			  struct archive_mark *now)
{
	if (!src->known || !before->valid)
		return false;
	archive_mark_take(src->dir, src->prefix, now);
	return archive_mark_unchanged(before, now);
}

static void report_quiet_round(struct guest_agent *a, struct archive_report *last)
{
	json_t *round =
		json_pack("{s:I,s:I,s:s?}", "last_seq", last->last_seq, "archived_until",
			  (json_int_t)time(NULL) - 1, "gap", last->gap[0] ? last->gap : NULL);
	if (round)
		report_archive(a, round, last);
	json_decref(round);
}

static void *archive_loop(void *arg)
{
	struct guest_agent *a = arg;
	log_set_context(NULL, a->inst.id);
	struct archive_report last = {0};
	struct archive_source src = {0};
	struct archive_mark caught_up = {0}; /* valid: the last round caught up from it */
	time_t last_round = 0;
	int failures = 0;
	archive_source_find(a, &src);
	pthread_mutex_lock(&a->lock);
	while (!a->stopping) {
		json_t *info = json_incref(a->archive_info);
		int wait = a->archive_interval > 0 ? a->archive_interval : 1;
		bool building = a->building;
		if (a->archive_fresh)
			caught_up.valid = false;
		a->archive_fresh = false;
		pthread_mutex_unlock(&a->lock);
		struct archive_mark now;
		if (building)
			caught_up.valid = false;
		if (info && !building && guest_is_prepared(&a->inst) && last.any &&
		    time(NULL) - last_round < ARCHIVE_ROUND_MAX_GAP &&
		    archive_quiet(&src, &caught_up, &now)) {
			report_quiet_round(a, &last);
		} else if (info && !building && guest_is_prepared(&a->inst)) {
			struct ct_error err = {0};
			struct archive_mark before = {0};
			if (src.known)
				archive_mark_take(src.dir, src.prefix, &before);
			json_t *round = guest_worker_archive_ship(&a->inst, info, &err);
			caught_up.valid = false;
			if (round) {
				failures = 0;
				last_round = time(NULL);
				if (json_is_true(json_object_get(round, "caught_up")))
					caught_up = before;
				report_archive(a, round, &last);
			} else {
				failures++;
				int backoff = wait;
				for (int i = 1; i < failures && backoff < ARCHIVE_BACKOFF_MAX; i++)
					backoff *= 2;
				wait = backoff < ARCHIVE_BACKOFF_MAX ? backoff
								     : ARCHIVE_BACKOFF_MAX;
				if (err.status == 422)
					log_debug("archive round waits: %s", err.message);
				else
					log_warning(
						"archive round failed (%d in a row, next in %d s): "
						"%s",
						failures, wait, err.message);
			}
			json_decref(round);
		}
		json_decref(info);
		pthread_mutex_lock(&a->lock);
		if (a->stopping)
			break;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait;
		pthread_cond_timedwait(&a->archive_wake, &a->lock, &until);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Take archive_info (checked by the caller) and make sure the thread runs. */
static int archive_begin(struct guest_agent *a, json_t *info, int interval, struct ct_error *err)
{
	pthread_mutex_lock(&a->lock);
	json_t *old = a->archive_info;
	a->archive_info = info;
	a->archive_interval = interval;
	a->archive_fresh = true;
	pthread_cond_broadcast(&a->archive_wake);
	bool start = !a->archive_thread_started && !a->stopping;
	pthread_mutex_unlock(&a->lock);
	json_decref(old);
	if (!start)
		return 0;
	if (pthread_create(&a->archive_thread, NULL, archive_loop, a))
		return ct_fail(err, 500, "The guest agent could not start archiving.");
	a->archive_thread_started = true;
	return 0;
}

static json_t *on_start_archiving(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	const struct datastore_manager *real = datastore_manager_find(a->inst.manager);
	if (!real || !real->archive_ship)
		return ct_fail(err, 501, "Archiving of datastore %s is not supported.",
			       a->inst.manager),
		       NULL;
	const json_t *info = json_object_get(req->args, "archive_info");
	struct guest_archive_info *checked = malloc(sizeof *checked);
	if (!checked)
		return ct_fail(err, 500, "Out of memory."), NULL;
	int rc = guest_archive_info_from_json(info, a->inst.id, checked, err);
	int interval = checked->interval;
	guest_archive_info_wipe(checked);
	free(checked);
	if (rc) {
		log_error("start_archiving refused: %s", err->message);
		return NULL;
	}
	json_t *copy = json_deep_copy(info);
	if (!copy)
		return ct_fail(err, 500, "Out of memory."), NULL;
	/* Kept first, so shipping resumes after an agent restart. */
	if (guest_archive_info_save(&a->inst, copy, err)) {
		json_decref(copy);
		log_error("start_archiving failed: %s", err->message);
		return NULL;
	}
	if (archive_begin(a, copy, interval, err)) { /* copy is the agent's now */
		log_error("start_archiving failed: %s", err->message);
		return NULL;
	}
	log_info("archiving every %d s", interval);
	return json_null();
}

/* At agent start: resume archiving if start_archiving came before. */
static void archive_resume(struct guest_agent *a)
{
	struct ct_error err = {0};
	json_t *info = guest_archive_info_load(&a->inst, &err);
	if (!info) {
		if (err.status != 404)
			log_error("archiving not resumed: %s", err.message);
		return;
	}
	struct guest_archive_info *checked = malloc(sizeof *checked);
	int rc = checked ? guest_archive_info_from_json(info, a->inst.id, checked, &err)
			 : ct_fail(&err, 500, "Out of memory.");
	int interval = checked ? checked->interval : 1;
	if (checked)
		guest_archive_info_wipe(checked);
	free(checked);
	if (rc || archive_begin(a, info, interval, &err)) {
		log_error("archiving not resumed: %s", err.message);
		if (rc)
			json_decref(info);
		return;
	}
	log_info("archiving resumed every %d s", interval);
}

static json_t *on_rotate_tls(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	if (!a->ds->rotate_tls)
		return ct_fail(err, 501, "rotate_tls is not supported here."), NULL;
	return done(a->ds->rotate_tls(&a->inst, json_object_get(req->args, "ctrove_tls"), err));
}

static json_t *on_start_db_with_conf_changes(void *user, const struct rpc_request *req,
					     struct ct_error *err)
{
	struct guest_agent *a = user;
	if (!a->ds->start_with_config)
		return ct_fail(err, 501, "start_db_with_conf_changes is not supported here."), NULL;
	int rc = a->ds->start_with_config(&a->inst, arg_string(req, "config_contents"), err);
	send_heartbeat(a);
	return done(rc);
}

static json_t *on_guest_log_list(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	return guest_log_list(&a->inst, a->ds, err);
}

static bool arg_flag(const struct rpc_request *req, const char *key)
{
	const json_t *v = json_object_get(req->args, key);
	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

/* ctrove: the store to publish to comes sealed in the message (`store`). */
static json_t *on_guest_log_action(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	struct store_access access;
	const json_t *store = json_object_get(req->args, "store");
	if (store && !json_is_null(store) && guest_store_access_from_json(store, &access, err))
		return NULL;
	struct guest_log_request r = {
		.name = arg_string(req, "log_name"),
		.enable = arg_flag(req, "enable"),
		.disable = arg_flag(req, "disable"),
		.publish = arg_flag(req, "publish"),
		.discard = arg_flag(req, "discard"),
		.store = store && !json_is_null(store) ? &access : NULL,
	};
	json_t *v = guest_log_action(&a->inst, a->ds, &r, err);
	explicit_bzero(&access, sizeof access);
	return v;
}

/* --- replication (trove-guest.md §5; the manager's slot does the work) --- */

static json_t *on_backup_required_for_replication(void *user, const struct rpc_request *req,
						  struct ct_error *err)
{
	(void)user;
	(void)req;
	(void)err;
	return json_true(); /* as Trove: every datastore seeds from a snapshot */
}

static json_t *on_get_replication_snapshot(void *user, const struct rpc_request *req,
					   struct ct_error *err)
{
	struct guest_agent *a = user;
	const json_t *info = json_object_get(req->args, "snapshot_info");
	const char *id = json_string_value(json_object_get(info, "id"));
	const json_t *addresses = json_object_get(info, "replica_addresses");
	if (addresses && !json_is_null(addresses) && !json_is_array(addresses))
		return ct_fail(err, 400, "snapshot_info.replica_addresses must be a list."), NULL;
	json_t *r = a->ds->get_replication_snapshot(&a->inst, info, err);
	/* A stored snapshot is a backup row like any other: it is COMPLETED the
	 * way create_backup's are, with what the store recorded. */
	const json_t *stored = json_object_get(r, "backup");
	if (json_is_object(stored) && id && *id) {
		double bytes = (double)json_integer_value(json_object_get(stored, "size"));
		update_backup(a, id,
			      json_pack("{s:s,s:b,s:O,s:O,s:f,s:O?}", "state", "COMPLETED",
					"success", true, "checksum",
					json_object_get(stored, "checksum"), "location",
					json_object_get(stored, "location"), "size",
					bytes / (1024.0 * 1024.0 * 1024.0), "backup_type",
					json_object_get(info, "backup_type")));
	}
	return r;
}

static json_t *on_attach_replica(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	const json_t *info = json_object_get(req->args, "replica_info");
	if (!json_is_object(json_object_get(info, "master")))
		return ct_fail(err, 400, "replica_info has no master."), NULL;
	int rc = a->ds->attach_replica(&a->inst, info, arg_flag(req, "restart"), err);
	send_heartbeat(a);
	return done(rc);
}

static json_t *on_detach_replica(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	json_t *r = a->ds->detach_replica(&a->inst, arg_flag(req, "for_failover"), err);
	send_heartbeat(a);
	return r;
}

static json_t *on_get_replica_context(void *user, const struct rpc_request *req,
				      struct ct_error *err)
{
	struct guest_agent *a = user;
	const json_t *addresses = json_object_get(req->args, "replica_addresses");
	return a->ds->get_replica_context(&a->inst, json_is_array(addresses) ? addresses : NULL,
					  err);
}

static json_t *on_make_read_only(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->make_read_only(&a->inst, arg_flag(req, "read_only"), err));
}

static json_t *on_enable_as_master(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req; /* replica_source_config: ctrove applies built-in settings */
	return done(a->ds->enable_as_master(&a->inst, err));
}

static json_t *on_demote_replication_master(void *user, const struct rpc_request *req,
					    struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	return done(a->ds->demote_replication_master(&a->inst, err));
}

static json_t *on_get_latest_txn_id(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	return a->ds->get_latest_txn_id(&a->inst, err);
}

#define WAIT_FOR_TXN_DEFAULT_S 60
#define WAIT_FOR_TXN_MAX_S     3600

static json_t *on_wait_for_txn(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	const char *txn = arg_string(req, "txn");
	const json_t *timeout = json_object_get(req->args, "timeout");
	json_int_t seconds =
		json_is_integer(timeout) ? json_integer_value(timeout) : WAIT_FOR_TXN_DEFAULT_S;
	if (!txn || !*txn || strlen(txn) > 4096)
		return ct_fail(err, 400, "wait_for_txn needs a transaction id."), NULL;
	if (seconds < 1 || seconds > WAIT_FOR_TXN_MAX_S)
		return ct_fail(err, 400, "wait_for_txn: timeout must be 1 to %d seconds.",
			       WAIT_FOR_TXN_MAX_S),
		       NULL;
	return done(a->ds->wait_for_txn(&a->inst, txn, (int)seconds, err));
}

static json_t *on_get_last_txn(void *user, const struct rpc_request *req, struct ct_error *err)
{
	struct guest_agent *a = user;
	(void)req;
	return a->ds->get_last_txn(&a->inst, err);
}

static json_t *on_set_synchronous_replication(void *user, const struct rpc_request *req,
					      struct ct_error *err)
{
	struct guest_agent *a = user;
	return done(a->ds->set_synchronous_replication(&a->inst, arg_flag(req, "enabled"), err));
}

static json_t *not_implemented(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	ct_fail(err, 501, "guest method %s is not implemented yet", req->method);
	return NULL;
}

#define END                                                                                        \
	{                                                                                          \
		NULL, 0, false                                                                     \
	}
static const struct rpc_arg prepare_args[] = {
	{"packages", RPC_T_ANY, false},
	{"databases", RPC_T_ARRAY | RPC_T_NULL, false},
	{"memory_mb", RPC_T_NUMBER | RPC_T_NULL, false},
	{"users", RPC_T_ARRAY | RPC_T_NULL, false},
	{"device_path", RPC_T_STRING | RPC_T_NULL, false},
	{"mount_point", RPC_T_STRING | RPC_T_NULL, false},
	{"backup_info", RPC_T_OBJECT | RPC_T_NULL, false},
	{"config_contents", RPC_T_STRING | RPC_T_NULL, false},
	{"root_password", RPC_T_STRING | RPC_T_NULL, false},
	{"overrides", RPC_T_OBJECT | RPC_T_STRING | RPC_T_NULL, false},
	{"cluster_config", RPC_T_OBJECT | RPC_T_NULL, false},
	{"snapshot", RPC_T_OBJECT | RPC_T_NULL, false},
	{"modules", RPC_T_ARRAY | RPC_T_NULL, false},
	{"ds_version", RPC_T_STRING | RPC_T_NULL, false},
	{"ctrove_tls", RPC_T_OBJECT | RPC_T_NULL, false}, /* ctrove: the server certificate */
	END,
};
static const struct rpc_arg databases_args[] = {{"databases", RPC_T_ARRAY, true}, END};
static const struct rpc_arg database_args[] = {{"database", RPC_T_OBJECT, true}, END};
static const struct rpc_arg users_args[] = {{"users", RPC_T_ARRAY, true}, END};
static const struct rpc_arg user_args[] = {{"user", RPC_T_OBJECT, true}, END};
static const struct rpc_arg list_args[] = {
	{"limit", RPC_T_INT | RPC_T_NULL, false},
	{"marker", RPC_T_STRING | RPC_T_NULL, false},
	{"include_marker", RPC_T_BOOL | RPC_T_NULL, false},
	END,
};
static const struct rpc_arg username_args[] = {
	{"username", RPC_T_STRING, true}, {"hostname", RPC_T_STRING | RPC_T_NULL, false}, END};
static const struct rpc_arg update_attributes_args[] = {
	{"username", RPC_T_STRING, true},
	{"hostname", RPC_T_STRING | RPC_T_NULL, false},
	{"user_attrs", RPC_T_OBJECT, true},
	END,
};
static const struct rpc_arg grant_args[] = {
	{"username", RPC_T_STRING, true},
	{"hostname", RPC_T_STRING | RPC_T_NULL, false},
	{"databases", RPC_T_ARRAY, true},
	END,
};
static const struct rpc_arg revoke_args[] = {
	{"username", RPC_T_STRING, true},
	{"hostname", RPC_T_STRING | RPC_T_NULL, false},
	{"database", RPC_T_STRING, true},
	END,
};
static const struct rpc_arg root_password_args[] = {
	{"root_password", RPC_T_STRING | RPC_T_NULL, false}, END};
static const struct rpc_arg update_overrides_args[] = {
	{"overrides", RPC_T_OBJECT, true}, {"remove", RPC_T_BOOL | RPC_T_NULL, false}, END};
static const struct rpc_arg apply_overrides_args[] = {{"overrides", RPC_T_OBJECT, true}, END};
static const struct rpc_arg rotate_tls_args[] = {{"ctrove_tls", RPC_T_OBJECT, true}, END};
static const struct rpc_arg start_conf_args[] = {
	{"config_contents", RPC_T_STRING | RPC_T_NULL, false},
	{"ds_version", RPC_T_STRING | RPC_T_NULL, false},
	END};
static const struct rpc_arg fs_args[] = {{"fs_path", RPC_T_STRING | RPC_T_NULL, false}, END};
static const struct rpc_arg resize_fs_args[] = {{"device_path", RPC_T_STRING | RPC_T_NULL, false},
						{"mount_point", RPC_T_STRING | RPC_T_NULL, false},
						{"online", RPC_T_BOOL | RPC_T_NULL, false},
						END};
static const struct rpc_arg create_backup_args[] = {{"backup_info", RPC_T_OBJECT, true}, END};
static const struct rpc_arg start_archiving_args[] = {{"archive_info", RPC_T_OBJECT, true}, END};

static const struct rpc_arg snapshot_args[] = {
	{"snapshot_info", RPC_T_OBJECT, true},
	{"replica_source_config", RPC_T_ANY, false}, /* ignored: built-in settings */
	END};
static const struct rpc_arg attach_replica_args[] = {
	{"replica_info", RPC_T_OBJECT, true},
	{"slave_config", RPC_T_ANY, false}, /* ignored */
	{"restart", RPC_T_BOOL | RPC_T_NULL, false},
	END};
static const struct rpc_arg detach_replica_args[] = {
	{"for_failover", RPC_T_BOOL | RPC_T_NULL, false}, END};
static const struct rpc_arg replica_context_args[] = {
	{"replica_addresses", RPC_T_ARRAY | RPC_T_NULL, false}, END}; /* ctrove */
static const struct rpc_arg read_only_args[] = {{"read_only", RPC_T_BOOL, true}, END};
static const struct rpc_arg enable_as_master_args[] = {{"replica_source_config", RPC_T_ANY, false},
						       END};
static const struct rpc_arg wait_for_txn_args[] = {
	{"txn", RPC_T_STRING, true}, {"timeout", RPC_T_INT | RPC_T_NULL, false}, END};
static const struct rpc_arg synchronous_args[] = {{"enabled", RPC_T_BOOL, true}, END};

/* Methods of §1.3 not served yet; every argument accepted, answer 501. */
#define LATER(name)                                                                                \
	{                                                                                          \
		name, not_implemented, NULL, true                                                  \
	}

#define LOG_FLAG_TYPES (RPC_T_BOOL | RPC_T_INT | RPC_T_NULL)
static const struct rpc_arg guest_log_action_args[] = {{"log_name", RPC_T_STRING, true},
						       {"enable", LOG_FLAG_TYPES, false},
						       {"disable", LOG_FLAG_TYPES, false},
						       {"publish", LOG_FLAG_TYPES, false},
						       {"discard", LOG_FLAG_TYPES, false},
						       {"store", RPC_T_OBJECT | RPC_T_NULL, false},
						       END};

static const struct rpc_method guest_methods[] = {
	{"prepare", on_prepare, prepare_args, true},
	{"rpc_ping", on_rpc_ping, NULL, false},
	{"create_database", on_create_database, databases_args, false},
	{"delete_database", on_delete_database, database_args, false},
	{"list_databases", on_list_databases, list_args, false},
	{"create_user", on_create_user, users_args, false},
	{"delete_user", on_delete_user, user_args, false},
	{"get_user", on_get_user, username_args, false},
	{"list_users", on_list_users, list_args, false},
	{"change_passwords", on_change_passwords, users_args, false},
	{"update_attributes", on_update_attributes, update_attributes_args, false},
	{"grant_access", on_grant_access, grant_args, false},
	{"revoke_access", on_revoke_access, revoke_args, false},
	{"list_access", on_list_access, username_args, false},
	{"enable_root", on_enable_root, NULL, false},
	{"enable_root_with_password", on_enable_root, root_password_args, false},
	{"disable_root", on_disable_root, NULL, false},
	{"is_root_enabled", on_is_root_enabled, NULL, false},
	{"restart", on_restart, NULL, false},
	{"stop_db", on_stop_db, NULL, true},
	{"get_filesystem_stats", on_filesystem_stats, fs_args, false},
	LATER("get_root_password"),
	{"start_db_with_conf_changes", on_start_db_with_conf_changes, start_conf_args, false},
	LATER("reset_configuration"),
	{"update_overrides", on_update_overrides, update_overrides_args, false},
	{"apply_overrides", on_apply_overrides, apply_overrides_args, false},
	{"rotate_tls", on_rotate_tls, rotate_tls_args, false},
	LATER("mount_volume"),
	LATER("unmount_volume"),
	{"resize_fs", on_resize_fs, resize_fs_args, false},
	{"create_backup", on_create_backup, create_backup_args, false},
	{"backup_required_for_replication", on_backup_required_for_replication, NULL, false},
	{"get_replication_snapshot", on_get_replication_snapshot, snapshot_args, false},
	{"attach_replica", on_attach_replica, attach_replica_args, false},
	{"detach_replica", on_detach_replica, detach_replica_args, false},
	{"get_replica_context", on_get_replica_context, replica_context_args, false},
	{"make_read_only", on_make_read_only, read_only_args, false},
	{"enable_as_master", on_enable_as_master, enable_as_master_args, false},
	{"demote_replication_master", on_demote_replication_master, NULL, false},
	{"get_latest_txn_id", on_get_latest_txn_id, NULL, false},
	{"wait_for_txn", on_wait_for_txn, wait_for_txn_args, false},
	{"get_last_txn", on_get_last_txn, NULL, false},
	{"set_synchronous_replication", on_set_synchronous_replication, synchronous_args, false},
	{"start_archiving", on_start_archiving, start_archiving_args, false}, /* ctrove */
	LATER("upgrade"),
	LATER("pre_upgrade"),
	LATER("post_upgrade"),
	LATER("rebuild"),
	{"guest_log_list", on_guest_log_list, NULL, false},
	{"guest_log_action", on_guest_log_action, guest_log_action_args, false},
	LATER("module_list"),
	LATER("module_apply"),
	LATER("module_remove"),
	{NULL, NULL, NULL, false},
};

struct guest_agent *guest_agent_new(struct ct_error *err)
{
	const char *id = cfg_str(CFG_GUEST_ID);
	const char *manager = cfg_str(CFG_GUEST_DATASTORE_MANAGER);
	if (!*id || strlen(id) >= sizeof((struct guest_instance *)0)->id) {
		ct_fail(err, 400, "guest_id is missing from the configuration");
		return NULL;
	}
	const struct datastore_manager *ds = datastore_manager_find(manager);
	if (!ds) {
		ct_fail(err, 400, "datastore_manager '%s' is not supported", manager);
		return NULL;
	}
	const struct datastore_hooks *hooks = datastore_hooks_find(manager, err);
	if (!hooks)
		return NULL;
	struct guest_agent *a = calloc(1, sizeof *a);
	if (!a) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	/* Database work runs in worker processes (worker.h). */
	a->ds = &guest_worker_manager;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	pthread_cond_init(&a->archive_wake, NULL);
	struct guest_instance *inst = &a->inst;
	snprintf(inst->id, sizeof inst->id, "%s", id);
	snprintf(inst->manager, sizeof inst->manager, "%s", manager);
	const char *data_dir = cfg_str(CFG_GUEST_DATA_DIR);
	if (!*data_dir)
		data_dir = cfg_lookup(manager, "mount_point");
	snprintf(inst->data_dir, sizeof inst->data_dir, "%s", data_dir ? data_dir : "");
	if (*cfg_str(CFG_GUEST_RUN_DIR))
		snprintf(inst->run_dir, sizeof inst->run_dir, "%s", cfg_str(CFG_GUEST_RUN_DIR));
	else
		snprintf(inst->run_dir, sizeof inst->run_dir, "/run/ctrove/%s", id);
	snprintf(inst->cache_dir, sizeof inst->cache_dir, "%s", cfg_str(CFG_GUEST_CACHE_DIR));
	snprintf(inst->bind_address, sizeof inst->bind_address, "%s",
		 cfg_str(CFG_GUEST_BIND_ADDRESS));
	inst->port = cfg_int(CFG_GUEST_PORT) > 0 ? (int)cfg_int(CFG_GUEST_PORT) : hooks->port;
	snprintf(inst->os_user, sizeof inst->os_user, "%s",
		 *cfg_str(CFG_GUEST_SERVICE_USER) ? cfg_str(CFG_GUEST_SERVICE_USER)
						  : hooks->service_user);
	inst->memory_mb = (int)cfg_int(CFG_GUEST_MEMORY_MB);
	snprintf(a->topic, sizeof a->topic, "guestagent.%s", id);
	/* The control plane declared the control exchange and this guest's queues
	 * before starting it; its own broker account may not configure the exchange. */
	struct rpc_transport_opts bus;
	rpc_transport_opts_from_config(&bus);
	bus.passive_topic_exchange = true;
	a->client = rpc_client_new(&bus, NULL, err);
	if (!a->client) {
		guest_agent_free(a);
		return NULL;
	}
	const char *key = cfg_str(CFG_INSTANCE_RPC_ENCR_KEY);
	struct rpc_server_opts opts = {
		.topic = a->topic,
		.server = id,
		.version = "1.1",
		.methods = guest_methods,
		.user = a,
		.key = *key ? key : NULL,
	};
	a->server = rpc_server_new(&bus, &opts, err);
	if (!a->server) {
		guest_agent_free(a);
		return NULL;
	}
	return a;
}

int guest_agent_start(struct guest_agent *a, struct ct_error *err)
{
	log_set_context(NULL, a->inst.id);
	/* A VM's volume is the agent's to mount (Trove's mount_volume), at every
	 * start so that a rebooted server finds its data before anything looks. */
	if (guest_volume_mount(volume_device(), a->inst.data_dir, tools_log(), err))
		return -1;
	/* After a reboot or an agent crash the database comes back, unless it was
	 * stopped on purpose (stop_db leaves <run_dir>/.stopped). */
	char stopped[GUEST_PATH_MAX + 16];
	snprintf(stopped, sizeof stopped, "%s/.stopped", a->inst.run_dir);
	if (guest_is_prepared(&a->inst) && a->ds->status(&a->inst) == GUEST_STATUS_SHUTDOWN &&
	    access(stopped, F_OK) != 0) {
		struct ct_error start_err = {0};
		if (a->ds->start(&a->inst, &start_err))
			log_warning("the database did not start: %s", start_err.message);
		else
			log_info("the database was not running: started it");
	}
	if (rpc_server_start(a->server, err))
		return -1;
	if (pthread_create(&a->heartbeat_thread, NULL, heartbeat_loop, a))
		return ct_fail(err, 500, "cannot start the heartbeat thread");
	a->heartbeat_running = true;
	archive_resume(a);
	log_info("guest agent for %s (%s) serving %s", a->inst.id, a->inst.manager, a->topic);
	return 0;
}

void guest_agent_free(struct guest_agent *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_cond_broadcast(&a->wake);
	pthread_cond_broadcast(&a->archive_wake);
	pthread_mutex_unlock(&a->lock);
	if (a->heartbeat_running)
		pthread_join(a->heartbeat_thread, NULL);
	if (a->archive_thread_started)
		pthread_join(a->archive_thread, NULL);
	json_decref(a->archive_info);
	/* A running backup finishes (its worker would outlive us otherwise). */
	if (a->backup_thread_started)
		pthread_join(a->backup_thread, NULL);
	if (a->server)
		rpc_server_free(a->server);
	if (a->client)
		rpc_client_free(a->client);
	pthread_cond_destroy(&a->wake);
	pthread_cond_destroy(&a->archive_wake);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
