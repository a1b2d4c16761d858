/*
 * flavors.c — see flavors.h.
 */
#define LOG_MODULE "db"
#include "db/flavors.h"

#include <stdio.h>

#include "db/store.h"

static void row_to_flavor(sqlite3_stmt *st, void *row)
{
	struct flavor *f = row;
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
	void *rows;
	if (db_collect(st, sizeof **out, row_to_flavor, "list flavors", &rows, count, err))
		return -1;
	*out = rows;
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
