/*
 * test_token_cache.c — api/token_cache.h: an entry is found until its deadline
 * and not after; refusals are remembered as refusals; the table never holds
 * more than its size however many tokens pass (the oldest of a full set gives
 * way); a lookup matches the whole token (its SHA-256), nothing less.
 */
#include "testutil.h"

#include "api/token_cache.h"

static struct api_identity identity(const char *user)
{
	struct api_identity who = {0};
	snprintf(who.user_id, sizeof who.user_id, "%s", user);
	snprintf(who.project_id, sizeof who.project_id, "project-of-%s", user);
	snprintf(who.roles, sizeof who.roles, "member");
	return who;
}

static void test_deadline(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct token_cache *c = token_cache_new(16, &err);
	assert_non_null(c);
	struct api_identity who = identity("u1"), got;
	bool valid = false;
	assert_false(token_cache_get(c, "tok-1", 1000, &got, &valid));
	token_cache_put(c, "tok-1", &who, 1010, 1000);
	assert_true(token_cache_get(c, "tok-1", 1009, &got, &valid));
	assert_true(valid);
	assert_string_equal(got.user_id, "u1");
	assert_string_equal(got.project_id, "project-of-u1");
	assert_false(token_cache_get(c, "tok-1", 1010, &got, &valid)); /* deadline passed */
	assert_false(token_cache_get(c, "tok-2", 1001, &got, &valid));
	/* A refusal is remembered as one. */
	token_cache_put(c, "bad", NULL, 1020, 1000);
	valid = true;
	assert_true(token_cache_get(c, "bad", 1005, &got, &valid));
	assert_false(valid);
	/* A deadline already past stores nothing (token_cache_time = 0). */
	token_cache_put(c, "tok-3", &who, 1000, 1000);
	assert_false(token_cache_get(c, "tok-3", 1000, &got, &valid));
	token_cache_free(c);
}

static void test_bounded(void **state)
{
	(void)state;
	struct ct_error err = {0};
	for (long size = 1; size <= 1000; size = size * 3 + 1) {
		struct token_cache *c = token_cache_new(size, &err);
		assert_non_null(c);
		struct api_identity who = identity("u");
		char token[32];
		for (int i = 0; i < 5000; i++) {
			snprintf(token, sizeof token, "token-%d", i);
			token_cache_put(c, token, &who, 100000, 1000 + i);
		}
		assert_true(token_cache_count(c) <= size);
		assert_true(token_cache_count(c) >= size / 2);
		/* The newest is always there; the first is long gone. */
		bool valid;
		assert_true(token_cache_get(c, "token-4999", 7000, NULL, &valid));
		assert_false(token_cache_get(c, "token-0", 7000, NULL, &valid));
		token_cache_free(c);
	}
}

static void test_replacing_keeps_one_entry(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct token_cache *c = token_cache_new(8, &err);
	struct api_identity a = identity("a"), b = identity("b"), got;
	token_cache_put(c, "same", &a, 2000, 1000);
	token_cache_put(c, "same", &b, 2000, 1001);
	assert_int_equal(token_cache_count(c), 1);
	bool valid;
	assert_true(token_cache_get(c, "same", 1002, &got, &valid));
	assert_string_equal(got.user_id, "b");
	token_cache_free(c);
}

/* Lookups are by the whole token's hash: one changed byte is a miss. */
static void test_lookup_is_exact(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct token_cache *c = token_cache_new(4, &err);
	static const char token[] = "gAAAAABsome-token-text";
	struct api_identity who = identity("u");
	token_cache_put(c, token, &who, 2000, 1000);
	bool valid;
	assert_true(token_cache_get(c, token, 1001, NULL, &valid));
	assert_false(token_cache_get(c, "gAAAAABsome-token-texT", 1001, NULL, &valid));
	assert_false(token_cache_get(c, "gAAAAABsome-token-tex", 1001, NULL, &valid));
	assert_false(token_cache_get(c, "", 1001, NULL, &valid));
	token_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_replacing_keeps_one_entry),
		cmocka_unit_test(test_lookup_is_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
