/*
 * backup_tasks.c — see backup_tasks.h. The object's name is chosen here,
 * from the datastore's hooks (never a manager's name), and written to the row
 * before the guest starts, so a delete can always find what a backup left.
 * Keys are opened only to go into a sealed guest message and wiped after.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/backup_tasks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "db/backups.h"
#include "db/instances.h"
#include "guest/api.h"
#include "guest/datastore_hooks.h"
#include "taskmanager/notifications.h"
#include "taskmanager/periodic.h"
#include "taskmanager/task_threads.h"

static void wipe_free(char *secret)
{
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}

/* The store's access for a guest; the store handle is not kept. */
static int store_access_now(struct store_access *out, struct ct_error *err)
{
	struct backup_store *store = backup_store_new(err);
	if (!store)
		return -1;
	int rc = backup_store_access(store, out, err);
	backup_store_free(store);
	return rc;
}

static int send_backup(const struct backup_row *b, const struct instance *in, const json_t *info,
		       struct ct_error *err)
{
	const struct datastore_hooks *hooks = datastore_hooks_find(in->manager, err);
	if (!hooks)
		return -1;
	bool incremental = b->parent_id[0] != '\0';
	const char *suffix =
		incremental ? hooks->backup_suffix_incremental : hooks->backup_suffix_full;
	const char *container = json_string_value(json_object_get(info, "swift_container"));
	if (!container || !*container)
		container = cfg_str(CFG_BACKUP_SWIFT_CONTAINER);
	char location[STORE_NAME_MAX + 1];
	if ((size_t)snprintf(location, sizeof location, "%s/%s%s", container, b->id,
			     suffix ? suffix : "") >= sizeof location)
		return ct_fail(err, 400, "The value is not allowed: %.255s.", container);
	if (store_check_name(location, err) || backup_set_location(b->id, location, err))
		return -1;
	struct backup_row parent;
	struct guest_backup_link link = {0};
	if (incremental) {
		if (backup_load(b->parent_id, NULL, &parent, err))
			return -1;
		link = (struct guest_backup_link){.id = parent.id,
						  .location = parent.location,
						  .checksum = parent.checksum,
						  .backup_type = parent.backup_type};
	}
	struct store_access access;
	if (store_access_now(&access, err))
		return -1;
	char *key = guest_backup_key_open(b->encrypted_key, err);
	int rc = -1;
	if (key) {
		const struct guest_backup_request r = {
			.id = b->id,
			.name = b->name,
			.description = b->has_description ? b->description : NULL,
			.instance_id = in->id,
			.backup_type = incremental ? "incremental" : "full",
			.datastore = b->datastore_name,
			.datastore_version = in->datastore_version,
			.swift_container = container,
			.location = location,
			.encryption_key = key,
			.parent = incremental ? &link : NULL,
			.store = &access,
		};
		const struct guest_ref guest = {in->id, in->encrypted_key};
		rc = guest_create_backup(&guest, &r, err);
	}
	wipe_free(key);
	explicit_bzero(&access, sizeof access);
	if (!rc)
		log_info("backup %s sent to the guest (%s)", b->id, location);
	return rc;
}

static void run_create_backup(const char *instance_id, const json_t *args)
{
	struct ct_error err = {0}, ignored;
	const json_t *info = json_object_get(args, "backup_info");
	const char *id = json_string_value(json_object_get(info, "id"));
	struct backup_row b;
	struct instance in;
	if (!id || backup_load(id, NULL, &b, &err)) {
		log_warning("create_backup of an unknown backup ignored: %s", err.message);
		return;
	}
	if (strcmp(b.state, "NEW") || strcmp(b.instance_id, instance_id)) {
		log_warning("create_backup of backup %s (%s) ignored", b.id, b.state);
		return;
	}
	if (instance_load(instance_id, NULL, &in, &err) || send_backup(&b, &in, info, &err)) {
		log_error("backup %s failed: %s", b.id, err.message);
		backup_set_state(b.id, "FAILED", &ignored);
		instance_add_fault(instance_id, err.message, "", &ignored);
		tm_notify_error("backup_create", b.tenant_id, instance_id, err.message);
	}
}

int tasks_create_backup(const json_t *args, struct ct_error *err)
{
	const char *id = json_string_value(json_object_get(args, "instance_id"));
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string");
	return task_threads_submit(run_create_backup, id, args, err);
}

int backup_delete_now(const char *backup_id, struct ct_error *err)
{
	struct ct_error ignored;
	struct backup_row b;
	if (backup_load(backup_id, NULL, &b, err))
		return -1;
	/* RESTORED rows point at another region's object, which is not ours. */
	if (b.location[0] && strcmp(b.state, "RESTORED")) {
		struct backup_store *store = backup_store_new(err);
		int rc = store ? store_delete(store, b.location, err) : -1;
		backup_store_free(store);
		if (rc && err->status != 404) {
			log_error("backup %s: its object %s was not deleted: %s", b.id, b.location,
				  err->message);
			backup_set_state(b.id, "DELETE_FAILED", &ignored);
			return -1;
		}
	}
	if (backup_mark_deleted(b.id, err)) {
		log_error("backup %s: cannot mark deleted: %s", b.id, err->message);
		return -1;
	}
	log_info("backup %s deleted", b.id);
	return 0;
}

static void run_delete_backup(const char *backup_id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0};
	struct backup_row b = {0};
	struct ct_error ignored = {0};
	backup_load(backup_id, NULL, &b, &ignored);
	if (backup_delete_now(backup_id, &err) && err.status == 404)
		log_warning("delete of an unknown backup ignored: %s", err.message);
	else if (err.message[0])
		tm_notify_error("backup_delete", b.tenant_id, NULL, err.message);
	else
		tm_notify_end("backup_delete", b.tenant_id, NULL,
			      json_pack("{s:s}", "backup_id", backup_id));
}

int tasks_delete_backup(const char *backup_id, struct ct_error *err)
{
	return task_threads_submit(run_delete_backup, backup_id, NULL, err);
}

int backup_restore_load(const char *backup_id, struct backup_restore *r, struct ct_error *err)
{
	memset(r, 0, sizeof *r);
	size_t n = 0;
	if (backup_chain(backup_id, &r->rows, &n, err))
		return -1;
	r->links = calloc(n, sizeof *r->links);
	r->keys = calloc(n, sizeof *r->keys);
	if (!r->links || !r->keys) {
		backup_restore_free(r);
		return ct_fail(err, 500, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const struct backup_row *b = &r->rows[i];
		char *key = guest_backup_key_open(b->encrypted_key, err);
		if (!key || strlen(key) >= sizeof r->keys[i]) {
			wipe_free(key);
			backup_restore_free(r);
			return key ? ct_fail(err, 500, "backup key too long") : -1;
		}
		snprintf(r->keys[i], sizeof r->keys[i], "%s", key);
		wipe_free(key);
		r->links[i] = (struct guest_backup_link){.id = b->id,
							 .location = b->location,
							 .checksum = b->checksum,
							 .backup_type = b->backup_type,
							 .encryption_key = r->keys[i]};
	}
	const struct backup_row *last = &r->rows[n - 1];
	if (store_access_now(&r->access, err)) {
		backup_restore_free(r);
		return -1;
	}
	r->info = (struct guest_restore_info){.id = last->id,
					      .instance_id = last->instance_id,
					      .location = last->location,
					      .type = last->backup_type,
					      .checksum = last->checksum,
					      .chain = r->links,
					      .n_chain = n,
					      .store = &r->access};
	return 0;
}

void backup_restore_free(struct backup_restore *r)
{
	if (r->keys) {
		explicit_bzero(r->keys, r->info.n_chain * sizeof *r->keys);
		free(r->keys);
	}
	explicit_bzero(&r->access, sizeof r->access);
	free(r->links);
	free(r->rows);
	memset(r, 0, sizeof *r);
}

void backup_tasks_expire(void)
{
	struct ct_error err = {0};
	int n = backup_fail_running(NULL, cfg_int(CFG_BACKUP_TIMEOUT), &err);
	if (n < 0)
		log_error("cannot expire running backups: %s", err.message);
	else if (n > 0)
		log_warning("%d backup(s) without news for %ld s marked FAILED (backup_timeout)", n,
			    (long)cfg_int(CFG_BACKUP_TIMEOUT));
}

/* --- the expiry sweeper -------------------------------------------------------- */

/* Backups past backup_timeout are failed every quarter of it (1 s to 60 s). */
static long expire_interval_ms(void)
{
	long quarter = cfg_int(CFG_BACKUP_TIMEOUT) / 4;
	return 1000 * (quarter < 1 ? 1 : quarter > 60 ? 60 : quarter);
}

static struct periodic expirer =
	PERIODIC("the backup expirer", backup_tasks_expire, expire_interval_ms, false);

void backup_tasks_start(void)
{
	struct ct_error err = {0};
	(void)periodic_start(&expirer, &err);
}

void backup_tasks_stop(void)
{
	periodic_stop(&expirer);
}
