/*
 * test_archive_mark.c — guest/archive_mark.c against a real directory: a
 * write to a watched file, a new file or a removed one changes the mark;
 * other files do not; a mark whose newest change is under a second old never
 * counts as unchanged (file times may be as coarse as a clock tick); no
 * matching file or no directory is never "unchanged". Owns its temporary
 * directory; touches nothing else.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/archive_mark.h"

static char dir[64];
static time_t base; /* 100 s before the test: settled times */

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void append(const char *name, const char *text)
{
	char path[128];
	path_of(path, sizeof path, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Every file and the directory last changed at base + at. */
static void age(const char *const *names, int at)
{
	struct timespec t[2] = {{.tv_sec = base + at}, {.tv_sec = base + at}};
	char path[128];
	for (size_t i = 0; names[i]; i++) {
		path_of(path, sizeof path, names[i]);
		assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
	}
	assert_int_equal(utimensat(AT_FDCWD, dir, t, 0), 0);
}

static int setup(void **state)
{
	(void)state;
	base = time(NULL) - 100;
	snprintf(dir, sizeof dir, "/tmp/ctrove-test-mark-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_changes(void **state)
{
	(void)state;
	const char *const files[] = {"mariadb-bin.000001", "mariadb-bin.index", "ibdata1", NULL};
	append("mariadb-bin.000001", "events");
	append("mariadb-bin.index", "./mariadb-bin.000001\n");
	append("ibdata1", "pages");
	age(files, 5);
	struct archive_mark before, now;
	archive_mark_take(dir, "mariadb-bin.", &before);
	assert_true(before.valid);
	assert_int_equal(before.files, 2);
	archive_mark_take(dir, "mariadb-bin.", &now);
	assert_true(archive_mark_unchanged(&before, &now));

	/* Another file of the directory is not what the archive ships. */
	append("ibdata1", "more");
	age(files, 5);
	archive_mark_take(dir, "mariadb-bin.", &now);
	assert_true(archive_mark_unchanged(&before, &now));

	/* A write to a watched file. */
	append("mariadb-bin.000001", "x");
	archive_mark_take(dir, "mariadb-bin.", &now);
	assert_false(archive_mark_unchanged(&before, &now));

	/* Same size, a later time (a WAL segment written in place). */
	age(files, 5);
	archive_mark_take(dir, "mariadb-bin.", &before);
	age(files, 7);
	archive_mark_take(dir, "mariadb-bin.", &now);
	assert_false(archive_mark_unchanged(&before, &now));

	/* A new file, then a removed one. */
	archive_mark_take(dir, "mariadb-bin.", &before);
	append("mariadb-bin.000002", "");
	archive_mark_take(dir, "mariadb-bin.", &now);
	assert_false(archive_mark_unchanged(&before, &now));
	char path[128];
	path_of(path, sizeof path, "mariadb-bin.000002");
	assert_int_equal(unlink(path), 0);
	age(files, 5);
	archive_mark_take(dir, "mariadb-bin.", &before);
	path_of(path, sizeof path, "mariadb-bin.000001");
	assert_int_equal(unlink(path), 0);
	archive_mark_take(dir, "mariadb-bin.", &now);
	assert_false(archive_mark_unchanged(&before, &now));
}

static void test_unsettled_and_invalid(void **state)
{
	(void)state;
	append("000000010000000000000001", "wal");
	struct archive_mark before, now;
	/* Written just now: a later write could share its time. */
	archive_mark_take(dir, "", &before);
	archive_mark_take(dir, "", &now);
	assert_true(before.valid);
	assert_false(archive_mark_unchanged(&before, &now));
	/* Nothing matches, or no directory: never unchanged. */
	archive_mark_take(dir, "mariadb-bin.", &before);
	assert_false(before.valid);
	assert_false(archive_mark_unchanged(&before, &before));
	archive_mark_take("/nonexistent/ctrove", "", &before);
	assert_false(before.valid);
	assert_false(archive_mark_unchanged(&before, &before));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsettled_and_invalid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
