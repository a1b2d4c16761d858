/*
 * test_instance_request.c — api/instance_request.h: the schema of POST
 * /instances (spec/trove-api.md §8.1) and the name rules applied to its
 * databases and users (§8.3).
 */
#include "testutil.h"

#include "api/instance_failover.h"
#include "api/instance_request.h"

static json_t *body_of(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	assert_non_null(j);
	return j;
}

static void expect_error(const char *text, int status, const char *fragment)
{
	json_t *body = body_of(text);
	struct instance_request r;
	struct ct_error err = {0};
	int rc = instance_request_parse(body, &r, &err);
	if (rc == 0)
		rc = instance_request_check_names(&r, "mariadb", &err);
	if (rc != -1 || err.status != status || !strstr(err.message, fragment))
		fail_msg("%s -> %d '%s', wanted %d '%s'", text, err.status, err.message, status,
			 fragment);
	json_decref(body);
}

static void test_seed_body_is_accepted(void **state)
{
	(void)state;
	json_t *body = body_of(
		"{\"instance\": {\"name\": \"inst1\", \"flavorRef\": 2, \"volume\": {\"size\": 2,"
		" \"type\": null}, \"databases\": [{\"name\": \"test\"}], \"users\": [{\"name\":"
		" \"userA\", \"password\": \"Passw0rd\", \"databases\": [{\"name\": \"test\"}]}],"
		" \"datastore\": {\"type\": \"mysql\", \"version\": \"5.7.29\"}, \"nics\":"
		" [{\"network_id\": \"5b2d7e4a-1f0c-4a3e-9d8b-6c7e8f9a0b1c\"}], \"access\":"
		" {\"is_public\": true, \"allowed_cidrs\": [\"10.0.0.0/24\"]}}}");
	struct instance_request r;
	struct ct_error err = {0};
	assert_int_equal(instance_request_parse(body, &r, &err), 0);
	assert_int_equal(instance_request_check_names(&r, "mysql", &err), 0);
	assert_string_equal(r.name, "inst1");
	assert_string_equal(r.flavor_id, "2");
	assert_int_equal(r.volume_size, 2);
	assert_null(r.volume_type);
	assert_string_equal(r.datastore_type, "mysql");
	assert_string_equal(r.datastore_version, "5.7.29");
	assert_int_equal(json_array_size(r.users), 1);
	json_decref(body);
}

static void test_flavor_url_and_string_size(void **state)
{
	(void)state;
	json_t *body = body_of("{\"instance\": {\"name\": \"a\", \"flavorRef\":"
			       " \"http://x/flavors/d2\", \"volume\": {\"size\": \"007\"}}}");
	struct instance_request r;
	struct ct_error err = {0};
	assert_int_equal(instance_request_parse(body, &r, &err), 0);
	assert_string_equal(r.flavor_id, "d2");
	assert_int_equal(r.volume_size, 7);
	json_decref(body);
}

static void test_schema_errors(void **state)
{
	(void)state;
	expect_error("{}", 400, "'instance' is a required property");
	expect_error("{\"instance\": {}}", 400,
		     "Validation error: instance 'name' is a required property");
	expect_error("{\"instance\": {\"name\": 5}}", 400, "5 is not of type 'string'");
	expect_error("{\"instance\": {\"name\": \"a\", \"volume\": {\"size\": 0}}}", 400,
		     "instance['volume']['size'] 0 is not valid under any of the given schemas");
	expect_error("{\"instance\": {\"name\": \"a\", \"volume\": {\"size\": \"1x\"}}}", 400,
		     "is not valid under any of the given schemas");
	expect_error("{\"instance\": {\"name\": \"a\", \"volume\": {}}}", 400,
		     "'size' is a required property");
	expect_error("{\"instance\": {\"name\": \"a\", \"access\": {\"allowed_cidrs\":"
		     " [\"10.0.0.0/33\"]}}}",
		     400, "is not a valid CIDR");
	expect_error("{\"instance\": {\"name\": \"a\", \"access\": {\"x\": 1}}}", 400,
		     "Additional properties are not allowed");
	expect_error("{\"instance\": {\"name\": \"a\", \"nics\": [{}, {}]}}", 400, "is too long");
	expect_error("{\"instance\": {\"name\": \"a\", \"nics\": [{\"network_id\": \"x\"}]}}", 400,
		     "does not match");
	expect_error("{\"instance\": {\"name\": \"a\", \"replica_count\": 4}}", 400,
		     "replica_count");
	expect_error("{\"instance\": {\"name\": \"a\", \"users\": [{\"name\": \"u\"}]}}", 400,
		     "'password' is a required property");
	expect_error("{\"instance\": {\"name\": \"a\", \"databases\": \"test\"}}", 400,
		     "is not of type 'array'");
}

/* ctrove's failover extension: checked with the body, merged over the
 * current settings on PUT/PATCH. */
static void test_failover_field(void **state)
{
	(void)state;
	expect_error("{\"instance\": {\"name\": \"a\", \"failover\": true}}", 400,
		     "instance['failover'] True is not of type 'object'");
	expect_error("{\"instance\": {\"name\": \"a\", \"failover\": {\"automatic\": 1}}}", 400,
		     "instance['failover']['automatic'] 1 is not of type 'boolean'");
	expect_error("{\"instance\": {\"name\": \"a\", \"failover\": {\"sync\": true}}}", 400,
		     "Additional properties are not allowed");
	expect_error("{\"instance\": {\"name\": \"a\", \"failover\": {}}}", 400,
		     "needs 'automatic' or 'synchronous'");
	json_t *body = body_of("{\"instance\": {\"name\": \"a\", \"failover\":"
			       " {\"synchronous\": true}}}");
	struct instance_request r;
	struct ct_error err = {0};
	assert_int_equal(instance_request_parse(body, &r, &err), 0);
	assert_non_null(r.failover);
	struct failover_settings current = {.automatic = true, .synchronous = false}, next;
	assert_int_equal(instance_failover_parse(r.failover, &current, &next, &err), 0);
	assert_true(next.automatic && next.synchronous);
	assert_int_equal(instance_failover_parse(r.failover, NULL, &next, &err), 0);
	assert_true(!next.automatic && next.synchronous);
	json_decref(body);
}

static void test_name_rules(void **state)
{
	(void)state;
	expect_error("{\"instance\": {\"name\": \"a\", \"databases\": [{\"name\": \"a\"}]}}", 400,
		     "'a' is not a valid schema name.");
	expect_error("{\"instance\": {\"name\": \"a\", \"databases\": [{\"name\": \"db1\"},"
		     " {\"name\": \"db1\"}]}}",
		     400, "Two or more databases share the same name");
	expect_error("{\"instance\": {\"name\": \"a\", \"users\": [{\"name\": \"root\","
		     " \"password\": \"x\"}]}}",
		     400, "reserved list");
	expect_error("{\"instance\": {\"name\": \"a\", \"users\": [{\"name\": \"u';DROP\","
		     " \"password\": \"x\"}]}}",
		     400, "not a valid user name");
	expect_error("{\"instance\": {\"name\": \"a\", \"databases\": [{\"name\": \"test\"}],"
		     " \"users\": [{\"name\": \"u1\", \"password\": \"p\", \"databases\":"
		     " [{\"name\": \"zz\"}]}]}}",
		     400,
		     "The request indicates that user u1 should have access to database zz, but "
		     "database zz is not included in the initial databases list.");
	expect_error("{\"instance\": {\"name\": \"a\", \"databases\": [{\"name\": \"db\","
		     " \"character_set\": \"latin1\", \"collate\": \"utf8mb4_bin\"}]}}",
		     400, "not a valid collation for charset");
}

static void test_cidr(void **state)
{
	(void)state;
	assert_true(instance_request_is_cidr("127.0.0.1/32"));
	assert_true(instance_request_is_cidr("10.0.0.0/8"));
	assert_true(instance_request_is_cidr("192.168.1.1"));
	assert_false(instance_request_is_cidr("10.0.0.0/33"));
	assert_false(instance_request_is_cidr("10.0.0/8"));
	assert_false(instance_request_is_cidr("256.0.0.0/8"));
	assert_false(instance_request_is_cidr("10.0.0.0/"));
	assert_false(instance_request_is_cidr("::1/128"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_body_is_accepted),
		cmocka_unit_test(test_flavor_url_and_string_size),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_name_rules),
		cmocka_unit_test(test_failover_field),
		cmocka_unit_test(test_cidr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
