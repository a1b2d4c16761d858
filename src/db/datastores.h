/*
 * datastores.h — datastores and their versions (tables datastores,
 * datastore_versions, datastore_version_metadata). Lookups answer with Trove's
 * errors (404 unknown datastore, 400 unknown version name, ...). Lists are
 * malloc'd arrays the caller frees with free(). May not build API views.
 */
#ifndef CT_DB_DATASTORES_H
#define CT_DB_DATASTORES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct datastore {
	char id[37];
	char name[1024];	     /* 255 characters of UTF-8 */
	char default_version_id[37]; /* "" = none */
};

struct ds_version {
	char id[37];
	char datastore_id[37];
	char datastore_name[1024];
	char name[1024]; /* 255 characters of UTF-8 */
	char version[1024];
	char manager[1024];
	char image_id[37];
	bool image_is_null;
	char packages[512];
	char image_tags[256];
	bool active;
	bool is_default; /* the datastore's default_version_id */
};

/* By id or name; 404 "Datastore 'x' cannot be found." */
int ds_find(const char *id_or_name, struct datastore *out, struct ct_error *err);
/* All datastores, ordered by name. */
int ds_list(struct datastore **out, size_t *count, struct ct_error *err);
/* Create by name if missing; returns the row either way. */
int ds_ensure(const char *name, struct datastore *out, struct ct_error *err);
/* version_id NULL or "" clears the default. */
int ds_set_default(const char *datastore_id, const char *version_id, struct ct_error *err);
/* 400 "Datastore versions exist for datastore X." when it has versions. */
int ds_delete(const struct datastore *ds, struct ct_error *err);

/* Versions of one datastore (datastore_id NULL = all), ordered by name. */
int dsv_list(const char *datastore_id, bool active_only, struct ds_version **out, size_t *count,
	     struct ct_error *err);
/* By UUID; not_found_status decides 400 or 404, as Trove differs per route. */
int dsv_by_id(const char *id, int not_found_status, struct ds_version *out, struct ct_error *err);
/* By name within a datastore: 400 unknown or ambiguous. */
int dsv_by_name(const char *datastore_id, const char *name, struct ds_version *out,
		struct ct_error *err);
/* UUID first (404 DBDatastoreVersion Not Found), else by name (400). */
int dsv_find(const struct datastore *ds, const char *id_or_name, struct ds_version *out,
	     struct ct_error *err);
/* Insert (v->id filled here); 400 when (datastore, name, version) exists. */
int dsv_create(struct ds_version *v, struct ct_error *err);
/* Insert or update by (datastore, name, version), as trove-manage does. */
int dsv_upsert(struct ds_version *v, struct ct_error *err);
/* Write every column of an existing row. */
int dsv_save(const struct ds_version *v, struct ct_error *err);
/* 400 when instances, backups or configurations use it; drops its
 * parameters and clears the datastore default. */
int dsv_delete(const struct ds_version *v, struct ct_error *err);
/* Flavor ids associated with a version (key 'flavor'); count 0 = all. */
int dsv_flavor_ids(const char *version_id, char (**ids)[256], size_t *count, struct ct_error *err);
/* Volume types associated with a version (key 'volume_type'), by name. */
int dsv_volume_types(const char *version_id, char (**names)[256], size_t *count,
		     struct ct_error *err);
/* Associate `value` under `key` ('flavor', 'volume_type'), reviving a removed
 * association; 400 when it is already associated. */
int dsv_metadata_add(const char *version_id, const char *key, const char *value,
		     struct ct_error *err);
/* Soft-delete the association; 404 when there is none. */
int dsv_metadata_remove(const char *version_id, const char *key, const char *value,
			struct ct_error *err);

#endif
