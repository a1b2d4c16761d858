/*
 * tasks.c — see tasks.h: the instance workflows. Each runs on a thread of
 * task_threads.c and reaches the machine only through the configured compute
 * driver (compute/driver.h) and the datastore only through its hooks
 * (guest/datastore_hooks.h). May not know which driver or datastore it
 * drives.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/crash_point.h"
#include "common/log.h"
#include "compute/driver.h"
#include "db/addresses.h"
#include "db/datastores.h"
#include "db/flavors.h"
#include "db/instance_claims.h"
#include "db/instances.h"
#include "db/store.h"
#include "guest/api.h"
#include "guest/datastore_hooks.h"
#include "rpc/broker_accounts.h"
#include "rpc/crypto.h"
#include "taskmanager/archive_tasks.h"
#include "taskmanager/backup_tasks.h"
#include "taskmanager/instance_tls.h"
#include "taskmanager/notifications.h"
#include "taskmanager/replication_tasks.h"
#include "taskmanager/resize_tasks.h"
#include "taskmanager/schedule_tasks.h"
#include "taskmanager/task_claims.h"
#include "taskmanager/task_threads.h"

void tasks_join(void)
{
	task_claims_stop();
	schedule_tasks_stop();
	backup_tasks_stop();
	archive_tasks_stop();
	task_threads_join();
}

/* The build failed at `task_id`: record the fault; the instance shows ERROR. */
static void fail_build(const char *id, int task_id, const char *message)
{
	struct ct_error err = {0};
	log_error("build failed: %s", message);
	if (instance_set_task(id, task_id, &err) || instance_add_fault(id, message, "", &err))
		log_error("cannot record the failure: %s", err.message);
	tm_notify_error("instance_create", NULL, id, message);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Poll the service status the conductor writes until the guest is usable. */
static int wait_for_service(const char *id, long timeout_s, struct ct_error *err)
{
	double deadline = now_seconds() + (double)timeout_s;
	long pause = 10;
	while (now_seconds() < deadline) {
		struct instance in;
		if (instance_load(id, NULL, &in, err))
			return -1;
		switch (in.service_status) {
		case SERVICE_HEALTHY:
		case SERVICE_RUNNING:
		case SERVICE_INSTANCE_READY: return 0;
		case SERVICE_NEW:
		case SERVICE_BUILDING:
		case SERVICE_UNKNOWN: break;
		default:
			return ct_fail(err, 500, "the guest reported '%s' while building",
				       service_status_description(in.service_status));
		}
		sleep_ms(pause);
		if (pause < 200)
			pause += 10;
	}
	return ct_fail(err, 504,
		       "the guest did not become active within %ld seconds "
		       "(usage_timeout)",
		       timeout_s);
}

/* prepare with the databases and users create_instance carries (already
 * serialized by the API) and the config rendered for the flavor. */
static int send_prepare(const struct instance *in, const json_t *create_args, long memory,
			const char *mount, const char *config, const struct guest_tls *tls,
			const json_t *snapshot, struct ct_error *err)
{
	struct guest_prepare_args prepare = {
		.memory_mb = memory,
		.mount_point = mount,
		.config_contents = config,
		.ds_version = in->datastore_version,
		.tls = tls,
		.snapshot = snapshot,
	};
	const json_t *overrides = json_object_get(create_args, "overrides");
	if (json_is_object(overrides) && json_object_size(overrides) > 0)
		prepare.overrides = overrides;
	/* A restore brings the backed-up instance's databases, users and root
	 * with its data: prepare sends none of the request's (Trove's rule). */
	const char *backup_id = json_string_value(json_object_get(create_args, "backup_id"));
	struct backup_restore restore;
	if (backup_id) {
		if (backup_restore_load(backup_id, &restore, err))
			return -1;
		prepare.restore = &restore.info;
	}
	/* PITR: replay the source's archive after the chain (docs/pitr.md). */
	const json_t *point = json_object_get(create_args, "ctrove_restore_point");
	struct archive_restore_point archive_point;
	bool pitr = backup_id && json_is_object(point);
	if (pitr) {
		if (archive_restore_point_load(point, &archive_point, err)) {
			backup_restore_free(&restore);
			return -1;
		}
		restore.info.restore_point = &archive_point.point;
	}
	struct guest_database *dbs = NULL;
	struct guest_user *users = NULL;
	size_t n_dbs = 0, n_users = 0;
	int rc = !backup_id && (guest_databases_from_json(json_object_get(create_args, "databases"),
							  "databases", &dbs, &n_dbs, err) ||
				guest_users_from_json(json_object_get(create_args, "users"),
						      "users", &users, &n_users, err));
	if (!rc) {
		prepare.databases = dbs;
		prepare.n_databases = n_dbs;
		prepare.users = users;
		prepare.n_users = n_users;
		const struct guest_ref guest = {in->id, in->encrypted_key};
		rc = guest_prepare(&guest, &prepare, err);
	}
	free(dbs);
	guest_users_free(users, n_users);
	if (pitr)
		archive_restore_point_free(&archive_point);
	if (backup_id)
		backup_restore_free(&restore);
	return rc ? -1 : 0;
}

int tasks_build_machine(const char *id, const json_t *a, struct tasks_build *b)
{
	struct ct_error err = {0};
	memset(b, 0, sizeof *b);
	if (instance_load(id, NULL, &b->in, &err)) {
		log_error("instance vanished before its build: %s", err.message);
		return -1;
	}
	const struct compute_driver *driver = compute_driver_current(&err);
	const struct datastore_hooks *hooks =
		driver ? datastore_hooks_find(b->in.manager, &err) : NULL;
	if (!hooks) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER, err.message);
		return -1;
	}
	b->memory = (long)json_integer_value(json_object_get(json_object_get(a, "flavor"), "ram"));
	char *key = guest_instance_key(b->in.encrypted_key, &err);
	if (b->in.encrypted_key[0] && !key) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER, "the instance's RPC key is unreadable");
		return -1;
	}
	json_t *access = json_loads(b->in.access, 0, NULL);
	/* The machine's image (a driver that boots one: nova) is the version's. */
	struct ds_version version = {0};
	if (dsv_by_id(b->in.datastore_version_id, 500, &version, &err))
		log_warning("the instance's datastore version is unreadable: %s", err.message);
	struct compute_spec spec = {
		.id = id,
		.tenant_id = b->in.tenant_id,
		.manager = b->in.manager,
		.datastore_version = b->in.datastore_version,
		.rpc_key = key ? key : "",
		.volume_gb = b->in.volume_size,
		.memory_mb = b->memory,
		.allowed_cidrs = json_object_get(access, "allowed_cidrs"),
		.flavor_id = b->in.flavor_id,
		.availability_zone = json_string_value(json_object_get(a, "availability_zone")),
		.volume_type = json_string_value(json_object_get(a, "volume_type")),
		.image_id = version.image_is_null ? "" : version.image_id,
		.image_tags = version.image_tags,
		.nics = json_object_get(a, "nics"),
	};
	b->started = now_seconds();
	/* The guest's queue exists before the agent does, so prepare waits for it;
	 * so does its broker account, whose password goes only into its config.
	 * A build resumed after a crash whose agent already runs keeps the
	 * account it runs with: the driver then only reports the machine. */
	char bus[2048] = "";
	bool agent_up = driver->agent_alive(id);
	int rc = guest_declare_queue(id, &err) ||
		 (!agent_up && broker_guest_account_create(id, bus, sizeof bus, &err));
	if (!rc) {
		if (!agent_up)
			CT_CRASH_POINT("create.broker_account");
		spec.transport_url = agent_up ? NULL : bus;
		rc = driver->create(&spec, &b->server, &err);
	}
	explicit_bzero(bus, sizeof bus);
	free(key);
	json_decref(access);
	if (rc) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER, err.message);
		return -1;
	}
	/* The machine's address is the instance's (the local driver's pool has
	 * it already; a cloud's port is recorded here). */
	if ((b->server.address[0] && addresses_set(id, b->server.address, &err)) ||
	    instance_set_server_status(id, "ACTIVE", &err)) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER, err.message);
		return -1;
	}
	if (hooks->render_config &&
	    hooks->render_config(id, b->memory, b->config, sizeof b->config, &err)) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER, err.message);
		return -1;
	}
	return 0;
}

/* The build's time limit: usage_timeout, restore_usage_timeout for a restore. */
static long build_timeout(const json_t *a)
{
	bool restoring = json_is_string(json_object_get(a, "backup_id"));
	return cfg_int(restoring ? CFG_RESTORE_USAGE_TIMEOUT : CFG_USAGE_TIMEOUT);
}

/* Prepare was sent: wait up to wait_s for the guest, then ACTIVE. */
static int await_active(const char *id, long wait_s, const json_t *snapshot, double started,
			const char *address)
{
	struct ct_error err = {0};
	if (wait_for_service(id, wait_s, &err)) {
		fail_build(id,
			   err.status == 504 ? TASK_BUILDING_ERROR_TIMEOUT_GA
			   : snapshot	     ? TASK_BUILDING_ERROR_REPLICA
					     : TASK_BUILDING_ERROR_SERVER,
			   err.message);
		if (err.status == 504)
			instance_set_service_status(id, SERVICE_FAILED_TIMEOUT_GUESTAGENT, &err);
		return -1;
	}
	CT_CRASH_POINT("create.before_active");
	if (instance_set_task(id, TASK_NONE, &err)) {
		log_error("cannot finish the build: %s", err.message);
		return -1;
	}
	log_info("instance is ACTIVE at %s after %.3f s", address, now_seconds() - started);
	tm_notify_usage("create", id, NULL);
	tm_notify_end("instance_create", NULL, id, json_pack("{s:s}", "instance_id", id));
	/* The instance is usable without its archive; the sweeper retries. */
	if (archive_tasks_start_instance(id, &err))
		log_warning("start_archiving failed (the sweeper retries): %s", err.message);
	return 0;
}

int tasks_build_finish(struct tasks_build *b, const json_t *a, const json_t *snapshot)
{
	struct ct_error err = {0};
	const char *id = b->in.id;
	struct pki_server_cert cert;
	struct guest_tls tls;
	if (instance_tls_issue(id, b->server.address, &cert, &tls, &err)) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER, err.message);
		return -1;
	}
	int rc = send_prepare(&b->in, a, b->memory, b->server.mount_point, b->config, &tls,
			      snapshot, &err);
	pki_server_cert_clear(&cert);
	if (rc) {
		fail_build(id, snapshot ? TASK_BUILDING_ERROR_REPLICA : TASK_BUILDING_ERROR_SERVER,
			   err.message);
		return -1;
	}
	CT_CRASH_POINT("create.prepare_sent");
	/* A resumed build sends no second prepare once this is recorded (and
	 * the guest ignores one that crosses it: agent.c). */
	if (claim_set_phase(id, CLAIM_BUILD, CLAIM_PREPARED, &err))
		log_warning("cannot record that prepare was sent: %s", err.message);
	return await_active(id, b->wait_s > 0 ? b->wait_s : build_timeout(a), snapshot, b->started,
			    b->server.address);
}

static void run_create(const char *id, const json_t *a)
{
	struct tasks_build *b = malloc(sizeof *b);
	if (!b) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER, "out of memory");
		return;
	}
	/* Of a taskmanager's cast and a resumed build only one goes on. */
	if (!task_claims_take_queued_build(id)) {
		free(b);
		return;
	}
	CT_CRASH_POINT("create.claimed");
	if (!tasks_build_machine(id, a, b))
		tasks_build_finish(b, a, NULL);
	free(b);
	struct ct_error err = {0};
	if (claim_release(id, CLAIM_BUILD, &err))
		log_warning("cannot release the build's claim: %s", err.message);
}

/* create_instance's arguments as the API sealed them into the claim. */
static json_t *unsealed_args(const struct instance *in, struct ct_error *err)
{
	char *key = guest_instance_key(in->encrypted_key, err);
	if (!key)
		return NULL;
	char *sealed = claim_sealed_args(in->id, err);
	json_t *args = sealed ? rpc_crypto_decrypt_json(key, sealed, err) : NULL;
	explicit_bzero(key, strlen(key));
	free(key);
	free(sealed);
	return args;
}

/* A build this process took over from a dead owner (task_claims.c): the
 * machine again (the driver's create is idempotent) and prepare, unless the
 * guest has it already; all within the time limit from the build's start. */
static void run_resume(const char *id, const json_t *unused)
{
	(void)unused;
	struct ct_error err = {0};
	struct instance_claim c;
	struct instance in;
	if (claim_get(id, CLAIM_BUILD, &c, &err) <= 0)
		return;
	if (instance_load(id, NULL, &in, &err) || in.task_id != TASK_BUILDING) {
		log_info("nothing to resume: the instance is no longer building");
		claim_release(id, CLAIM_BUILD, &err);
		return;
	}
	json_t *a = unsealed_args(&in, &err);
	long long left = a ? c.started_at + build_timeout(a) - task_claims_now() : 0;
	if (!a || left <= 0) {
		fail_build(id, TASK_BUILDING_ERROR_SERVER,
			   a ? "The taskmanager restarted while the instance was building, "
			       "and its time to build ran out."
			     : "The taskmanager restarted while the instance was building.");
		/* A half-built guest keeps no way onto the bus; delete finishes the rest. */
		if (broker_guest_account_remove(id, &err))
			log_error("cannot remove the broker account: %s", err.message);
	} else if (!strcmp(c.phase, CLAIM_PREPARED) || in.service_status != SERVICE_NEW) {
		/* The guest has prepare: it is not sent twice. */
		const struct compute_driver *driver = compute_driver_current(&err);
		if (!driver || driver->ensure_running(id, &err))
			fail_build(id, TASK_BUILDING_ERROR_SERVER, err.message);
		else
			await_active(id, (long)left, NULL, now_seconds(), "its address");
	} else {
		struct tasks_build *b = malloc(sizeof *b);
		if (!b) {
			fail_build(id, TASK_BUILDING_ERROR_SERVER, "out of memory");
		} else if (!tasks_build_machine(id, a, b)) {
			b->wait_s = (long)left;
			tasks_build_finish(b, a, NULL);
		}
		free(b);
	}
	json_decref(a);
	if (claim_release(id, CLAIM_BUILD, &err))
		log_warning("cannot release the build's claim: %s", err.message);
}

int tasks_resume_build(const char *instance_id, struct ct_error *err)
{
	return task_threads_submit(run_resume, instance_id, NULL, err);
}

int tasks_create_instance(const json_t *args, struct ct_error *err)
{
	if (json_is_string(json_object_get(args, "slave_of_id")))
		return tasks_create_replicas(args, err);
	const char *id = json_string_value(json_object_get(args, "instance_id"));
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string");
	return task_threads_submit(run_create, id, args, err);
}

static void run_delete(const char *id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0};
	struct instance in;
	if (instance_load(id, NULL, &in, &err)) {
		log_warning("delete of an unknown instance ignored: %s", err.message);
		claim_forget_instance(id, &err);
		return;
	}
	if (!task_claims_take_delete(id))
		return;
	const struct compute_driver *driver = compute_driver_current(&err);
	if (!driver) {
		log_error("delete failed: %s", err.message);
		claim_release(id, CLAIM_DELETE, &err);
		return;
	}
	/* Ask the guest to stop its database cleanly; the driver kills what is left. */
	if (driver->agent_alive(id)) {
		const struct guest_ref guest = {id, in.encrypted_key};
		guest_stop_db(&guest, &err);
	}
	struct flavor f = {0};
	struct ct_error ignored;
	if (flavor_get(in.flavor_id, &f, &ignored))
		f.ram = 0;
	/* The account goes after the agent has stopped, so it never runs without one. */
	if (driver->destroy(id, &err) || addresses_release(id, &err) ||
	    broker_guest_account_remove(id, &err)) {
		log_error("delete failed: %s", err.message);
		instance_add_fault(id, err.message, "", &ignored);
		instance_set_server_status(id, "ERROR", &ignored);
		tm_notify_error("instance_delete", in.tenant_id, id, err.message);
		claim_release(id, CLAIM_DELETE, &ignored);
		return;
	}
	CT_CRASH_POINT("delete.broker_account_removed");
	CT_CRASH_POINT("delete.before_row_removed");
	if (instance_mark_deleted(id, f.ram, &err) || claim_forget_instance(id, &err)) {
		log_error("cannot mark deleted: %s", err.message);
		claim_release(id, CLAIM_DELETE, &ignored);
		return;
	}
	log_info("instance deleted");
	tm_notify_usage("delete", id, NULL);
	tm_notify_end("instance_delete", in.tenant_id, id, json_pack("{s:s}", "instance_id", id));
}

int tasks_delete_instance(const char *instance_id, struct ct_error *err)
{
	return task_threads_submit(run_delete, instance_id, NULL, err);
}

static void run_restart(const char *id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0}, ignored;
	struct instance in;
	if (instance_load(id, NULL, &in, &err))
		return;
	const struct guest_ref guest = {id, in.encrypted_key};
	const struct compute_driver *driver = compute_driver_current(&err);
	if (!driver || driver->ensure_running(id, &err) || guest_restart(&guest, &err)) {
		log_error("restart failed: %s", err.message);
		instance_add_fault(id, err.message, "", &ignored);
		tm_notify_error("instance_restart", in.tenant_id, id, err.message);
	} else {
		tm_notify_end("instance_restart", in.tenant_id, id, NULL);
	}
	instance_set_task(id, TASK_NONE, &ignored);
}

int tasks_restart(const char *instance_id, struct ct_error *err)
{
	return task_threads_submit(run_restart, instance_id, NULL, err);
}

static void run_update_access(const char *id, const json_t *args)
{
	struct ct_error err = {0}, ignored;
	struct instance in;
	if (instance_load(id, NULL, &in, &err))
		return;
	const struct compute_driver *driver = compute_driver_current(&err);
	if (!driver || replication_apply_access(id, json_object_get(args, "allowed_cidrs"), &err)) {
		log_error("access update failed: %s", err.message);
		instance_add_fault(id, err.message, "", &ignored);
		instance_set_task(id, TASK_UPDATING_ERROR_ACCESS, &ignored);
		return;
	}
	instance_set_task(id, TASK_NONE, &ignored);
}

int tasks_update_access(const char *instance_id, const json_t *access, struct ct_error *err)
{
	return task_threads_submit(run_update_access, instance_id, access, err);
}

void tasks_recover(void)
{
	struct ct_error err = {0};
	char(*ids)[37] = NULL;
	size_t n = 0;
	if (!instance_ids_in_task(TASK_BUILDING, &ids, &n, &err)) {
		for (size_t i = 0; i < n; i++) {
			/* A build with a claim is resumed by the sweep below (or left to
			 * the live taskmanager that has it); others (replicas) fail. */
			struct instance_claim c;
			if (claim_get(ids[i], CLAIM_BUILD, &c, &err) != 0)
				continue;
			log_set_context(NULL, ids[i]);
			fail_build(ids[i], TASK_BUILDING_ERROR_SERVER,
				   "The taskmanager restarted while the instance was building.");
			/* A half-built guest keeps no way onto the bus; delete finishes the rest.
			 */
			if (broker_guest_account_remove(ids[i], &err))
				log_error("cannot remove the broker account: %s", err.message);
		}
		free(ids);
	}
	task_claims_sweep();
	ids = NULL;
	if (!instance_ids_in_task(TASK_DELETING, &ids, &n, &err)) {
		for (size_t i = 0; i < n; i++)
			tasks_delete_instance(ids[i], &err);
		free(ids);
	}
	if (task_claims_start(&err))
		log_error("crash recovery of later builds is off: %s", err.message);
	tasks_resize_recover();
	tasks_replication_recover();
	log_clear_context();
	backup_tasks_start();
	schedule_tasks_start();
	archive_tasks_start();
}
