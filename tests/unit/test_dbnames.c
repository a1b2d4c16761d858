/*
 * test_dbnames.c — common/dbnames.h against the name rules of
 * spec/trove-guest.md §3.2 (MySQL/MariaDB) and §3.4 (PostgreSQL), including the
 * verified examples listed there.
 */
#include "testutil.h"

#include "common/dbnames.h"

static void test_mysql_database_names(void **state)
{
	(void)state;
	struct ct_error err;
	static const char *const valid[] = {
		"ab",  "a-b",
		"a b", "1a",
		"a_b", "x@y",
		"a#b", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		assert_int_equal(dbnames_check_database(DBNAMES_MYSQL, valid[i], &err), 0);
	static const char *const invalid[] = {
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
		"a\nb",
		" ab",
		"ab ",
		"mysql",
		"sys",
		"information_schema",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		assert_int_equal(dbnames_check_database(DBNAMES_MYSQL, invalid[i], &err), -1);
		assert_int_equal(err.status, 400);
	}
	dbnames_check_database(DBNAMES_MYSQL, "a", &err);
	assert_string_equal(err.message, "'a' is not a valid schema name.");
}

static void test_mysql_user_names(void **state)
{
	(void)state;
	struct ct_error err;
	static const char *const valid[] = {"userA", "a b", "u@x", "u%", "é", "sixteen_chars_ok"};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		assert_int_equal(dbnames_check_user(DBNAMES_MYSQL, valid[i], &err), 0);
	static const char *const invalid[] = {"",     " lead", "trail ", "a'b",
					      "a\"b", "a;b",   "a`b",	 "a,b",
					      "a/b",  "a\\b",  "a\nb",	 "seventeen_chars_x"};
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
		assert_int_equal(dbnames_check_user(DBNAMES_MYSQL, invalid[i], &err), -1);
	assert_int_equal(dbnames_check_user(DBNAMES_MYSQL, "root", &err), -1);
	assert_string_equal(err.message,
			    "User name \"root\" is on the reserved list: ['os_admin', 'root'].");
	assert_int_equal(dbnames_check_user(DBNAMES_MYSQL, "os_admin", &err), -1);
}

static void test_passwords(void **state)
{
	(void)state;
	struct ct_error err;
	assert_int_equal(dbnames_check_password(DBNAMES_MYSQL, "Passw0rd", &err), 0);
	assert_int_equal(dbnames_check_password(DBNAMES_MYSQL, "pa'ss", &err), -1);
	assert_int_equal(dbnames_check_password(DBNAMES_MYSQL, "pa;ss", &err), -1);
	assert_int_equal(dbnames_check_password(DBNAMES_MYSQL, "", &err), -1);
	/* PostgreSQL takes any printable password; the guest quotes it. */
	assert_int_equal(dbnames_check_password(DBNAMES_POSTGRESQL, "pa'ss;--", &err), 0);
	assert_int_equal(dbnames_check_password(DBNAMES_POSTGRESQL, "pa\nss", &err), -1);
}

static void test_hosts(void **state)
{
	(void)state;
	struct ct_error err;
	static const char *const valid[] = {"%", "10.0.%.%", "10.0.0.0/24", "::1", "127.0.0.1"};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		assert_int_equal(dbnames_check_host(valid[i], &err), 0);
	static const char *const invalid[] = {"localhost", "example.com",  "%.example.com",
					      "10.0.0.0/", "10.0.0.0/999", "1.2.3"};
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
		assert_int_equal(dbnames_check_host(invalid[i], &err), -1);
}

static void test_postgresql_names(void **state)
{
	(void)state;
	struct ct_error err;
	assert_int_equal(dbnames_check_database(DBNAMES_POSTGRESQL, "it's", &err), 0);
	assert_int_equal(dbnames_check_database(DBNAMES_POSTGRESQL, "a", &err), -1);
	assert_int_equal(dbnames_check_database(DBNAMES_POSTGRESQL, "ab ", &err), -1);
	assert_int_equal(dbnames_check_database(DBNAMES_POSTGRESQL, "postgres", &err), -1);
	assert_int_equal(dbnames_check_user(DBNAMES_POSTGRESQL, "postgres", &err), -1);
	assert_int_equal(dbnames_check_user(DBNAMES_POSTGRESQL, "Mixed Case", &err), 0);
	assert_int_equal(dbnames_check_user(DBNAMES_POSTGRESQL, "replicator", &err), -1);
	assert_int_equal(dbnames_check_user(DBNAMES_POSTGRESQL, "pg_monitor", &err), -1);
	assert_int_equal(dbnames_check_user(DBNAMES_POSTGRESQL, "public", &err), -1);
	/* 63 bytes, not characters: PostgreSQL would truncate a longer name. */
	char long_name[80] = "";
	for (int i = 0; i < 32; i++)
		strcat(long_name, "\xc3\xa9");
	assert_int_equal(dbnames_check_user(DBNAMES_POSTGRESQL, long_name, &err), -1);
	assert_int_equal(dbnames_check_database(DBNAMES_POSTGRESQL, long_name, &err), -1);
	long_name[62] = '\0';
	assert_int_equal(dbnames_check_user(DBNAMES_POSTGRESQL, long_name, &err), 0);
}

static void test_charsets(void **state)
{
	(void)state;
	struct ct_error err;
	char cs[64], coll[128];
	assert_int_equal(dbnames_mysql_charset(NULL, NULL, cs, sizeof cs, coll, sizeof coll, &err),
			 0);
	assert_string_equal(cs, "utf8mb4");
	assert_string_equal(coll, "utf8mb4_general_ci");
	assert_int_equal(
		dbnames_mysql_charset("utf8", NULL, cs, sizeof cs, coll, sizeof coll, &err), 0);
	assert_string_equal(cs, "utf8mb3");
	assert_string_equal(coll, "utf8mb3_general_ci");
	assert_int_equal(
		dbnames_mysql_charset(NULL, "latin1_bin", cs, sizeof cs, coll, sizeof coll, &err),
		0);
	assert_string_equal(cs, "latin1");
	assert_int_equal(dbnames_mysql_charset("latin1", "utf8mb4_bin", cs, sizeof cs, coll,
					       sizeof coll, &err),
			 -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(
		dbnames_mysql_charset("klingon", NULL, cs, sizeof cs, coll, sizeof coll, &err), -1);
	assert_int_equal(
		dbnames_mysql_charset(NULL, "nope_ci", cs, sizeof cs, coll, sizeof coll, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mysql_database_names),
		cmocka_unit_test(test_mysql_user_names),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_postgresql_names),
		cmocka_unit_test(test_charsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
