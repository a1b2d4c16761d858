/*
 * test_auth.c — api/auth.h, embedded strategy: issue tokens and verify them
 * (auth_verify: signature, expiry, issue time; revocation is e2e-tested),
 * reject forged, tampered, expired and malformed ones, and derive is_admin from
 * [DEFAULT] admin_roles.
 */
#include "testutil.h"

#include <time.h>

#include "api/auth.h"
#include "common/config.h"
#include "common/ids.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

static int setup(void **state)
{
	(void)state;
	cfg_reset();
	auth_set_key(key, sizeof key);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	auth_shutdown();
	cfg_free();
	return 0;
}

static void issue(const char *roles, time_t expires, char *token, size_t size)
{
	assert_int_equal(auth_issue("user-1", "project-1", roles, expires, token, size), 0);
}

static void assert_rejected(const char *token)
{
	struct api_identity who;
	struct ct_error err = {0};
	if (auth_verify(token, &who, &err) != -1)
		fail_msg("token accepted: '%.80s'", token);
	assert_int_equal(err.status, 401);
	assert_string_equal(err.message, "The request you have made requires authentication.");
	assert_int_equal(auth_token_expiry(token), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	char token[1024];
	time_t expires = time(NULL) + 600;
	issue("member,reader", expires, token, sizeof token);
	assert_non_null(strchr(token, '.'));
	assert_null(strpbrk(token, "+/= |"));

	struct api_identity who;
	struct ct_error err = {0};
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_string_equal(who.user_id, "user-1");
	assert_string_equal(who.project_id, "project-1");
	assert_string_equal(who.roles, "member,reader");
	assert_false(who.is_admin);
	assert_int_equal(auth_token_expiry(token), expires);

	/* Two tokens for the same statement differ (nonce). */
	char again[1024];
	issue("member,reader", expires, again, sizeof again);
	assert_string_not_equal(token, again);

	/* A buffer too small is an error, not a truncated token. */
	char small[40];
	assert_int_equal(auth_issue("user-1", "project-1", "member", expires, small, sizeof small),
			 -1);
}

static void test_admin_roles(void **state)
{
	(void)state;
	struct api_identity who;
	struct ct_error err = {0};
	char token[1024];
	time_t expires = time(NULL) + 600;

	issue("member,admin", expires, token, sizeof token);
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_true(who.is_admin);
	issue("ADMIN", expires, token, sizeof token);
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_true(who.is_admin);
	issue("", expires, token, sizeof token);
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_false(who.is_admin);
	assert_string_equal(who.roles, "");
	issue("administrator,admins", expires, token, sizeof token);
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_false(who.is_admin);

	/* The decision is made at validation time, from admin_roles. */
	assert_int_equal(cfg_set(CFG_ADMIN_ROLES, "cloud_admin, ops", &err), 0);
	issue("member,ops", expires, token, sizeof token);
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_true(who.is_admin);
	issue("admin", expires, token, sizeof token);
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_false(who.is_admin);
}

static void test_tampered_signature(void **state)
{
	(void)state;
	char token[1024];
	issue("member", time(NULL) + 600, token, sizeof token);
	size_t len = strlen(token);
	char *dot = strchr(token, '.');

	char bad[1024];
	/* Flip one character of the signature, at each end. */
	memcpy(bad, token, len + 1);
	bad[len - 2] = bad[len - 2] == 'A' ? 'B' : 'A';
	assert_rejected(bad);
	memcpy(bad, token, len + 1);
	bad[dot - token + 1] = bad[dot - token + 1] == 'A' ? 'B' : 'A';
	assert_rejected(bad);
	/* Signature cut short, or missing. */
	memcpy(bad, token, len + 1);
	bad[len - 4] = '\0';
	assert_rejected(bad);
	memcpy(bad, token, len + 1);
	bad[dot - token + 1] = '\0';
	assert_rejected(bad);

	/* The same token under another key. */
	unsigned char other[32];
	memset(other, 7, sizeof other);
	auth_set_key(other, sizeof other);
	assert_rejected(token);
	auth_set_key(key, sizeof key);
	struct api_identity who;
	struct ct_error err = {0};
	assert_int_equal(auth_verify(token, &who, &err), 0);
}

/* Replace the payload of token with `payload`, keeping its signature. */
static void forge(const char *token, const char *payload, char *out, size_t size)
{
	const char *dot = strchr(token, '.');
	char body[1024];
	ids_base64url((const unsigned char *)payload, strlen(payload), body);
	snprintf(out, size, "%s%s", body, dot);
}

static void test_tampered_payload(void **state)
{
	(void)state;
	char token[1024];
	time_t expires = time(NULL) + 600;
	issue("member", expires, token, sizeof token);
	const char *dot = strchr(token, '.');

	/* Decode, check the payload format, then change the project and roles. */
	unsigned char raw[1024];
	long n = ids_base64url_decode(token, (size_t)(dot - token), raw, sizeof raw - 1);
	assert_true(n > 0);
	raw[n] = '\0';
	char prefix[128];
	snprintf(prefix, sizeof prefix, "2|%lld|", (long long)expires);
	assert_memory_equal(raw, prefix, strlen(prefix));
	char *end;
	long long issued = strtoll((const char *)raw + strlen(prefix), &end, 10);
	long long now_us = (long long)time(NULL) * 1000000;
	assert_true(issued > now_us - 5000000 && issued <= now_us + 1000000);
	assert_string_equal(end, strstr(end, "|user-1|project-1|member|"));
	const char *nonce = end + strlen("|user-1|project-1|member|");

	char payload[512], forged[1024];
	snprintf(payload, sizeof payload, "2|%lld|%lld|user-1|project-2|member|%s",
		 (long long)expires, issued, nonce);
	forge(token, payload, forged, sizeof forged);
	assert_rejected(forged);
	snprintf(payload, sizeof payload, "2|%lld|%lld|user-1|project-1|admin|%s",
		 (long long)expires, issued, nonce);
	forge(token, payload, forged, sizeof forged);
	assert_rejected(forged);
	snprintf(payload, sizeof payload, "2|%lld|%lld|user-1|project-1|member|%s",
		 (long long)expires + 86400, issued, nonce);
	forge(token, payload, forged, sizeof forged);
	assert_rejected(forged);
	/* A later issue time would survive a revocation: it is signed too. */
	snprintf(payload, sizeof payload, "2|%lld|%lld|user-1|project-1|member|%s",
		 (long long)expires, issued + 3600000000LL, nonce);
	forge(token, payload, forged, sizeof forged);
	assert_rejected(forged);
	/* The version-1 format (no issue time) is no longer accepted. */
	snprintf(payload, sizeof payload, "1|%lld|user-1|project-1|member|%s", (long long)expires,
		 nonce);
	forge(token, payload, forged, sizeof forged);
	assert_rejected(forged);
	struct api_identity who;
	struct ct_error err = {0};
	assert_int_equal(auth_verify(token, &who, &err), 0);
	assert_true(who.issued_us == issued);
	/* The untouched payload re-encoded is the original token. */
	forge(token, (const char *)raw, forged, sizeof forged);
	assert_string_equal(forged, token);
}

static void test_expired(void **state)
{
	(void)state;
	char token[1024];
	issue("admin", time(NULL) - 1, token, sizeof token);
	assert_rejected(token);
	issue("admin", 0, token, sizeof token);
	assert_rejected(token);
	issue("admin", time(NULL) + 5, token, sizeof token);
	struct api_identity who;
	struct ct_error err = {0};
	assert_int_equal(auth_verify(token, &who, &err), 0);
}

static void test_garbage(void **state)
{
	(void)state;
	static const char *const garbage[] = {
		"",
		".",
		"..",
		"abc",
		"abc.",
		".abc",
		"a.b",
		"!!!!.!!!!",
		"Zm9v.Zm9v",
		"MXwxfHV8cHxyfG4.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"gAAAAABk-not-a-fernet-token",
		"Bearer x",
	};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
		assert_rejected(garbage[i]);

	/* Very long input is refused without reading it all into a buffer. */
	size_t len = 64 * 1024;
	char *huge = malloc(len + 1);
	assert_non_null(huge);
	memset(huge, 'A', len);
	huge[len / 2] = '.';
	huge[len] = '\0';
	assert_rejected(huge);
	free(huge);
}

static void test_without_key(void **state)
{
	(void)state;
	char token[1024];
	issue("member", time(NULL) + 600, token, sizeof token);
	auth_shutdown();
	assert_rejected(token);
	assert_int_equal(auth_issue("u", "p", "member", time(NULL) + 60, token, sizeof token), -1);
	auth_set_key(key, sizeof key);
}

static void test_init_strategy(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(auth_init(&err), 0); /* key already set: no file needed */
	/* keystone without its [keystone_authtoken] service user: refused, named. */
	assert_int_equal(cfg_set(CFG_AUTH_STRATEGY, "keystone", &err), 0);
	assert_int_equal(auth_init(&err), -1);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.message,
			    "auth_strategy = keystone needs [keystone_authtoken] auth_url");
	assert_false(auth_is_keystone());
	assert_int_equal(cfg_set(CFG_AUTH_STRATEGY, "noauth", &err), 0);
	assert_int_equal(auth_init(&err), -1);
	assert_int_equal(err.status, 400);
}

static void test_key_file(void **state)
{
	(void)state;
	char dir[64], path[512];
	struct ct_error err = {0};
	scratch_create(dir, "auth");
	auth_shutdown();
	assert_int_equal(cfg_set(CFG_STATE_PATH, dir, &err), 0);
	assert_int_equal(auth_init(&err), 0); /* creates token.key */
	char token[1024];
	issue("member", time(NULL) + 600, token, sizeof token);
	auth_shutdown();
	assert_int_equal(auth_init(&err), 0); /* reads it back */
	struct api_identity who;
	assert_int_equal(auth_verify(token, &who, &err), 0);
	auth_shutdown();
	/* A damaged key file is an error, not a new key. */
	scratch_write(dir, "token.key", "short", path);
	assert_int_equal(auth_init(&err), -1);
	assert_int_equal(err.status, 500);
	scratch_remove(dir);
	auth_set_key(key, sizeof key);
}

static void test_public_base(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char base[300];
	struct api_request req;
	memset(&req, 0, sizeof req);
	auth_public_base(NULL, base, sizeof base);
	assert_string_equal(base, "http://localhost");
	req.host = "10.0.0.5:8779";
	auth_public_base(&req, base, sizeof base);
	assert_string_equal(base, "http://10.0.0.5:8779");
	assert_int_equal(cfg_set(CFG_PUBLIC_ENDPOINT, "https://db.example.com//", &err), 0);
	auth_public_base(&req, base, sizeof base);
	assert_string_equal(base, "https://db.example.com");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_strategy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_base, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
