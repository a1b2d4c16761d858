/*
 * test_address.c — loopback address allocation in ctrove_addresses, against a
 * throw-away SQLite file: unique, idempotent per instance, freed, range edges
 * (.0/.255 skipped, exhaustion), range parsing, and concurrent allocation from
 * several threads. Touches nothing on the machine.
 */
#include "compute_testutil.h"

#include <pthread.h>

#include "compute/address.h"
#include "db/store.h"

static char scratch[PATH_MAX];

static void must(int rc, const struct ct_error *err)
{
	if (rc)
		fail_msg("error %d: %s", err->status, err->message);
}

static int group_setup(void **state)
{
	(void)state;
	ctest_init();
	if (ctest_scratch(scratch, "address"))
		return -1;
	char url[PATH_MAX + 32];
	snprintf(url, sizeof url, "sqlite:///%s/trove.sqlite", scratch);
	struct ct_error err;
	if (db_configure(url, &err) || db_sync(&err)) {
		print_error("%s\n", err.message);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	db_shutdown();
	ctest_scratch_remove(scratch);
	cfg_free();
	return 0;
}

static int test_setup(void **state)
{
	(void)state;
	struct ct_error err;
	/* Not the default range: a `make run` on this machine may hold its
	 * first address, which allocation skips. */
	cfg_set(CFG_LOCAL_ADDRESS_RANGE, "127.250.0.1-127.250.255.254", NULL);
	return db_exec("DELETE FROM ctrove_addresses", &err);
}

static void test_unique_idempotent_freed(void **state)
{
	(void)state;
	struct ct_error err;
	char a[ADDRESS_MAX], a2[ADDRESS_MAX], b[ADDRESS_MAX], c[ADDRESS_MAX];
	must(address_allocate("inst-a", a, &err), &err);
	assert_string_equal(a, "127.250.0.1");
	must(address_allocate("inst-a", a2, &err), &err);
	assert_string_equal(a, a2);
	must(address_allocate("inst-b", b, &err), &err);
	assert_string_equal(b, "127.250.0.2");
	must(address_lookup("inst-b", c, &err), &err);
	assert_string_equal(b, c);

	must(address_free("inst-a", &err), &err);
	assert_int_equal(address_lookup("inst-a", c, &err), -1);
	assert_int_equal(err.status, 404);
	must(address_free("inst-a", &err), &err); /* again: nothing to do */
	must(address_allocate("inst-c", c, &err), &err);
	assert_string_equal(c, "127.250.0.1"); /* the freed one, lowest first */
	must(address_lookup("inst-b", a2, &err), &err);
	assert_string_equal(a2, "127.250.0.2");
	assert_int_equal(address_allocate("../x", c, &err), -1);
	assert_int_equal(err.status, 400);
}

static void test_range_edges(void **state)
{
	(void)state;
	struct ct_error err;
	char a[ADDRESS_MAX];
	must(cfg_set(CFG_LOCAL_ADDRESS_RANGE, "127.20.0.254-127.20.1.1", &err), &err);
	must(address_allocate("e1", a, &err), &err);
	assert_string_equal(a, "127.20.0.254");
	must(address_allocate("e2", a, &err), &err);
	assert_string_equal(a, "127.20.1.1"); /* .0.255 and .1.0 skipped */
	assert_int_equal(address_allocate("e3", a, &err), -1);
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "No free address"));
	must(address_free("e1", &err), &err);
	must(address_allocate("e3", a, &err), &err);
	assert_string_equal(a, "127.20.0.254");
	/* An instance keeps its address when the range changes. */
	must(cfg_set(CFG_LOCAL_ADDRESS_RANGE, "127.30.0.0/30", &err), &err);
	must(address_allocate("e2", a, &err), &err);
	assert_string_equal(a, "127.20.1.1");
	must(address_allocate("e4", a, &err), &err);
	assert_string_equal(a, "127.30.0.1");
	must(cfg_set(CFG_LOCAL_ADDRESS_RANGE, "10.0.0.1-10.0.0.9", &err), &err);
	assert_int_equal(address_allocate("e5", a, &err), -1);
	assert_int_equal(err.status, 500);
}

static void test_parse_range(void **state)
{
	(void)state;
	struct ct_error err;
	uint32_t first, last;
	must(address_parse_range("127.10.0.1-127.10.255.254", &first, &last, &err), &err);
	assert_int_equal(first, 0x7f0a0001);
	assert_int_equal(last, 0x7f0afffe);
	must(address_parse_range("127.10.0.0/16", &first, &last, &err), &err);
	assert_int_equal(first, 0x7f0a0001);
	assert_int_equal(last, 0x7f0afffe);
	must(address_parse_range(" 127.1.1.1 - 127.1.1.1 ", &first, &last, &err), &err);
	assert_int_equal(first, last);
	const char *bad[] = {"",
			     "127.0.0.9-127.0.0.1",
			     "10.0.0.1-10.0.0.2",
			     "127.0.0.1-128.0.0.1",
			     "127.0.0.0/7",
			     "127.0.0.0/31",
			     "127.0.0.0/",
			     "127.0.0.1",
			     "127.0.0.1-127.0.0.256",
			     "::1-::2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(address_parse_range(bad[i], &first, &last, &err), -1);
		assert_int_equal(err.status, 400);
	}
}

#define THREADS	   4
#define PER_THREAD 25

struct worker {
	int index;
	char addrs[PER_THREAD][ADDRESS_MAX];
	int failures;
};

static void *allocate_many(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char id[32];
		struct ct_error err;
		snprintf(id, sizeof id, "t%d-%d", w->index, i);
		if (address_allocate(id, w->addrs[i], &err))
			w->failures++;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	static struct worker workers[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct worker){.index = i};
		assert_int_equal(pthread_create(&th[i], NULL, allocate_many, &workers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(workers[i].failures, 0);
	for (int i = 0; i < THREADS * PER_THREAD; i++)
		for (int j = i + 1; j < THREADS * PER_THREAD; j++)
			assert_string_not_equal(workers[i / PER_THREAD].addrs[i % PER_THREAD],
						workers[j / PER_THREAD].addrs[j % PER_THREAD]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unique_idempotent_freed, test_setup),
		cmocka_unit_test_setup(test_range_edges, test_setup),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test_setup(test_concurrent, test_setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
