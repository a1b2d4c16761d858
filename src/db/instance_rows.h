/*
 * instance_rows.h — instances as the API lists and shows them: one joined row
 * per instance (its datastore and version, service status and last heartbeat,
 * address, whether a backup runs). Rows are handed to a callback while the
 * statement is stepped, so the hot list path writes its JSON with no copy.
 * Owns these SELECTs only; may not build API views (the callback does) nor
 * write rows.
 */
#ifndef CT_DB_INSTANCE_ROWS_H
#define CT_DB_INSTANCE_ROWS_H

#include <stdbool.h>

#include "common/error.h"

/* Every string is borrowed from the statement and valid during the callback
 * only. Nullable columns are NULL when absent; the others are "" then. */
struct instance_row {
	const char *id;
	const char *name;
	const char *server_status; /* compute status: ACTIVE, SHUTOFF, ... */
	const char *flavor_id;
	const char *region_id;
	const char *access;		      /* JSON text, or NULL */
	const char *datastore;		      /* datastores.name, or NULL */
	const char *datastore_version;	      /* datastore_versions.name, or NULL */
	const char *datastore_version_number; /* datastore_versions.version, or NULL */
	const char *created;		      /* DB time text */
	const char *updated;		      /* DB time text */
	const char *service_updated;	      /* last heartbeat (DB time text), or NULL */
	const char *address;		      /* ctrove_addresses.address, or NULL */
	const char *encrypted_key;	      /* or NULL */
	const char *configuration_id;	      /* the attached group, or NULL */
	const char *configuration_name;	      /* its name, or NULL */
	const char *replica_of;		      /* instances.slave_of_id, or NULL */
	const char *replica_ids;	      /* "id,id,..." of its replicas, or NULL */
	bool has_replication_lag;	      /* a replica's last reported lag */
	double replication_lag;
	int task_id;
	int service_status;
	long volume_size;
	bool backup_running; /* a NEW, BUILDING or SAVING backup exists */
};

/* 0 to go on; -1 with err set stops the walk, which then fails. */
typedef int (*instance_row_fn)(void *ctx, const struct instance_row *row, struct ct_error *err);

/* The project's instances not deleted, by id after `marker` ("" = from the
 * start), clustered ones only when asked: `fn` for each of at most `limit`
 * rows; *more says whether rows follow the page. */
int instance_rows_page(const char *project, const char *marker, bool include_clustered, long limit,
		       instance_row_fn fn, void *ctx, bool *more, struct ct_error *err);
/* The project's instance `id`: `fn` once; 404 when missing or deleted. */
int instance_rows_one(const char *project, const char *id, instance_row_fn fn, void *ctx,
		      struct ct_error *err);

#endif
