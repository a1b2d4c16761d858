/*
 * scratch_db.h — a scratch control-plane database for the unit tests that need
 * one: the configuration at its defaults and a migrated SQLite file in a
 * scratch directory (testutil.h), and their removal. Header-only like
 * testutil.h; touches nothing outside the scratch directory.
 */
#ifndef CT_TESTS_SCRATCH_DB_H
#define CT_TESTS_SCRATCH_DB_H

#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>

#include "common/config.h"
#include "db/store.h"

/* cfg_reset(), then dir[64] = a new scratch directory holding x.sqlite, migrated. */
static inline void scratch_db_create(char dir[64], const char *what)
{
	struct ct_error err = {0};
	char url[128];
	cfg_reset();
	scratch_create(dir, what);
	snprintf(url, sizeof url, "sqlite:///%s/x.sqlite", dir);
	assert_int_equal(db_configure(url, &err), 0);
	assert_int_equal(db_sync(&err), 0);
}

/* Close the connections, free the configuration, remove the directory. */
static inline void scratch_db_remove(const char *dir)
{
	db_shutdown();
	cfg_free();
	scratch_remove(dir);
}

/* Run SQL on the scratch database; the test fails if it does not succeed. */
static inline void scratch_db_exec(const char *sql)
{
	struct ct_error err = {0};
	assert_int_equal(db_exec(sql, &err), 0);
}

/* The first column of the first row as text ("" for NULL, "-" for no row), in
 * a static buffer that the next call overwrites. */
static inline const char *scratch_db_text(const char *sql)
{
	static char out[1024];
	struct ct_error err = {0};
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db_handle(&err), sql, -1, &st, NULL), SQLITE_OK);
	int rc = sqlite3_step(st);
	const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	snprintf(out, sizeof out, "%s", rc == SQLITE_ROW ? (t ? (const char *)t : "") : "-");
	sqlite3_finalize(st);
	return out;
}

#endif
