/*
 * instance_keys.c — see instance_keys.h.
 */
#include "db/instance_keys.h"

#include <stdlib.h>
#include <string.h>

#include "db/store.h"

struct rewritten {
	char *id;
	char *encrypted;
};

static void free_rewritten(struct rewritten *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].id);
		free(rows[i].encrypted);
	}
	free(rows);
}

int instance_keys_rewrap(instance_key_rewrap_fn rewrap, void *user, struct ct_error *err)
{
	struct rewritten *rows = NULL;
	size_t n = 0, cap = 0;
	/* IMMEDIATE: of several processes starting at once, one rewrites and the
	 * others find nothing left to do. */
	if (db_begin(err))
		return -1;
	sqlite3_stmt *st = db_stmt("SELECT id, encrypted_key FROM instances"
				   " WHERE encrypted_key IS NOT NULL AND encrypted_key != ''",
				   err);
	if (!st)
		goto fail;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *sealed = rewrap(user, db_col_text(st, 1));
		if (!sealed)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct rewritten *grown = realloc(rows, cap * sizeof *rows);
			if (!grown) {
				free(sealed);
				db_stmt_done(st);
				ct_fail(err, 500, "out of memory");
				goto fail;
			}
			rows = grown;
		}
		rows[n].id = strdup(db_col_text(st, 0));
		rows[n].encrypted = sealed;
		n++;
		if (!rows[n - 1].id) {
			db_stmt_done(st);
			ct_fail(err, 500, "out of memory");
			goto fail;
		}
	}
	db_stmt_done(st);
	for (size_t i = 0; i < n; i++) {
		st = db_stmt("UPDATE instances SET encrypted_key = ?2 WHERE id = ?1", err);
		if (!st)
			goto fail;
		db_bind_text(st, 1, rows[i].id);
		db_bind_text(st, 2, rows[i].encrypted);
		if (db_step_done(st, err))
			goto fail;
	}
	if (db_commit(err))
		goto fail;
	free_rewritten(rows, n);
	return (int)n;
fail:
	db_rollback();
	free_rewritten(rows, n);
	return -1;
}
