/*
 * archives.h — the PITR rows (docs/pitr.md, the PITR contract): one
 * ctrove_archives row per instance (where its continuous archive lives, its
 * sealed data key, how far it reaches, a gap its guest reported) and the
 * reads a point-in-time restore needs from backups (ctrove_consistent_time).
 * Rows outlive their instance: a deleted instance stays restorable. The gap
 * fault on the instance is raised and cleared here, with the report.
 * Owns these statements only; may not seal or open keys (the sealed text is
 * stored as given), talk to guests or the store, or decide a window's rules.
 */
#ifndef CT_DB_ARCHIVES_H
#define CT_DB_ARCHIVES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct archive_row {
	char instance_id[37];
	char tenant_id[65];
	char datastore[65];
	char prefix[1025]; /* "<container>/archive/<instance_id>/" */
	char encrypted_key[256];
	bool has_archived_until;  /* no report yet: false */
	long long archived_until; /* unix seconds */
	long long last_seq;	  /* -1 = none */
	char gap[1024];		  /* "" = none */
	long long started_at;	  /* the last start_archiving cast, unix seconds; 0 = never */
	long long reported_at;	  /* the last update_archive, unix seconds; 0 = never */
};

/* Insert the row unless the instance has one (its key and prefix are kept
 * then): 1 inserted, 0 existed, -1. */
int archive_ensure(const struct archive_row *a, struct ct_error *err);
/* The instance's row; project NULL = any. 1 found, 0 none (or another
 * project's), -1. */
int archive_load(const char *instance_id, const char *project, struct archive_row *out,
		 struct ct_error *err);
int archive_set_started(const char *instance_id, long long when, struct ct_error *err);

/* An update_archive report. archived_until and last_seq never move back (a
 * late report cannot shrink the window); gap NULL = none: a gap raises the
 * instance's archive fault once, a report without one clears it.
 * 1 recorded, -1 (404 when the instance has no archive row). */
struct archive_report {
	const char *instance_id;
	bool has_archived_until; /* false: nothing shipped yet */
	long long archived_until, last_seq;
	const char *gap;
	long long now;
};
int archive_report_record(const struct archive_report *r, struct ct_error *err);

/* Instances that should be archiving: not deleted, task NONE; with their
 * archive's started_at and reported_at (0 = no row, or never). *out malloc'd. */
struct archive_candidate {
	char instance_id[37];
	bool has_row;
	long long started_at, reported_at;
};
int archive_candidates(struct archive_candidate **out, size_t *n, struct ct_error *err);

/* --- what a point-in-time restore reads from backups ----------------------- */

/* The newest COMPLETED backup of the instance (deleted instance too) whose
 * consistent_time <= t: 1 with id and *consistent_time, 0 none, -1. */
int archive_base_backup(const char *instance_id, long long t, char id[37],
			long long *consistent_time, struct ct_error *err);
/* The oldest COMPLETED backup's consistent_time: 1, 0 none, -1. */
int archive_oldest_base(const char *instance_id, long long *consistent_time, struct ct_error *err);

#endif
