/*
 * test_validate.c — api/validate.h: every helper, and the exact text of Trove's
 * "Validation error: <path> <reason>" messages (jsonschema Draft 4 wording).
 */
#include "testutil.h"

#include "api/validate.h"

/* Run a check that must fail with 400 and exactly `message`. */
#define assert_fails(call, text)                                                                   \
	do {                                                                                       \
		struct ct_error err_ = {0};                                                        \
		assert_int_equal((call), -1);                                                      \
		assert_int_equal(err_.status, 400);                                                \
		assert_string_equal(err_.message, (text));                                         \
	} while (0)
#define E (&err_)

static void test_paths(void **state)
{
	(void)state;
	char p[VALIDATE_PATH_MAX], q[VALIDATE_PATH_MAX];
	validate_path(p, "", "version");
	assert_string_equal(p, "version");
	validate_path(p, NULL, "version");
	assert_string_equal(p, "version");
	validate_path(p, "version", "image_tags");
	assert_string_equal(p, "version['image_tags']");
	validate_path_index(q, p, 3);
	assert_string_equal(q, "version['image_tags'][3]");
}

static void test_fail(void **state)
{
	(void)state;
	assert_fails(validate_fail(E, "version", "'%s' is a required property", "name"),
		     "Validation error: version 'name' is a required property");
	assert_fails(validate_fail(E, "", "'%s' is a required property", "version"),
		     "Validation error: 'version' is a required property");
	assert_fails(validate_fail(E, NULL, "x"), "Validation error: x");
}

static void test_repr(void **state)
{
	(void)state;
	static const struct {
		const char *json; /* NULL = missing value */
		const char *repr;
	} cases[] = {
		{NULL, "None"},
		{"null", "None"},
		{"true", "True"},
		{"false", "False"},
		{"5", "5"},
		{"-12", "-12"},
		{"1.5", "1.5"},
		{"\"text\"", "'text'"},
		{"[]", "[]"},
		{"[1, \"a\", null, true]", "[1, 'a', None, True]"},
		{"{\"k\": false, \"n\": [2]}", "{'k': False, 'n': [2]}"},
		{"{}", "{}"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *v = cases[i].json ? json_must(cases[i].json) : NULL;
		char out[128];
		validate_repr(v, out, sizeof out);
		assert_string_equal(out, cases[i].repr);
		json_decref(v);
	}

	/* Long strings and containers are cut, with "..." to say so. */
	char long_text[200];
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	json_t *s = json_string(long_text);
	char out[128];
	validate_repr(s, out, sizeof out);
	assert_int_equal(strlen(out), 1 + 60 + 1 + 3);
	assert_memory_equal(out + 61, "...'", 4);
	json_t *list = json_pack("[s,s]", long_text, long_text);
	validate_repr(list, out, sizeof out);
	assert_int_equal(strlen(out), 83);
	assert_string_equal(out + 80, "...");
	assert_memory_equal(out, "['xxx", 5);
	json_decref(s);
	json_decref(list);

	/* A small buffer is never overrun. */
	json_t *obj = json_must("{\"a\": [1, 2, 3, 4, 5]}");
	char tiny[6];
	validate_repr(obj, tiny, sizeof tiny);
	assert_string_equal(tiny, "{'a':");
	json_decref(obj);
}

static void test_object(void **state)
{
	(void)state;
	json_t *obj = json_object(), *num = json_integer(5), *str = json_string("abc");
	struct ct_error err = {0};
	assert_int_equal(validate_object(obj, "", &err), 0);
	assert_fails(validate_object(num, "", E), "Validation error: 5 is not of type 'object'");
	assert_fails(validate_object(str, "version", E),
		     "Validation error: version 'abc' is not of type 'object'");
	assert_fails(validate_object(NULL, "version", E),
		     "Validation error: version None is not of type 'object'");
	json_decref(obj);
	json_decref(num);
	json_decref(str);
}

static void test_required_and_only(void **state)
{
	(void)state;
	static const char *const required[] = {"name", "active", NULL};
	static const char *const allowed[] = {"name", "active", "image", NULL};
	static const char *const none[] = {NULL};
	json_t *ok = json_must("{\"name\": \"a\", \"active\": true}");
	json_t *missing = json_must("{\"name\": \"a\"}");
	json_t *extra = json_must("{\"name\": \"a\", \"active\": true, \"colour\": 1}");
	struct ct_error err = {0};
	assert_int_equal(validate_required(ok, "version", required, &err), 0);
	assert_int_equal(validate_only(ok, "version", allowed, &err), 0);
	assert_int_equal(validate_required(ok, "", none, &err), 0);
	assert_fails(validate_required(missing, "version", required, E),
		     "Validation error: version 'active' is a required property");
	assert_fails(validate_required(missing, "", required, E),
		     "Validation error: 'active' is a required property");
	assert_fails(validate_only(extra, "version", allowed, E),
		     "Validation error: version Additional properties are not allowed "
		     "('colour' was unexpected)");
	assert_fails(validate_only(ok, "", none, E),
		     "Validation error: Additional properties are not allowed ('name' was "
		     "unexpected)");
	json_decref(ok);
	json_decref(missing);
	json_decref(extra);
}

static void test_non_empty_string(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const char *p = "version['name']";
	json_t *good = json_string("mariadb-11.4");
	assert_int_equal(validate_non_empty_string(good, p, &err), 0);
	json_decref(good);

	/* 255 characters is the limit, counted as characters, not bytes. */
	char text[256 * 2 + 1];
	for (int i = 0; i < 254; i++)
		memcpy(text + 2 * i, "\xc3\xa9", 2); /* é */
	memcpy(text + 2 * 254, "a", 2);
	json_t *wide = json_string(text);
	assert_int_equal(validate_non_empty_string(wide, p, &err), 0);
	json_decref(wide);
	memcpy(text + 2 * 254,
	       "\xc3\xa9"
	       "a",
	       4); /* 256 characters */
	wide = json_string(text);
	assert_int_equal(validate_non_empty_string(wide, p, &err), -1);
	json_decref(wide);
	/* Letters outside ASCII do not satisfy the pattern. */
	wide = json_string("\xc3\xa9\xc3\xa9");
	assert_int_equal(validate_non_empty_string(wide, p, &err), -1);
	assert_non_null(strstr(err.message, "does not match"));
	json_decref(wide);
	memset(text, 'a', 256);
	text[256] = '\0';
	json_t *too_long = json_string(text);
	char expected[256];
	snprintf(expected, sizeof expected,
		 "Validation error: version['name'] '%.60s...' is too long", text);
	assert_fails(validate_non_empty_string(too_long, p, E), expected);
	json_decref(too_long);

	json_t *empty = json_string(""), *dashes = json_string("--- ..."), *num = json_integer(7),
	       *null = json_null();
	assert_fails(validate_non_empty_string(empty, p, E),
		     "Validation error: version['name'] '' is too short");
	assert_fails(validate_non_empty_string(dashes, p, E),
		     "Validation error: version['name'] '--- ...' does not match "
		     "'^.*[0-9a-zA-Z]+.*$'");
	assert_fails(validate_non_empty_string(num, p, E),
		     "Validation error: version['name'] 7 is not of type 'string'");
	assert_fails(validate_non_empty_string(null, p, E),
		     "Validation error: version['name'] None is not of type 'string'");
	json_decref(empty);
	json_decref(dashes);
	json_decref(num);
	json_decref(null);
}

static void test_uuid(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const char *p = "version['image']";
	json_t *lower = json_string("0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b");
	json_t *upper = json_string("0F3A6B1E-8C3D-4E5F-9A0B-1C2D3E4F5A6B");
	json_t *bad = json_string("not-a-uuid");
	json_t *num = json_integer(1);
	assert_int_equal(validate_uuid(lower, p, &err), 0);
	assert_int_equal(validate_uuid(upper, p, &err), 0);
	assert_fails(validate_uuid(bad, p, E),
		     "Validation error: version['image'] 'not-a-uuid' does not match "
		     "'^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
		     "([0-9a-fA-F]){12}$'");
	assert_fails(validate_uuid(num, p, E),
		     "Validation error: version['image'] 1 is not of type 'string'");
	json_decref(lower);
	json_decref(upper);
	json_decref(bad);
	json_decref(num);
}

static void test_boolean(void **state)
{
	(void)state;
	struct ct_error err = {0};
	json_t *t = json_true(), *f = json_false(), *s = json_string("true"),
	       *one = json_integer(1);
	assert_int_equal(validate_boolean(t, "version['active']", &err), 0);
	assert_int_equal(validate_boolean(f, "version['active']", &err), 0);
	assert_fails(validate_boolean(s, "version['active']", E),
		     "Validation error: version['active'] 'true' is not of type 'boolean'");
	assert_fails(validate_boolean(one, "version['active']", E),
		     "Validation error: version['active'] 1 is not of type 'boolean'");
	json_decref(s);
	json_decref(one);
}

static void test_string_array(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const char *p = "version['image_tags']";
	json_t *good = json_must("[\"trove\", \"mariadb\"]");
	json_t *empty = json_must("[]");
	assert_int_equal(validate_string_array(good, p, 5, 1, 20, &err), 0);
	assert_int_equal(validate_string_array(empty, p, 5, 1, 20, &err), 0);
	json_decref(good);
	json_decref(empty);

	json_t *not_array = json_string("trove");
	assert_fails(validate_string_array(not_array, p, 5, 1, 20, E),
		     "Validation error: version['image_tags'] 'trove' is not of type 'array'");
	json_decref(not_array);

	json_t *many = json_must("[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]");
	assert_fails(validate_string_array(many, p, 5, 1, 20, E),
		     "Validation error: version['image_tags'] ['a', 'b', 'c', 'd', 'e', 'f'] "
		     "is too long");
	/* max_items 0 = unbounded. */
	assert_int_equal(validate_string_array(many, p, 0, 1, 20, &err), 0);
	json_decref(many);

	json_t *dup = json_must("[\"a\", \"b\", \"a\"]");
	assert_fails(validate_string_array(dup, p, 5, 1, 20, E),
		     "Validation error: version['image_tags'] ['a', 'b', 'a'] has non-unique "
		     "elements");
	json_decref(dup);

	json_t *bad_item = json_must("[\"a\", 3]");
	assert_fails(validate_string_array(bad_item, p, 5, 1, 20, E),
		     "Validation error: version['image_tags'][1] 3 is not of type 'string'");
	json_decref(bad_item);

	json_t *long_item = json_must("[\"abcdefghijklmnopqrstu\"]");
	assert_fails(validate_string_array(long_item, p, 5, 1, 20, E),
		     "Validation error: version['image_tags'][0] 'abcdefghijklmnopqrstu' is "
		     "too long");
	json_decref(long_item);

	json_t *short_item = json_must("[\"ok\", \"\"]");
	assert_fails(validate_string_array(short_item, p, 5, 1, 20, E),
		     "Validation error: version['image_tags'][1] '' is too short");
	json_decref(short_item);

	json_t *symbols = json_must("[\"_-_\"]");
	assert_fails(validate_string_array(symbols, p, 5, 1, 20, E),
		     "Validation error: version['image_tags'][0] '_-_' does not match "
		     "'^.*[0-9a-zA-Z]+.*$'");
	json_decref(symbols);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_repr),
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_required_and_only),
		cmocka_unit_test(test_non_empty_string),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_boolean),
		cmocka_unit_test(test_string_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
