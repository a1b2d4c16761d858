/*
 * test_https.c — api/https.h and rpc/tls_socket.h's pure parts: plain HTTP is
 * allowed on loopback binds only (IPv4 127/8, ::1, v4-mapped 127/8) unless
 * [ssl] allow_plain_http; cert_file and key_file go together and are checked
 * before anything listens; which URL and option spellings turn TLS on.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "api/https.h"
#include "common/config.h"
#include "rpc/tls_socket.h"

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

static int check_v4(const char *address)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	assert_int_equal(inet_pton(AF_INET, address, &in.sin_addr), 1);
	struct ct_error err = {0};
	return https_check_plain_bind((const struct sockaddr *)&in, &err);
}

static int check_v6(const char *address)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	assert_int_equal(inet_pton(AF_INET6, address, &in6.sin6_addr), 1);
	struct ct_error err = {0};
	return https_check_plain_bind((const struct sockaddr *)&in6, &err);
}

static void test_plain_http_only_on_loopback(void **state)
{
	(void)state;
	assert_int_equal(check_v4("127.0.0.1"), 0);
	assert_int_equal(check_v4("127.200.3.4"), 0);
	assert_int_equal(check_v6("::1"), 0);
	assert_int_equal(check_v6("::ffff:127.0.0.1"), 0);
	assert_int_equal(check_v4("0.0.0.0"), -1);
	assert_int_equal(check_v4("10.0.0.5"), -1);
	assert_int_equal(check_v4("128.0.0.1"), -1);
	assert_int_equal(check_v6("::"), -1);
	assert_int_equal(check_v6("::ffff:10.0.0.1"), -1);
	assert_int_equal(check_v6("fe80::1"), -1);

	struct sockaddr_in any = {.sin_family = AF_INET};
	struct ct_error err = {0};
	assert_int_equal(https_check_plain_bind((const struct sockaddr *)&any, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "allow_plain_http"));

	assert_int_equal(cfg_set(CFG_API_ALLOW_PLAIN_HTTP, "true", &err), 0);
	assert_int_equal(check_v4("0.0.0.0"), 0);
	assert_int_equal(check_v6("::"), 0);
}

static void test_cert_and_key_go_together(void **state)
{
	(void)state;
	struct https_files f;
	struct ct_error err = {0};
	assert_false(https_enabled());
	assert_int_equal(https_load(&f, &err), 0);
	assert_null(f.cert_pem);
	assert_null(f.key_pem);

	assert_int_equal(cfg_set(CFG_API_SSL_CERT_FILE, "/nonexistent/cert.pem", &err), 0);
	assert_true(https_enabled());
	assert_int_equal(https_load(&f, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "go together"));

	assert_int_equal(cfg_set(CFG_API_SSL_KEY_FILE, "/nonexistent/key.pem", &err), 0);
	assert_int_equal(https_load(&f, &err), -1);
	assert_non_null(strstr(err.message, "cert_file /nonexistent/cert.pem cannot be read"));
	assert_null(f.cert_pem);

	/* A file that is not PEM: named, refused, nothing kept. */
	assert_int_equal(cfg_set(CFG_API_SSL_CERT_FILE, "/etc/hostname", &err), 0);
	assert_int_equal(cfg_set(CFG_API_SSL_KEY_FILE, "/etc/hostname", &err), 0);
	assert_int_equal(https_load(&f, &err), -1);
	assert_non_null(strstr(err.message, "holds no PEM certificate"));
	assert_null(f.cert_pem);
	assert_null(f.key_pem);
}

static void test_tls_wanted(void **state)
{
	(void)state;
	assert_false(rpc_tls_wanted(false, false, NULL));
	assert_true(rpc_tls_wanted(true, false, NULL));
	assert_true(rpc_tls_wanted(false, true, NULL));
	assert_true(rpc_tls_wanted(false, false, "1"));
	assert_true(rpc_tls_wanted(false, false, "True"));
	assert_false(rpc_tls_wanted(false, false, "0"));
	assert_false(rpc_tls_wanted(false, false, "false"));
	/* amqps:// is TLS whatever an option says: never a way back to plain */
	assert_true(rpc_tls_wanted(true, false, "0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_http_only_on_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_and_key_go_together, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_wanted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
