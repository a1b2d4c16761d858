/*
 * test_guest_models.c — unit tests (cmocka) for the MariaDB manager's pure
 * rules: Trove's name/host/password validation (§3.2), identifier quoting,
 * the config renderer's RAM scaling (§2.4) and server_id. No server needed.
 * Owns nothing; may not touch files or processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "guest/datastore.h"
#include "guest/mariadb_config.h"
#include "guest/mariadb_internal.h"

static void test_db_names(void **state)
{
	(void)state;
	struct ct_error err;
	const char *valid[] = {"ab",
			       "a-b",
			       "a b",
			       "1a",
			       "a?#b",
			       "my_db",
			       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			       NULL};
	const char *invalid[] = {
		"a",
		"",
		"my.db",
		"a$b",
		"a;b",
		"a'b",
		"a`b",
		"my db#2",
		"a\\b",
		"a\tb",
		" ab",
		"ab ",
		"a%b",
		"a/b",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		NULL};
	for (size_t i = 0; valid[i]; i++)
		assert_int_equal(mdb_check_db_name(valid[i], true, &err), 0);
	for (size_t i = 0; invalid[i]; i++) {
		assert_int_equal(mdb_check_db_name(invalid[i], true, &err), -1);
		assert_int_equal(err.status, 400);
	}
	assert_int_equal(mdb_check_db_name("mysql", true, &err), -1);
	assert_non_null(strstr(err.message, "reserved"));
	assert_int_equal(mdb_check_db_name("sys", false, &err), 0);
}

static void test_user_names(void **state)
{
	(void)state;
	struct ct_error err;
	const char *valid[] = {
		"userA", "a b", "a@b", "a%b", "\xc3\xa9l\xc3\xa8ve", "sixteen_chars_xx", NULL};
	const char *invalid[] = {"",
				 " a",
				 "a ",
				 "a'b",
				 "a\"b",
				 "a;b",
				 "a`b",
				 "a,b",
				 "a/b",
				 "a\\b",
				 "a\nb",
				 "seventeen_chars_x",
				 "\xf0\x9f\x98\x80",
				 "\xff",
				 "os_admin",
				 "root",
				 "slave_0a1b2c3d",
				 NULL};
	for (size_t i = 0; valid[i]; i++)
		assert_int_equal(mdb_check_user_name(valid[i], true, &err), 0);
	for (size_t i = 0; invalid[i]; i++) {
		assert_int_equal(mdb_check_user_name(invalid[i], true, &err), -1);
		assert_int_equal(err.status, 400);
	}
}

static void test_passwords_and_hosts(void **state)
{
	(void)state;
	struct ct_error err;
	char host[MDB_HOST_MAX + 1];
	assert_int_equal(mdb_check_password("Passw0rd", &err), 0);
	assert_int_equal(mdb_check_password("p w%@!#$", &err), 0);
	assert_int_equal(mdb_check_password("pw'; DROP USER x; --", &err), -1);
	assert_null(strstr(err.message, "DROP"));
	assert_int_equal(mdb_check_host(NULL, host, &err), 0);
	assert_string_equal(host, "%");
	const char *valid[] = {"%", "10.0.%.%", "10.0.0.0/24", "::1", "127.0.0.1", NULL};
	const char *invalid[] = {"localhost",	"example.com", "%.example.com",
				 "10.0.0.0/33", "1.2.3.4'",    "1.2.3.4/",
				 NULL};
	for (size_t i = 0; valid[i]; i++) {
		assert_int_equal(mdb_check_host(valid[i], host, &err), 0);
		assert_string_equal(host, valid[i]);
	}
	for (size_t i = 0; invalid[i]; i++)
		assert_int_equal(mdb_check_host(invalid[i], host, &err), -1);
}

static void test_quoting(void **state)
{
	(void)state;
	struct sqlb b;
	sqlb_init(&b, NULL);
	sqlb_ident(&b, "a`b");
	assert_string_equal(b.s, "`a``b`");
	sqlb_init(&b, NULL);
	sqlb_db_pattern(&b, "my_db%");
	assert_string_equal(b.s, "`my\\_db\\%`");
}

static void test_config_render(void **state)
{
	(void)state;
	static char buf[65536];
	struct ct_error err;
	assert_int_equal(
		mariadb_config_render(2048, MARIADB_FLAVOR_MARIADB, "x", buf, sizeof buf, &err), 0);
	assert_non_null(strstr(buf, "innodb_buffer_pool_size = 600M\n"));
	assert_non_null(strstr(buf, "max_connections = 400\n"));
	assert_non_null(strstr(buf, "key_buffer_size = 200M\n"));
	assert_non_null(strstr(buf, "max_allowed_packet = 4096K\n"));
	assert_non_null(strstr(buf, "query_cache_size = 32M\n"));
	assert_non_null(strstr(buf, "table_definition_cache = 1024\n"));
	assert_null(strstr(buf, "innodb_log_files_in_group"));
	assert_non_null(strstr(buf, "innodb_log_buffer_size = 25M\n"));
	assert_int_equal(
		mariadb_config_render(256, MARIADB_FLAVOR_MARIADB, "x", buf, sizeof buf, &err), 0);
	assert_non_null(strstr(buf, "innodb_log_buffer_size = 4M\n"));
	assert_non_null(strstr(buf, "innodb_buffer_pool_size = 75M\n"));
	assert_int_equal(
		mariadb_config_render(512, MARIADB_FLAVOR_MYSQL, "x", buf, sizeof buf, &err), 0);
	assert_non_null(strstr(buf, "innodb_buffer_pool_size = 150M\n"));
	assert_non_null(strstr(buf, "default_authentication_plugin"));
	assert_null(strstr(buf, "query_cache"));
	assert_int_equal(mariadb_config_render(0, MARIADB_FLAVOR_MYSQL, "x", buf, sizeof buf, &err),
			 -1);
	assert_int_equal(mariadb_config_render(512, MARIADB_FLAVOR_MYSQL, "x", buf, 100, &err), -1);
	assert_true(mariadb_server_id("a") > 0);
	assert_int_equal(mariadb_server_id("a"), mariadb_server_id("a"));
}

static void test_registry(void **state)
{
	(void)state;
	assert_non_null(datastore_manager_find("mariadb"));
	assert_non_null(datastore_manager_find("mysql"));
	assert_null(datastore_manager_find("redis"));
	assert_string_equal(guest_status_description(GUEST_STATUS_HEALTHY), "healthy");
	assert_string_equal(guest_status_description(GUEST_STATUS_SHUTDOWN), "shutdown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db_names),
		cmocka_unit_test(test_user_names),
		cmocka_unit_test(test_passwords_and_hosts),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_config_render),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
