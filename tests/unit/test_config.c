/*
 * test_config.c — common/config.h: defaults, INI files loaded over them (later
 * files winning), typed values, bad values with file-naming errors, lists and
 * sections outside the option table.
 */
#include "testutil.h"

#include "common/config.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	scratch_create(dir, "config");
	cfg_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cfg_free();
	scratch_remove(dir);
	return 0;
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(cfg_int(CFG_BIND_PORT), 8779);
	assert_string_equal(cfg_str(CFG_BIND_PORT), "8779");
	assert_false(cfg_bool(CFG_DEBUG));
	assert_string_equal(cfg_str(CFG_ADMIN_ROLES), "admin");
	assert_string_equal(cfg_str(CFG_DB_CONNECTION), "sqlite:///trove.sqlite");
	assert_int_equal(cfg_int(CFG_MAX_RAM), -1);
	assert_int_equal(cfg_int(CFG_HTTP_GET_RATE), 200);
	assert_int_equal(cfg_int(CFG_MAX_BODY), 114688);
	assert_string_equal(cfg_str(CFG_PUBLIC_ENDPOINT), "");
	assert_string_equal(cfg_lookup("DEFAULT", "control_exchange"), "openstack");
	assert_string_equal(cfg_lookup("default", "control_exchange"), "openstack");
	assert_null(cfg_lookup("DEFAULT", "no_such_option"));
	assert_null(cfg_lookup("mariadb", "docker_image"));
}

static void test_load_over_defaults(void **state)
{
	(void)state;
	char path[512], second[512];
	scratch_write(dir, "trove.conf",
		      "# comment\n"
		      "[DEFAULT]\n"
		      "bind_port = 9001\n"
		      "debug = True\n"
		      "admin_roles = admin, Cloud_Admin ,ops\n"
		      "management_networks = net-1,net-2\n"
		      "\n"
		      "[database]\n"
		      "connection = sqlite:////var/lib/ctrove/trove.sqlite\n"
		      "\n"
		      "[mariadb]\n"
		      "docker_image = mariadb\n"
		      "root_on_create = false\n",
		      path);
	struct ct_error err = {0};
	assert_int_equal(cfg_load(path, &err), 0);
	assert_int_equal(cfg_int(CFG_BIND_PORT), 9001);
	assert_true(cfg_bool(CFG_DEBUG));
	assert_string_equal(cfg_str(CFG_DB_CONNECTION), "sqlite:////var/lib/ctrove/trove.sqlite");
	/* Untouched options keep their defaults. */
	assert_int_equal(cfg_int(CFG_HTTP_POST_RATE), 200);
	assert_string_equal(cfg_str(CFG_TASKMANAGER_QUEUE), "taskmanager");
	/* Options outside the table, any section. */
	assert_string_equal(cfg_lookup("DEFAULT", "management_networks"), "net-1,net-2");
	assert_string_equal(cfg_lookup("mariadb", "docker_image"), "mariadb");
	assert_string_equal(cfg_lookup("MariaDB", "root_on_create"), "false");
	assert_null(cfg_lookup("postgresql", "docker_image"));

	/* A second file wins where it says something. */
	scratch_write(dir, "override.conf",
		      "[DEFAULT]\nbind_port = 9002\n[mariadb]\ndocker_image = mariadb:11.4\n",
		      second);
	assert_int_equal(cfg_load(second, &err), 0);
	assert_int_equal(cfg_int(CFG_BIND_PORT), 9002);
	assert_true(cfg_bool(CFG_DEBUG));
	assert_string_equal(cfg_lookup("mariadb", "docker_image"), "mariadb:11.4");

	/* cfg_reset forgets everything. */
	cfg_reset();
	assert_int_equal(cfg_int(CFG_BIND_PORT), 8779);
	assert_false(cfg_bool(CFG_DEBUG));
	assert_null(cfg_lookup("mariadb", "docker_image"));
}

static void test_bools(void **state)
{
	(void)state;
	static const char *const yes[] = {"true", "True", "YES", "on", "1"};
	static const char *const no[] = {"false", "FALSE", "no", "Off", "0"};
	struct ct_error err = {0};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		assert_int_equal(cfg_set(CFG_DEBUG, yes[i], &err), 0);
		assert_true(cfg_bool(CFG_DEBUG));
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		assert_int_equal(cfg_set(CFG_DEBUG, no[i], &err), 0);
		assert_false(cfg_bool(CFG_DEBUG));
	}
}

static void test_bad_values(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_BIND_PORT, "12ab", &err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.message, "[DEFAULT] bind_port: '12ab' is not an integer");
	assert_int_equal(cfg_set(CFG_BIND_PORT, "", &err), -1);
	assert_int_equal(cfg_set(CFG_BIND_PORT, "99999999999999999999999", &err), -1);
	assert_int_equal(cfg_int(CFG_BIND_PORT), 8779); /* unchanged */
	assert_int_equal(cfg_set(CFG_DEBUG, "maybe", &err), -1);
	assert_string_equal(err.message, "[DEFAULT] debug: 'maybe' is not a boolean");
	assert_false(cfg_bool(CFG_DEBUG));
	assert_int_equal(cfg_set(CFG_MAX_RAM, "-5", &err), 0);
	assert_int_equal(cfg_int(CFG_MAX_RAM), -5);

	char path[512];
	scratch_write(dir, "bad-int.conf", "[DEFAULT]\nhttp_get_rate = lots\n", path);
	assert_int_equal(cfg_load(path, &err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.message, "[DEFAULT] http_get_rate: 'lots' is not an integer");
	assert_int_equal(cfg_int(CFG_HTTP_GET_RATE), 200);

	scratch_write(dir, "bad-bool.conf", "[token]\nexpiration = 60\n[DEFAULT]\ndebug = 2\n",
		      path);
	assert_int_equal(cfg_load(path, &err), -1);
	assert_string_equal(err.message, "[DEFAULT] debug: '2' is not a boolean");

	scratch_write(dir, "syntax.conf", "[DEFAULT]\nbind_port = 1\nthis line is wrong\n", path);
	assert_int_equal(cfg_load(path, &err), -1);
	assert_int_equal(err.status, 400);
	char expected[600];
	snprintf(expected, sizeof expected, "%s:3: syntax error", path);
	assert_string_equal(err.message, expected);

	snprintf(path, sizeof path, "%s/missing.conf", dir);
	assert_int_equal(cfg_load(path, &err), -1);
	snprintf(expected, sizeof expected, "cannot read config file %s", path);
	assert_string_equal(err.message, expected);
}

static void test_list_contains(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_true(cfg_list_contains(CFG_ADMIN_ROLES, "admin"));
	assert_true(cfg_list_contains(CFG_ADMIN_ROLES, "ADMIN"));
	assert_false(cfg_list_contains(CFG_ADMIN_ROLES, "adm"));
	assert_false(cfg_list_contains(CFG_ADMIN_ROLES, "admins"));
	assert_false(cfg_list_contains(CFG_ADMIN_ROLES, ""));

	assert_int_equal(cfg_set(CFG_ADMIN_ROLES, " admin , cloud_admin,,ops ", &err), 0);
	assert_true(cfg_list_contains(CFG_ADMIN_ROLES, "admin"));
	assert_true(cfg_list_contains(CFG_ADMIN_ROLES, "cloud_admin"));
	assert_true(cfg_list_contains(CFG_ADMIN_ROLES, "Ops"));
	assert_false(cfg_list_contains(CFG_ADMIN_ROLES, "member"));
	assert_false(cfg_list_contains(CFG_ADMIN_ROLES, "cloud"));

	assert_int_equal(cfg_set(CFG_ADMIN_ROLES, "", &err), 0);
	assert_false(cfg_list_contains(CFG_ADMIN_ROLES, "admin"));
}

static void test_help(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	cfg_print_help(f);
	fclose(f);
	assert_non_null(strstr(text, "| `[DEFAULT]` | `bind_port` | integer | `8779` |"));
	assert_non_null(strstr(text, "| `[database]` | `connection` | string |"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_over_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_contains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
