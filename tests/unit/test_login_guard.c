/*
 * test_login_guard.c — api/login_guard.h: N failures per user name (or per
 * address) are let through, then every attempt is refused with a Retry-After;
 * successes give their unit back; names and addresses have separate buckets;
 * an unknown address ("") has none; a limit of 0 disables a bucket.
 */
#include "testutil.h"

#include "api/login_guard.h"
#include "common/config.h"

static int setup(void **state)
{
	(void)state;
	cfg_reset();
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_LOGIN_FAILURES_PER_USER, "3", &err), 0);
	assert_int_equal(cfg_set(CFG_LOGIN_FAILURES_PER_SOURCE, "5", &err), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	login_guard_shutdown();
	cfg_free();
	return 0;
}

/* One failed attempt; true when it was let through. */
static bool fail_once(const char *user, const char *source)
{
	int retry = -1;
	return login_guard_enter(user, source, &retry) == 0;
}

static void test_per_user(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(fail_once("alice", "10.0.0.1"));
	int retry = -1;
	assert_int_equal(login_guard_enter("alice", "10.0.0.2", &retry), -1);
	assert_true(retry >= 1 && retry <= 20);
	/* Others are not affected. */
	assert_true(fail_once("bob", "10.0.0.1"));
}

static void test_per_source(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof name, "spray-%d", i);
		assert_true(fail_once(name, "10.0.0.9"));
	}
	int retry = -1;
	assert_int_equal(login_guard_enter("carol", "10.0.0.9", &retry), -1);
	assert_true(retry >= 1);
	/* The refused attempt took nothing from carol's own bucket. */
	for (int i = 0; i < 3; i++)
		assert_true(fail_once("carol", "10.0.0.10"));
	/* No address known: only the name counts. */
	for (int i = 0; i < 3; i++)
		assert_true(fail_once("dave", ""));
	assert_false(fail_once("dave", ""));
}

static void test_successes_give_back(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++) {
		int retry;
		assert_int_equal(login_guard_enter("erin", "10.0.0.20", &retry), 0);
		login_guard_succeeded("erin", "10.0.0.20");
	}
	for (int i = 0; i < 3; i++)
		assert_true(fail_once("erin", "10.0.0.20"));
	assert_false(fail_once("erin", "10.0.0.20"));
}

static void test_zero_disables(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_LOGIN_FAILURES_PER_USER, "0", &err), 0);
	assert_int_equal(cfg_set(CFG_LOGIN_FAILURES_PER_SOURCE, "0", &err), 0);
	for (int i = 0; i < 100; i++)
		assert_true(fail_once("frank", "10.0.0.30"));
}

static void test_long_names_and_many_names(void **state)
{
	(void)state;
	char huge[5000];
	memset(huge, 'x', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	assert_true(fail_once(huge, ""));
	/* Far more names than buckets: memory stays bounded; once every bucket
	 * holds a failure, new names wait rather than evict a guessed one. */
	int refused = 0;
	for (int i = 0; i < 20000; i++) {
		char name[32];
		snprintf(name, sizeof name, "n-%d", i);
		int retry = 0;
		if (login_guard_enter(name, "", &retry)) {
			refused++;
			assert_int_equal(retry, 60);
		}
	}
	assert_true(refused >= 20000 - 8192);
	/* Known names keep their buckets. */
	assert_false(fail_once(huge, "") && fail_once(huge, "") && fail_once(huge, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_successes_give_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_disables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_names_and_many_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
