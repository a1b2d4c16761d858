/*
 * test_cron.c — common/cron.h: parsing of 5-field patterns (numbers, ranges,
 * steps, lists, names, aliases), the reasons bad patterns give, and the next
 * fire time in UTC across hours, days, months, leap years and the
 * day-of-month/day-of-week rule.
 */
#include "testutil.h"

#include "common/cron.h"

/* 2026-12-07 02:21:38 UTC, a Monday. */
#define BASE ((time_t)1796610098)

static time_t utc(int y, int mon, int d, int h, int min)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_min = min};
	return timegm(&tm);
}

static time_t next_of(const char *pattern, time_t after)
{
	struct cron_spec c;
	struct ct_error err = {0};
	if (cron_parse(pattern, &c, &err))
		fail_msg("'%s' refused: %s", pattern, err.message);
	return cron_next(&c, after);
}

static void test_base_is_what_it_says(void **state)
{
	(void)state;
	assert_int_equal(BASE, utc(2026, 12, 7, 2, 21) + 38);
}

static void test_every_minute(void **state)
{
	(void)state;
	assert_int_equal(next_of("* * * * *", BASE), utc(2026, 12, 7, 2, 22));
	/* Strictly after: a whole minute moves on to the next one. */
	assert_int_equal(next_of("* * * * *", utc(2026, 12, 7, 2, 22)), utc(2026, 12, 7, 2, 23));
	assert_int_equal(next_of("*/1 * * * *", BASE), utc(2026, 12, 7, 2, 22));
}

static void test_steps_ranges_lists(void **state)
{
	(void)state;
	assert_int_equal(next_of("*/15 * * * *", BASE), utc(2026, 12, 7, 2, 30));
	assert_int_equal(next_of("0 */6 * * *", BASE), utc(2026, 12, 7, 6, 0));
	assert_int_equal(next_of("10-20/5 * * * *", BASE), utc(2026, 12, 7, 3, 10));
	assert_int_equal(next_of("5,25,45 * * * *", BASE), utc(2026, 12, 7, 2, 25));
	assert_int_equal(next_of("50/3 * * * *", utc(2026, 12, 7, 2, 57)), utc(2026, 12, 7, 2, 59));
	assert_int_equal(next_of("50/3 * * * *", utc(2026, 12, 7, 2, 59)), utc(2026, 12, 7, 3, 50));
	assert_int_equal(next_of("30 1 * * *", BASE), utc(2026, 12, 8, 1, 30));
	assert_int_equal(next_of("0 0 1 * *", BASE), utc(2027, 1, 1, 0, 0));
}

static void test_names(void **state)
{
	(void)state;
	/* 2026-12-07 is a Monday: the next Friday is the 11th. */
	assert_int_equal(next_of("0 12 * * fri", BASE), utc(2026, 12, 11, 12, 0));
	assert_int_equal(next_of("0 12 * * MON-wed", BASE), utc(2026, 12, 7, 12, 0));
	assert_int_equal(next_of("0 0 * * sun", BASE), utc(2026, 12, 13, 0, 0));
	assert_int_equal(next_of("0 0 * * 7", BASE), utc(2026, 12, 13, 0, 0));
	assert_int_equal(next_of("0 0 * * 0", BASE), utc(2026, 12, 13, 0, 0));
	assert_int_equal(next_of("0 0 1 jan,Jul *", BASE), utc(2027, 1, 1, 0, 0));
	assert_int_equal(next_of("0 0 1 feb-mar *", BASE), utc(2027, 2, 1, 0, 0));
	assert_int_equal(next_of("@hourly", BASE), utc(2026, 12, 7, 3, 0));
	assert_int_equal(next_of("@daily", BASE), utc(2026, 12, 8, 0, 0));
	assert_int_equal(next_of("@weekly", BASE), utc(2026, 12, 13, 0, 0));
	assert_int_equal(next_of("@monthly", BASE), utc(2027, 1, 1, 0, 0));
	assert_int_equal(next_of("@YEARLY", BASE), utc(2027, 1, 1, 0, 0));
}

static void test_day_rule(void **state)
{
	(void)state;
	/* Both restricted: either matches (the 13th or the next Friday, the 11th). */
	assert_int_equal(next_of("0 0 13 * 5", BASE), utc(2026, 12, 11, 0, 0));
	/* One of them '*'-led: both must match (an odd day that is a Thursday). */
	assert_int_equal(next_of("0 0 */2 * 4", BASE), utc(2026, 12, 17, 0, 0));
	assert_int_equal(next_of("0 0 13 * */1", BASE), utc(2026, 12, 13, 0, 0));
	assert_int_equal(next_of("0 0 13 * *", BASE), utc(2026, 12, 13, 0, 0));
}

static void test_calendar_edges(void **state)
{
	(void)state;
	assert_int_equal(next_of("0 0 29 2 *", BASE), utc(2028, 2, 29, 0, 0));
	assert_int_equal(next_of("0 0 31 * *", utc(2027, 1, 31, 0, 0)), utc(2027, 3, 31, 0, 0));
	assert_int_equal(next_of("59 23 31 12 *", BASE), utc(2026, 12, 31, 23, 59));
	assert_int_equal(next_of("0 0 1 1 *", utc(2026, 12, 31, 23, 59)), utc(2027, 1, 1, 0, 0));
	/* Never: no 30th of February within five years. */
	assert_int_equal(next_of("0 0 30 2 *", BASE), -1);
}

static void test_matches(void **state)
{
	(void)state;
	struct cron_spec c;
	struct ct_error err = {0};
	assert_int_equal(cron_parse("*/5 2 * dec mon", &c, &err), 0);
	assert_true(cron_matches(&c, utc(2026, 12, 7, 2, 20) + 59));
	assert_false(cron_matches(&c, utc(2026, 12, 7, 2, 21)));
	assert_false(cron_matches(&c, utc(2026, 12, 8, 2, 20)));
}

static void test_bad_patterns(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *reason;
	} cases[] = {
		{"", "empty"},
		{"* * * *", "has 4"},
		{"* * * * * *", "more than 5"},
		{"60 * * * *", "'60' is not a valid minute"},
		{"* 24 * * *", "'24' is not a valid hour"},
		{"* * 0 * *", "'0' is not a valid day-of-month"},
		{"* * 32 * *", "'32' is not a valid day-of-month"},
		{"* * * 13 *", "'13' is not a valid month"},
		{"* * * * 8", "'8' is not a valid day-of-week"},
		{"* * * foo *", "'foo' is not a valid month"},
		{"* * * * funday", "'funday' is not a valid day-of-week"},
		{"mon * * * *", "'mon' is not a valid minute"},
		{"*/0 * * * *", "step '0'"},
		{"*/ * * * *", "step ''"},
		{"*/x * * * *", "step 'x'"},
		{"5-3 * * * *", "range 5-3"},
		{"1- * * * *", "not a valid minute"},
		{"-1 * * * *", "not a valid minute"},
		{"1,,2 * * * *", "empty list item"},
		{"1, * * * *", "empty list item"},
		{"* * * * * ;rm", "more than 5"},
		{"* * * * ;", "character ';'"},
		{"@every5m", "is not one of"},
		{"99999999999999999999 * * * *", "not a valid minute"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cron_spec c;
		struct ct_error err = {0};
		if (cron_parse(cases[i].pattern, &c, &err) != -1)
			fail_msg("'%s' accepted", cases[i].pattern);
		assert_int_equal(err.status, 400);
		if (!strstr(err.message, cases[i].reason))
			fail_msg("'%s': '%s' lacks '%s'", cases[i].pattern, err.message,
				 cases[i].reason);
		assert_non_null(strstr(err.message, "Invalid backup schedule pattern"));
	}
	char longer[CRON_PATTERN_MAX + 10];
	memset(longer, '1', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	struct cron_spec c;
	struct ct_error err = {0};
	assert_int_equal(cron_parse(longer, &c, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(cron_parse(NULL, &c, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_is_what_it_says),
		cmocka_unit_test(test_every_minute),
		cmocka_unit_test(test_steps_ranges_lists),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_day_rule),
		cmocka_unit_test(test_calendar_edges),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_bad_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
