/*
 * scratch_db.h — a scratch control-plane database for the unit tests that need
 * one: the configuration at its defaults and a migrated SQLite file in a
 * scratch directory (testutil.h), and their removal. Header-only like
 * testutil.h; touches nothing outside the scratch directory.
 */
#ifndef CT_TESTS_SCRATCH_DB_H
#define CT_TESTS_SCRATCH_DB_H

#include "testutil.h"

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

#endif
