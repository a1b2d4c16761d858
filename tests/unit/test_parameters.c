/*
 * test_parameters.c — db/parameters.h: validation-rules parsing that keeps
 * integers beyond 64 bits as text, rule checks, and the table round trip on a
 * scratch SQLite database.
 */
#include "scratch_db.h"

#include "common/config.h"
#include "db/datastores.h"
#include "db/parameters.h"
#include "db/store.h"

static char dir[64];
static char version_id[37];

static int setup(void **state)
{
	(void)state;
	struct ct_error err = {0};
	scratch_db_create(dir, "params");

	struct datastore d;
	struct ds_version v;
	memset(&v, 0, sizeof v);
	assert_int_equal(ds_ensure("mysql", &d, &err), 0);
	snprintf(v.datastore_id, sizeof v.datastore_id, "%s", d.id);
	snprintf(v.name, sizeof v.name, "8.0");
	snprintf(v.version, sizeof v.version, "8.0");
	snprintf(v.manager, sizeof v.manager, "mysql");
	v.image_is_null = true;
	v.active = true;
	assert_int_equal(dsv_create(&v, &err), 0);
	memcpy(version_id, v.id, sizeof version_id);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_db_remove(dir);
	return 0;
}

static json_t *rules(const char *text)
{
	struct ct_error err = {0};
	json_t *doc = json_load_rules(text, strlen(text), &err);
	if (!doc)
		fail_msg("json_load_rules: %s", err.message);
	return doc;
}

static void test_big_integers_kept_as_text(void **state)
{
	(void)state;
	json_t *doc = rules("{\"configuration-parameters\": [{\"name\": \"max_binlog_cache_size\","
			    " \"restart_required\": false, \"max\": 18446744073709551615,"
			    " \"min\": 4096, \"type\": \"integer\"}]}");
	json_t *rule = json_array_get(json_object_get(doc, "configuration-parameters"), 0);
	json_t *max = json_object_get(rule, "max");
	assert_true(json_is_string(max));
	assert_string_equal(json_string_value(max), "18446744073709551615");
	assert_true(json_is_integer(json_object_get(rule, "min")));
	assert_int_equal(json_integer_value(json_object_get(rule, "min")), 4096);

	struct ds_parameter p;
	struct ct_error err = {0};
	assert_int_equal(param_from_rule(rule, version_id, &p, &err), 0);
	assert_string_equal(p.name, "max_binlog_cache_size");
	assert_string_equal(p.version_id, version_id);
	assert_string_equal(p.data_type, "integer");
	assert_false(p.restart_required);
	assert_string_equal(p.max_size, "18446744073709551615");
	assert_string_equal(p.min_size, "4096");
	json_decref(doc);
}

static void test_rules_lexing(void **state)
{
	(void)state;
	/* Negative, at the start of arrays, after newlines; strings and reals
	 * untouched; 18 digits still fit in 64 bits. */
	json_t *doc = rules("[-99999999999999999999,\n123456789012345678901234,"
			    " \"12345678901234567890\", 1234567890123456789.5,"
			    " 12345678901234567890e2, 999999999999999999,"
			    " {\"k\":\"a\\\"b 12345678901234567890\"}]");
	assert_true(json_is_array(doc));
	assert_string_equal(json_string_value(json_array_get(doc, 0)), "-99999999999999999999");
	assert_string_equal(json_string_value(json_array_get(doc, 1)), "123456789012345678901234");
	assert_string_equal(json_string_value(json_array_get(doc, 2)), "12345678901234567890");
	assert_true(json_is_real(json_array_get(doc, 3)));
	assert_true(json_is_real(json_array_get(doc, 4)));
	assert_int_equal(json_integer_value(json_array_get(doc, 5)), 999999999999999999LL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 6), "k")),
			    "a\"b 12345678901234567890");
	json_decref(doc);

	struct ct_error err = {0};
	assert_null(json_load_rules("{\"a\": ", 6, &err));
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "not valid JSON"));
	assert_null(json_load_rules("", 0, &err));
	/* Only `len` bytes are read. */
	json_t *cut = json_load_rules("[1] trailing", 3, &err);
	assert_non_null(cut);
	json_decref(cut);
}

static void test_rule_checks(void **state)
{
	(void)state;
	static const struct {
		const char *rule;
		const char *message; /* NULL = accepted */
	} cases[] = {
		{"{\"name\": \"autocommit\", \"restart_required\": false, \"type\": \"boolean\"}",
		 NULL},
		{"{\"name\": \"innodb_buffer_pool_size\", \"restart_required\": true,"
		 " \"type\": \"integer\", \"min\": 0, \"max\": -1}",
		 NULL},
		{"{\"name\": \"long_query_time\", \"restart_required\": false, \"type\": "
		 "\"float\"}",
		 NULL},
		{"{\"name\": \"sql_mode\", \"restart_required\": false, \"type\": \"string\","
		 " \"min\": null}",
		 NULL},
		{"{\"name\": \"x\", \"restart_required\": false, \"type\": \"list\"}",
		 "rule x: unsupported type 'list'"},
		{"{\"name\": \"x\", \"restart_required\": false, \"type\": \"Integer\"}",
		 "rule x: unsupported type 'Integer'"},
		{"{\"name\": \"x\", \"restart_required\": false, \"type\": 5}",
		 "each rule needs name (1-128 characters), type and restart_required (boolean)"},
		{"{\"name\": \"x\", \"restart_required\": 1, \"type\": \"integer\"}",
		 "each rule needs name (1-128 characters), type and restart_required (boolean)"},
		{"{\"name\": \"\", \"restart_required\": true, \"type\": \"integer\"}",
		 "each rule needs name (1-128 characters), type and restart_required (boolean)"},
		{"{\"restart_required\": true, \"type\": \"integer\"}",
		 "each rule needs name (1-128 characters), type and restart_required (boolean)"},
		{"[\"name\", \"x\"]",
		 "each rule needs name (1-128 characters), type and restart_required (boolean)"},
		{"{\"name\": \"x\", \"restart_required\": true, \"type\": \"integer\", \"max\": "
		 "1.5}",
		 "rule x: min and max must be integers"},
		{"{\"name\": \"x\", \"restart_required\": true, \"type\": \"integer\", \"min\": "
		 "\"ten\"}",
		 "rule x: min and max must be integers"},
		{"{\"name\": \"x\", \"restart_required\": true, \"type\": \"integer\", \"min\": "
		 "\"-\"}",
		 "rule x: min and max must be integers"},
		{"{\"name\": \"x\", \"restart_required\": true, \"type\": \"integer\", \"min\": "
		 "\"\"}",
		 "rule x: min and max must be integers"},
		{"{\"name\": \"x\", \"restart_required\": true, \"type\": \"integer\", \"max\": "
		 "true}",
		 "rule x: min and max must be integers"},
		{"{\"name\": \"x\", \"restart_required\": true, \"type\": \"integer\","
		 " \"max\": \"123456789012345678901234567890123456789012345\"}",
		 "rule x: min and max must be integers"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *rule = json_must(cases[i].rule);
		struct ds_parameter p;
		struct ct_error err = {0};
		int rc = param_from_rule(rule, version_id, &p, &err);
		if (!cases[i].message && rc)
			fail_msg("refused %s: %s", cases[i].rule, err.message);
		if (cases[i].message) {
			if (!rc)
				fail_msg("accepted %s", cases[i].rule);
			assert_int_equal(err.status, 400);
			assert_string_equal(err.message, cases[i].message);
		}
		json_decref(rule);
	}

	/* A 129-character name is one too many. */
	char name[130];
	memset(name, 'n', 129);
	name[129] = '\0';
	json_t *rule =
		json_pack("{s:s,s:b,s:s}", "name", name, "restart_required", 0, "type", "string");
	struct ds_parameter p;
	struct ct_error err = {0};
	assert_int_equal(param_from_rule(rule, version_id, &p, &err), -1);
	json_object_set_new(rule, "name", json_stringn(name, 128));
	assert_int_equal(param_from_rule(rule, version_id, &p, &err), 0);
	json_decref(rule);
}

static void test_table_round_trip(void **state)
{
	(void)state;
	struct ct_error err = {0};
	json_t *doc = rules("{\"configuration-parameters\": ["
			    "{\"name\": \"max_connections\", \"restart_required\": false,"
			    " \"type\": \"integer\", \"min\": 1, \"max\": 100000},"
			    "{\"name\": \"max_binlog_cache_size\", \"restart_required\": false,"
			    " \"type\": \"integer\", \"min\": 4096, \"max\": 18446744073709551615},"
			    "{\"name\": \"autocommit\", \"restart_required\": true,"
			    " \"type\": \"boolean\"}]}");
	assert_int_equal(param_load_rules(version_id, doc, &err), 3);
	/* Loading again replaces rather than duplicates. */
	assert_int_equal(param_load_rules(version_id, doc, &err), 3);
	json_decref(doc);

	struct ds_parameter *list;
	size_t count;
	assert_int_equal(param_list(version_id, &list, &count, &err), 0);
	assert_int_equal(count, 3);
	assert_string_equal(list[0].name, "autocommit"); /* ordered by name */
	assert_true(list[0].restart_required);
	assert_string_equal(list[0].max_size, "");
	assert_string_equal(list[1].name, "max_binlog_cache_size");
	assert_string_equal(list[1].max_size, "18446744073709551615");
	assert_string_equal(list[2].min_size, "1");
	free(list);

	struct ds_parameter p;
	assert_int_equal(param_get(version_id, "max_connections", &p, &err), 0);
	assert_string_equal(p.max_size, "100000");
	assert_int_equal(param_get(version_id, "nope", &p, &err), -1);
	assert_int_equal(err.status, 404);
	assert_string_equal(err.message, "Resource nope cannot be found.");

	assert_int_equal(param_delete(version_id, "max_connections", &err), 0);
	assert_int_equal(param_delete(version_id, "max_connections", &err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.message,
			    "Parameter max_connections does not exist in the database.");

	/* A bad rule rolls the whole file back. */
	json_t *bad =
		rules("{\"configuration-parameters\": ["
		      "{\"name\": \"good\", \"restart_required\": false, \"type\": \"string\"},"
		      "{\"name\": \"bad\", \"restart_required\": false, \"type\": \"blob\"}]}");
	assert_int_equal(param_load_rules(version_id, bad, &err), -1);
	assert_int_equal(param_get(version_id, "good", &p, &err), -1);
	json_decref(bad);
	json_t *shape = json_must("{\"parameters\": []}");
	assert_int_equal(param_load_rules(version_id, shape, &err), -1);
	assert_int_equal(err.status, 400);
	json_decref(shape);

	assert_int_equal(param_delete_all(version_id, &err), 0);
	assert_int_equal(param_list(version_id, &list, &count, &err), 0);
	assert_int_equal(count, 0);
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_integers_kept_as_text),
		cmocka_unit_test(test_rules_lexing),
		cmocka_unit_test(test_rule_checks),
		cmocka_unit_test(test_table_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
