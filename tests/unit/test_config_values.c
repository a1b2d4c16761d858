/*
 * test_config_values.c — a configuration group's values checked against
 * rules (api/config_values.h) and typed back (db/configurations.h): names
 * matched case-insensitively and stored under the rule's spelling, JSON
 * types, bounds (also beyond 64 bits), Trove's messages, and no character
 * that could start another setting in a config file.
 */
#include "testutil.h"

#include "api/config_values.h"
#include "db/configurations.h"

static const struct ds_parameter rules[] = {
	{.name = "max_connections", .data_type = "integer", .min_size = "10", .max_size = "100000"},
	{.name = "innodb_buffer_pool_size",
	 .data_type = "integer",
	 .min_size = "2097152",
	 .max_size = "18446744073701163008"},
	{.name = "autocommit", .data_type = "boolean"},
	{.name = "sql_mode", .data_type = "string"},
	{.name = "random_page_cost", .data_type = "float"},
	{.name = "DateStyle", .data_type = "string"},
};
#define NRULES (sizeof rules / sizeof rules[0])

static int check(const char *json, struct config_value **out, size_t *n, struct ct_error *err)
{
	json_t *values = json_loads(json, 0, NULL);
	assert_non_null(values);
	int rc = config_values_check(values, rules, NRULES, "mariadb", "10.11", out, n, err);
	json_decref(values);
	return rc;
}

static void expect_refused(const char *json, int status, const char *message)
{
	struct config_value *out = NULL;
	size_t n = 0;
	struct ct_error err = {0};
	assert_int_equal(check(json, &out, &n, &err), -1);
	assert_null(out);
	assert_int_equal(err.status, status);
	if (!strstr(err.message, message))
		fail_msg("'%s' does not say '%s'", err.message, message);
}

static const char *stored(const struct config_value *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return v[i].value;
	return NULL;
}

static void test_good_values_are_stored_as_text(void **state)
{
	(void)state;
	struct config_value *out = NULL;
	size_t n = 0;
	struct ct_error err = {0};
	assert_int_equal(check("{\"MAX_CONNECTIONS\": 150, \"autocommit\": false,"
			       " \"sql_mode\": \"ANSI,STRICT_ALL_TABLES\","
			       " \"random_page_cost\": 1.5, \"datestyle\": \"iso, mdy\","
			       " \"innodb_buffer_pool_size\": 9223372036854775807}",
			       &out, &n, &err),
			 0);
	assert_int_equal(n, 6);
	assert_string_equal(stored(out, n, "max_connections"), "150");
	assert_string_equal(stored(out, n, "autocommit"), "false");
	assert_string_equal(stored(out, n, "sql_mode"), "ANSI,STRICT_ALL_TABLES");
	assert_string_equal(stored(out, n, "random_page_cost"), "1.5");
	assert_string_equal(stored(out, n, "DateStyle"), "iso, mdy");
	assert_string_equal(stored(out, n, "innodb_buffer_pool_size"), "9223372036854775807");
	free(out);

	/* Two spellings of one name are one value; JSON booleans pass as integers. */
	assert_int_equal(
		check("{\"max_connections\": 20, \"Max_Connections\": true}", &out, &n, &err), -1);
	assert_int_equal(err.status, 422);
	assert_int_equal(
		check("{\"max_connections\": 20, \"Max_Connections\": 30}", &out, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].value, "30");
	free(out);
	assert_int_equal(check("{}", &out, &n, &err), 0);
	assert_int_equal(n, 0);
	free(out);
}

static void test_rule_violations(void **state)
{
	(void)state;
	expect_refused("{\"nosuch\": 1}", 422,
		       "The configuration parameter nosuch is not supported for this datastore: "
		       "mariadb 10.11.");
	expect_refused("{\"max_connections\": \"10\"}", 422,
		       "The value provided for the configuration parameter max_connections is "
		       "not of type integer.");
	expect_refused("{\"max_connections\": 12.5}", 422, "not of type integer.");
	expect_refused("{\"max_connections\": 9}", 422,
		       "The value for the configuration parameter max_connections is less than "
		       "the minimum allowed: 10");
	expect_refused("{\"max_connections\": 100001}", 422,
		       "greater than the maximum allowed: "
		       "100000");
	expect_refused("{\"innodb_buffer_pool_size\": 1}", 422, "minimum allowed: 2097152");
	expect_refused("{\"autocommit\": 1}", 422, "autocommit is not of type boolean.");
	expect_refused("{\"sql_mode\": null}", 422, "sql_mode is not of type string.");
	expect_refused("{\"random_page_cost\": \"1\"}", 422, "not of type float.");
	expect_refused("[1]", 400, "is not of type 'object'");
}

static void test_no_value_can_break_out_of_its_line(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"sql_mode\": \"ANSI\\ninit_file=/tmp/x\"}",
		"{\"sql_mode\": \"ANSI\\r\\n!include /etc/passwd\"}",
		"{\"sql_mode\": \"a\\\"b\"}",
		"{\"sql_mode\": \"a'b\"}",
		"{\"sql_mode\": \"a`b\"}",
		"{\"sql_mode\": \"a\\\\b\"}",
		"{\"sql_mode\": \"a # b\"}",
		"{\"sql_mode\": \"a; SET GLOBAL x = 1\"}",
		"{\"sql_mode\": \"a\\tb\"}",
		"{\"sql_mode\": \"a\\u007fb\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_refused(bad[i], 422, "may not contain");
	char longer[300];
	snprintf(longer, sizeof longer, "{\"sql_mode\": \"%0200d\"}", 0);
	expect_refused(longer, 422, "longer than 128");
}

static void test_typed_back(void **state)
{
	(void)state;
	json_t *v = config_value_typed("integer", "150");
	assert_true(json_is_integer(v) && json_integer_value(v) == 150);
	json_decref(v);
	v = config_value_typed("boolean", "false");
	assert_true(json_is_false(v));
	json_decref(v);
	v = config_value_typed("boolean", "true");
	assert_true(json_is_true(v));
	json_decref(v);
	v = config_value_typed("float", "1.5");
	assert_true(json_is_real(v) && json_real_value(v) == 1.5);
	json_decref(v);
	v = config_value_typed("string", "a b");
	assert_string_equal(json_string_value(v), "a b");
	json_decref(v);
	/* A stored text its rule cannot read stays text. */
	v = config_value_typed("integer", "18446744073709551616");
	assert_true(json_is_string(v));
	json_decref(v);
	v = config_value_typed(NULL, "7");
	assert_true(json_is_string(v));
	json_decref(v);
}

static void test_secret_names(void **state)
{
	(void)state;
	assert_true(config_key_is_secret("ssl_passphrase_command"));
	assert_true(config_key_is_secret("Replication_Password"));
	assert_false(config_key_is_secret("max_connections"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_values_are_stored_as_text),
		cmocka_unit_test(test_rule_violations),
		cmocka_unit_test(test_no_value_can_break_out_of_its_line),
		cmocka_unit_test(test_typed_back),
		cmocka_unit_test(test_secret_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
