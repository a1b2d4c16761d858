/*
 * test_rpc_url.c — transport_url parsing (rpc/url.h): oslo's defaults, several
 * hosts with their own credentials, escapes, IPv6, vhosts and options as
 * Python's parse_qs reads them; hostile URLs fail with 400, leave nothing
 * allocated (ASan's leak check) and never echo a password in the message.
 */
#include "testutil.h"

#include "rpc/url.h"

static void test_defaults(void **state)
{
	(void)state;
	struct ct_error err;
	struct rpc_url u;
	assert_int_equal(rpc_url_parse("rabbit://", &u, &err), 0);
	assert_int_equal(u.n_hosts, 1);
	assert_string_equal(u.hosts[0].host, "localhost");
	assert_int_equal(u.hosts[0].port, 5672);
	assert_string_equal(u.hosts[0].user, "guest");
	assert_string_equal(u.hosts[0].password, "guest");
	assert_string_equal(u.vhost, "/");
	assert_int_equal(u.n_options, 0);
	assert_null(rpc_url_option(&u, "ssl"));
	rpc_url_free(&u);

	assert_int_equal(rpc_url_parse("amqp://h/", &u, &err), 0);
	assert_string_equal(u.hosts[0].host, "h");
	assert_string_equal(u.vhost, "/");
	rpc_url_free(&u);
	assert_false(u.tls);
	rpc_url_free(&u);
}

/* amqps:// is TLS on 5671 unless a port is given; rabbit:// never is. */
static void test_amqps(void **state)
{
	(void)state;
	struct ct_error err;
	struct rpc_url u;
	assert_int_equal(rpc_url_parse("amqps://u:p@h1,h2:25675/", &u, &err), 0);
	assert_true(u.tls);
	assert_int_equal(u.n_hosts, 2);
	assert_int_equal(u.hosts[0].port, 5671);
	assert_int_equal(u.hosts[1].port, 25675);
	rpc_url_free(&u);
	assert_int_equal(rpc_url_parse("rabbit://h/", &u, &err), 0);
	assert_false(u.tls);
	assert_int_equal(u.hosts[0].port, 5672);
	rpc_url_free(&u);
	assert_int_equal(rpc_url_parse("amqpss://h/", &u, &err), -1);
	assert_false(u.tls);
}

static void test_hosts_and_credentials(void **state)
{
	(void)state;
	struct ct_error err;
	struct rpc_url u;
	assert_int_equal(rpc_url_parse("rabbit://u1:p%40ss@h1:5673,u2:x@h2/v%2Fh?ssl=0", &u, &err),
			 0);
	assert_int_equal(u.n_hosts, 2);
	assert_string_equal(u.hosts[0].user, "u1");
	assert_string_equal(u.hosts[0].password, "p@ss");
	assert_string_equal(u.hosts[0].host, "h1");
	assert_int_equal(u.hosts[0].port, 5673);
	assert_string_equal(u.hosts[1].user, "u2");
	assert_string_equal(u.hosts[1].password, "x");
	assert_string_equal(u.hosts[1].host, "h2");
	assert_int_equal(u.hosts[1].port, 5672);
	assert_string_equal(u.vhost, "v/h");
	assert_string_equal(rpc_url_option(&u, "ssl"), "0");
	rpc_url_free(&u);

	/* The last '@' ends the credentials (urlsplit): an unescaped '@' or ':'
	 * in a password still works; a user alone has an empty password. */
	assert_int_equal(rpc_url_parse("rabbit://user:p@ss:w@host:1/", &u, &err), 0);
	assert_string_equal(u.hosts[0].user, "user");
	assert_string_equal(u.hosts[0].password, "p@ss:w");
	assert_string_equal(u.hosts[0].host, "host");
	assert_int_equal(u.hosts[0].port, 1);
	rpc_url_free(&u);
	assert_int_equal(rpc_url_parse("rabbit://solo@host", &u, &err), 0);
	assert_string_equal(u.hosts[0].user, "solo");
	assert_string_equal(u.hosts[0].password, "");
	rpc_url_free(&u);

	/* Empty entries are oslo's defaults, as kombu reads them. */
	assert_int_equal(rpc_url_parse("rabbit://h1,,u:p@:5679", &u, &err), 0);
	assert_int_equal(u.n_hosts, 3);
	assert_string_equal(u.hosts[1].host, "localhost");
	assert_string_equal(u.hosts[1].user, "guest");
	assert_string_equal(u.hosts[2].host, "localhost");
	assert_int_equal(u.hosts[2].port, 5679);
	rpc_url_free(&u);
}

static void test_ipv6(void **state)
{
	(void)state;
	struct ct_error err;
	struct rpc_url u;
	assert_int_equal(rpc_url_parse("rabbit://u:p@[::1]:25679/", &u, &err), 0);
	assert_string_equal(u.hosts[0].host, "::1");
	assert_int_equal(u.hosts[0].port, 25679);
	assert_string_equal(u.vhost, "/");
	rpc_url_free(&u);
	assert_int_equal(rpc_url_parse("rabbit://[fe80::1],[::2]:1", &u, &err), 0);
	assert_string_equal(u.hosts[0].host, "fe80::1");
	assert_int_equal(u.hosts[0].port, 5672);
	assert_string_equal(u.hosts[1].host, "::2");
	assert_int_equal(u.hosts[1].port, 1);
	rpc_url_free(&u);
}

static void test_options(void **state)
{
	(void)state;
	struct ct_error err;
	struct rpc_url u;
	assert_int_equal(
		rpc_url_parse("rabbit://h/vh?a=1&b=x+y%26z&&c&d=&a=2&ssl_ca_file=%2Fetc%2Fca.pem",
			      &u, &err),
		0);
	assert_string_equal(u.vhost, "vh");
	assert_int_equal(u.n_options, 3);
	assert_string_equal(rpc_url_option(&u, "a"), "1,2"); /* parse_qs, joined */
	assert_string_equal(rpc_url_option(&u, "b"), "x y&z");
	assert_string_equal(rpc_url_option(&u, "ssl_ca_file"), "/etc/ca.pem");
	assert_null(rpc_url_option(&u, "c")); /* no value: skipped */
	assert_null(rpc_url_option(&u, "d"));
	rpc_url_free(&u);

	assert_int_equal(rpc_url_parse("rabbit://h?", &u, &err), 0);
	assert_string_equal(u.vhost, "/");
	assert_int_equal(u.n_options, 0);
	rpc_url_free(&u);
}

static void test_hostile(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"http://h/",
		"amqpx://h/",
		"amqps:/h",
		"localhost",
		"",
		"rabbit:/h",
		"rabbit://h:99999/",
		"rabbit://h:0/",
		"rabbit://h:abc/",
		"rabbit://h:+5/",
		"rabbit://h: 5/",
		"rabbit://h:-1/",
		"rabbit://h:4294967297/",
		"rabbit://h:00000000000000000005/",
		"rabbit://u:%zz@h/",
		"rabbit://u:%4@h/",
		"rabbit://u:%@h/",
		"rabbit://u%00x:p@h/",
		"rabbit://u:p%00@h/",
		"rabbit://h%00evil/",
		"rabbit://h/%00",
		"rabbit://h/v%zz",
		"rabbit://h%20x/",
		"rabbit://h%0ax/",
		"rabbit://[::1/",
		"rabbit://[::1]x:5672/",
		"rabbit://[::1]:x/",
		"rabbit://h1,h2:bad/",
		"rabbit://h/?a=%zz",
		"rabbit://h/?%00=1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ct_error err = {0};
		struct rpc_url u;
		if (rpc_url_parse(bad[i], &u, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(err.status, 400);
		assert_true(err.message[0] != '\0');
		assert_int_equal(u.n_hosts, 0); /* nothing left to free */
		assert_null(u.vhost);
		rpc_url_free(&u); /* and freeing again is harmless */
	}
}

static void test_errors_never_echo_a_password(void **state)
{
	(void)state;
	/* Without '@' "user:password" reads as host:port: the port error must
	 * not show what could be a password. */
	static const char *const bad[] = {
		"rabbit://admin:S3cretPass/",
		"rabbit://admin:S3cretPass%zz@h/",
		"rabbit://admin:S3cretPass@h:S3cretPass/",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ct_error err = {0};
		struct rpc_url u;
		assert_int_equal(rpc_url_parse(bad[i], &u, &err), -1);
		if (strstr(err.message, "S3cret"))
			fail_msg("%s: message shows the password: %s", bad[i], err.message);
	}
}

static void test_long_urls(void **state)
{
	(void)state;
	/* 2000 hosts, and one 64 KiB password: parsed, nothing truncated. */
	size_t n = 2000;
	char *url = malloc(16 + n * 8);
	assert_non_null(url);
	strcpy(url, "rabbit://");
	for (size_t i = 0; i < n; i++)
		strcat(url, i ? ",h:5672" : "h:5672");
	struct ct_error err;
	struct rpc_url u;
	assert_int_equal(rpc_url_parse(url, &u, &err), 0);
	assert_int_equal(u.n_hosts, n);
	assert_string_equal(u.hosts[n - 1].host, "h");
	rpc_url_free(&u);
	free(url);

	size_t plen = 65536;
	url = malloc(plen + 32);
	assert_non_null(url);
	strcpy(url, "rabbit://u:");
	memset(url + 11, 'p', plen);
	strcpy(url + 11 + plen, "@h/");
	assert_int_equal(rpc_url_parse(url, &u, &err), 0);
	assert_int_equal(strlen(u.hosts[0].password), plen);
	rpc_url_free(&u);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_amqps),
		cmocka_unit_test(test_hosts_and_credentials),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_errors_never_echo_a_password),
		cmocka_unit_test(test_long_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
