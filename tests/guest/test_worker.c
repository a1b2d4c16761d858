/*
 * test_worker.c — guest/worker.h, the agent's side, against workers that
 * misbehave. This test binary is its own worker (the agent starts
 * /proc/self/exe --worker): told by TEST_WORKER, it answers a result or an
 * error, answers garbage, exits without answering, or is killed. The agent
 * must turn each failure into a 500 (UNKNOWN for a status) and go on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/datastore.h"
#include "guest/worker.h"

/* The worker this binary plays: reads its request, then does as told. */
static int fake_worker(void)
{
	char buf[4096];
	while (fread(buf, 1, sizeof buf, stdin) > 0)
		;
	const char *mode = getenv("TEST_WORKER");
	if (!mode)
		mode = "";
	if (!strcmp(mode, "result"))
		printf("{\"result\": %d}", GUEST_STATUS_HEALTHY);
	else if (!strcmp(mode, "error"))
		printf("{\"error\": {\"status\": 409, \"message\": \"busy now\"}}");
	else if (!strcmp(mode, "garbage"))
		printf("this is not JSON");
	else if (!strcmp(mode, "exit"))
		_exit(3);
	else if (!strcmp(mode, "killed"))
		raise(SIGKILL);
	return 0;
}

static const struct guest_instance inst = {
	.id = "0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b",
	.manager = "mariadb",
	.port = 3306,
};

static int create_database(const char *mode, struct ct_error *err)
{
	setenv("TEST_WORKER", mode, 1);
	json_t *dbs = json_pack("[{s:s}]", "_name", "db1");
	int rc = guest_worker_manager.create_database(&inst, dbs, err);
	json_decref(dbs);
	return rc;
}

static void test_answers_pass_through(void **state)
{
	(void)state;
	struct ct_error err = {0};
	setenv("TEST_WORKER", "result", 1);
	assert_int_equal(guest_worker_manager.status(&inst), GUEST_STATUS_HEALTHY);
	assert_int_equal(create_database("result", &err), 0);
	assert_int_equal(create_database("error", &err), -1);
	assert_int_equal(err.status, 409);
	assert_string_equal(err.message, "busy now");
}

static void test_failed_workers_are_500s(void **state)
{
	(void)state;
	static const char *const modes[] = {"garbage", "exit", "killed", "silent"};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		struct ct_error err = {0};
		assert_int_equal(create_database(modes[i], &err), -1);
		assert_int_equal(err.status, 500);
		assert_non_null(strstr(err.message, "worker"));
		setenv("TEST_WORKER", modes[i], 1);
		assert_int_equal(guest_worker_manager.status(&inst), GUEST_STATUS_UNKNOWN);
	}
	/* And the agent's side still works afterwards. */
	setenv("TEST_WORKER", "result", 1);
	assert_int_equal(guest_worker_manager.status(&inst), GUEST_STATUS_HEALTHY);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--worker"))
		return fake_worker();
	log_open("/dev/null", false);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_pass_through),
		cmocka_unit_test(test_failed_workers_are_500s),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
