/*
 * instances.h — instance rows (tables instances, service_statuses,
 * instance_faults) and the quota usage that follows them. The joined rows the
 * API lists are in instance_rows.h, what guests report in guest_reports.h,
 * root history in root_history.h. Task and service status codes are Trove's (spec
 * trove-internals.md §4.1). May not build API views or talk to guests.
 */
#ifndef CT_DB_INSTANCES_H
#define CT_DB_INSTANCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "db/quotas.h"

enum instance_task {
	TASK_NONE = 1,
	TASK_DELETING = 2,
	TASK_REBOOTING = 3,
	TASK_RESIZING = 4,
	TASK_BUILDING = 5,
	TASK_PROMOTING = 8,
	TASK_EJECTING = 9,
	TASK_DETACHING = 11,
	TASK_UPDATING = 12,
	TASK_BUILDING_ERROR_SERVER = 81,
	TASK_BUILDING_ERROR_VOLUME = 82,
	TASK_BUILDING_ERROR_REPLICA = 84,
	TASK_PROMOTION_ERROR = 85,
	TASK_EJECTION_ERROR = 86,
	TASK_BUILDING_ERROR_TIMEOUT_GA = 91,
	TASK_BUILDING_ERROR_PORT = 92,
	TASK_UPDATING_ERROR_ACCESS = 93,
};

enum service_status {
	SERVICE_RUNNING = 0x01,
	SERVICE_SHUTDOWN = 0x04,
	SERVICE_DELETED = 0x05,
	SERVICE_CRASHED = 0x06,
	SERVICE_FAILED = 0x08,
	SERVICE_BUILDING = 0x09,
	SERVICE_UNKNOWN = 0x16,
	SERVICE_NEW = 0x17,
	SERVICE_FAILED_TIMEOUT_GUESTAGENT = 0x18,
	SERVICE_INSTANCE_READY = 0x19,
	SERVICE_RESTART_REQUIRED = 0x20,
	SERVICE_HEALTHY = 0x21,
	SERVICE_RESTARTING = 0x22,
};

struct instance {
	char id[37];
	char name[1024];
	char tenant_id[65];
	char flavor_id[256];
	long volume_size;
	char datastore_version_id[37];
	char manager[256];	      /* datastore_versions.manager */
	char datastore_version[1024]; /* datastore_versions.version */
	int task_id;
	char server_status[65];
	int service_status;
	char encrypted_key[256]; /* base64 of the encrypted per-instance RPC key */
	char access[2048];	 /* JSON text */
};

/* Trove's description of a task code, e.g. "The instance is building." */
const char *instance_task_description(int task_id);
const char *service_status_description(int status);

/* Insert the row with task BUILDING and service NEW, and count it in the
 * project's quota usage (instances, volumes, ram) — 413 when over quota. */
int instance_insert(const struct instance *in, long ram_mb, struct ct_error *err);
/* Load by id; project NULL = any project (admin). 404 when missing or deleted. */
int instance_load(const char *id, const char *project, struct instance *out, struct ct_error *err);
int instance_set_task(const char *id, int task_id, struct ct_error *err);
int instance_set_server_status(const char *id, const char *status, struct ct_error *err);
int instance_set_service_status(const char *id, int status, struct ct_error *err);
int instance_set_name(const char *id, const char *name, struct ct_error *err);
int instance_set_access(const char *id, const char *access_json, struct ct_error *err);
/* Record a fault (shown in the instance's detail). */
int instance_add_fault(const char *id, const char *message, const char *details,
		       struct ct_error *err);
/* The newest fault shown in the instance's detail: 1 found, 0 none, -1 failed. */
struct instance_fault {
	char message[1024]; /* 255 characters of UTF-8 */
	char created[32];   /* DB time text */
};
int instance_latest_fault(const char *id, struct instance_fault *out, struct ct_error *err);
/* The instance's encrypted RPC key (deleted instances too, whose guests may
 * still speak): 1 copied, 0 none, -1 failed. */
int instance_encrypted_key(const char *id, char *out, size_t size, struct ct_error *err);
/* Soft-delete, forget its volume report and give the quota back. */
int instance_mark_deleted(const char *id, long ram_mb, struct ct_error *err);
/* Ids of instances not deleted (for recovery at taskmanager start). */
int instance_ids_in_task(int task_id, char (**ids)[37], size_t *count, struct ct_error *err);
/* Move the project's usage of r by delta (413 when growing past its limit);
 * joins the caller's transaction. */
int instance_quota_change(const char *project, enum quota_resource r, long delta,
			  struct ct_error *err);

#endif
