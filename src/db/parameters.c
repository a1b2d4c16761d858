/*
 * parameters.c — see parameters.h.
 */
#define LOG_MODULE "db"
#include "db/parameters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "db/store.h"

#define PARAM_COLUMNS                                                                              \
	"SELECT name, datastore_version_id, restart_required, data_type, max_size,"                \
	" min_size FROM datastore_configuration_parameters"

static void row_to_param(sqlite3_stmt *st, void *row)
{
	struct ds_parameter *p = row;
	snprintf(p->name, sizeof p->name, "%s", db_col_text(st, 0));
	snprintf(p->version_id, sizeof p->version_id, "%s", db_col_text(st, 1));
	p->restart_required = sqlite3_column_int(st, 2) != 0;
	snprintf(p->data_type, sizeof p->data_type, "%s", db_col_text(st, 3));
	snprintf(p->max_size, sizeof p->max_size, "%s", db_col_text(st, 4));
	snprintf(p->min_size, sizeof p->min_size, "%s", db_col_text(st, 5));
}

int param_list(const char *version_id, struct ds_parameter **out, size_t *count,
	       struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt(PARAM_COLUMNS " WHERE datastore_version_id = ?1 ORDER BY name", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	void *rows;
	if (db_collect(st, sizeof **out, row_to_param, "list configuration parameters", &rows,
		       count, err))
		return -1;
	*out = rows;
	return 0;
}

int param_get(const char *version_id, const char *name, struct ds_parameter *out,
	      struct ct_error *err)
{
	sqlite3_stmt *st =
		db_stmt(PARAM_COLUMNS " WHERE datastore_version_id = ?1 AND name = ?2", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	db_bind_text(st, 2, name);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		row_to_param(st, out);
	db_stmt_done(st);
	return found ? 0 : ct_fail(err, 404, "Resource %.128s cannot be found.", name);
}

int param_upsert(const struct ds_parameter *p, struct ct_error *err)
{
	char id[CT_UUID_LEN + 1];
	ids_uuid(id);
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO datastore_configuration_parameters (id, name,"
		" datastore_version_id, restart_required, data_type, max_size, min_size)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT (datastore_version_id, name) DO UPDATE SET"
		" restart_required = excluded.restart_required, data_type = excluded.data_type,"
		" max_size = excluded.max_size, min_size = excluded.min_size",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, p->name);
	db_bind_text(st, 3, p->version_id);
	sqlite3_bind_int(st, 4, p->restart_required);
	db_bind_text(st, 5, p->data_type);
	db_bind_text(st, 6, p->max_size[0] ? p->max_size : NULL);
	db_bind_text(st, 7, p->min_size[0] ? p->min_size : NULL);
	return db_step_done(st, err);
}

int param_delete(const char *version_id, const char *name, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM datastore_configuration_parameters"
				   " WHERE datastore_version_id = ?1 AND name = ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	db_bind_text(st, 2, name);
	if (db_step_done(st, err))
		return -1;
	sqlite3 *db = db_handle(err);
	if (!db)
		return -1;
	if (sqlite3_changes(db) == 0)
		return ct_fail(err, 400, "Parameter %.128s does not exist in the database.", name);
	return 0;
}

int param_delete_all(const char *version_id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM datastore_configuration_parameters"
				   " WHERE datastore_version_id = ?1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, version_id);
	return db_step_done(st, err);
}

/* A JSON integer, or a string of digits (how json_load_rules() keeps integers
 * beyond 64 bits), as text. */
static int bound_text(const json_t *v, char *out, size_t size)
{
	if (!v || json_is_null(v)) {
		out[0] = '\0';
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(out, size, "%lld", (long long)json_integer_value(v));
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) >= size)
		return -1;
	for (const char *p = s + (*s == '-'); *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	if (*s == '-' && !s[1])
		return -1;
	snprintf(out, size, "%s", s);
	return 0;
}

json_t *json_load_rules(const char *text, size_t len, struct ct_error *err)
{
	/* jansson refuses integers beyond 64 bits, and MySQL's rules use 2^64-1:
	 * quote every integer literal of 19+ digits outside strings. */
	char *copy = malloc(len * 2 + 1);
	if (!copy) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	size_t o = 0;
	bool in_string = false;
	for (size_t i = 0; i < len;) {
		char c = text[i];
		if (in_string) {
			copy[o++] = c;
			if (c == '\\' && i + 1 < len)
				copy[o++] = text[++i];
			else if (c == '"')
				in_string = false;
			i++;
			continue;
		}
		if (c == '"') {
			in_string = true;
			copy[o++] = text[i++];
			continue;
		}
		size_t j = i + (c == '-');
		size_t digits = 0;
		while (j + digits < len && text[j + digits] >= '0' && text[j + digits] <= '9')
			digits++;
		bool number_start = (c == '-' || (c >= '0' && c <= '9')) &&
				    (i == 0 || strchr(" \t\r\n:,[", text[i - 1]));
		size_t end = j + digits;
		bool plain = end >= len || !strchr(".eE", text[end]);
		if (number_start && digits >= 19 && plain) {
			copy[o++] = '"';
			memcpy(copy + o, text + i, end - i);
			o += end - i;
			copy[o++] = '"';
			i = end;
			continue;
		}
		copy[o++] = text[i++];
	}
	json_error_t jerr;
	json_t *doc = json_loadb(copy, o, 0, &jerr);
	free(copy);
	if (!doc)
		/* Position only: jansson's text quotes the input, which may be any
		 * file the operator pointed at. */
		ct_fail(err, 400, "not valid JSON (line %d, column %d)", jerr.line, jerr.column);
	return doc;
}

int param_from_rule(const json_t *rule, const char *version_id, struct ds_parameter *out,
		    struct ct_error *err)
{
	const char *name = json_string_value(json_object_get(rule, "name"));
	const char *type = json_string_value(json_object_get(rule, "type"));
	const json_t *restart = json_object_get(rule, "restart_required");
	if (!json_is_object(rule) || !name || !*name || strlen(name) > 128 || !type ||
	    !json_is_boolean(restart))
		return ct_fail(err, 400,
			       "each rule needs name (1-128 characters), type and "
			       "restart_required (boolean)");
	if (strcmp(type, "integer") && strcmp(type, "string") && strcmp(type, "boolean") &&
	    strcmp(type, "float"))
		return ct_fail(err, 400, "rule %s: unsupported type '%.32s'", name, type);
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	snprintf(out->version_id, sizeof out->version_id, "%s", version_id);
	snprintf(out->data_type, sizeof out->data_type, "%s", type);
	out->restart_required = json_is_true(restart);
	if (bound_text(json_object_get(rule, "max"), out->max_size, sizeof out->max_size) ||
	    bound_text(json_object_get(rule, "min"), out->min_size, sizeof out->min_size))
		return ct_fail(err, 400, "rule %s: min and max must be integers", name);
	return 0;
}

int param_load_rules(const char *version_id, const json_t *rules, struct ct_error *err)
{
	const json_t *list = json_object_get(rules, "configuration-parameters");
	if (!json_is_array(list))
		return ct_fail(err, 400,
			       "a rules file is an object with a 'configuration-parameters' "
			       "list");
	if (db_begin(err))
		return -1;
	size_t i;
	const json_t *rule;
	json_array_foreach (list, i, rule) {
		struct ds_parameter p;
		struct ct_error rule_err = {0};
		if (param_from_rule(rule, version_id, &p, &rule_err)) {
			db_rollback();
			/* By position, not by the file's own text (see json_load_rules). */
			return ct_fail(
				err, 400,
				"configuration-parameters[%zu] is not a rule: it needs name "
				"(1-128 characters), type (integer, string, boolean, float), "
				"restart_required (boolean) and integer min/max",
				i);
		}
		if (param_upsert(&p, err)) {
			db_rollback();
			return -1;
		}
	}
	if (db_commit(err))
		return -1;
	return (int)json_array_size(list);
}
