/*
 * test_db_backups.c — src/db/backups.c on a scratch SQLite database: the
 * backups quota and the running check taken in one transaction, chains and
 * descendants, failing running backups (reset_status, backup_timeout),
 * soft-delete giving the quota back, and which backup strategy's container
 * wins. Rows are seeded and read back with plain SQL.
 */
#include "scratch_db.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "common/log.h"
#include "db/backups.h"
#include "db/store.h"

#define PROJECT "p-bk"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_min_level = LOG_LEVEL_ERROR;
	scratch_db_create(dir, "dbbackups");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_db_remove(dir);
	return 0;
}

static struct backup_row row(const char *id, const char *instance, const char *parent)
{
	struct backup_row b = {0};
	snprintf(b.id, sizeof b.id, "%s", id);
	snprintf(b.name, sizeof b.name, "n-%s", id);
	snprintf(b.backup_type, sizeof b.backup_type, "%s", parent ? "incremental" : "full");
	snprintf(b.tenant_id, sizeof b.tenant_id, PROJECT);
	snprintf(b.instance_id, sizeof b.instance_id, "%s", instance);
	snprintf(b.parent_id, sizeof b.parent_id, "%s", parent ? parent : "");
	snprintf(b.encrypted_key, sizeof b.encrypted_key, "sealed-%s", id);
	return b;
}

static void test_insert_quota_and_running(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct backup_row a = row("b-a", "i-1", NULL);
	assert_int_equal(backup_insert(&a, 2, &err), 0);
	assert_string_equal(
		scratch_db_text("SELECT state || ' ' || ctrove_encrypted_key FROM backups"
				" WHERE id = 'b-a'"),
		"NEW sealed-b-a");
	assert_string_equal(
		scratch_db_text("SELECT in_use FROM quota_usages WHERE tenant_id = '" PROJECT
				"' AND resource = 'backups'"),
		"1");
	/* A second backup of the instance while one runs: 422, nothing written. */
	struct backup_row b = row("b-b", "i-1", NULL);
	assert_int_equal(backup_insert(&b, 2, &err), -1);
	assert_int_equal(err.status, 422);
	assert_string_equal(scratch_db_text("SELECT count(*) FROM backups"), "1");
	assert_string_equal(
		scratch_db_text("SELECT in_use FROM quota_usages WHERE resource = 'backups'"), "1");
	assert_int_equal(backup_running_for("i-1", &err), 1);
	/* reset_status fails it; then the quota (2) allows one more, not two. */
	assert_int_equal(backup_fail_running("i-1", 0, &err), 1);
	assert_int_equal(backup_running_for("i-1", &err), 0);
	assert_int_equal(backup_insert(&b, 2, &err), 0);
	scratch_db_exec("UPDATE backups SET state = 'COMPLETED' WHERE id = 'b-b'");
	struct backup_row c = row("b-c", "i-1", NULL);
	assert_int_equal(backup_insert(&c, 2, &err), -1);
	assert_int_equal(err.status, 413);
	assert_string_equal(err.message, "Quota exceeded for resources: ['backups'].");
	/* Deleting gives the quota back and hides the row. */
	assert_int_equal(backup_mark_deleted("b-a", &err), 0);
	assert_string_equal(
		scratch_db_text("SELECT in_use FROM quota_usages WHERE resource = 'backups'"), "1");
	struct backup_row out;
	assert_int_equal(backup_load("b-a", NULL, &out, &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(backup_load("b-b", "another", &out, &err), -1);
	assert_int_equal(backup_load("b-b", PROJECT, &out, &err), 0);
	assert_string_equal(out.state, "COMPLETED");
	scratch_db_exec("DELETE FROM backups; DELETE FROM quota_usages");
}

static void test_chain_and_descendants(void **state)
{
	(void)state;
	struct ct_error err = {0};
	scratch_db_exec(
		"INSERT INTO backups (id, name, state, instance_id, tenant_id, deleted, updated,"
		" parent_id) VALUES"
		" ('f', 'f', 'COMPLETED', 'i-2', '" PROJECT "', 0, '2026-01-01 00:00:01', NULL),"
		" ('i1', 'i1', 'COMPLETED', 'i-2', '" PROJECT "', 0, '2026-01-01 00:00:02', 'f'),"
		" ('i2', 'i2', 'COMPLETED', 'i-2', '" PROJECT "', 0, '2026-01-01 00:00:03', 'i1'),"
		" ('x', 'x', 'COMPLETED', 'i-2', '" PROJECT "', 0, '2026-01-01 00:00:04', 'f'),"
		" ('gone', 'g', 'COMPLETED', 'i-2', '" PROJECT "', 1, '2026-01-01 00:00:05', 'f')");
	struct backup_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(backup_chain("i2", &rows, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].id, "f");
	assert_string_equal(rows[1].id, "i1");
	assert_string_equal(rows[2].id, "i2");
	free(rows);
	assert_int_equal(backup_descendants("f", &rows, &n, &err), 0);
	assert_int_equal(n, 3); /* i1, x and i2, deepest first; not the deleted one */
	assert_string_equal(rows[0].id, "i2");
	free(rows);
	struct backup_row latest;
	assert_int_equal(backup_latest_completed("i-2", &latest, &err), 1);
	assert_string_equal(latest.id, "x");
	/* A chain with a deleted link cannot be restored: 404. */
	scratch_db_exec("UPDATE backups SET deleted = 1 WHERE id = 'i1'");
	assert_int_equal(backup_chain("i2", &rows, &n, &err), -1);
	assert_int_equal(err.status, 404);
	/* Pages: updated descending, from an offset. */
	struct backup_filter f = {.project = PROJECT, .instance_id = "i-2"};
	assert_int_equal(backup_page(&f, 1, 2, &rows, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].id, "i2");
	assert_string_equal(rows[1].id, "f");
	free(rows);
	scratch_db_exec("DELETE FROM backups");
}

static void test_timeout_fails_only_old_running_backups(void **state)
{
	(void)state;
	struct ct_error err = {0};
	scratch_db_exec(
		"INSERT INTO backups (id, name, state, instance_id, tenant_id, deleted, updated)"
		" VALUES ('old', 'o', 'BUILDING', 'i-3', 't', 0, datetime('now', '-2 hours')),"
		" ('new', 'n', 'NEW', 'i-4', 't', 0, datetime('now')),"
		" ('done', 'd', 'COMPLETED', 'i-5', 't', 0, datetime('now', '-2 hours'))");
	assert_int_equal(backup_fail_running(NULL, 3600, &err), 1);
	assert_string_equal(scratch_db_text("SELECT group_concat(id || '=' || state, ',') FROM"
					    " (SELECT id, state FROM backups ORDER BY id)"),
			    "done=COMPLETED,new=NEW,old=FAILED");
	scratch_db_exec("DELETE FROM backups");
}

static void test_strategy_container_precedence(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char out[256];
	assert_int_equal(backup_strategy_container(PROJECT, "i-9", out, sizeof out, &err), 0);
	struct backup_strategy s = {.tenant_id = PROJECT,
				    .instance_id = "",
				    .backend = "swift",
				    .swift_container = "proj"};
	assert_int_equal(backup_strategy_put(&s, &err), 0);
	assert_int_equal(backup_strategy_container(PROJECT, "i-9", out, sizeof out, &err), 1);
	assert_string_equal(out, "proj");
	struct backup_strategy i = {.tenant_id = PROJECT,
				    .instance_id = "i-9",
				    .backend = "swift",
				    .swift_container = "inst"};
	assert_int_equal(backup_strategy_put(&i, &err), 0);
	snprintf(i.swift_container, sizeof i.swift_container, "inst2");
	assert_int_equal(backup_strategy_put(&i, &err), 0); /* upsert */
	assert_int_equal(backup_strategy_container(PROJECT, "i-9", out, sizeof out, &err), 1);
	assert_string_equal(out, "inst2");
	assert_string_equal(scratch_db_text("SELECT count(*) FROM backup_strategy"), "2");
	assert_int_equal(backup_strategy_delete(PROJECT, "i-9", &err), 0);
	assert_int_equal(backup_strategy_container(PROJECT, "i-9", out, sizeof out, &err), 1);
	assert_string_equal(out, "proj");
	assert_int_equal(backup_strategy_container("other", "i-9", out, sizeof out, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_quota_and_running),
		cmocka_unit_test(test_chain_and_descendants),
		cmocka_unit_test(test_timeout_fails_only_old_running_backups),
		cmocka_unit_test(test_strategy_container_precedence),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
