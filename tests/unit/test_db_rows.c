/*
 * test_db_rows.c — the src/db functions that took over the SQL of the API's
 * instance views, the conductor, the local driver's addresses and `ctrove
 * manage`'s flavor and volume-type associations, on a scratch SQLite
 * database: what each writes, what it leaves alone, and its Trove-shaped
 * errors. Rows are seeded and read back with plain SQL here, never through
 * the function under test.
 */
#include "scratch_db.h"

#include <sqlite3.h>

#include "common/config.h"
#include "common/log.h"
#include "db/addresses.h"
#include "db/datastores.h"
#include "db/guest_reports.h"
#include "db/instance_rows.h"
#include "db/instances.h"
#include "db/replication.h"
#include "db/root_history.h"
#include "db/store.h"

#define PROJECT "p-rows"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_min_level = LOG_LEVEL_ERROR;
	scratch_db_create(dir, "dbrows");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_db_remove(dir);
	return 0;
}

/* The first column of the first row of `sql` as text ("" NULL, "-" no row). */
/* An instance of PROJECT with its service status (code), not deleted. */
static void seed_instance(const char *id, int status)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "INSERT INTO instances (id, created, updated, name, task_id, flavor_id,"
		 " volume_size, tenant_id, server_status, deleted, region_id, encrypted_key)"
		 " VALUES ('%s', '2026-01-01 00:00:%s', '2026-01-01 00:00:00', 'n-%s', 1, '1', 2,"
		 " '" PROJECT "', 'ACTIVE', 0, 'RegionOne', 'key-%s');"
		 "INSERT INTO service_statuses (id, instance_id, status_id, status_description,"
		 " updated_at) VALUES ('s-%s', '%s', %d, 'x', '2026-01-01 00:00:00');",
		 id, id + strlen(id) - 2, id, id, id, id, status);
	scratch_db_exec(sql);
}

static void test_heartbeat_fresh_stale_and_restart_required(void **state)
{
	(void)state;
	struct ct_error err = {0};
	seed_instance("hb-01", SERVICE_NEW);
	struct heartbeat_report r = {.instance_id = "hb-01",
				     .status_id = SERVICE_HEALTHY,
				     .status_description = "healthy",
				     .has_sent = true,
				     .sent = 100.0,
				     .has_volume = true,
				     .volume_used_gb = 0.25,
				     .volume_total_gb = 1.0};
	assert_int_equal(heartbeat_record(&r, &err), 1);
	assert_string_equal(scratch_db_text("SELECT status_id FROM service_statuses"
					    " WHERE instance_id = 'hb-01'"),
			    "33");
	assert_string_equal(scratch_db_text("SELECT used_gb FROM ctrove_volume_usage"
					    " WHERE instance_id = 'hb-01'"),
			    "0.25");
	double used = 0;
	assert_int_equal(volume_usage_recent("hb-01", 60, &used, &err), 1);
	assert_true(used == 0.25);

	/* Not newer than the last one seen: nothing changes. */
	r.status_id = SERVICE_SHUTDOWN;
	r.status_description = "shutdown";
	r.volume_used_gb = 0.5;
	assert_int_equal(heartbeat_record(&r, &err), 0);
	assert_string_equal(scratch_db_text("SELECT status_id FROM service_statuses"
					    " WHERE instance_id = 'hb-01'"),
			    "33");
	assert_string_equal(scratch_db_text("SELECT used_gb FROM ctrove_volume_usage"
					    " WHERE instance_id = 'hb-01'"),
			    "0.25");

	/* RESTART_REQUIRED sticks; the volume figures still move. */
	scratch_db_exec("UPDATE service_statuses SET status_id = 32 WHERE instance_id = 'hb-01'");
	r.sent = 101.0;
	assert_int_equal(heartbeat_record(&r, &err), 1);
	assert_string_equal(scratch_db_text("SELECT status_id FROM service_statuses"
					    " WHERE instance_id = 'hb-01'"),
			    "32");
	assert_string_equal(scratch_db_text("SELECT used_gb FROM ctrove_volume_usage"
					    " WHERE instance_id = 'hb-01'"),
			    "0.5");

	/* Without `sent` a report is always fresh; without volume figures the
	 * last ones stay. */
	scratch_db_exec("UPDATE service_statuses SET status_id = 33 WHERE instance_id = 'hb-01'");
	struct heartbeat_report bare = {.instance_id = "hb-01",
					.status_id = SERVICE_SHUTDOWN,
					.status_description = "shutdown"};
	assert_int_equal(heartbeat_record(&bare, &err), 1);
	assert_string_equal(scratch_db_text("SELECT status_id FROM service_statuses"
					    " WHERE instance_id = 'hb-01'"),
			    "4");
	assert_string_equal(scratch_db_text("SELECT used_gb FROM ctrove_volume_usage"
					    " WHERE instance_id = 'hb-01'"),
			    "0.5");
}

static void test_volume_usage_age_and_forget(void **state)
{
	(void)state;
	struct ct_error err = {0};
	scratch_db_exec(
		"INSERT INTO ctrove_volume_usage (instance_id, used_gb, total_gb, updated_at)"
		" VALUES ('vu-old', 0.1, 1, '2000-01-01 00:00:00')");
	double used = -1;
	assert_int_equal(volume_usage_recent("vu-old", 60, &used, &err), 0);
	assert_true(used == -1);
	assert_int_equal(volume_usage_recent("vu-none", 60, &used, &err), 0);
	assert_int_equal(volume_usage_forget("vu-old", &err), 0);
	assert_string_equal(scratch_db_text("SELECT count(*) FROM ctrove_volume_usage"
					    " WHERE instance_id = 'vu-old'"),
			    "0");
}

static void test_backup_report(void **state)
{
	(void)state;
	struct ct_error err = {0};
	scratch_db_exec("INSERT INTO backups (id, name, state, instance_id, location, deleted)"
			" VALUES ('b-1', 'b', 'NEW', 'bk-01', 'somewhere', 0)");
	struct backup_report r = {.instance_id = "bk-01",
				  .backup_id = "b-1",
				  .has_sent = true,
				  .sent = 5,
				  .state = "COMPLETED",
				  .has_size = true,
				  .size = 1.5};
	assert_int_equal(backup_report_record(&r, &err), 1);
	assert_string_equal(
		scratch_db_text("SELECT state || ' ' || location || ' ' || size FROM backups"
				" WHERE id = 'b-1'"),
		"COMPLETED somewhere 1.5");
	r.state = "FAILED";
	assert_int_equal(backup_report_record(&r, &err), 0); /* same `sent`: stale */
	assert_string_equal(scratch_db_text("SELECT state FROM backups WHERE id = 'b-1'"),
			    "COMPLETED");

	/* Another instance's backup: 404, and its `sent` is not recorded. */
	struct backup_report other = {.instance_id = "bk-02",
				      .backup_id = "b-1",
				      .has_sent = true,
				      .sent = 9,
				      .state = "DELETED"};
	assert_int_equal(backup_report_record(&other, &err), -1);
	assert_int_equal(err.status, 404);
	assert_string_equal(scratch_db_text("SELECT state FROM backups WHERE id = 'b-1'"),
			    "COMPLETED");
	assert_string_equal(scratch_db_text("SELECT count(*) FROM conductor_lastseen"
					    " WHERE instance_id = 'bk-02'"),
			    "0");
}

static void test_root_history_keeps_the_first(void **state)
{
	(void)state;
	struct ct_error err = {0};
	bool enabled = true;
	assert_int_equal(root_history_enabled("rh-01", &enabled, &err), 0);
	assert_false(enabled);
	assert_int_equal(root_history_record("rh-01", "alice", &err), 0);
	assert_int_equal(root_history_record("rh-01", "bob", &err), 0);
	assert_int_equal(root_history_record("rh-02", NULL, &err), 0);
	assert_int_equal(root_history_enabled("rh-01", &enabled, &err), 0);
	assert_true(enabled);
	assert_string_equal(
		scratch_db_text("SELECT user FROM root_enabled_history WHERE id = 'rh-01'"),
		"alice");
	assert_string_equal(scratch_db_text("SELECT user IS NULL FROM root_enabled_history"
					    " WHERE id = 'rh-02'"),
			    "1");
}

static void test_addresses_claim_is_decided_by_the_table(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char out[ADDRESS_TEXT_MAX] = "";
	assert_int_equal(addresses_find("ad-a", out, &err), 0);
	assert_int_equal(addresses_claim("127.9.0.1", "ad-a", &err), 1);
	assert_int_equal(addresses_claim("127.9.0.1", "ad-b", &err), 0); /* address taken */
	assert_int_equal(addresses_claim("127.9.0.2", "ad-a", &err), 0); /* instance has one */
	assert_int_equal(addresses_claim("127.9.0.2", "ad-b", &err), 1);
	assert_int_equal(addresses_find("ad-b", out, &err), 1);
	assert_string_equal(out, "127.9.0.2");
	char(*all)[ADDRESS_TEXT_MAX] = NULL;
	size_t n = 0;
	assert_int_equal(addresses_list(&all, &n, &err), 0);
	assert_int_equal(n, 2);
	free(all);
	assert_int_equal(addresses_release("ad-a", &err), 0);
	assert_int_equal(addresses_release("ad-a", &err), 0); /* none left: still fine */
	assert_int_equal(addresses_find("ad-a", out, &err), 0);
	assert_int_equal(addresses_claim("127.9.0.1", "ad-c", &err), 1);
}

/* A cloud's port address: set (kept when the same, moved when another),
 * refused when another instance holds it, and never longer than IPv4. */
static void test_addresses_set_records_a_cloud_address(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char out[ADDRESS_TEXT_MAX] = "";
	assert_int_equal(addresses_set("as-a", "10.1.0.5", &err), 0);
	assert_int_equal(addresses_set("as-a", "10.1.0.5", &err), 0);
	assert_int_equal(addresses_find("as-a", out, &err), 1);
	assert_string_equal(out, "10.1.0.5");
	assert_int_equal(addresses_set("as-a", "10.1.0.6", &err), 0);
	assert_int_equal(addresses_find("as-a", out, &err), 1);
	assert_string_equal(out, "10.1.0.6");
	assert_int_equal(addresses_set("as-b", "10.1.0.6", &err), -1);
	assert_int_equal(err.status, 409);
	assert_int_equal(addresses_find("as-b", out, &err), 0);
	assert_int_equal(addresses_set("as-b", "fd00:1234:5678::1", &err), -1);
	assert_int_equal(addresses_find("as-b", out, &err), 0);
	assert_int_equal(addresses_release("as-a", &err), 0);
}

static void test_version_metadata(void **state)
{
	(void)state;
	struct ct_error err = {0};
	scratch_db_exec("INSERT INTO datastores (id, name) VALUES ('ds-m', 'm');"
			"INSERT INTO datastore_versions (id, datastore_id, name, manager, active)"
			" VALUES ('dsv-m', 'ds-m', '1', 'mysql', 1)");
	assert_int_equal(dsv_metadata_add("dsv-m", "volume_type", "ssd", &err), 0);
	assert_int_equal(dsv_metadata_add("dsv-m", "volume_type", "hdd", &err), 0);
	assert_int_equal(dsv_metadata_add("dsv-m", "flavor", "7", &err), 0);
	assert_int_equal(dsv_metadata_add("dsv-m", "volume_type", "ssd", &err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.message, "volume_type ssd is already associated.");
	char(*names)[256] = NULL;
	size_t n = 0;
	assert_int_equal(dsv_volume_types("dsv-m", &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "hdd");
	assert_string_equal(names[1], "ssd");
	free(names);
	assert_int_equal(dsv_metadata_remove("dsv-m", "volume_type", "ssd", &err), 0);
	assert_int_equal(dsv_metadata_remove("dsv-m", "volume_type", "ssd", &err), -1);
	assert_int_equal(err.status, 404);
	assert_string_equal(err.message, "volume_type ssd is not associated.");
	assert_int_equal(dsv_metadata_remove("dsv-m", "flavor", "hdd", &err), -1);
	assert_int_equal(dsv_volume_types("dsv-m", &names, &n, &err), 0);
	assert_int_equal(n, 1);
	free(names);
	/* A removed association comes back as the same row. */
	assert_int_equal(dsv_metadata_add("dsv-m", "volume_type", "ssd", &err), 0);
	assert_string_equal(scratch_db_text("SELECT count(*) FROM datastore_version_metadata"
					    " WHERE value = 'ssd'"),
			    "1");
	char(*flavors)[256] = NULL;
	assert_int_equal(dsv_flavor_ids("dsv-m", &flavors, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(flavors[0], "7");
	free(flavors);
}

struct seen {
	char ids[8][37];
	int count;
	int fail_at; /* -1 never */
};

static int collect(void *ctx, const struct instance_row *row, struct ct_error *err)
{
	struct seen *s = ctx;
	if (s->count == s->fail_at)
		return ct_fail(err, 500, "stop here");
	snprintf(s->ids[s->count++], 37, "%s", row->id);
	return 0;
}

static int check_joined(void *ctx, const struct instance_row *row, struct ct_error *err)
{
	(void)ctx;
	(void)err;
	assert_string_equal(row->id, "ir-02");
	assert_string_equal(row->name, "n-ir-02");
	assert_string_equal(row->address, "127.9.1.2");
	assert_string_equal(row->encrypted_key, "key-ir-02");
	assert_null(row->access);
	assert_null(row->datastore); /* no version: NULL, not "" */
	assert_int_equal(row->service_status, SERVICE_HEALTHY);
	assert_int_equal(row->volume_size, 2);
	assert_true(row->backup_running);
	assert_string_equal(row->service_updated, "2026-01-01 00:00:00");
	return 0;
}

static void test_instance_rows(void **state)
{
	(void)state;
	struct ct_error err = {0};
	seed_instance("ir-01", SERVICE_HEALTHY);
	seed_instance("ir-02", SERVICE_HEALTHY);
	seed_instance("ir-03", SERVICE_HEALTHY);
	scratch_db_exec(
		"INSERT INTO ctrove_addresses (address, instance_id) VALUES ('127.9.1.2', 'ir-02');"
		"INSERT INTO backups (id, name, state, instance_id, deleted)"
		" VALUES ('b-ir', 'b', 'BUILDING', 'ir-02', 0)");
	struct seen s = {.fail_at = -1};
	bool more = false;
	assert_int_equal(instance_rows_page(PROJECT, "ir-00", false, 2, collect, &s, &more, &err),
			 0);
	assert_int_equal(s.count, 2);
	assert_string_equal(s.ids[0], "ir-01");
	assert_string_equal(s.ids[1], "ir-02");
	assert_true(more);
	s = (struct seen){.fail_at = -1};
	assert_int_equal(instance_rows_page(PROJECT, "ir-02", false, 2, collect, &s, &more, &err),
			 0);
	assert_int_equal(s.count, 1);
	assert_string_equal(s.ids[0], "ir-03");
	assert_false(more);

	/* A callback's failure stops the walk and is the walk's error. */
	s = (struct seen){.fail_at = 1};
	assert_int_equal(instance_rows_page(PROJECT, "ir-00", false, 5, collect, &s, &more, &err),
			 -1);
	assert_int_equal(err.status, 500);
	assert_string_equal(err.message, "stop here");
	assert_int_equal(s.count, 1);

	assert_int_equal(instance_rows_one(PROJECT, "ir-02", check_joined, NULL, &err), 0);
	s = (struct seen){.fail_at = -1};
	assert_int_equal(instance_rows_one("elsewhere-too", "ir-02", collect, &s, &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(s.count, 0);
	scratch_db_exec("UPDATE instances SET deleted = 1 WHERE id = 'ir-03'");
	assert_int_equal(instance_rows_one(PROJECT, "ir-03", collect, &s, &err), -1);
	assert_int_equal(err.status, 404);
}

static void test_instance_fault_and_key(void **state)
{
	(void)state;
	struct ct_error err = {0};
	seed_instance("fk-01", SERVICE_FAILED);
	struct instance_fault fault;
	assert_int_equal(instance_latest_fault("fk-01", &fault, &err), 0);
	assert_int_equal(instance_add_fault("fk-01", "first", NULL, &err), 0);
	scratch_db_exec("UPDATE instance_faults SET created = '2000-01-01 00:00:00'");
	assert_int_equal(instance_add_fault("fk-01", "second", "trace", &err), 0);
	assert_int_equal(instance_latest_fault("fk-01", &fault, &err), 1);
	assert_string_equal(fault.message, "second");

	char key[64];
	assert_int_equal(instance_encrypted_key("fk-01", key, sizeof key, &err), 1);
	assert_string_equal(key, "key-fk-01");
	char tiny[4];
	assert_int_equal(instance_encrypted_key("fk-01", tiny, sizeof tiny, &err), 0);
	assert_int_equal(instance_encrypted_key("no-such", key, sizeof key, &err), 0);
	scratch_db_exec("UPDATE instances SET encrypted_key = NULL WHERE id = 'fk-01'");
	assert_int_equal(instance_encrypted_key("fk-01", key, sizeof key, &err), 0);
}

static int read_replication(void *ctx, const struct instance_row *row, struct ct_error *err)
{
	(void)err;
	char *out = ctx;
	snprintf(out, 256, "%s|%s|%s", row->replica_of ? row->replica_of : "-",
		 row->replica_ids ? row->replica_ids : "-",
		 row->has_replication_lag ? "lag" : "nolag");
	return 0;
}

static void test_replication_rows(void **state)
{
	(void)state;
	struct ct_error err = {0};
	seed_instance("rp-01", SERVICE_HEALTHY);
	seed_instance("rp-02", SERVICE_HEALTHY);
	seed_instance("rp-03", SERVICE_HEALTHY);
	seed_instance("rp-04", SERVICE_HEALTHY);
	char source[37];
	assert_int_equal(replication_source_of("rp-02", source, &err), 0);
	assert_int_equal(replication_source_of("no-such", source, &err), 0);
	assert_int_equal(replication_set_source("rp-02", "rp-01", &err), 0);
	assert_int_equal(replication_set_source("rp-03", "rp-01", &err), 0);
	assert_int_equal(replication_set_source("rp-04", "rp-01", &err), 0);
	scratch_db_exec("UPDATE instances SET deleted = 1 WHERE id = 'rp-04'");
	assert_string_equal(scratch_db_text("SELECT slave_of_id FROM instances WHERE id = 'rp-02'"),
			    "rp-01");
	assert_int_equal(replication_source_of("rp-02", source, &err), 1);
	assert_string_equal(source, "rp-01");
	char(*ids)[37] = NULL;
	size_t n = 0;
	assert_int_equal(replication_replicas_of("rp-01", &ids, &n, &err), 0);
	assert_int_equal(n, 2); /* the deleted one is not a replica any more */
	assert_string_equal(ids[0], "rp-02");
	assert_string_equal(ids[1], "rp-03");
	free(ids);

	/* The views: replica_of on a replica, replicas on the source, lag once reported. */
	char seen[256];
	assert_int_equal(instance_rows_one(PROJECT, "rp-01", read_replication, seen, &err), 0);
	assert_string_equal(seen, "-|rp-02,rp-03|nolag");
	scratch_db_exec("INSERT INTO ctrove_guest_metrics (instance_id, connections, queries,"
			" queries_per_second, replication_lag, sampled_at, updated_at)"
			" VALUES ('rp-02', 1, 1, 0, 0.5, 0, '2026-01-01 00:00:00')");
	assert_int_equal(instance_rows_one(PROJECT, "rp-02", read_replication, seen, &err), 0);
	assert_string_equal(seen, "rp-01|-|lag");

	/* Promote: rp-02 is the source, rp-01 and rp-03 follow it. */
	assert_int_equal(replication_move_replicas("rp-01", "rp-02", 1, &err), 0);
	assert_int_equal(replication_source_of("rp-02", source, &err), 0);
	assert_int_equal(replication_source_of("rp-01", source, &err), 1);
	assert_string_equal(source, "rp-02");
	assert_int_equal(replication_source_of("rp-03", source, &err), 1);
	assert_string_equal(source, "rp-02");
	/* Eject: rp-03 takes over from a dead rp-02, which follows nobody. */
	assert_int_equal(replication_move_replicas("rp-02", "rp-03", 0, &err), 0);
	assert_int_equal(replication_source_of("rp-03", source, &err), 0);
	assert_int_equal(replication_source_of("rp-02", source, &err), 0);
	assert_int_equal(replication_source_of("rp-01", source, &err), 1);
	assert_string_equal(source, "rp-03");
	/* Detach. */
	assert_int_equal(replication_set_source("rp-01", NULL, &err), 0);
	assert_int_equal(replication_replicas_of("rp-03", &ids, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat_fresh_stale_and_restart_required),
		cmocka_unit_test(test_volume_usage_age_and_forget),
		cmocka_unit_test(test_backup_report),
		cmocka_unit_test(test_root_history_keeps_the_first),
		cmocka_unit_test(test_addresses_claim_is_decided_by_the_table),
		cmocka_unit_test(test_addresses_set_records_a_cloud_address),
		cmocka_unit_test(test_version_metadata),
		cmocka_unit_test(test_instance_rows),
		cmocka_unit_test(test_replication_rows),
		cmocka_unit_test(test_instance_fault_and_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
