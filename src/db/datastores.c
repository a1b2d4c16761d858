/*
 * datastores.c — see datastores.h.
 */
#define LOG_MODULE "db"
#include "db/datastores.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/timefmt.h"
#include "db/store.h"

#define COPY(dst, st, col) snprintf((dst), sizeof(dst), "%s", db_col_text((st), (col)))

static void row_to_datastore(sqlite3_stmt *st, void *row)
{
	struct datastore *d = row;
	COPY(d->id, st, 0);
	COPY(d->name, st, 1);
	COPY(d->default_version_id, st, 2);
}

int ds_find(const char *id_or_name, struct datastore *out, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT id, name, default_version_id FROM datastores"
				   " WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id_or_name);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		row_to_datastore(st, out);
	db_stmt_done(st);
	return found ? 0 : ct_fail(err, 404, "Datastore '%.255s' cannot be found.", id_or_name);
}

int ds_list(struct datastore **out, size_t *count, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("SELECT id, name, default_version_id FROM datastores ORDER BY name", err);
	if (!st)
		return -1;
	void *rows;
	if (db_collect(st, sizeof **out, row_to_datastore, "list datastores", &rows, count, err))
		return -1;
	*out = rows;
	return 0;
}

int ds_ensure(const char *name, struct datastore *out, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("SELECT id, name, default_version_id FROM datastores WHERE name = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, name);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		row_to_datastore(st, out);
	db_stmt_done(st);
	if (found)
		return 0;
	memset(out, 0, sizeof *out);
	ids_uuid(out->id);
	snprintf(out->name, sizeof out->name, "%s", name);
	st = db_stmt("INSERT INTO datastores (id, name) VALUES (?1, ?2)", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, out->id);
	db_bind_text(st, 2, name);
	return db_step_done(st, err);
}

int ds_set_default(const char *datastore_id, const char *version_id, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("UPDATE datastores SET default_version_id = ?2 WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, datastore_id);
	db_bind_text(st, 2, version_id && *version_id ? version_id : NULL);
	return db_step_done(st, err);
}

int ds_delete(const struct datastore *ds, struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt("SELECT count(*) FROM datastore_versions WHERE datastore_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, ds->id);
	int versions = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	db_stmt_done(st);
	if (versions)
		return ct_fail(err, 400, "Datastore versions exist for datastore %s.", ds->id);
	st = db_stmt("DELETE FROM datastores WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, ds->id);
	return db_step_done(st, err);
}

#define VERSION_COLUMNS                                                                            \
	"SELECT v.id, v.datastore_id, d.name, v.name, v.version, v.manager, v.image_id,"           \
	" v.packages, v.image_tags, v.active, d.default_version_id = v.id"                         \
	" FROM datastore_versions v JOIN datastores d ON d.id = v.datastore_id"

static void row_to_version(sqlite3_stmt *st, void *row)
{
	struct ds_version *v = row;
	COPY(v->id, st, 0);
	COPY(v->datastore_id, st, 1);
	COPY(v->datastore_name, st, 2);
	COPY(v->name, st, 3);
	COPY(v->version, st, 4);
	COPY(v->manager, st, 5);
	COPY(v->image_id, st, 6);
	v->image_is_null = db_col_is_null(st, 6);
	COPY(v->packages, st, 7);
	COPY(v->image_tags, st, 8);
	v->active = sqlite3_column_int(st, 9) != 0;
	v->is_default = sqlite3_column_int(st, 10) != 0;
}

static int collect_versions(sqlite3_stmt *st, struct ds_version **out, size_t *count,
			    struct ct_error *err)
{
	void *rows;
	if (db_collect(st, sizeof **out, row_to_version, "list datastore versions", &rows, count,
		       err))
		return -1;
	*out = rows;
	return 0;
}

int dsv_list(const char *datastore_id, bool active_only, struct ds_version **out, size_t *count,
	     struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt(VERSION_COLUMNS " WHERE (?1 IS NULL OR v.datastore_id = ?1)"
					" AND (?2 = 0 OR v.active = 1) ORDER BY d.name, v.name",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, datastore_id);
	sqlite3_bind_int(st, 2, active_only);
	return collect_versions(st, out, count, err);
}

int dsv_by_id(const char *id, int not_found_status, struct ds_version *out, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(VERSION_COLUMNS " WHERE v.id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		row_to_version(st, out);
	db_stmt_done(st);
	if (found)
		return 0;
	if (not_found_status == 404)
		return ct_fail(err, 404, "DBDatastoreVersion Not Found");
	return ct_fail(err, not_found_status, "Datastore version '%.255s' cannot be found.", id);
}

int dsv_by_name(const char *datastore_id, const char *name, struct ds_version *out,
		struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(VERSION_COLUMNS " WHERE v.datastore_id = ?1 AND v.name = ?2"
						   " LIMIT 2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, datastore_id);
	db_bind_text(st, 2, name);
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (rows++ == 0)
			row_to_version(st, out);
	db_stmt_done(st);
	if (rows == 1)
		return 0;
	if (rows > 1)
		return ct_fail(err, 400,
			       "Multiple datastore versions found for name '%.255s'; use the "
			       "version id.",
			       name);
	return ct_fail(err, 400, "Datastore version '%.255s' cannot be found.", name);
}

int dsv_find(const struct datastore *ds, const char *id_or_name, struct ds_version *out,
	     struct ct_error *err)
{
	if (ids_is_uuid(id_or_name)) {
		if (dsv_by_id(id_or_name, 404, out, err))
			return -1;
		if (strcmp(out->datastore_id, ds->id))
			return ct_fail(err, 404, "DBDatastoreVersion Not Found");
		return 0;
	}
	return dsv_by_name(ds->id, id_or_name, out, err);
}

static int bind_version(sqlite3_stmt *st, const struct ds_version *v)
{
	db_bind_text(st, 1, v->id);
	db_bind_text(st, 2, v->datastore_id);
	db_bind_text(st, 3, v->name);
	db_bind_text(st, 4, v->image_is_null ? NULL : v->image_id);
	db_bind_text(st, 5, v->packages);
	sqlite3_bind_int(st, 6, v->active);
	db_bind_text(st, 7, v->manager);
	db_bind_text(st, 8, v->image_tags);
	db_bind_text(st, 9, v->version);
	return 0;
}

static int find_existing(const struct ds_version *v, char id[37], struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM datastore_versions WHERE datastore_id = ?1"
				   " AND name = ?2 AND version = ?3",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, v->datastore_id);
	db_bind_text(st, 2, v->name);
	db_bind_text(st, 3, v->version);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		snprintf(id, 37, "%s", db_col_text(st, 0));
	db_stmt_done(st);
	return found;
}

int dsv_create(struct ds_version *v, struct ct_error *err)
{
	char existing[37];
	int found = find_existing(v, existing, err);
	if (found < 0)
		return -1;
	if (found)
		return ct_fail(err, 400, "The datastore version '%.255s(%.255s)' already exists.",
			       v->name, v->version);
	ids_uuid(v->id);
	sqlite3_stmt *st = db_stmt("INSERT INTO datastore_versions (id, datastore_id, name,"
				   " image_id, packages, active, manager, image_tags, version)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
				   err);
	if (!st)
		return -1;
	bind_version(st, v);
	return db_step_done(st, err);
}

int dsv_save(const struct ds_version *v, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("UPDATE datastore_versions SET datastore_id = ?2,"
				   " name = ?3, image_id = ?4, packages = ?5, active = ?6,"
				   " manager = ?7, image_tags = ?8, version = ?9 WHERE id = ?1",
				   err);
	if (!st)
		return -1;
	bind_version(st, v);
	return db_step_done(st, err);
}

int dsv_upsert(struct ds_version *v, struct ct_error *err)
{
	char existing[37];
	int found = find_existing(v, existing, err);
	if (found < 0)
		return -1;
	if (!found)
		return dsv_create(v, err);
	memcpy(v->id, existing, sizeof v->id);
	return dsv_save(v, err);
}

static int count_users(const char *sql, const char *id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	db_stmt_done(st);
	return n;
}

int dsv_delete(const struct ds_version *v, struct ct_error *err)
{
	static const struct {
		const char *sql;
		const char *what;
	} users[] = {
		{"SELECT count(*) FROM instances WHERE datastore_version_id = ?1"
		 " AND (deleted IS NULL OR deleted = 0)",
		 "instance"},
		{"SELECT count(*) FROM backups WHERE datastore_version_id = ?1"
		 " AND (deleted IS NULL OR deleted = 0)",
		 "backup"},
		{"SELECT count(*) FROM configurations WHERE datastore_version_id = ?1"
		 " AND deleted = 0",
		 "configuration"},
	};
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
		int n = count_users(users[i].sql, v->id, err);
		if (n < 0)
			return -1;
		if (n > 0)
			return ct_fail(err, 400, "Datastore version is in use by %s.",
				       users[i].what);
	}
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt(
		"DELETE FROM datastore_configuration_parameters WHERE datastore_version_id = ?1",
		err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, v->id);
	if (db_step_done(st, err))
		goto fail;
	st = db_stmt("UPDATE datastores SET default_version_id = NULL"
		     " WHERE default_version_id = ?1",
		     err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, v->id);
	if (db_step_done(st, err))
		goto fail;
	st = db_stmt("DELETE FROM datastore_versions WHERE id = ?1", err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, v->id);
	if (db_step_done(st, err))
		goto fail;
	return db_commit(err);
fail:
	db_rollback();
	return -1;
}

static void read_value(sqlite3_stmt *st, void *row)
{
	snprintf(row, sizeof(char[256]), "%s", db_col_text(st, 0));
}

/* The values of one key's live metadata rows, as `sql` selects them (?1 the version). */
static int metadata_values(const char *sql, const char *version_id, char (**values)[256],
			   size_t *count, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(sql, err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	void *rows;
	if (db_collect(st, sizeof **values, read_value, "read datastore version metadata", &rows,
		       count, err))
		return -1;
	*values = rows;
	return 0;
}

int dsv_flavor_ids(const char *version_id, char (**ids)[256], size_t *count, struct ct_error *err)
{
	return metadata_values("SELECT value FROM datastore_version_metadata"
			       " WHERE datastore_version_id = ?1 AND key = 'flavor'"
			       " AND deleted = 0",
			       version_id, ids, count, err);
}

int dsv_volume_types(const char *version_id, char (**names)[256], size_t *count,
		     struct ct_error *err)
{
	return metadata_values("SELECT value FROM datastore_version_metadata"
			       " WHERE datastore_version_id = ?1 AND key = 'volume_type'"
			       " AND deleted = 0 ORDER BY value",
			       version_id, names, count, err);
}

int dsv_metadata_add(const char *version_id, const char *key, const char *value,
		     struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT deleted FROM datastore_version_metadata"
				   " WHERE datastore_version_id = ?1 AND key = ?2 AND value = ?3",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, value);
	int state = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	db_stmt_done(st);
	if (state == 0)
		return ct_fail(err, 400, "%s %s is already associated.", key, value);
	char now[CT_TIME_LEN], id[CT_UUID_LEN + 1];
	timefmt_db_now(now);
	ids_uuid(id);
	st = db_stmt("INSERT INTO datastore_version_metadata (id, datastore_version_id,"
		     " key, value, created, deleted, updated_at)"
		     " VALUES (?4, ?1, ?2, ?3, ?5, 0, ?5)"
		     " ON CONFLICT (datastore_version_id, key, value) DO UPDATE SET"
		     " deleted = 0, deleted_at = NULL, updated_at = ?5",
		     err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, value);
	db_bind_text(st, 4, id);
	db_bind_text(st, 5, now);
	return db_step_done(st, err);
}

int dsv_metadata_remove(const char *version_id, const char *key, const char *value,
			struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st =
		db_stmt("UPDATE datastore_version_metadata SET deleted = 1,"
			" deleted_at = ?4, updated_at = ?4 WHERE datastore_version_id = ?1"
			" AND key = ?2 AND value = ?3 AND deleted = 0",
			err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, value);
	db_bind_text(st, 4, now);
	if (db_step_done(st, err))
		return -1;
	if (sqlite3_changes(db_handle(NULL)) == 0)
		return ct_fail(err, 404, "%s %s is not associated.", key, value);
	return 0;
}
