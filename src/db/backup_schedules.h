/*
 * backup_schedules.h — backup schedule rows (ctrove_backup_schedules) and the
 * record of which backup each schedule made (ctrove_backup_schedule_runs),
 * issue 16. The claim of a due schedule is one conditional UPDATE, so two
 * taskmanagers on one database never both run it. Owns these statements only;
 * may not parse patterns, build API views, or touch backups or the store.
 */
#ifndef CT_DB_BACKUP_SCHEDULES_H
#define CT_DB_BACKUP_SCHEDULES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct backup_schedule {
	char id[37];
	char instance_id[37];
	char tenant_id[65];
	char name[256];
	char description[513];
	bool has_description;
	char pattern[256];
	bool incremental;
	long max_count;	    /* 0 = no limit by count */
	long max_age_days;  /* 0 = no limit by age */
	long long last_run; /* Unix seconds; 0 = never */
	long long next_run; /* Unix seconds */
	char created[32];   /* DB time text */
};

int schedule_insert(const struct backup_schedule *s, struct ct_error *err);
/* By id within the instance; project NULL = any. 404 "Resource X cannot be found." */
int schedule_load(const char *id, const char *instance_id, const char *project,
		  struct backup_schedule *out, struct ct_error *err);
/* The instance's live schedules, oldest first; *out malloc'd (free()). */
int schedule_list(const char *instance_id, const char *project, struct backup_schedule **out,
		  size_t *n, struct ct_error *err);
int schedule_mark_deleted(const char *id, struct ct_error *err);
/* Live schedules with next_run <= now; *out malloc'd. */
int schedule_due(long long now, struct backup_schedule **out, size_t *n, struct ct_error *err);
/* Move next_run from `seen` to `next` and last_run to now only if nobody else
 * did: 1 claimed, 0 another taskmanager has it (or it was deleted), -1. */
int schedule_claim(const char *id, long long seen, long long next, long long now,
		   struct ct_error *err);

struct schedule_run {
	char backup_id[37];
	char schedule_id[37];
};
int schedule_run_record(const char *backup_id, const char *schedule_id, const char *instance_id,
			struct ct_error *err);
/* Every run recorded for the instance (its backups may since be deleted). */
int schedule_runs_of(const char *instance_id, struct schedule_run **out, size_t *n,
		     struct ct_error *err);

#endif
