/*
 * test_backup_schedules.c — src/db/backup_schedules.c on a scratch SQLite
 * database (insert, tenant-scoped load and list, the due list, the one-UPDATE
 * claim that only one taskmanager wins, soft delete, run records) and the
 * runner's clock (schedule_next_run at the production and a test minute).
 */
#include "scratch_db.h"

#include <stdlib.h>

#include "common/cron.h"
#include "common/log.h"
#include "db/backup_schedules.h"
#include "taskmanager/schedule_tasks.h"

#define INSTANCE "0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b"
#define OTHER	 "1f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_min_level = LOG_LEVEL_ERROR;
	scratch_db_create(dir, "dbsched");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_db_remove(dir);
	return 0;
}

static struct backup_schedule row(const char *id, const char *instance, long long next_run)
{
	struct backup_schedule s = {.max_count = 3, .next_run = next_run, .incremental = true};
	snprintf(s.id, sizeof s.id, "%s", id);
	snprintf(s.instance_id, sizeof s.instance_id, "%s", instance);
	snprintf(s.tenant_id, sizeof s.tenant_id, "p-sched");
	snprintf(s.name, sizeof s.name, "n-%s", id);
	snprintf(s.pattern, sizeof s.pattern, "* * * * *");
	return s;
}

static void test_rows_and_claim(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct backup_schedule a = row("a", INSTANCE, 100), b = row("b", INSTANCE, 200),
			       c = row("c", OTHER, 50);
	assert_int_equal(schedule_insert(&a, &err), 0);
	assert_int_equal(schedule_insert(&b, &err), 0);
	assert_int_equal(schedule_insert(&c, &err), 0);

	struct backup_schedule got;
	assert_int_equal(schedule_load("a", INSTANCE, "p-sched", &got, &err), 0);
	assert_string_equal(got.name, "n-a");
	assert_true(got.incremental);
	assert_int_equal(got.max_count, 3);
	assert_int_equal(got.max_age_days, 0);
	assert_int_equal(got.last_run, 0);
	assert_false(got.has_description);
	/* Another project, another instance: not found. */
	assert_int_equal(schedule_load("a", INSTANCE, "p-other", &got, &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(schedule_load("a", OTHER, NULL, &got, &err), -1);

	struct backup_schedule *list = NULL;
	size_t n = 0;
	assert_int_equal(schedule_list(INSTANCE, NULL, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	free(list);
	assert_int_equal(schedule_list(INSTANCE, "p-other", &list, &n, &err), 0);
	assert_int_equal(n, 0);
	free(list);

	assert_int_equal(schedule_due(150, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, "c");
	assert_string_equal(list[1].id, "a");
	free(list);

	/* Two taskmanagers saw a due at next_run 100: only the first claim wins. */
	assert_int_equal(schedule_claim("a", 100, 160, 150, &err), 1);
	assert_int_equal(schedule_claim("a", 100, 160, 150, &err), 0);
	assert_int_equal(schedule_load("a", INSTANCE, NULL, &got, &err), 0);
	assert_int_equal(got.next_run, 160);
	assert_int_equal(got.last_run, 150);

	assert_int_equal(schedule_mark_deleted("c", &err), 0);
	assert_int_equal(schedule_claim("c", 50, 60, 150, &err), 0);
	assert_int_equal(schedule_due(1000, &list, &n, &err), 0);
	assert_int_equal(n, 2); /* a and b; c is deleted */
	free(list);

	struct schedule_run *runs = NULL;
	assert_int_equal(schedule_run_record("bk1", "a", INSTANCE, &err), 0);
	assert_int_equal(schedule_run_record("bk2", "b", INSTANCE, &err), 0);
	assert_int_equal(schedule_run_record("bk3", "c", OTHER, &err), 0);
	assert_int_equal(schedule_runs_of(INSTANCE, &runs, &n, &err), 0);
	assert_int_equal(n, 2);
	free(runs);
}

static void test_clock(void **state)
{
	(void)state;
	struct cron_spec every, hourly;
	struct ct_error err = {0};
	assert_int_equal(cron_parse("* * * * *", &every, &err), 0);
	assert_int_equal(cron_parse("@hourly", &hourly, &err), 0);
	long long now = 1796610098; /* 2026-12-07 02:21:38 UTC */
	assert_int_equal(schedule_next_run(&every, now), 1796610120);
	assert_int_equal(schedule_next_run(&hourly, now), 1796612400);
	assert_int_equal(cfg_set(CFG_BACKUP_SCHEDULE_MINUTE_SECONDS, "2", &err), 0);
	/* A minute lasts 2 s: every minute = every 2 s; an hour = 120 s. */
	assert_int_equal(schedule_next_run(&every, now), now + 2 - now % 2);
	assert_int_equal(now % 2, 0);
	assert_int_equal(schedule_next_run(&every, now + 1), now + 2);
	long long next = schedule_next_run(&hourly, now);
	assert_true(next > now && next <= now + 120 && next % 120 == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows_and_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
