/*
 * backups.h — backup rows (table backups, spec trove-internals.md §5.4) and
 * the backups quota that follows them, and backup strategies (table
 * backup_strategy). States are Trove's: NEW, BUILDING, SAVING (running),
 * COMPLETED, FAILED, DELETE_FAILED, RESTORED. The conductor's progress reports
 * are guest_reports.c's. Owns these statements only; may not build API views,
 * seal or open keys (the sealed text is stored as given) or talk to the store.
 */
#ifndef CT_DB_BACKUPS_H
#define CT_DB_BACKUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define BACKUP_RUNNING_STATES "'NEW', 'BUILDING', 'SAVING'"

struct backup_row {
	char id[37];
	char name[256];
	char description[513];
	bool has_description;
	char location[1025]; /* "<container>/<object>"; "" = none yet */
	char backup_type[33];
	double size; /* GB */
	bool has_size;
	char tenant_id[65];
	char state[33];
	char instance_id[37];
	char checksum[65];
	char created[32]; /* DB time text */
	char updated[32];
	char parent_id[37];	       /* "" = none */
	char datastore_version_id[37]; /* "" = none */
	char datastore_name[1024];     /* joined from datastore_versions/datastores */
	char datastore_version_name[1024];
	char encrypted_key[256]; /* the data key, sealed by the caller; "" = none */
};

bool backup_state_running(const char *state);

/* Insert b (state NEW) counting one backup in the tenant's quota (413 "Quota
 * exceeded for resources: ['backups']." when over quota_limit, -1 = none), in
 * one transaction that first refuses (422, Trove's message) when a backup of
 * the instance is running, so two concurrent creates cannot both pass. */
int backup_insert(const struct backup_row *b, long quota_limit, struct ct_error *err);

/* Load by id; project NULL = any project (admin). 404 "Resource X cannot be
 * found." when missing or deleted. */
int backup_load(const char *id, const char *project, struct backup_row *out, struct ct_error *err);

/* A page of backups, updated descending, from row offset `offset`; *out
 * malloc'd (free()). project NULL = every project; instance_id and datastore
 * (a datastore's id or name) NULL = no filter. */
struct backup_filter {
	const char *project;
	const char *instance_id;
	const char *datastore;
};
int backup_page(const struct backup_filter *f, long offset, long limit, struct backup_row **out,
		size_t *n, struct ct_error *err);

/* Whether a backup of the instance is running: 1, 0 or -1. */
int backup_running_for(const char *instance_id, struct ct_error *err);
/* The newest COMPLETED backup of the instance into out: 1, 0 none, -1. */
int backup_latest_completed(const char *instance_id, struct backup_row *out, struct ct_error *err);
/* The backup's chain, full first and id last, into *out (malloc'd): 0 or -1
 * (404 when a link is missing or deleted). */
int backup_chain(const char *id, struct backup_row **out, size_t *n, struct ct_error *err);
/* The descendants of id not deleted (children, grandchildren ...), deepest
 * first; *out malloc'd. */
int backup_descendants(const char *id, struct backup_row **out, size_t *n, struct ct_error *err);

int backup_set_state(const char *id, const char *state, struct ct_error *err);
int backup_set_location(const char *id, const char *location, struct ct_error *err);
/* A running backup's state becomes FAILED: of one instance (instance_id), or
 * every one not updated for older_than_s seconds (instance_id NULL). Returns
 * how many rows changed, or -1. */
int backup_fail_running(const char *instance_id, long older_than_s, struct ct_error *err);
/* Soft-delete (deleted=1, datastore_version_id NULL) and give the quota back. */
int backup_mark_deleted(const char *id, struct ct_error *err);

/* --- backup strategies ------------------------------------------------------ */

struct backup_strategy {
	char tenant_id[65];
	char instance_id[37]; /* "" = the project's default */
	char backend[32];
	char swift_container[256];
};
/* Insert or replace the (tenant, instance) row. */
int backup_strategy_put(const struct backup_strategy *s, struct ct_error *err);
/* The tenant's strategies (instance_id NULL = all); *out malloc'd. */
int backup_strategy_list(const char *tenant_id, const char *instance_id,
			 struct backup_strategy **out, size_t *n, struct ct_error *err);
int backup_strategy_delete(const char *tenant_id, const char *instance_id, struct ct_error *err);
/* The container of the instance's strategy, else the project's, into out
 * (size bytes): 1 found, 0 none, -1. */
int backup_strategy_container(const char *tenant_id, const char *instance_id, char *out,
			      size_t size, struct ct_error *err);

#endif
