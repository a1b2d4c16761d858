/*
 * test_retention.c — taskmanager/retention.h's chain logic: expiry by count
 * and by age per schedule, chains kept whole while anything kept needs them,
 * whole chains removed when nothing does, the newest full kept for an archive,
 * running and manual backups untouched, and the archive cutoff.
 */
#include "testutil.h"

#include "taskmanager/retention.h"

#define DAY  86400LL
#define NOW  (1000 * DAY)
#define S1   "11111111-1111-4111-8111-111111111111"
#define S2   "22222222-2222-4222-8222-222222222222"
#define NONE ""

static struct retention_backup bk(const char *id, const char *parent, const char *schedule,
				  enum retention_state state, long long created)
{
	struct retention_backup b = {
		.state = state, .created = created, .consistent_time = created + 30};
	snprintf(b.id, sizeof b.id, "%s", id);
	snprintf(b.parent_id, sizeof b.parent_id, "%s", parent);
	snprintf(b.schedule_id, sizeof b.schedule_id, "%s", schedule);
	return b;
}

static struct retention_policy policy(const char *schedule, long count, long days)
{
	struct retention_policy p = {.max_count = count, .max_age_days = days};
	snprintf(p.schedule_id, sizeof p.schedule_id, "%s", schedule);
	return p;
}

/* "1" for each backup removed, "0" for each kept, in order. */
static const char *removed(const struct retention_backup *b, size_t n)
{
	static char out[64];
	for (size_t i = 0; i < n; i++)
		out[i] = b[i].remove ? '1' : '0';
	out[n] = '\0';
	return out;
}

static void test_count_keeps_newest(void **state)
{
	(void)state;
	struct retention_backup b[] = {
		bk("a", "", S1, RETENTION_COMPLETED, NOW - 5 * 60),
		bk("b", "", S1, RETENTION_COMPLETED, NOW - 4 * 60),
		bk("c", "", S1, RETENTION_COMPLETED, NOW - 3 * 60),
		bk("d", "", S1, RETENTION_COMPLETED, NOW - 2 * 60),
		bk("e", "", S1, RETENTION_COMPLETED, NOW - 1 * 60),
	};
	struct retention_policy p[] = {policy(S1, 2, 0)};
	long long cutoff = retention_plan(b, 5, p, 1, NOW, false);
	assert_string_equal(removed(b, 5), "11100");
	assert_int_equal(cutoff, NOW - 2 * 60 + 30);
	/* Given in any order, the newest are still the ones kept. */
	struct retention_backup shuffled[] = {b[4], b[0], b[3], b[1], b[2]};
	retention_plan(shuffled, 5, p, 1, NOW, false);
	assert_string_equal(removed(shuffled, 5), "01011");
}

static void test_age(void **state)
{
	(void)state;
	struct retention_backup b[] = {
		bk("a", "", S1, RETENTION_COMPLETED, NOW - 10 * DAY),
		bk("b", "", S1, RETENTION_COMPLETED, NOW - 7 * DAY - 1),
		bk("c", "", S1, RETENTION_COMPLETED, NOW - 7 * DAY),
		bk("d", "", S1, RETENTION_COMPLETED, NOW - DAY),
	};
	struct retention_policy p[] = {policy(S1, 0, 7)};
	assert_int_equal(retention_plan(b, 4, p, 1, NOW, false), NOW - 7 * DAY + 30);
	assert_string_equal(removed(b, 4), "1100");
	/* Count and age together: whichever is stricter. */
	struct retention_policy both[] = {policy(S1, 1, 7)};
	retention_plan(b, 4, both, 1, NOW, false);
	assert_string_equal(removed(b, 4), "1110");
}

static void test_no_policy_no_removal(void **state)
{
	(void)state;
	struct retention_backup b[] = {
		bk("a", "", NONE, RETENTION_COMPLETED, NOW - 100 * DAY),
		bk("b", "", S2, RETENTION_COMPLETED, NOW - 100 * DAY), /* schedule deleted */
		bk("c", "", S1, RETENTION_COMPLETED, NOW - 100 * DAY),
	};
	struct retention_policy p[] = {policy(S1, 0, 0)}; /* no limits */
	assert_int_equal(retention_plan(b, 3, p, 1, NOW, false), NOW - 100 * DAY + 30);
	assert_string_equal(removed(b, 3), "000");
	assert_int_equal(retention_plan(b, 3, NULL, 0, NOW, false), NOW - 100 * DAY + 30);
	assert_string_equal(removed(b, 3), "000");
}

static void test_chain_kept_while_needed(void **state)
{
	(void)state;
	/* full f <- i1 <- i2 (all S1); keep 1: i2 stays, so i1 and f stay too. */
	struct retention_backup b[] = {
		bk("f", "", S1, RETENTION_COMPLETED, NOW - 3 * 60),
		bk("i1", "f", S1, RETENTION_COMPLETED, NOW - 2 * 60),
		bk("i2", "i1", S1, RETENTION_COMPLETED, NOW - 1 * 60),
	};
	struct retention_policy p[] = {policy(S1, 1, 0)};
	long long cutoff = retention_plan(b, 3, p, 1, NOW, false);
	assert_string_equal(removed(b, 3), "000");
	assert_true(b[0].expired && b[1].expired && !b[2].expired);
	assert_int_equal(cutoff, NOW - 3 * 60 + 30);
}

static void test_whole_chain_goes_when_unneeded(void **state)
{
	(void)state;
	/* Chain f1 <- i1 <- i2, then a new full f2 <- i3; keep 2 (f2, i3). */
	struct retention_backup b[] = {
		bk("f1", "", S1, RETENTION_COMPLETED, NOW - 5 * 60),
		bk("i1", "f1", S1, RETENTION_COMPLETED, NOW - 4 * 60),
		bk("i2", "i1", S1, RETENTION_COMPLETED, NOW - 3 * 60),
		bk("f2", "", S1, RETENTION_COMPLETED, NOW - 2 * 60),
		bk("i3", "f2", S1, RETENTION_COMPLETED, NOW - 1 * 60),
	};
	struct retention_policy p[] = {policy(S1, 2, 0)};
	long long cutoff = retention_plan(b, 5, p, 1, NOW, false);
	assert_string_equal(removed(b, 5), "11100");
	assert_int_equal(cutoff, NOW - 2 * 60 + 30);
	/* Keep 3: i2 stays, so its whole chain does. */
	struct retention_policy three[] = {policy(S1, 3, 0)};
	retention_plan(b, 5, three, 1, NOW, false);
	assert_string_equal(removed(b, 5), "00000");
}

static void test_manual_incremental_keeps_parent(void **state)
{
	(void)state;
	/* A manual incremental on an expired scheduled full keeps the full. */
	struct retention_backup b[] = {
		bk("f1", "", S1, RETENTION_COMPLETED, NOW - 3 * 60),
		bk("m", "f1", NONE, RETENTION_COMPLETED, NOW - 2 * 60),
		bk("f2", "", S1, RETENTION_COMPLETED, NOW - 1 * 60),
	};
	struct retention_policy p[] = {policy(S1, 1, 0)};
	retention_plan(b, 3, p, 1, NOW, false);
	assert_string_equal(removed(b, 3), "000");
	assert_true(b[0].expired);
}

static void test_running_and_failed(void **state)
{
	(void)state;
	struct retention_backup b[] = {
		bk("old", "", S1, RETENTION_FAILED, NOW - 5 * 60),
		bk("f1", "", S1, RETENTION_COMPLETED, NOW - 4 * 60),
		bk("bad", "", S1, RETENTION_FAILED, NOW - 3 * 60),
		bk("f2", "", S1, RETENTION_COMPLETED, NOW - 2 * 60),
		bk("run", "f2", S1, RETENTION_RUNNING, NOW - 1 * 60),
		bk("late", "", S1, RETENTION_FAILED, NOW), /* nothing newer succeeded */
	};
	struct retention_policy p[] = {policy(S1, 1, 0)};
	long long cutoff = retention_plan(b, 6, p, 1, NOW, false);
	/* The running one is never counted nor removed and keeps its parent. */
	assert_string_equal(removed(b, 6), "111000");
	assert_int_equal(cutoff, NOW - 2 * 60 + 30);
	/* Even past every age limit a running backup stays, with its parent. */
	struct retention_policy age[] = {policy(S1, 0, 1)};
	retention_plan(b, 6, age, 1, NOW + 10 * DAY, false);
	assert_string_equal(removed(b, 6), "111001");
}

static void test_archive_keeps_newest_full(void **state)
{
	(void)state;
	struct retention_backup b[] = {
		bk("f1", "", S1, RETENTION_COMPLETED, NOW - 20 * DAY),
		bk("i1", "f1", S1, RETENTION_COMPLETED, NOW - 19 * DAY),
		bk("f2", "", S1, RETENTION_COMPLETED, NOW - 10 * DAY),
		bk("i2", "f2", S1, RETENTION_COMPLETED, NOW - 9 * DAY),
	};
	struct retention_policy p[] = {policy(S1, 0, 7)};
	/* Without an archive everything expired goes, and nothing is left. */
	assert_int_equal(retention_plan(b, 4, p, 1, NOW, false), -1);
	assert_string_equal(removed(b, 4), "1111");
	/* With one, the newest full stays (its incremental does not need to). */
	assert_int_equal(retention_plan(b, 4, p, 1, NOW, true), NOW - 10 * DAY + 30);
	assert_string_equal(removed(b, 4), "1101");
}

static void test_two_schedules(void **state)
{
	(void)state;
	struct retention_backup b[] = {
		bk("a1", "", S1, RETENTION_COMPLETED, NOW - 4 * 60),
		bk("b1", "", S2, RETENTION_COMPLETED, NOW - 3 * 60),
		bk("a2", "", S1, RETENTION_COMPLETED, NOW - 2 * 60),
		bk("b2", "", S2, RETENTION_COMPLETED, NOW - 1 * 60),
	};
	struct retention_policy p[] = {policy(S1, 1, 0), policy(S2, 2, 0)};
	assert_int_equal(retention_plan(b, 4, p, 2, NOW, false), NOW - 3 * 60 + 30);
	assert_string_equal(removed(b, 4), "1000");
}

static void test_broken_chains_end(void **state)
{
	(void)state;
	/* A parent that is gone, and a loop written by hand: still an answer. */
	struct retention_backup b[] = {
		bk("x", "gone", S1, RETENTION_COMPLETED, NOW - 3 * 60),
		bk("y", "z", S1, RETENTION_COMPLETED, NOW - 2 * 60),
		bk("z", "y", S1, RETENTION_COMPLETED, NOW - 1 * 60),
	};
	struct retention_policy p[] = {policy(S1, 1, 0)};
	retention_plan(b, 3, p, 1, NOW, false);
	assert_string_equal(removed(b, 3), "100");
	assert_int_equal(retention_plan(NULL, 0, p, 1, NOW, true), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_keeps_newest),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_no_policy_no_removal),
		cmocka_unit_test(test_chain_kept_while_needed),
		cmocka_unit_test(test_whole_chain_goes_when_unneeded),
		cmocka_unit_test(test_manual_incremental_keeps_parent),
		cmocka_unit_test(test_running_and_failed),
		cmocka_unit_test(test_archive_keeps_newest_full),
		cmocka_unit_test(test_two_schedules),
		cmocka_unit_test(test_broken_chains_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
