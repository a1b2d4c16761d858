/*
 * retention.h — which backups and archive objects of an instance may go
 * (issue 16, docs/backups.md "Schedules and retention").
 *
 * retention_plan() is the pure chain logic: each schedule's policy (keep the
 * newest max_count completed backups it made, none older than max_age_days)
 * marks backups expired; every backup that is not expired keeps its whole
 * chain (parents up to the full), and an instance with an archive keeps its
 * newest full; a backup is removed only when it is expired and nothing kept
 * needs it. The archive is needed from the oldest kept backup's
 * consistent_time on. retention_run_instance() applies it to the rows and the
 * store. The pure part may not read the clock, the database or the store.
 */
#ifndef CT_TASKMANAGER_RETENTION_H
#define CT_TASKMANAGER_RETENTION_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum retention_state { RETENTION_COMPLETED, RETENTION_RUNNING, RETENTION_FAILED };

struct retention_backup {
	char id[37];
	char parent_id[37];   /* "" = a full backup */
	char schedule_id[37]; /* "" = not made by a schedule: no policy expires it */
	enum retention_state state;
	long long created;	   /* Unix seconds */
	long long consistent_time; /* Unix seconds: the backup holds the commits up to here */
	bool expired;		   /* out: a policy lets it go */
	bool remove;		   /* out: expired and nothing kept needs it */
};

struct retention_policy {
	char schedule_id[37];
	long max_count;	   /* 0 = no limit */
	long max_age_days; /* 0 = no limit */
};

/* Marks expired/remove on each of b[0..n). Returns the archive cutoff: the
 * smallest consistent_time of a COMPLETED backup that stays (archive objects
 * ending before it serve nothing), or -1 when no completed backup stays
 * (keep the whole archive). */
long long retention_plan(struct retention_backup *b, size_t n, const struct retention_policy *p,
			 size_t np, long long now, bool has_archive);

/* Delete what nothing retained needs, for one instance (also deleted
 * instances): its expired backups (the deepest of a chain first) and the
 * archive objects under <container>/archive/<instance id>/ that end before
 * the cutoff. A failed backup delete leaves the archive untouched this run. */
int retention_run_instance(const char *instance_id, struct ct_error *err);

#endif
