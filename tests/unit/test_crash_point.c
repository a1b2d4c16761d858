/*
 * test_crash_point.c — common/crash_point.h in a build with tests: a point
 * whose name CTROVE_CRASH_AT gives kills the process with SIGKILL (a child
 * here), any other name does nothing; CTROVE_WAIT_AT=<point>:<seconds> holds
 * the thread that passes the point. Its sibling test_crash_point_off.c is
 * the same source compiled as the run build compiles it.
 */
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
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

static void test_wait_holds_the_thread(void **state)
{
	(void)state;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("CTROVE_WAIT_AT", "create.claimed:1", 1);
		unsetenv("CTROVE_CRASH_AT");
		ct_crash_point("create.claimed");
		_exit(7);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	assert_true(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9 >= 0.95);
	/* Another point, or a malformed value: no wait at all. */
	setenv("CTROVE_WAIT_AT", "create.claimed:1", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ct_crash_point("create.claimed_not");
	setenv("CTROVE_WAIT_AT", "create.claimed", 1);
	ct_crash_point("create.claimed");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsetenv("CTROVE_WAIT_AT");
	assert_true(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9 < 0.5);
}

int main(void)
{
	log_min_level = LOG_LEVEL_ERROR + 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_point_is_a_kill_9),
		cmocka_unit_test(test_other_points_do_nothing),
		cmocka_unit_test(test_wait_holds_the_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
