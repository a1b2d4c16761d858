/*
 * test_crash_point.c — common/crash_point.h in a build with tests: a point
 * whose name CTROVE_CRASH_AT gives kills the process with SIGKILL (a child
 * here), any other name does nothing. Its sibling test_crash_point_off.c is
 * the same source compiled as the run build compiles it.
 */
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/crash_point.h"
#include "common/log.h"

/* How a child that passes `point` with CTROVE_CRASH_AT=wanted ends. */
static int child_status(const char *wanted, const char *point)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("CTROVE_CRASH_AT", wanted, 1);
		ct_crash_point(point);
		_exit(7);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_named_point_is_a_kill_9(void **state)
{
	(void)state;
	int status = child_status("create.volume_mounted", "create.volume_mounted");
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_other_points_do_nothing(void **state)
{
	(void)state;
	int status = child_status("create.volume_mounted", "create.volume_file");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	status = child_status("", "create.volume_file");
	assert_true(WIFEXITED(status));
	unsetenv("CTROVE_CRASH_AT");
	CT_CRASH_POINT("create.volume_file"); /* no variable: returns */
}

int main(void)
{
	log_min_level = LOG_LEVEL_ERROR + 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_point_is_a_kill_9),
		cmocka_unit_test(test_other_points_do_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
