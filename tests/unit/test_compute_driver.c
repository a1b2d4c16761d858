/*
 * test_compute_driver.c — compute/driver.h and guest/datastore_hooks.h: the
 * configured driver is found by name and an unknown one is a clear error, the
 * local driver's table (capabilities, the slots it fills and the ones it
 * leaves NULL, which answer 501), and the per-datastore hooks (port, service
 * user, config rendering) with an unknown manager refused.
 */
#include "testutil.h"

#include "common/config.h"
#include "compute/driver.h"
#include "guest/datastore_hooks.h"

static int setup(void **state)
{
	(void)state;
	cfg_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cfg_free();
	return 0;
}

static void test_default_is_local(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_string_equal(cfg_str(CFG_COMPUTE_DRIVER), "local");
	const struct compute_driver *d = compute_driver_current(&err);
	assert_non_null(d);
	assert_ptr_equal(d, compute_driver_find("local"));
	assert_string_equal(d->name, "local");
	assert_false(d->volume_types);
	assert_non_null(d->init);
	assert_non_null(d->create);
	assert_non_null(d->destroy);
	assert_non_null(d->agent_alive);
	assert_non_null(d->ensure_running);
	assert_non_null(d->set_access);
}

static void test_unknown_driver_is_an_error(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_null(compute_driver_find("xen"));
	assert_null(compute_driver_find(""));
	assert_null(compute_driver_find(NULL));
	assert_int_equal(cfg_set(CFG_COMPUTE_DRIVER, "xen", &err), 0);
	assert_null(compute_driver_current(&err));
	assert_int_equal(err.status, 500);
	assert_string_equal(err.message, "Unknown compute_driver 'xen' (ctrove has: local, nova).");
	/* The cloud driver is a row of the table, with the mandatory slots. */
	const struct compute_driver *nova = compute_driver_find("nova");
	assert_non_null(nova);
	assert_true(nova->volume_types);
	assert_non_null(nova->init);
	assert_non_null(nova->create);
	assert_non_null(nova->destroy);
	assert_non_null(nova->agent_alive);
	assert_non_null(nova->ensure_running);
	assert_non_null(nova->set_access);
	assert_non_null(nova->resize_volume);
	/* Fencing is the local driver's only: the wrappers answer 501. */
	assert_int_equal(compute_fence(nova, "i1", &err), -1);
	assert_int_equal(err.status, 501);
}

static void test_missing_slots_answer_501(void **state)
{
	(void)state;
	struct ct_error err = {0};
	/* A driver without the optional slots: the wrappers answer for it. */
	struct compute_driver bare = *compute_driver_find("local");
	bare.resize_volume = NULL;
	bare.resize_flavor = NULL;
	assert_int_equal(compute_resize_volume(&bare, "i1", 2, &err), -1);
	assert_int_equal(err.status, 501);
	assert_string_equal(
		err.message,
		"Resizing a volume is not implemented by the local compute driver yet.");
	assert_int_equal(compute_resize_flavor(&bare, "i1", "d2", 1024, &err), -1);
	assert_int_equal(err.status, 501);
	const struct compute_driver *d = compute_driver_find("local");
	assert_int_equal(compute_attach_storage(d, "i1", "s1", &err), -1);
	assert_int_equal(err.status, 501);
	assert_non_null(strstr(err.message, "Attaching storage"));
	bare.fence = NULL;
	bare.unfence = NULL;
	assert_int_equal(compute_fence(&bare, "i1", &err), -1);
	assert_int_equal(err.status, 501);
	assert_string_equal(
		err.message,
		"Fencing an instance is not implemented by the local compute driver yet.");
	assert_int_equal(compute_unfence(&bare, "i1", &err), -1);
	assert_int_equal(err.status, 501);
	/* The local driver fences; a bad id never reaches the file system. */
	assert_non_null(d->fence);
	assert_non_null(d->unfence);
	assert_int_equal(compute_fence(d, "../etc", &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(compute_unfence(d, "../etc", &err), -1);
	assert_int_equal(err.status, 400);
}

static void test_local_resize_refuses_bad_sizes(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const struct compute_driver *d = compute_driver_find("local");
	assert_non_null(d->resize_volume);
	assert_non_null(d->resize_flavor);
	assert_int_equal(compute_resize_volume(d, "i1", 0, &err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.message, "Volume 'size' needs to be a positive integer value, "
					 "0 cannot be accepted.");
	assert_int_equal(compute_resize_flavor(d, "i1", "d2", 0, &err), -1);
	assert_int_equal(err.status, 400);
	/* An id that is no path component never reaches the file system. */
	assert_int_equal(compute_resize_volume(d, "../etc", 2, &err), -1);
	assert_int_equal(err.status, 400);
}

static void test_datastore_hooks(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const struct datastore_hooks *mariadb = datastore_hooks_find("mariadb", &err);
	const struct datastore_hooks *mysql = datastore_hooks_find("mysql", &err);
	const struct datastore_hooks *pg = datastore_hooks_find("postgresql", &err);
	assert_non_null(mariadb);
	assert_non_null(mysql);
	assert_non_null(pg);
	assert_int_equal(mariadb->port, 3306);
	assert_int_equal(mysql->port, 3306);
	assert_int_equal(pg->port, 5432);
	assert_string_equal(mariadb->service_user, "mysql");
	assert_string_equal(pg->service_user, "postgres");
	assert_null(pg->render_config); /* the guest writes PostgreSQL's own */

	char config[8192];
	assert_int_equal(mariadb->render_config("inst-1", 2048, config, sizeof config, &err), 0);
	assert_non_null(strstr(config, "[mysqld]"));
	assert_non_null(strstr(config, "max_connections"));
	/* MySQL on Debian is MariaDB: the same config. */
	char mysql_config[8192];
	assert_int_equal(
		mysql->render_config("inst-1", 2048, mysql_config, sizeof mysql_config, &err), 0);
	assert_string_equal(config, mysql_config);
	assert_int_equal(mariadb->render_config("inst-1", 0, config, sizeof config, &err), -1);
	assert_int_equal(err.status, 400);
}

static void test_unknown_manager_is_an_error(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_null(datastore_hooks_find("mongodb", &err));
	assert_int_equal(err.status, 400);
	assert_string_equal(err.message, "Datastore manager 'mongodb' is not supported by ctrove "
					 "(mariadb, mysql, postgresql).");
	assert_null(datastore_hooks_find("MariaDB", &err));
	assert_null(datastore_hooks_find("", &err));
	assert_null(datastore_hooks_find(NULL, &err));
	assert_int_equal(err.status, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_is_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_driver_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_slots_answer_501, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_resize_refuses_bad_sizes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_datastore_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_manager_is_an_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
