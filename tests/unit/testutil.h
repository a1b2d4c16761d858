/*
 * testutil.h — helpers shared by the unit tests: a scratch directory under
 * /tmp that is removed at the end, and JSON parsing with a failed assertion on
 * bad input. Header-only (static functions) so each test stays one file.
 */
#ifndef CT_TESTS_TESTUTIL_H
#define CT_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* mkdtemp() a directory /tmp/ctrove-<what>-XXXXXX into dir[64]. */
static inline void scratch_create(char dir[64], const char *what)
{
	snprintf(dir, 64, "/tmp/ctrove-%.20s-XXXXXX", what);
	assert_non_null(mkdtemp(dir));
}

/* Remove the plain files of dir, then dir itself. */
static inline void scratch_remove(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Write text to dir/name; the full path goes to path[512]. */
static inline void scratch_write(const char *dir, const char *name, const char *text,
				 char path[512])
{
	snprintf(path, 512, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static inline json_t *json_must(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!v)
		fail_msg("bad JSON in test: %s: %s", text, jerr.text);
	return v;
}

#endif
