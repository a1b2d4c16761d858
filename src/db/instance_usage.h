/*
 * instance_usage.h — what usage notifications (trove.instance.create, .delete,
 * .modify_flavor, .exists) say about an instance: its row with times, flavor
 * name and size, and statuses, read whether or not it is deleted. Owns these
 * SELECTs only; may not write rows nor build payloads (taskmanager/usage_events.c).
 */
#ifndef CT_DB_INSTANCE_USAGE_H
#define CT_DB_INSTANCE_USAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct instance_usage {
	char id[37];
	char name[1024];
	char tenant_id[65];
	char flavor_id[256];
	char flavor_name[256]; /* "" when the flavor is not in the local catalog */
	long flavor_ram;       /* MB; 0 when unknown */
	long volume_size;
	char manager[256];
	char created[32];	/* DB time text */
	char updated[32];	/* DB time text */
	char deleted_at[32];	/* DB time text, "" while not deleted */
	char server_status[65]; /* compute status */
	char compute_id[256];	/* compute_instance_id, "" when none */
	char volume_id[256];	/* "" when none */
	int task_id;
	int service_status;
	bool deleted;
};

/* One instance, deleted or not; 404 when there is no such row. */
int instance_usage_get(const char *id, struct instance_usage *out, struct ct_error *err);
/* Every instance not deleted (*rows malloc'd, the caller frees). */
int instance_usage_list(struct instance_usage **rows, size_t *count, struct ct_error *err);

#endif
