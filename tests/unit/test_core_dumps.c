/*
 * test_core_dumps.c — common/core_dumps.h: after core_dumps_disable() the
 * process has no core file size and is not dumpable (no ptrace, no
 * /proc/<pid>/mem for its peers), and children inherit the zero limit.
 */
#include "testutil.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core_dumps.h"

static void test_disable(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(core_dumps_disable(&err), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	struct rlimit core;
	assert_int_equal(getrlimit(RLIMIT_CORE, &core), 0);
	assert_true(core.rlim_cur == 0 && core.rlim_max == 0);
	/* The hard limit is 0 too: nothing in the process can raise it again. */
	struct rlimit more = {1 << 20, 1 << 20};
	if (geteuid() != 0)
		assert_int_not_equal(setrlimit(RLIMIT_CORE, &more), 0);

	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct rlimit inherited;
		getrlimit(RLIMIT_CORE, &inherited);
		_exit(inherited.rlim_cur == 0 && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : 1);
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	core_dumps_allow_leak_check();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
