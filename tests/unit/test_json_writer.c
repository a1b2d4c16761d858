/*
 * test_json_writer.c — common/json_writer.h: escaping, invalid UTF-8, reals in
 * Python's shortest form, nesting and commas, misuse (a key without a value,
 * unbalanced ends, too deep) and round trips of jansson values through the
 * writer and back through jansson's parser.
 */
#include "testutil.h"

#include <float.h>
#include <limits.h>
#include <math.h>

#include "common/json_writer.h"

/* The writer's text, compared with want; frees it. */
static void assert_written(struct json_writer *w, const char *want)
{
	size_t len;
	char *text = json_writer_finish(w, &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	assert_string_equal(text, want);
	free(text);
}

static void test_strings(void **state)
{
	(void)state;
	struct json_writer w;
	json_writer_init(&w);
	json_writer_array_begin(&w);
	json_writer_string(&w, "plain");
	json_writer_string(&w, "q\"b\\s/\b\f\n\r\t\x01\x1f");
	json_writer_string(&w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	json_writer_string(&w, NULL);
	json_writer_string(&w, "");
	json_writer_array_end(&w);
	assert_written(&w, "[\"plain\",\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\","
			   "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",null,\"\"]");
}

/* Each special byte at each offset of a long string (the 8-byte fast path)
 * reads back as the same string. */
static void test_specials_at_every_offset(void **state)
{
	(void)state;
	static const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', '\x7f', ' ', '~'};
	for (size_t k = 0; k < sizeof specials; k++) {
		for (size_t at = 0; at < 24; at++) {
			char text[25];
			memset(text, 'a', 24);
			text[24] = '\0';
			text[at] = specials[k];
			struct json_writer w;
			json_writer_init(&w);
			json_writer_string(&w, text);
			size_t len;
			char *out = json_writer_finish(&w, &len);
			assert_non_null(out);
			json_error_t e;
			json_t *back = json_loadb(out, len, JSON_DECODE_ANY, &e);
			assert_non_null(back);
			assert_string_equal(json_string_value(back), text);
			json_decref(back);
			free(out);
		}
	}
}

static void test_invalid_utf8_replaced(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\xff",	    "a\xc3",	    "long plain prefix \xff", "twelve bytes\xe2\x82",
		"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",	      "\xe2\x82",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct json_writer w;
		json_writer_init(&w);
		json_writer_string(&w, bad[i]);
		size_t len;
		char *text = json_writer_finish(&w, &len);
		assert_non_null(text);
		assert_non_null(strstr(text, "\xef\xbf\xbd"));
		json_error_t e;
		json_t *back = json_loadb(text, len, JSON_DECODE_ANY, &e);
		assert_non_null(back);
		json_decref(back);
		free(text);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	struct json_writer w;
	json_writer_init(&w);
	json_writer_array_begin(&w);
	json_writer_int(&w, 0);
	json_writer_int(&w, -42);
	json_writer_int(&w, LLONG_MIN);
	json_writer_int(&w, LLONG_MAX);
	json_writer_real(&w, 0.1);
	json_writer_real(&w, 1.0);
	json_writer_real(&w, -2.5);
	json_writer_real(&w, 1e300);
	json_writer_real(&w, 0.1 + 0.2);
	json_writer_real(&w, NAN);
	json_writer_real(&w, INFINITY);
	json_writer_array_end(&w);
	assert_written(&w, "[0,-42,-9223372036854775808,9223372036854775807,0.1,1.0,-2.5,1e+300,"
			   "0.30000000000000004,null,null]");
}

static void test_nesting_and_commas(void **state)
{
	(void)state;
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key_string(&w, "a", "x");
	json_writer_key(&w, "b");
	json_writer_array_begin(&w);
	json_writer_object_begin(&w);
	json_writer_object_end(&w);
	json_writer_array_begin(&w);
	json_writer_array_end(&w);
	json_writer_bool(&w, true);
	json_writer_bool(&w, false);
	json_writer_null(&w);
	json_writer_raw(&w, "{\"r\":1}", 7);
	json_writer_array_end(&w);
	json_writer_key_int(&w, "c", 3);
	json_writer_object_end(&w);
	assert_written(&w, "{\"a\":\"x\",\"b\":[{},[],true,false,null,{\"r\":1}],\"c\":3}");
}

static void test_misuse_fails(void **state)
{
	(void)state;
	struct json_writer w;
	size_t len;

	json_writer_init(&w); /* a key without its value */
	json_writer_object_begin(&w);
	json_writer_key(&w, "a");
	json_writer_object_end(&w);
	assert_null(json_writer_finish(&w, &len));

	json_writer_init(&w); /* two keys in a row */
	json_writer_object_begin(&w);
	json_writer_key(&w, "a");
	json_writer_key(&w, "b");
	assert_null(json_writer_finish(&w, &len));

	json_writer_init(&w); /* unclosed */
	json_writer_array_begin(&w);
	assert_null(json_writer_finish(&w, &len));

	json_writer_init(&w); /* closed once too often */
	json_writer_array_begin(&w);
	json_writer_array_end(&w);
	json_writer_array_end(&w);
	assert_null(json_writer_finish(&w, &len));

	json_writer_init(&w); /* nothing written */
	assert_null(json_writer_finish(&w, &len));

	json_writer_init(&w); /* deeper than the limit */
	for (int i = 0; i < JSON_WRITER_MAX_DEPTH + 1; i++)
		json_writer_array_begin(&w);
	assert_null(json_writer_finish(&w, &len));
	assert_int_equal(len, 0);
}

static void test_deep_but_allowed(void **state)
{
	(void)state;
	struct json_writer w;
	json_writer_init(&w);
	int depth = JSON_WRITER_MAX_DEPTH - 1;
	for (int i = 0; i < depth; i++)
		json_writer_array_begin(&w);
	json_writer_int(&w, 1);
	json_writer_int(&w, 2);
	for (int i = 0; i < depth; i++)
		json_writer_array_end(&w);
	size_t len;
	char *text = json_writer_finish(&w, &len);
	assert_non_null(text);
	assert_int_equal(len, (size_t)depth * 2 + 3);
	assert_non_null(strstr(text, "[1,2]"));
	free(text);
}

/* jansson value -> writer text -> jansson value: equal, and the same text as
 * jansson's own compact dump where jansson's real format agrees. */
static void test_value_round_trip(void **state)
{
	(void)state;
	static const char *const docs[] = {
		"{}",
		"[]",
		"{\"k\\\"ey\\n\":[1,-2,3.5,true,false,null,\"s\\u0000x\"],\"o\":{\"p\":{}}}",
		"{\"d\":[{\"id\":\"x\",\"links\":[{\"href\":\"https://h/a\"}]}]}",
		"\"only a string \\u00e9\"",
		"[0.5,1e-7,123456789.125,-0.0]",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		json_error_t e;
		json_t *v = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		assert_non_null(v);
		size_t len;
		char *text = json_writer_dump(v, &len);
		assert_non_null(text);
		json_t *back = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		assert_non_null(back);
		assert_true(json_equal(v, back));
		json_decref(back);
		json_decref(v);
		free(text);
	}
	/* A large document grows the buffer many times. */
	json_t *big = json_array();
	for (int i = 0; i < 5000; i++)
		json_array_append_new(big, json_pack("{s:i,s:s}", "n", i, "s", "x\"y"));
	size_t len;
	char *text = json_writer_dump(big, &len);
	assert_non_null(text);
	json_error_t e;
	json_t *back = json_loadb(text, len, 0, &e);
	assert_true(json_equal(big, back));
	json_decref(back);
	json_decref(big);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_specials_at_every_offset),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_misuse_fails),
		cmocka_unit_test(test_deep_but_allowed),
		cmocka_unit_test(test_value_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
