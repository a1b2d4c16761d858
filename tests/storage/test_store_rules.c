/*
 * test_store_rules.c — the pure rules of the backup storage interface: which
 * names and prefixes are accepted (storage/names.c) and what metadata may hold
 * (storage/meta.c). No store is opened.
 */
#include "storage_testutil.h"

static void test_names_accepted(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const char *good[] = {
		"database_backups/0b5e1f5a-3c56-4d1b-9c5e-0123456789ab.xbstream.zst",
		"c/x",
		"c/inst/wal/000000010000000000000001",
		"c/a..b", /* dots inside a component are fine */
		"c/x.",
		"c/with space",
		"c/été",
		"c/~tilde-and_under",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (store_check_name(good[i], &err))
			fail_msg("%s refused: %s", good[i], err.message);
}

static void test_prefixes(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(store_check_prefix("c/", &err), 0);
	assert_int_equal(store_check_prefix("c/inst/wal/0000", &err), 0);
	assert_int_equal(store_check_prefix("c/inst/", &err), 0);
	const char *bad[] = {NULL, "", "c", "/c/", "../", "c/../", "c//", "c/.x", "c/\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.status = 0;
		if (!store_check_prefix(bad[i], &err))
			fail_msg("prefix %zu accepted", i);
		assert_int_equal(err.status, 400);
	}
}

static void test_name_messages(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(store_check_name("c/../x", &err), -1);
	assert_non_null(strstr(err.message, "starting with '.'"));
	assert_int_equal(store_check_name("/abs/x", &err), -1);
	assert_non_null(strstr(err.message, "may not start with '/'"));
	assert_int_equal(store_check_name("c/a\001b", &err), -1);
	assert_non_null(strstr(err.message, "control characters"));
	assert_null(strchr(err.message, '\001')); /* the hostile name is not echoed */
	assert_int_equal(store_check_name("single", &err), -1);
	assert_non_null(strstr(err.message, "<container>/<object>"));
}

static void test_meta_set_get(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_meta meta = {0};
	assert_null(store_meta_get(&meta, "lsn"));
	assert_int_equal(store_meta_set(&meta, "lsn", "42", &err), 0);
	assert_int_equal(store_meta_set(&meta, "start_wal_file", "000000010000000000000002", &err),
			 0);
	assert_int_equal(store_meta_set(&meta, "lsn", "43", &err), 0);
	assert_int_equal(meta.count, 2);
	assert_string_equal(store_meta_get(&meta, "lsn"), "43");
	assert_int_equal(store_meta_set(&meta, "empty", "", &err), 0);
	assert_string_equal(store_meta_get(&meta, "empty"), "");
	assert_int_equal(store_meta_check(&meta, &err), 0);
}

static void test_meta_refused(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_meta meta = {0};
	const char *bad_keys[] = {"",	    "Upper",  "dash-key", "1digit",
				  "_under", "sp ace", "k\n",	  NULL};
	for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		err.status = 0;
		assert_int_equal(store_meta_set(&meta, bad_keys[i], "v", &err), -1);
		assert_int_equal(err.status, 400);
	}
	char long_key[STORE_META_KEY_MAX + 2];
	memset(long_key, 'k', sizeof long_key - 1);
	long_key[sizeof long_key - 1] = '\0';
	assert_int_equal(store_meta_set(&meta, long_key, "v", &err), -1);
	long_key[STORE_META_KEY_MAX] = '\0';
	assert_int_equal(store_meta_set(&meta, long_key, "v", &err), 0);

	const char *bad_values[] = {"line\nbreak", "tab\t", "del\x7f", "é", NULL};
	for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
		err.status = 0;
		assert_int_equal(store_meta_set(&meta, "key", bad_values[i], &err), -1);
		assert_int_equal(err.status, 400);
	}
	char long_value[STORE_META_VALUE_MAX + 2];
	memset(long_value, 'v', sizeof long_value - 1);
	long_value[sizeof long_value - 1] = '\0';
	assert_int_equal(store_meta_set(&meta, "key", long_value, &err), -1);
	assert_null(store_meta_get(&meta, "key")); /* a refused set changes nothing */
	assert_int_equal(meta.count, 1);
}

static void test_meta_limits(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_meta meta = {0};
	char value[STORE_META_VALUE_MAX + 1];
	memset(value, 'v', STORE_META_VALUE_MAX);
	value[STORE_META_VALUE_MAX] = '\0';
	int i = 0;
	char key[16];
	/* 4096 bytes in all: 15 items of "kNN" + 256 fit, the 16th does not. */
	for (;; i++) {
		snprintf(key, sizeof key, "k%02d", i);
		if (store_meta_set(&meta, key, value, &err))
			break;
	}
	assert_int_equal(i, STORE_META_TOTAL_MAX / (3 + STORE_META_VALUE_MAX));
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "4096 bytes"));
	/* Replacing a value is measured without the old one. */
	assert_int_equal(store_meta_set(&meta, "k00", value, &err), 0);

	struct store_meta many = {0};
	for (i = 0; i < STORE_META_MAX; i++) {
		snprintf(key, sizeof key, "k%02d", i);
		assert_int_equal(store_meta_set(&many, key, "v", &err), 0);
	}
	assert_int_equal(store_meta_set(&many, "one_more", "v", &err), -1);
	assert_non_null(strstr(err.message, "items"));
	assert_int_equal(store_meta_check(&many, &err), 0);
}

static void test_meta_check_by_hand(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_meta meta = {.count = 2};
	snprintf(meta.item[0].key, sizeof meta.item[0].key, "same");
	snprintf(meta.item[1].key, sizeof meta.item[1].key, "same");
	assert_int_equal(store_meta_check(&meta, &err), -1);
	assert_non_null(strstr(err.message, "twice"));

	memset(&meta, 0, sizeof meta);
	meta.count = 1;
	memset(meta.item[0].key, 'a', sizeof meta.item[0].key); /* unterminated */
	assert_int_equal(store_meta_check(&meta, &err), -1);
	assert_int_equal(err.status, 400);

	meta.count = STORE_META_MAX + 1;
	assert_int_equal(store_meta_check(&meta, &err), -1);
	assert_int_equal(err.status, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_accepted),	   cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_name_messages),	   cmocka_unit_test(test_meta_set_get),
		cmocka_unit_test(test_meta_refused),	   cmocka_unit_test(test_meta_limits),
		cmocka_unit_test(test_meta_check_by_hand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
