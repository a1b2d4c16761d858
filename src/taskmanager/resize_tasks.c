/*
 * resize_tasks.c — see resize_tasks.h. Reaches the machine only through the
 * configured compute driver, the datastore only through its hooks and the
 * guest client, rows only through src/db/. May not know which driver or
 * datastore it drives.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/resize_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "compute/driver.h"
#include "db/instance_resize.h"
#include "db/instances.h"
#include "guest/api.h"
#include "guest/datastore_hooks.h"
#include "taskmanager/notifications.h"
#include "taskmanager/task_threads.h"

/* How long a server that is up but unhealthy after a grow gets to recover
 * by itself before it is restarted. */
#define RECOVERY_WAIT_MS 15000

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The resize did not happen: say why on the instance, give the quota back and
 * make the instance usable again. */
static void resize_failed(const struct instance *in, const char *what, enum quota_resource r,
			  long delta, const struct ct_error *cause)
{
	struct ct_error ignored;
	char message[1024];
	snprintf(message, sizeof message, "%s failed: %.900s", what, cause->message);
	log_error("%s", message);
	instance_add_fault(in->id, message, "", &ignored);
	tm_notify_error(r == QUOTA_VOLUMES ? "instance_resize_volume" : "instance_resize_instance",
			in->tenant_id, in->id, message);
	if (instance_resize_refund(in->tenant_id, r, delta, &ignored))
		log_error("cannot give the quota back: %s", ignored.message);
	instance_set_task(in->id, TASK_NONE, &ignored);
}

static bool healthy_within(const char *id, int timeout_ms)
{
	struct ct_error err = {0};
	struct instance now;
	for (int waited_ms = 0; waited_ms <= timeout_ms; waited_ms += 500) {
		if (instance_load(id, NULL, &now, &err))
			return false;
		if (now.service_status == SERVICE_HEALTHY)
			return true;
		struct timespec ts = {0, 500 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return false;
}

/* A server that failed when its volume filled (InnoDB may abort, PostgreSQL
 * panics when it cannot write WAL) has room again: one that recovers by
 * itself is left to it, one that is down or stays unhealthy is started,
 * and recovers from its own log. A healthy one is never touched. */
static void restart_if_down(const char *id, const char *encrypted_key)
{
	struct ct_error err = {0};
	struct instance now;
	for (int waited_ms = 0;; waited_ms += 500) {
		if (instance_load(id, NULL, &now, &err))
			return;
		if (now.service_status == SERVICE_HEALTHY ||
		    now.service_status == SERVICE_RESTART_REQUIRED)
			return;
		if (now.service_status == SERVICE_SHUTDOWN ||
		    now.service_status == SERVICE_CRASHED || waited_ms >= RECOVERY_WAIT_MS)
			break;
		struct timespec ts = {0, 500 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	log_warning("the database is %s on the grown volume: restarting it",
		    service_status_description(now.service_status));
	const struct guest_ref guest = {id, encrypted_key};
	if (!guest_restart(&guest, &err) || healthy_within(id, RECOVERY_WAIT_MS))
		return;
	/* A restart that raced the server's own recovery may fail while the
	 * server comes up anyway: only one still not healthy is a fault. */
	struct ct_error ignored;
	log_error("the database did not start on the grown volume: %s", err.message);
	instance_add_fault(id, err.message, "", &ignored);
}

static void run_resize_volume(const char *id, const json_t *args)
{
	struct ct_error err = {0}, ignored;
	struct instance in;
	if (instance_load(id, NULL, &in, &err)) {
		log_error("resize of an unknown instance: %s", err.message);
		return;
	}
	long new_size = (long)json_integer_value(json_object_get(args, "new_size"));
	long delta = new_size - in.volume_size;
	const struct compute_driver *driver = compute_driver_current(&err);
	double started = now_seconds();
	if (!driver || compute_resize_volume(driver, id, new_size, &err)) {
		resize_failed(&in, "Resizing the volume", QUOTA_VOLUMES, delta, &err);
		return;
	}
	if (instance_set_volume_size(id, new_size, &err)) {
		resize_failed(&in, "Recording the new volume size", QUOTA_VOLUMES, delta, &err);
		return;
	}
	/* The device is grown (and recorded): a file system that does not follow
	 * is a fault, not a refund. */
	const struct guest_ref guest = {id, in.encrypted_key};
	if (driver->guest_grows_filesystem && guest_resize_fs(&guest, &err)) {
		log_error("the file system did not grow with the volume: %s", err.message);
		instance_add_fault(id, err.message, "", &ignored);
		instance_set_task(id, TASK_NONE, &ignored);
		tm_notify_error("instance_resize_volume", in.tenant_id, id, err.message);
		return;
	}
	double took = now_seconds() - started;
	log_info("volume grown online from %ld to %ld GB in %.3f s", in.volume_size, new_size,
		 took);
	restart_if_down(id, in.encrypted_key);
	instance_set_task(id, TASK_NONE, &ignored);
	tm_notify_end("instance_resize_volume", in.tenant_id, id,
		      json_pack("{s:s,s:I}", "instance_id", id, "new_size", (json_int_t)new_size));
}

int tasks_resize_volume(const json_t *args, struct ct_error *err)
{
	const char *id = json_string_value(json_object_get(args, "instance_id"));
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string");
	return task_threads_submit(run_resize_volume, id, args, err);
}

/* The base config for memory_mb: "" when the guest renders its own. */
static int render(const struct datastore_hooks *hooks, const char *id, long memory_mb, char *out,
		  size_t size, struct ct_error *err)
{
	out[0] = '\0';
	return hooks->render_config ? hooks->render_config(id, memory_mb, out, size, err) : 0;
}

/* Machine and config as they were before the resize, the database started
 * again; what cannot be undone is logged (the fault says what failed). */
static void revert_flavor(const struct compute_driver *driver, const struct datastore_hooks *hooks,
			  const struct guest_ref *guest, const char *old_id, long old_ram,
			  bool machine_resized)
{
	struct ct_error err = {0};
	char config[8192];
	if ((machine_resized && compute_resize_flavor(driver, guest->id, old_id, old_ram, &err)) ||
	    render(hooks, guest->id, old_ram, config, sizeof config, &err) ||
	    guest_start_db_with_conf_changes(guest, config, NULL, &err))
		log_error("reverting the flavor resize failed too: %s", err.message);
}

static void run_resize_flavor(const char *id, const json_t *args)
{
	struct ct_error err = {0}, ignored;
	struct instance in;
	if (instance_load(id, NULL, &in, &err)) {
		log_error("resize of an unknown instance: %s", err.message);
		return;
	}
	const json_t *new_f = json_object_get(args, "new_flavor");
	const json_t *old_f = json_object_get(args, "old_flavor");
	const char *new_id = json_string_value(json_object_get(new_f, "id"));
	long new_ram = (long)json_integer_value(json_object_get(new_f, "ram"));
	long old_ram = (long)json_integer_value(json_object_get(old_f, "ram"));
	long delta = new_ram - old_ram;
	const struct guest_ref guest = {id, in.encrypted_key};
	const struct compute_driver *driver = compute_driver_current(&err);
	const struct datastore_hooks *hooks =
		driver ? datastore_hooks_find(in.manager, &err) : NULL;
	if (!hooks || !new_id || new_ram < 1) {
		if (hooks)
			ct_fail(&err, 400, "the new flavor has no id or no RAM");
		resize_failed(&in, "Resizing the flavor", QUOTA_RAM, delta, &err);
		return;
	}
	double started = now_seconds();
	char config[8192];
	/* Rendered first: a config that cannot be made stops nothing. */
	if (render(hooks, id, new_ram, config, sizeof config, &err)) {
		resize_failed(&in, "Rendering the new flavor's config", QUOTA_RAM, delta, &err);
		return;
	}
	/* The one restart: it also applies what a configuration group was
	 * waiting for, so the status the heartbeats write starts afresh. */
	instance_set_service_status(id, SERVICE_RESTARTING, &ignored);
	if (guest_stop_db(&guest, &err)) {
		resize_failed(&in, "Stopping the database for the flavor resize", QUOTA_RAM, delta,
			      &err);
		guest_restart(&guest, &ignored);
		return;
	}
	if (compute_resize_flavor(driver, id, new_id, new_ram, &err)) {
		resize_failed(&in, "Resizing the flavor", QUOTA_RAM, delta, &err);
		revert_flavor(driver, hooks, &guest, in.flavor_id, old_ram, false);
		return;
	}
	if (guest_start_db_with_conf_changes(&guest, config, in.datastore_version, &err)) {
		resize_failed(&in, "Starting the database with the new flavor", QUOTA_RAM, delta,
			      &err);
		revert_flavor(driver, hooks, &guest, in.flavor_id, old_ram, true);
		return;
	}
	if (instance_set_flavor(id, new_id, &err)) {
		resize_failed(&in, "Recording the new flavor", QUOTA_RAM, delta, &err);
		return;
	}
	instance_set_service_status(id, SERVICE_HEALTHY, &ignored);
	instance_set_task(id, TASK_NONE, &ignored);
	log_info("flavor resized from %s to %s (%ld MB) in %.3f s", in.flavor_id, new_id, new_ram,
		 now_seconds() - started);
	tm_notify_usage("modify_flavor", id,
			json_pack("{s:I,s:I}", "old_instance_size", (json_int_t)old_ram,
				  "instance_size", (json_int_t)new_ram));
	tm_notify_end("instance_resize_instance", in.tenant_id, id,
		      json_pack("{s:s,s:s}", "instance_id", id, "new_flavor_id", new_id));
}

int tasks_resize_flavor(const json_t *args, struct ct_error *err)
{
	const char *id = json_string_value(json_object_get(args, "instance_id"));
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string");
	return task_threads_submit(run_resize_flavor, id, args, err);
}

void tasks_resize_recover(void)
{
	struct ct_error err = {0}, ignored;
	char(*ids)[37] = NULL;
	size_t n = 0;
	if (instance_ids_in_task(TASK_RESIZING, &ids, &n, &err)) {
		log_error("cannot list resizing instances: %s", err.message);
		return;
	}
	const struct compute_driver *driver = compute_driver_current(&ignored);
	for (size_t i = 0; i < n; i++) {
		log_set_context(NULL, ids[i]);
		log_warning("the taskmanager restarted while the instance was resizing");
		instance_add_fault(ids[i],
				   "The taskmanager restarted while the instance was resizing.", "",
				   &ignored);
		if (driver && driver->ensure_running(ids[i], &ignored))
			log_error("cannot start the guest agent: %s", ignored.message);
		instance_set_task(ids[i], TASK_NONE, &ignored);
	}
	free(ids);
	log_clear_context();
}
