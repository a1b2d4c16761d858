/*
 * test_overrides.c — the guest's override files (guest/overrides.h): what
 * MariaDB's my.cnf and PostgreSQL's postgresql.conf fragments look like, that
 * strings are quoted, and that no name or value the guest receives can write
 * a second setting, a comment or an include into a server's config.
 */
#include "testutil.h"

#include "guest/overrides.h"

static char *render(const char *json, enum overrides_syntax syntax, struct ct_error *err)
{
	json_t *o = json_loads(json, 0, NULL);
	assert_non_null(o);
	char *text = overrides_render(o, syntax, err);
	json_decref(o);
	return text;
}

static void test_mycnf(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char *text = render("{\"max_connections\": 150, \"autocommit\": false,"
			    " \"sql_mode\": \"!include /etc/passwd\", \"long_query_time\": 2.5}",
			    OVERRIDES_MYCNF, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, "[mysqld]\n"));
	assert_non_null(strstr(text, "\nmax_connections = 150\n"));
	assert_non_null(strstr(text, "\nautocommit = OFF\n"));
	assert_non_null(strstr(text, "\nlong_query_time = 2.5\n"));
	/* A value spelling a directive is a quoted value, never a line of its own. */
	assert_non_null(strstr(text, "\nsql_mode = \"!include /etc/passwd\"\n"));
	assert_null(strstr(text, "\n!include"));
	free(text);
}

static void test_pgconf(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char *text = render("{\"work_mem\": 8192, \"log_connections\": true,"
			    " \"log_line_prefix\": \"include_dir = x\"}",
			    OVERRIDES_PGCONF, &err);
	assert_non_null(text);
	assert_null(strstr(text, "[mysqld]"));
	assert_non_null(strstr(text, "\nwork_mem = 8192\n"));
	assert_non_null(strstr(text, "\nlog_connections = on\n"));
	assert_non_null(strstr(text, "\nlog_line_prefix = 'include_dir = x'\n"));
	assert_null(strstr(text, "\ninclude_dir"));
	free(text);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"a\": \"x\\ninit_file = /tmp/evil\"}",
		"{\"a\": \"x\\rb\"}",
		"{\"a\": \"x'b\"}",
		"{\"a\": \"x\\\"b\"}",
		"{\"a\": \"x\\\\b\"}",
		"{\"a\": \"x # b\"}",
		"{\"a\": \"x; b\"}",
		"{\"a b\": 1}",
		"{\"a=b\": 1}",
		"{\"a\\nb\": 1}",
		"{\"\": 1}",
		"{\"a\": [1]}",
		"{\"a\": {}}",
		"{\"a\": null}",
		"[1]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ct_error err = {0};
		for (int s = OVERRIDES_MYCNF; s <= OVERRIDES_PGCONF; s++) {
			char *text = render(bad[i], (enum overrides_syntax)s, &err);
			if (text)
				fail_msg("rendered %s: %s", bad[i], text);
			assert_int_equal(err.status, 400);
		}
	}
	/* apply_overrides' null (back to the base) passes the check there only. */
	json_t *o = json_loads("{\"max_connections\": null}", 0, NULL);
	struct ct_error err = {0};
	assert_int_equal(overrides_check(o, true, &err), 0);
	assert_int_equal(overrides_check(o, false, &err), -1);
	json_decref(o);
}

static void test_sizes(void **state)
{
	(void)state;
	long long v;
	assert_true(overrides_size_bytes("150M", &v) && v == 150LL * 1024 * 1024);
	assert_true(overrides_size_bytes("512K", &v) && v == 512 * 1024);
	assert_true(overrides_size_bytes("1G", &v) && v == 1024LL * 1024 * 1024);
	assert_true(overrides_size_bytes("100", &v) && v == 100);
	assert_false(overrides_size_bytes("BACKUP,FORCE", &v));
	assert_false(overrides_size_bytes("1MB", &v));
	assert_false(overrides_size_bytes("", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mycnf),
		cmocka_unit_test(test_pgconf),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
