/*
 * instances.c — see instances.h.
 */
#define LOG_MODULE "db"
#include "db/instances.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/guest_reports.h"
#include "db/quotas.h"
#include "db/store.h"

const char *instance_task_description(int task_id)
{
	switch (task_id) {
	case TASK_NONE: return "No tasks for the instance.";
	case TASK_DELETING: return "Deleting the instance.";
	case TASK_REBOOTING: return "Rebooting the instance.";
	case TASK_RESIZING: return "Resizing the instance.";
	case TASK_BUILDING: return "The instance is building.";
	case TASK_PROMOTING: return "Promoting the instance to replica source.";
	case TASK_EJECTING: return "Ejecting the replica source.";
	case TASK_DETACHING: return "Detaching the instance from replica source.";
	case TASK_UPDATING: return "Updating the instance.";
	case TASK_BUILDING_ERROR_SERVER: return "Build error: Server.";
	case TASK_BUILDING_ERROR_VOLUME: return "Build error: Volume.";
	case TASK_BUILDING_ERROR_REPLICA: return "Build error: Replica.";
	case TASK_PROMOTION_ERROR: return "Replica Promotion Error.";
	case TASK_EJECTION_ERROR: return "Replica Source Ejection Error.";
	case TASK_BUILDING_ERROR_TIMEOUT_GA: return "Build error: guestagent timeout.";
	case TASK_BUILDING_ERROR_PORT: return "Build error: Port.";
	case TASK_UPDATING_ERROR_ACCESS: return "Update error: Access.";
	default: return "Unknown task.";
	}
}

const char *service_status_description(int status)
{
	switch (status) {
	case SERVICE_RUNNING: return "running";
	case SERVICE_SHUTDOWN: return "shutdown";
	case SERVICE_DELETED: return "deleted";
	case SERVICE_CRASHED: return "crashed";
	case SERVICE_FAILED: return "failed to spawn";
	case SERVICE_BUILDING: return "building";
	case SERVICE_NEW: return "new";
	case SERVICE_FAILED_TIMEOUT_GUESTAGENT: return "guestagent error";
	case SERVICE_INSTANCE_READY: return "instance ready";
	case SERVICE_RESTART_REQUIRED: return "restart required";
	case SERVICE_HEALTHY: return "healthy";
	case SERVICE_RESTARTING: return "restarting";
	default: return "unknown";
	}
}

static int use_instance_quota(const char *project, long instances, long volume, long ram,
			      struct ct_error *err)
{
	struct quota_state q;
	if (quota_get(project, &q, err))
		return -1;
	return quota_use(project, QUOTA_INSTANCES, instances, q.limit[QUOTA_INSTANCES], err) ||
			       quota_use(project, QUOTA_VOLUMES, volume, q.limit[QUOTA_VOLUMES],
					 err) ||
			       quota_use(project, QUOTA_RAM, ram, q.limit[QUOTA_RAM], err)
		       ? -1
		       : 0;
}

int instance_insert(const struct instance *in, long ram_mb, struct ct_error *err)
{
	char now[CT_TIME_LEN], status_id[CT_UUID_LEN + 1];
	timefmt_db_now(now);
	ids_uuid(status_id);
	if (db_begin(err))
		return -1;
	if (use_instance_quota(in->tenant_id, 1, in->volume_size, ram_mb, err))
		goto fail;
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO instances (id, created, updated, name, task_id, task_description,"
		" flavor_id, volume_size, tenant_id, server_status, deleted,"
		" datastore_version_id, region_id, encrypted_key, access, compute_instance_id)"
		" VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'BUILD', 0, ?9, ?10, ?11, ?12, ?1)",
		err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, in->id);
	db_bind_text(st, 2, now);
	db_bind_text(st, 3, in->name);
	sqlite3_bind_int(st, 4, TASK_BUILDING);
	db_bind_text(st, 5, instance_task_description(TASK_BUILDING));
	db_bind_text(st, 6, in->flavor_id);
	if (in->volume_size > 0)
		sqlite3_bind_int64(st, 7, in->volume_size);
	db_bind_text(st, 8, in->tenant_id);
	db_bind_text(st, 9, in->datastore_version_id);
	db_bind_text(st, 10, "RegionOne");
	db_bind_text(st, 11, in->encrypted_key[0] ? in->encrypted_key : NULL);
	db_bind_text(st, 12, in->access[0] ? in->access : NULL);
	if (db_step_done(st, err))
		goto fail;
	st = db_stmt("INSERT INTO service_statuses (id, instance_id, status_id,"
		     " status_description, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
		     err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, status_id);
	db_bind_text(st, 2, in->id);
	sqlite3_bind_int(st, 3, SERVICE_NEW);
	db_bind_text(st, 4, service_status_description(SERVICE_NEW));
	db_bind_text(st, 5, now);
	if (db_step_done(st, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int instance_load(const char *id, const char *project, struct instance *out, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("SELECT i.id, i.name, i.tenant_id, i.flavor_id, i.volume_size,"
			" i.datastore_version_id, v.manager, v.version, i.task_id, i.server_status,"
			" s.status_id, i.encrypted_key, i.access FROM instances i"
			" LEFT JOIN datastore_versions v ON v.id = i.datastore_version_id"
			" LEFT JOIN service_statuses s ON s.instance_id = i.id"
			" WHERE i.id = ?1 AND (?2 IS NULL OR i.tenant_id = ?2)"
			" AND (i.deleted IS NULL OR i.deleted = 0)",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, project);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_stmt_done(st);
		return ct_fail(err, 404, "Resource %.64s cannot be found.", id);
	}
#define COPY(field, col) snprintf(out->field, sizeof out->field, "%s", db_col_text(st, col))
	COPY(id, 0);
	COPY(name, 1);
	COPY(tenant_id, 2);
	COPY(flavor_id, 3);
	out->volume_size = sqlite3_column_int64(st, 4);
	COPY(datastore_version_id, 5);
	COPY(manager, 6);
	COPY(datastore_version, 7);
	out->task_id = sqlite3_column_int(st, 8);
	COPY(server_status, 9);
	out->service_status = sqlite3_column_int(st, 10);
	COPY(encrypted_key, 11);
	COPY(access, 12);
#undef COPY
	db_stmt_done(st);
	return 0;
}

/* Run an UPDATE with ?1 id, ?2 text, ?3 number, ?4 now (unused slots are fine). */
static int update_text(const char *sql, const char *id, const char *value, int number,
		       struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, value);
	sqlite3_bind_int(st, 3, number);
	db_bind_text(st, 4, now);
	return db_step_done(st, err);
}

int instance_set_task(const char *id, int task_id, struct ct_error *err)
{
	return update_text("UPDATE instances SET task_id = ?3, task_description = ?2,"
			   " updated = ?4 WHERE id = ?1",
			   id, instance_task_description(task_id), task_id, err);
}

int instance_set_server_status(const char *id, const char *status, struct ct_error *err)
{
	return update_text("UPDATE instances SET server_status = ?2, updated = ?4 WHERE id = ?1",
			   id, status, 0, err);
}

int instance_set_service_status(const char *id, int status, struct ct_error *err)
{
	return update_text("UPDATE service_statuses SET status_id = ?3,"
			   " status_description = ?2, updated_at = ?4 WHERE instance_id = ?1",
			   id, service_status_description(status), status, err);
}

int instance_set_name(const char *id, const char *name, struct ct_error *err)
{
	return update_text("UPDATE instances SET name = ?2, updated = ?4 WHERE id = ?1", id, name,
			   0, err);
}

int instance_set_access(const char *id, const char *access_json, struct ct_error *err)
{
	return update_text("UPDATE instances SET access = ?2, updated = ?4 WHERE id = ?1", id,
			   access_json, 0, err);
}

int instance_add_fault(const char *id, const char *message, const char *details,
		       struct ct_error *err)
{
	char fault_id[CT_UUID_LEN + 1], now[CT_TIME_LEN];
	ids_uuid(fault_id);
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("INSERT INTO instance_faults (id, instance_id, message,"
				   " details, created, updated, deleted)"
				   " VALUES (?1, ?2, substr(?3, 1, 255), ?4, ?5, ?5, 0)",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, fault_id);
	db_bind_text(st, 2, id);
	db_bind_text(st, 3, message);
	db_bind_text(st, 4, details ? details : "");
	db_bind_text(st, 5, now);
	return db_step_done(st, err);
}

int instance_latest_fault(const char *id, struct instance_fault *out, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT message, created FROM instance_faults"
				   " WHERE instance_id = ?1 AND deleted = 0"
				   " ORDER BY created DESC LIMIT 1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->message, sizeof out->message, "%s", db_col_text(st, 0));
		snprintf(out->created, sizeof out->created, "%s", db_col_text(st, 1));
	} else if (rc != SQLITE_DONE) {
		db_fail(err, "reading a fault");
	}
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int instance_encrypted_key(const char *id, char *out, size_t size, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT encrypted_key FROM instances WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW && !db_col_is_null(st, 0)) {
		found = snprintf(out, size, "%s", db_col_text(st, 0)) < (int)size;
		if (!found)
			log_error("the stored RPC key of instance %s is longer than %zu bytes", id,
				  size - 1);
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(err, "reading an instance key");
		found = -1;
	}
	db_stmt_done(st);
	return found;
}

int instance_mark_deleted(const char *id, long ram_mb, struct ct_error *err)
{
	struct instance in;
	if (instance_load(id, NULL, &in, err))
		return -1;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("UPDATE instances SET deleted = 1, deleted_at = ?2,"
				   " updated = ?2, task_id = 1, task_description = ?3,"
				   " server_status = 'DELETED' WHERE id = ?1",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, now);
	db_bind_text(st, 3, instance_task_description(TASK_NONE));
	if (db_step_done(st, err))
		goto fail;
	if (volume_usage_forget(id, err) || instance_set_service_status(id, SERVICE_DELETED, err) ||
	    use_instance_quota(in.tenant_id, -1, -in.volume_size, -ram_mb, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

static void read_id(sqlite3_stmt *st, void *row)
{
	snprintf(row, sizeof(char[37]), "%s", db_col_text(st, 0));
}

int instance_ids_in_task(int task_id, char (**ids)[37], size_t *count, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM instances WHERE task_id = ?1"
				   " AND (deleted IS NULL OR deleted = 0) ORDER BY created",
				   err);
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, task_id);
	void *rows;
	if (db_collect(st, sizeof **ids, read_id, "list instances in a task", &rows, count, err))
		return -1;
	*ids = rows;
	return 0;
}

int instance_quota_change(const char *project, enum quota_resource r, long delta,
			  struct ct_error *err)
{
	struct quota_state q;
	if (quota_get(project, &q, err))
		return -1;
	return quota_use(project, r, delta, q.limit[r], err);
}
