/*
 * instance_metrics.h — every live instance with what the metrics endpoint
 * shows of it (docs/metrics.md), in one SELECT: its task, compute and service
 * status with the last heartbeat, volume size and reported use, the server's
 * counters from heartbeats (ctrove_guest_metrics) and its last completed
 * backup. Rows go to a callback while the statement is stepped: a scrape
 * copies nothing. Owns this SELECT only; may not write rows nor format metrics.
 */
#ifndef CT_DB_INSTANCE_METRICS_H
#define CT_DB_INSTANCE_METRICS_H

#include <stdbool.h>

#include "common/error.h"

/* Strings are borrowed from the statement for the callback only. */
struct instance_metrics_row {
	const char *id;
	const char *name;
	const char *project_id;
	const char *datastore;	     /* "" when its version is gone */
	const char *server_status;   /* compute status */
	const char *service_updated; /* last heartbeat (DB time text), or NULL */
	const char *last_backup;     /* newest COMPLETED backup's updated (DB time), or NULL */
	int task_id;
	int service_status;
	long volume_size; /* GB */
	bool backup_running;
	bool has_volume_used;
	double volume_used_gb;
	bool has_server; /* counters reported */
	long long connections, queries;
	double queries_per_second;
	bool has_replication_lag;
	double replication_lag;
};

typedef int (*instance_metrics_fn)(void *ctx, const struct instance_metrics_row *row,
				   struct ct_error *err);

/* fn for each instance not deleted, of every project, in id order. */
int instance_metrics_each(instance_metrics_fn fn, void *ctx, struct ct_error *err);

#endif
