/*
 * test_os_catalog.c — openstack/session.h's pure parts: finding a service's
 * URL in a Keystone v3 catalog by type, interface and region, and reading the
 * message out of the error bodies OpenStack services answer.
 */
#include "testutil.h"

#include "openstack/session.h"

/* The shape Keystone 22 answers in token.catalog (trimmed). */
static const char catalog_text[] =
	"[{\"type\":\"compute\",\"name\":\"nova\",\"endpoints\":["
	"{\"interface\":\"admin\",\"region_id\":\"RegionOne\",\"url\":\"http://10.0.0.1:8774/"
	"v2.1\"},"
	"{\"interface\":\"public\",\"region_id\":\"RegionTwo\",\"url\":\"http://10.0.0.2:8774/"
	"v2.1\"},"
	"{\"interface\":\"public\",\"region_id\":\"RegionOne\",\"url\":\"http://10.0.0.1:8774/v2.1/"
	"\"}]},"
	"{\"type\":\"volumev3\",\"endpoints\":[{\"interface\":\"public\",\"region\":\"RegionOne\","
	"\"url\":\"http://10.0.0.1:8776/v3/abc\"}]},"
	"{\"type\":\"image\",\"endpoints\":[{\"interface\":\"public\",\"region_id\":\"RegionOne\","
	"\"url\":\"ftp://nope\"},{\"interface\":\"public\",\"region_id\":\"RegionOne\"}]},"
	"{\"type\":\"network\",\"endpoints\":\"not a list\"},"
	"{\"endpoints\":[{\"interface\":\"public\",\"url\":\"http://typeless\"}]}]";

static json_t *catalog(void)
{
	json_t *c = json_loads(catalog_text, 0, NULL);
	assert_non_null(c);
	return c;
}

static void test_endpoint_by_interface_and_region(void **state)
{
	(void)state;
	json_t *c = catalog();
	char url[256];
	struct ct_error err = {0};
	assert_int_equal(os_catalog_endpoint(c, "compute", "", "RegionOne", url, sizeof url, &err),
			 0);
	assert_string_equal(url, "http://10.0.0.1:8774/v2.1"); /* trailing '/' gone */
	assert_int_equal(
		os_catalog_endpoint(c, "compute", "public", "RegionTwo", url, sizeof url, &err), 0);
	assert_string_equal(url, "http://10.0.0.2:8774/v2.1");
	assert_int_equal(os_catalog_endpoint(c, "compute", "admin", "", url, sizeof url, &err), 0);
	assert_string_equal(url, "http://10.0.0.1:8774/v2.1");
	/* Any region: the first public one. */
	assert_int_equal(os_catalog_endpoint(c, "compute", NULL, NULL, url, sizeof url, &err), 0);
	assert_string_equal(url, "http://10.0.0.2:8774/v2.1");
	/* The older "region" key. */
	assert_int_equal(
		os_catalog_endpoint(c, "volumev3", "public", "RegionOne", url, sizeof url, &err),
		0);
	assert_string_equal(url, "http://10.0.0.1:8776/v3/abc");
	json_decref(c);
}

static void test_endpoint_missing_or_bad(void **state)
{
	(void)state;
	json_t *c = catalog();
	char url[256] = "untouched";
	struct ct_error err = {0};
	assert_int_equal(os_catalog_endpoint(c, "compute", "internal", "", url, sizeof url, &err),
			 -1);
	assert_int_equal(err.status, 404);
	assert_non_null(strstr(err.message, "internal"));
	assert_non_null(strstr(err.message, "compute"));
	assert_int_equal(
		os_catalog_endpoint(c, "compute", "public", "RegionX", url, sizeof url, &err), -1);
	assert_non_null(strstr(err.message, "RegionX"));
	/* Non-http and url-less endpoints are skipped, a non-list is no endpoint. */
	assert_int_equal(os_catalog_endpoint(c, "image", "", "", url, sizeof url, &err), -1);
	assert_int_equal(os_catalog_endpoint(c, "network", "", "", url, sizeof url, &err), -1);
	assert_int_equal(os_catalog_endpoint(c, "object-store", "", "", url, sizeof url, &err), -1);
	/* Not a catalog at all. */
	json_t *bogus = json_string("catalog");
	assert_int_equal(os_catalog_endpoint(bogus, "compute", "", "", url, sizeof url, &err), -1);
	assert_int_equal(os_catalog_endpoint(NULL, "compute", "", "", url, sizeof url, &err), -1);
	json_decref(bogus);
	/* Too small a buffer: an error, not a cut URL. */
	char tiny[8];
	assert_int_equal(os_catalog_endpoint(c, "compute", "", "", tiny, sizeof tiny, &err), -1);
	assert_int_equal(err.status, 500);
	assert_string_equal(url, "untouched");
	json_decref(c);
}

static void test_reply_message(void **state)
{
	(void)state;
	static const struct {
		const char *body, *want;
	} cases[] = {
		{"{\"itemNotFound\":{\"code\":404,\"message\":\"Flavor x could not be found.\"}}",
		 "Flavor x could not be found."},
		{"{\"NeutronError\":{\"type\":\"X\",\"message\":\"Quota "
		 "exceeded\",\"detail\":\"\"}}",
		 "Quota exceeded"},
		{"{\"error\":{\"code\":401,\"title\":\"Unauthorized\",\"message\":\"The request "
		 "you "
		 "have made requires authentication.\"}}",
		 "The request you have made requires authentication."},
		{"{\"message\":\"plain\"}", "plain"},
		{"{\"badRequest\":{\"detail\":\"only detail\"}}", "only detail"},
		{"{\"title\":\"Not Found\"}", "Not Found"},
		{"{\"servers\":[]}", ""},
		{"[1,2]", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_loads(cases[i].body, 0, NULL);
		assert_non_null(j);
		char buf[128] = "x";
		os_reply_message(j, buf, sizeof buf);
		assert_string_equal(buf, cases[i].want);
		json_decref(j);
	}
	char buf[4] = "x";
	os_reply_message(NULL, buf, sizeof buf);
	assert_string_equal(buf, "");
	json_t *long_msg = json_pack("{s:s}", "message", "a long message");
	os_reply_message(long_msg, buf, sizeof buf);
	assert_string_equal(buf, "a l");
	json_decref(long_msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_by_interface_and_region),
		cmocka_unit_test(test_endpoint_missing_or_bad),
		cmocka_unit_test(test_reply_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
