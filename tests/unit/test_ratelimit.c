/*
 * test_ratelimit.c — api/ratelimit.h: a per-minute limit of N admits N
 * requests and then refuses with a positive Retry-After; projects and verbs
 * have separate buckets; POST on /mgmt has its own extra bucket.
 */
#include "testutil.h"

#include "api/ratelimit.h"
#include "common/config.h"

static char seg_instances[] = "instances";
static char seg_mgmt[] = "mgmt";
static char *instances_path[] = {seg_instances};
static char *mgmt_path[] = {seg_mgmt};

static int setup(void **state)
{
	(void)state;
	cfg_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ratelimit_shutdown();
	cfg_free();
	return 0;
}

static bool over(const char *project, const char *method, char **segments, int *retry)
{
	*retry = -1;
	return ratelimit_check(project, method, segments, 1, retry);
}

static void test_limit_of_n(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_HTTP_GET_RATE, "5", &err), 0);
	int retry;
	for (int i = 0; i < 5; i++) {
		assert_false(over("p1", "GET", instances_path, &retry));
		assert_int_equal(retry, 0);
	}
	assert_true(over("p1", "GET", instances_path, &retry));
	/* The bucket leaks 5 per 60 s: one slot frees in about 12 s. */
	assert_true(retry > 0);
	assert_true(retry <= 12);
	assert_true(over("p1", "GET", instances_path, &retry));

	/* Other projects and other verbs are untouched. */
	assert_false(over("p2", "GET", instances_path, &retry));
	assert_false(over("p1", "POST", instances_path, &retry));
	assert_false(over("p1", "DELETE", instances_path, &retry));
	assert_false(over("p1", "PUT", instances_path, &retry));
	/* Verbs without a limit are never refused. */
	for (int i = 0; i < 20; i++)
		assert_false(over("p1", "PATCH", instances_path, &retry));
	assert_int_equal(ratelimit_value("GET"), 5);
	assert_int_equal(ratelimit_value("POST"), 200);
	assert_int_equal(ratelimit_value("PATCH"), 0);
}

static void test_projects_are_separate(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_HTTP_DELETE_RATE, "2", &err), 0);
	int retry;
	char project[32];
	/* Many projects, more than the hash table has slots. */
	for (int p = 0; p < 600; p++) {
		snprintf(project, sizeof project, "project-%d", p);
		assert_false(over(project, "DELETE", instances_path, &retry));
		assert_false(over(project, "DELETE", instances_path, &retry));
		assert_true(over(project, "DELETE", instances_path, &retry));
		assert_true(retry > 0);
	}
}

static void test_mgmt_post(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_HTTP_MGMT_POST_RATE, "1", &err), 0);
	assert_int_equal(cfg_set(CFG_HTTP_POST_RATE, "10", &err), 0);
	int retry;
	assert_false(over("p1", "POST", mgmt_path, &retry));
	assert_true(over("p1", "POST", mgmt_path, &retry));
	assert_true(retry > 0);
	assert_false(over("p1", "POST", instances_path, &retry));
	/* GET on /mgmt is only the GET bucket. */
	assert_false(over("p1", "GET", mgmt_path, &retry));
	assert_false(over("p1", "GET", mgmt_path, &retry));
}

static void test_zero_disables(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_HTTP_GET_RATE, "0", &err), 0);
	int retry;
	for (int i = 0; i < 1000; i++)
		assert_false(over("p1", "GET", instances_path, &retry));
	assert_int_equal(cfg_set(CFG_HTTP_GET_RATE, "-1", &err), 0);
	assert_false(over("p1", "GET", instances_path, &retry));
}

static void test_view(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_HTTP_GET_RATE, "3", &err), 0);
	int retry;
	assert_false(over("p1", "GET", instances_path, &retry));

	json_t *view = ratelimit_view("p1");
	assert_int_equal(json_array_size(view), 5);
	size_t i;
	json_t *rate;
	int seen_get = 0, seen_mgmt = 0;
	json_array_foreach (view, i, rate) {
		const char *verb = json_string_value(json_object_get(rate, "verb"));
		const char *uri = json_string_value(json_object_get(rate, "uri"));
		assert_non_null(verb);
		assert_string_equal(json_string_value(json_object_get(rate, "unit")), "MINUTE");
		assert_non_null(json_string_value(json_object_get(rate, "nextAvailable")));
		if (!strcmp(verb, "GET")) {
			seen_get++;
			assert_int_equal(json_integer_value(json_object_get(rate, "value")), 3);
			assert_int_equal(json_integer_value(json_object_get(rate, "remaining")), 2);
		}
		if (!strcmp(uri, "*/mgmt")) {
			seen_mgmt++;
			assert_string_equal(verb, "POST");
			assert_string_equal(json_string_value(json_object_get(rate, "regex")),
					    "^/mgmt");
		}
	}
	assert_int_equal(seen_get, 1);
	assert_int_equal(seen_mgmt, 1);
	json_decref(view);

	/* A project never seen has everything remaining. */
	view = ratelimit_view("unseen");
	json_array_foreach (view, i, rate) {
		assert_int_equal(json_integer_value(json_object_get(rate, "remaining")),
				 json_integer_value(json_object_get(rate, "value")));
	}
	json_decref(view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limit_of_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_projects_are_separate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mgmt_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_disables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
