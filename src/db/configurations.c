/*
 * configurations.c — see configurations.h. Owns the statements on
 * configurations, configuration_parameters and instances.configuration_id;
 * may not touch any other column of instances.
 */
#define LOG_MODULE "db"
#include "db/configurations.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/array.h"
#include "common/timefmt.h"
#include "db/parameters.h"
#include "db/store.h"

#define GROUP_COLUMNS                                                                              \
	"SELECT id, name, description, tenant_id, datastore_version_id, created, updated"          \
	" FROM configurations"

static void row_to_group(sqlite3_stmt *st, struct config_group *g)
{
	snprintf(g->id, sizeof g->id, "%s", db_col_text(st, 0));
	snprintf(g->name, sizeof g->name, "%s", db_col_text(st, 1));
	g->has_description = !db_col_is_null(st, 2);
	snprintf(g->description, sizeof g->description, "%s", db_col_text(st, 2));
	snprintf(g->tenant_id, sizeof g->tenant_id, "%s", db_col_text(st, 3));
	snprintf(g->datastore_version_id, sizeof g->datastore_version_id, "%s", db_col_text(st, 4));
	snprintf(g->created, sizeof g->created, "%s", db_col_text(st, 5));
	snprintf(g->updated, sizeof g->updated, "%s", db_col_text(st, 6));
}

static int load_values(const char *id, struct config_value **values, size_t *n,
		       struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT configuration_key, configuration_value"
				   " FROM configuration_parameters"
				   " WHERE configuration_id = ?1 AND deleted = 0"
				   " ORDER BY configuration_key",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	struct config_value *arr = NULL;
	size_t count = 0, cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct config_value *g = array_grow(arr, count, &cap, sizeof *arr);
		if (!g) {
			db_stmt_done(st);
			free(arr);
			return ct_fail(err, 500, "out of memory");
		}
		arr = g;
		snprintf(arr[count].key, sizeof arr[count].key, "%s", db_col_text(st, 0));
		snprintf(arr[count].value, sizeof arr[count].value, "%s", db_col_text(st, 1));
		count++;
	}
	db_stmt_done(st);
	*values = arr;
	*n = count;
	return 0;
}

int config_group_load(const char *id, const char *project, struct config_group *out,
		      struct config_value **values, size_t *n_values, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(GROUP_COLUMNS " WHERE id = ?1 AND deleted = 0"
						 " AND (?2 IS NULL OR tenant_id = ?2)",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, project);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		row_to_group(st, out);
	db_stmt_done(st);
	if (!found)
		return ct_fail(err, 404, "Configuration group with ID %.64s could not be found.",
			       id);
	if (values)
		return load_values(id, values, n_values, err);
	return 0;
}

static int put_values(const char *id, const struct config_value *values, size_t n,
		      struct ct_error *err)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(
			"INSERT INTO configuration_parameters (configuration_id,"
			" configuration_key, configuration_value, deleted) VALUES (?1, ?2, ?3, 0)"
			" ON CONFLICT (configuration_id, configuration_key) DO UPDATE SET"
			" configuration_value = excluded.configuration_value, deleted = 0,"
			" deleted_at = NULL",
			err);
		if (!st)
			return -1;
		db_bind_text(st, 1, id);
		db_bind_text(st, 2, values[i].key);
		db_bind_text(st, 3, values[i].value);
		if (db_step_done(st, err))
			return -1;
	}
	return 0;
}

int config_group_insert(const struct config_group *g, const struct config_value *values, size_t n,
			struct ct_error *err)
{
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("INSERT INTO configurations (id, name, description, tenant_id,"
				   " datastore_version_id, deleted, created, updated)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, g->id);
	db_bind_text(st, 2, g->name);
	db_bind_text(st, 3, g->has_description ? g->description : NULL);
	db_bind_text(st, 4, g->tenant_id);
	db_bind_text(st, 5, g->datastore_version_id);
	db_bind_text(st, 6, g->created);
	db_bind_text(st, 7, g->updated);
	if (db_step_done(st, err) || put_values(g->id, values, n, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int config_group_update(const char *id, const char *name, bool set_description,
			const char *description, bool replace, const struct config_value *values,
			size_t n, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("UPDATE configurations SET name = coalesce(?2, name),"
				   " description = CASE WHEN ?4 THEN ?3 ELSE description END,"
				   " updated = ?5 WHERE id = ?1",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, description);
	sqlite3_bind_int(st, 4, set_description);
	db_bind_text(st, 5, now);
	if (db_step_done(st, err))
		goto fail;
	if (replace) {
		st = db_stmt("DELETE FROM configuration_parameters WHERE configuration_id = ?1",
			     err);
		if (!st)
			goto fail;
		db_bind_text(st, 1, id);
		if (db_step_done(st, err))
			goto fail;
	}
	if (put_values(id, values, n, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int config_group_delete(const char *id, struct ct_error *err)
{
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("UPDATE configurations SET deleted = 1, deleted_at = ?2"
				   " WHERE id = ?1",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, now);
	if (db_step_done(st, err))
		goto fail;
	st = db_stmt("UPDATE configuration_parameters SET deleted = 1, deleted_at = ?2"
		     " WHERE configuration_id = ?1",
		     err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, now);
	if (db_step_done(st, err) || db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int config_group_page(const char *project, const char *marker, long limit,
		      struct config_group **out, size_t *n, bool *more, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt(GROUP_COLUMNS " WHERE deleted = 0"
						 " AND (?1 IS NULL OR tenant_id = ?1) AND id > ?2"
						 " ORDER BY id LIMIT ?3",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, project);
	db_bind_text(st, 2, marker ? marker : "");
	sqlite3_bind_int64(st, 3, limit + 1);
	struct config_group *arr = NULL;
	size_t count = 0, cap = 0;
	*more = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((long)count == limit) {
			*more = true;
			break;
		}
		struct config_group *g = array_grow(arr, count, &cap, sizeof *arr);
		if (!g) {
			db_stmt_done(st);
			free(arr);
			return ct_fail(err, 500, "out of memory");
		}
		arr = g;
		row_to_group(st, &arr[count++]);
	}
	db_stmt_done(st);
	*out = arr;
	*n = count;
	return 0;
}

int config_group_instances(const char *config_id, const char *marker, long limit,
			   struct config_instance **out, size_t *n, bool *more,
			   struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT id, name FROM instances WHERE configuration_id = ?1"
				   " AND (deleted IS NULL OR deleted = 0) AND id > ?2"
				   " ORDER BY id LIMIT ?3",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, config_id);
	db_bind_text(st, 2, marker ? marker : "");
	sqlite3_bind_int64(st, 3, limit > 0 ? limit + 1 : -1);
	struct config_instance *arr = NULL;
	size_t count = 0, cap = 0;
	*more = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (limit > 0 && (long)count == limit) {
			*more = true;
			break;
		}
		struct config_instance *g = array_grow(arr, count, &cap, sizeof *arr);
		if (!g) {
			db_stmt_done(st);
			free(arr);
			return ct_fail(err, 500, "out of memory");
		}
		arr = g;
		snprintf(arr[count].id, sizeof arr[count].id, "%s", db_col_text(st, 0));
		snprintf(arr[count].name, sizeof arr[count].name, "%s", db_col_text(st, 1));
		count++;
	}
	db_stmt_done(st);
	*out = arr;
	*n = count;
	return 0;
}

long config_group_instance_count(const char *config_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT count(*) FROM instances WHERE configuration_id = ?1"
				   " AND (deleted IS NULL OR deleted = 0)",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, config_id);
	long count = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	db_stmt_done(st);
	return count;
}

int instance_configuration_id(const char *instance_id, char out[37], struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT configuration_id FROM instances WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, 37, "%s", db_col_text(st, 0));
	db_stmt_done(st);
	return 0;
}

int instance_set_configuration(const char *instance_id, const char *config_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("UPDATE instances SET configuration_id = ?2 WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, config_id);
	return db_step_done(st, err);
}

json_t *config_value_typed(const char *data_type, const char *text)
{
	const char *type = data_type ? data_type : "string";
	if (!strcmp(type, "integer")) {
		char *end;
		errno = 0;
		long long x = strtoll(text, &end, 10);
		if (!errno && !*end && *text)
			return json_integer(x);
	} else if (!strcmp(type, "float")) {
		char *end;
		double x = strtod(text, &end);
		if (!*end && *text)
			return json_real(x);
	} else if (!strcmp(type, "boolean")) {
		return json_boolean(!strcasecmp(text, "true") || !strcmp(text, "1") ||
				    !strcasecmp(text, "on"));
	}
	return json_string(text);
}

json_t *config_group_typed(const char *config_id, const char *version_id, struct ct_error *err)
{
	struct config_value *values = NULL;
	struct ds_parameter *rules = NULL;
	size_t n = 0, n_rules = 0;
	if (load_values(config_id, &values, &n, err))
		return NULL;
	if (param_list(version_id, &rules, &n_rules, err)) {
		free(values);
		return NULL;
	}
	json_t *out = json_object();
	for (size_t i = 0; out && i < n; i++) {
		const char *type = NULL;
		for (size_t k = 0; k < n_rules && !type; k++)
			if (!strcmp(rules[k].name, values[i].key))
				type = rules[k].data_type;
		json_object_set_new(out, values[i].key, config_value_typed(type, values[i].value));
	}
	free(values);
	free(rules);
	if (!out)
		ct_fail(err, 500, "out of memory");
	return out;
}
