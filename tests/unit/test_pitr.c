/*
 * test_pitr.c — point-in-time recovery's control-plane logic on a scratch
 * SQLite database: the restorePoint time format, the conductor's
 * update_archive (checked arguments, a window that never shrinks, a gap as a
 * fault on the instance that clears when shipping resumes), update_backup's
 * consistent_time, the recoverable window and the base backup a time picks,
 * and which instances the taskmanager's sweeper sees. Rows are seeded and read
 * back with plain SQL.
 */
#include "scratch_db.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>

#include "api/instance_pitr.h"
#include "common/log.h"
#include "conductor/conductor.h"
#include "db/archives.h"
#include "db/store.h"
#include "guest/models.h"
#include "storage/store.h"

#define PROJECT "p-pitr"
#define SRC	"11111111-1111-1111-1111-111111111111"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_min_level = LOG_LEVEL_ERROR;
	scratch_db_create(dir, "pitr");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_db_remove(dir);
	return 0;
}

static void test_time_format(void **state)
{
	(void)state;
	long long t = 0;
	assert_true(instance_pitr_parse_time("2026-12-07T03:14:15Z", &t));
	assert_int_equal(t, 1796613255LL);
	assert_true(instance_pitr_parse_time("2026-12-07T03:14:15", &t));
	assert_int_equal(t, 1796613255LL);
	assert_true(instance_pitr_parse_time("2026-12-07T03:14:15+00:00", &t));
	assert_int_equal(t, 1796613255LL);
	static const char *const bad[] = {
		"",
		"2026-12-07",
		"2026-12-07 03:14:15",
		"2026-12-07T03:14:15.5Z",
		"2026-02-30T00:00:00Z",
		"2026-12-07T24:00:00Z",
		"2026-12-07T03:14:15+01:00",
		"2026-12-07T03:14:1xZ",
		"+026-12-07T03:14:15Z",
		"2026-12-07T03:14:15Zjunk",
		"yesterday",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t = 42;
		assert_false(instance_pitr_parse_time(bad[i], &t));
		assert_int_equal(t, 42);
	}
	assert_false(instance_pitr_parse_time(NULL, &t));
}

static void seed_instance(const char *id, int task_id, int deleted)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "INSERT INTO instances (id, created, name, task_id, tenant_id, deleted)"
		 " VALUES ('%s', '2026-12-01 00:00:00', 'n', %d, '" PROJECT "', %d)",
		 id, task_id, deleted);
	scratch_db_exec(sql);
}

static struct archive_row archive(const char *id)
{
	struct archive_row a = {0};
	snprintf(a.instance_id, sizeof a.instance_id, "%s", id);
	snprintf(a.tenant_id, sizeof a.tenant_id, PROJECT);
	snprintf(a.datastore, sizeof a.datastore, "mariadb");
	snprintf(a.prefix, sizeof a.prefix, "database_backups/archive/%s/", id);
	snprintf(a.encrypted_key, sizeof a.encrypted_key, "sealed-%s", id);
	return a;
}

static int update_archive(const char *json)
{
	struct ct_error err = {0};
	json_t *args = json_loads(json, 0, NULL);
	assert_non_null(args);
	int rc = conductor_update_archive(args, &err);
	json_decref(args);
	return rc ? err.status : 0;
}

static void test_archive_rows_and_reports(void **state)
{
	(void)state;
	struct ct_error err = {0};
	seed_instance(SRC, 1, 0);
	struct archive_row a = archive(SRC);
	assert_int_equal(archive_ensure(&a, &err), 1);
	snprintf(a.encrypted_key, sizeof a.encrypted_key, "another");
	assert_int_equal(archive_ensure(&a, &err), 0); /* the first key is kept */
	struct archive_row got;
	assert_int_equal(archive_load(SRC, PROJECT, &got, &err), 1);
	assert_string_equal(got.encrypted_key, "sealed-" SRC);
	assert_false(got.has_archived_until);
	assert_int_equal(archive_load(SRC, "other-project", &got, &err), 0);
	assert_int_equal(archive_load("nope", NULL, &got, &err), 0);

	long long now = (long long)time(NULL);
	char json[512];
	/* Nothing shipped yet: recorded without a window. */
	assert_int_equal(update_archive("{\"instance_id\": \"" SRC "\", \"archived_until\": 0,"
					" \"last_seq\": 0, \"gap\": null}"),
			 0);
	assert_int_equal(archive_load(SRC, NULL, &got, &err), 1);
	assert_false(got.has_archived_until);
	snprintf(json, sizeof json,
		 "{\"instance_id\": \"" SRC "\", \"archived_until\": %lld, \"last_seq\": 7}",
		 now - 10);
	assert_int_equal(update_archive(json), 0);
	/* A late report cannot move the window back. */
	snprintf(json, sizeof json,
		 "{\"instance_id\": \"" SRC "\", \"archived_until\": %lld, \"last_seq\": 5}",
		 now - 100);
	assert_int_equal(update_archive(json), 0);
	assert_int_equal(archive_load(SRC, NULL, &got, &err), 1);
	assert_int_equal(got.archived_until, now - 10);
	assert_int_equal(got.last_seq, 7);

	/* Bad arguments: 400 and no change. */
	static const char *const bad[] = {
		"{\"instance_id\": \"" SRC "\", \"archived_until\": \"soon\", \"last_seq\": 8}",
		"{\"instance_id\": \"" SRC "\", \"archived_until\": 1.5, \"last_seq\": 8}",
		"{\"instance_id\": \"" SRC "\", \"archived_until\": 99999999999, \"last_seq\": 8}",
		"{\"instance_id\": \"" SRC "\", \"archived_until\": 1800000000, \"last_seq\": -2}",
		"{\"instance_id\": \"" SRC "\", \"archived_until\": 1800000000, \"last_seq\": 8,"
		" \"gap\": 3}",
		"{\"instance_id\": \"" SRC "\", \"archived_until\": 1800000000, \"last_seq\": 8,"
		" \"gap\": \"\"}",
		"{\"archived_until\": 1800000000, \"last_seq\": 8}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(update_archive(bad[i]), 400);
	assert_int_equal(archive_load(SRC, NULL, &got, &err), 1);
	assert_int_equal(got.last_seq, 7);
	/* An instance without an archive: 404. */
	assert_int_equal(update_archive("{\"instance_id\": \"no-archive\", \"archived_until\": 0,"
					" \"last_seq\": 0}"),
			 404);

	/* A gap is one fault on the instance, however often it is reported... */
	snprintf(json, sizeof json,
		 "{\"instance_id\": \"" SRC "\", \"archived_until\": %lld, \"last_seq\": 8,"
		 " \"gap\": \"mariadb-bin.000003 was purged before it was shipped\"}",
		 now - 5);
	assert_int_equal(update_archive(json), 0);
	assert_int_equal(update_archive(json), 0);
	assert_string_equal(scratch_db_text("SELECT count(*) || ' ' || message FROM instance_faults"
					    " WHERE instance_id = '" SRC "' AND deleted = 0"),
			    "1 mariadb-bin.000003 was purged before it was shipped");
	assert_int_equal(archive_load(SRC, NULL, &got, &err), 1);
	assert_string_equal(got.gap, "mariadb-bin.000003 was purged before it was shipped");
	/* ... cleared when shipping resumes without one. */
	snprintf(json, sizeof json,
		 "{\"instance_id\": \"" SRC "\", \"archived_until\": %lld, \"last_seq\": 9,"
		 " \"gap\": null}",
		 now - 1);
	assert_int_equal(update_archive(json), 0);
	assert_string_equal(scratch_db_text("SELECT count(*) FROM instance_faults"
					    " WHERE instance_id = '" SRC "' AND deleted = 0"),
			    "0");
	assert_int_equal(archive_load(SRC, NULL, &got, &err), 1);
	assert_string_equal(got.gap, "");
	assert_int_equal(got.archived_until, now - 1);
}

static void seed_backup(const char *id, const char *state, long long consistent, int deleted)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "INSERT INTO backups (id, name, state, instance_id, tenant_id, deleted, created,"
		 " updated, backup_type) VALUES ('%s', 'n', '%s', '" SRC "', '" PROJECT "', %d,"
		 " '2026-12-01 00:00:00', '2026-12-01 00:00:00', 'full')",
		 id, state, deleted);
	scratch_db_exec(sql);
	if (consistent) {
		snprintf(sql, sizeof sql,
			 "UPDATE backups SET ctrove_consistent_time = %lld WHERE id = '%s'",
			 consistent, id);
		scratch_db_exec(sql);
	}
}

static void test_window_and_base_backup(void **state)
{
	(void)state;
	struct ct_error err = {0};
	long long from, to;
	char id[37];
	long long consistent;
	long long now = (long long)time(NULL);
	/* Reported by the guest's final update_backup. */
	seed_backup("b-old", "BUILDING", 0, 0);
	char json[512];
	snprintf(json, sizeof json,
		 "{\"instance_id\": \"" SRC "\", \"backup_id\": \"b-old\", \"state\":"
		 " \"COMPLETED\", \"consistent_time\": %lld}",
		 now - 500);
	json_t *args = json_loads(json, 0, NULL);
	assert_int_equal(conductor_update_backup(args, &err), 0);
	json_decref(args);
	args = json_loads("{\"instance_id\": \"" SRC "\", \"backup_id\": \"b-old\","
			  " \"consistent_time\": \"noon\"}",
			  0, NULL);
	assert_int_equal(conductor_update_backup(args, &err), -1);
	assert_int_equal(err.status, 400);
	json_decref(args);
	seed_backup("b-mid", "COMPLETED", now - 300, 0);
	seed_backup("b-failed", "FAILED", now - 200, 0);
	seed_backup("b-deleted", "COMPLETED", now - 150, 1);
	seed_backup("b-none", "COMPLETED", 0, 0); /* no consistent_time: never a base */

	assert_int_equal(instance_pitr_window(SRC, &from, &to, &err), 1);
	assert_int_equal(from, now - 500);
	assert_int_equal(to, now - 1); /* from the previous test's report */
	assert_int_equal(archive_base_backup(SRC, now - 100, id, &consistent, &err), 1);
	assert_string_equal(id, "b-mid");
	assert_int_equal(consistent, now - 300);
	assert_int_equal(archive_base_backup(SRC, now - 300, id, &consistent, &err), 1);
	assert_string_equal(id, "b-mid");
	assert_int_equal(archive_base_backup(SRC, now - 301, id, &consistent, &err), 1);
	assert_string_equal(id, "b-old");
	assert_int_equal(archive_base_backup(SRC, now - 501, id, &consistent, &err), 0);

	/* The source deleted: its rows and its window stay. */
	scratch_db_exec("UPDATE instances SET deleted = 1 WHERE id = '" SRC "'");
	assert_int_equal(instance_pitr_window(SRC, &from, &to, &err), 1);
	assert_int_equal(from, now - 500);
	/* No archive, or no backup: no window. */
	assert_int_equal(instance_pitr_window("nope", &from, &to, &err), 0);
	seed_instance("22222222-2222-2222-2222-222222222222", 1, 0);
	struct archive_row a = archive("22222222-2222-2222-2222-222222222222");
	assert_int_equal(archive_ensure(&a, &err), 1);
	assert_int_equal(instance_pitr_window(a.instance_id, &from, &to, &err), 0);
}

static void test_sweeper_candidates(void **state)
{
	(void)state;
	struct ct_error err = {0};
	seed_instance("33333333-3333-3333-3333-333333333333", 5, 0); /* building */
	seed_instance("44444444-4444-4444-4444-444444444444", 1, 0); /* no archive yet */
	struct archive_candidate *c = NULL;
	size_t n = 0;
	assert_int_equal(archive_candidates(&c, &n, &err), 0);
	/* 2222 (archive) and 4444 (none); not the deleted 1111 nor the building 3333. */
	assert_int_equal(n, 2);
	int with_row = 0, without = 0;
	for (size_t i = 0; i < n; i++) {
		assert_string_not_equal(c[i].instance_id, SRC);
		assert_string_not_equal(c[i].instance_id, "33333333-3333-3333-3333-333333333333");
		if (c[i].has_row)
			with_row++;
		else
			without++;
	}
	assert_int_equal(with_row, 1);
	assert_int_equal(without, 1);
	free(c);
	assert_int_equal(archive_set_started("22222222-2222-2222-2222-222222222222", 1234, &err),
			 0);
	struct archive_row got;
	assert_int_equal(archive_load("22222222-2222-2222-2222-222222222222", NULL, &got, &err), 1);
	assert_int_equal(got.started_at, 1234);
}

/* The wire forms of the PITR contract: start_archiving's archive_info and
 * prepare's backup_info.restore_point. */
static void test_wire_forms(void **state)
{
	(void)state;
	struct store_access access = {0};
	snprintf(access.kind, sizeof access.kind, "local");
	snprintf(access.backups_dir, sizeof access.backups_dir, "/srv/backups");
	const struct guest_archive_request a = {.prefix = "database_backups/archive/i-1/",
						.encryption_key = "a2V5",
						.store = &access,
						.interval = 1};
	json_t *j = guest_archive_request_to_json(&a);
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text, "{\"encryption_key\":\"a2V5\",\"interval\":1,\"prefix\":"
				  "\"database_backups/archive/i-1/\",\"store\":{\"backups_dir\":"
				  "\"/srv/backups\",\"kind\":\"local\"}}");
	free(text);
	json_decref(j);

	const struct guest_backup_link link = {.id = "b-1",
					       .location = "database_backups/b-1.xbstream.zst.enc",
					       .checksum = "00",
					       .backup_type = "full",
					       .encryption_key = "azE="};
	const struct guest_restore_point point = {.time = 1796613255LL,
						  .archive_prefix = "database_backups/archive/i-1/",
						  .encryption_key = "a2V5"};
	struct guest_restore_info r = {.id = "b-1",
				       .instance_id = "i-1",
				       .location = link.location,
				       .type = "full",
				       .checksum = "00",
				       .chain = &link,
				       .n_chain = 1,
				       .store = &access};
	j = guest_restore_info_to_json(&r);
	assert_null(json_object_get(j, "restore_point")); /* a plain restore: as before */
	json_decref(j);
	r.restore_point = &point;
	j = guest_restore_info_to_json(&r);
	text = json_dumps(json_object_get(j, "restore_point"), JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text, "{\"archive\":{\"encryption_key\":\"a2V5\",\"prefix\":"
				  "\"database_backups/archive/i-1/\"},\"time\":1796613255}");
	free(text);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "b-1");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_wire_forms),
		cmocka_unit_test(test_archive_rows_and_reports),
		cmocka_unit_test(test_window_and_base_backup),
		cmocka_unit_test(test_sweeper_candidates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
