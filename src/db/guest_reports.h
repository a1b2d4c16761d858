/*
 * guest_reports.h — what guests report through the conductor, as rows:
 * heartbeats (service_statuses, conductor_lastseen), volume usage
 * (ctrove_volume_usage), the server's counters (ctrove_guest_metrics: queries/s
 * from two heartbeats' counters) and backup progress (the reported columns of backups).
 * Each report is written in one transaction and dropped when it is not newer
 * than the last one seen for its instance and method (Trove's
 * conductor_lastseen rule). May not decide what a status means, check a
 * message's shape or talk to guests.
 */
#ifndef CT_DB_GUEST_REPORTS_H
#define CT_DB_GUEST_REPORTS_H

#include <stdbool.h>

#include "common/error.h"

struct heartbeat_report {
	const char *instance_id;
	int status_id; /* a service_statuses code */
	const char *status_description;
	bool has_sent; /* without `sent` a report is always fresh */
	double sent;
	bool has_volume; /* the guest measured its volume */
	double volume_used_gb, volume_total_gb;
	bool has_server; /* the server's counters (ctrove_guest_metrics) */
	long long connections, queries;
	bool has_replication_lag;
	double replication_lag;
};

/* 1 recorded, 0 dropped as stale, -1 failed. A RESTART_REQUIRED status sticks
 * until a restart clears it, as in Trove; volume figures are kept either way. */
int heartbeat_record(const struct heartbeat_report *r, struct ct_error *err);

struct backup_report {
	const char *instance_id;
	const char *backup_id;
	bool has_sent;
	double sent;
	/* NULL keeps the column as it is. */
	const char *state, *backup_type, *checksum, *location;
	bool has_size;
	double size;
	bool has_consistent_time; /* PITR: the commits the backup holds, unix seconds */
	long long consistent_time;
};

/* 1 recorded, 0 dropped as stale, -1 failed (404 when the instance has no
 * such backup). */
int backup_report_record(const struct backup_report *r, struct ct_error *err);

/* The used GB of the instance's last volume report when it is at most
 * max_age seconds old: 1 found, 0 none or too old, -1 failed. */
int volume_usage_recent(const char *instance_id, long max_age, double *used_gb,
			struct ct_error *err);
/* Forget the instance's volume report and server counters (it is being
 * deleted); joins the caller's transaction. */
int volume_usage_forget(const char *instance_id, struct ct_error *err);

#endif
