/*
 * flavors.c — see flavors.h.
 */
#define LOG_MODULE "db"
#include "db/flavors.h"

#include <stdio.h>

#include "common/array.h"
#include "db/store.h"

static void row_to_flavor(sqlite3_stmt *st, struct flavor *f)
{
	snprintf(f->id, sizeof f->id, "%s", db_col_text(st, 0));
	snprintf(f->name, sizeof f->name, "%s", db_col_text(st, 1));
	f->ram = sqlite3_column_int64(st, 2);
	f->vcpus = sqlite3_column_int64(st, 3);
	f->disk = sqlite3_column_int64(st, 4);
	f->ephemeral = sqlite3_column_int64(st, 5);
}

int flavor_list(struct flavor **out, size_t *count, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT id, name, ram, vcpus, disk, ephemeral"
				   " FROM ctrove_flavors ORDER BY ram, name",
				   err);
	if (!st)
		return -1;
	struct flavor *arr = NULL;
	size_t n = 0, cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct flavor *g = array_grow(arr, n, &cap, sizeof *arr);
		if (!g) {
			db_stmt_done(st);
			free(arr);
			return ct_fail(err, 500, "out of memory");
		}
		arr = g;
		row_to_flavor(st, &arr[n++]);
	}
	db_stmt_done(st);
	*out = arr;
	*count = n;
	return 0;
}

int flavor_get(const char *id, struct flavor *out, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("SELECT id, name, ram, vcpus, disk, ephemeral"
				   " FROM ctrove_flavors WHERE id = ?1",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		row_to_flavor(st, out);
	db_stmt_done(st);
	return found ? 0 : ct_fail(err, 404, "Resource %.255s cannot be found.", id);
}

int flavor_save(const struct flavor *f, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("INSERT OR REPLACE INTO ctrove_flavors"
				   " (id, name, ram, vcpus, disk, ephemeral)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, f->id);
	db_bind_text(st, 2, f->name);
	sqlite3_bind_int64(st, 3, f->ram);
	sqlite3_bind_int64(st, 4, f->vcpus);
	sqlite3_bind_int64(st, 5, f->disk);
	sqlite3_bind_int64(st, 6, f->ephemeral);
	return db_step_done(st, err);
}

int flavor_delete(const char *id, struct ct_error *err)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM ctrove_flavors WHERE id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	return db_step_done(st, err);
}
