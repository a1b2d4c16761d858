/*
 * test_crash_point_off.c — common/crash_point.h compiled as the run and
 * release builds compile it (without CTROVE_CRASH_POINTS: meson passes
 * -UCTROVE_CRASH_POINTS for this file): CT_CRASH_POINT is nothing, so a point
 * named by CTROVE_CRASH_AT does not kill, and its name is not in the binary.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/crash_point.h"

#ifdef CTROVE_CRASH_POINTS
#error "test_crash_point_off.c must be compiled without CTROVE_CRASH_POINTS"
#endif

/* The point's name, put together at run time so that only the macro's
 * argument could bring it into the binary. */
static void point_name(char out[64])
{
	snprintf(out, 64, "%s%s", "unit.point.", "compiled_out");
}

static void test_named_point_does_not_kill(void **state)
{
	(void)state;
	char name[64];
	point_name(name);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("CTROVE_CRASH_AT", name, 1);
		CT_CRASH_POINT("unit.point.compiled_out");
		_exit(7);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
}

static void test_name_is_not_in_the_binary(void **state)
{
	(void)state;
	char name[64];
	point_name(name);
	FILE *f = fopen("/proc/self/exe", "rb");
	assert_non_null(f);
	struct stat st;
	assert_int_equal(fstat(fileno(f), &st), 0);
	char *data = malloc((size_t)st.st_size);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	assert_null(memmem(data, (size_t)st.st_size, name, strlen(name)));
	/* The search itself works: a string the binary does hold is found. */
	assert_non_null(memmem(data, (size_t)st.st_size, "compiled_out", 12));
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_point_does_not_kill),
		cmocka_unit_test(test_name_is_not_in_the_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
