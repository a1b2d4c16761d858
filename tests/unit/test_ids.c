/*
 * test_ids.c — common/ids.h: UUID generation and checks, random bytes and the
 * base64url codec (known vectors, round trips of every length, bad input).
 */
#include "testutil.h"

#include <ctype.h>

#include "common/ids.h"

static void test_uuid_generate(void **state)
{
	(void)state;
	char a[CT_UUID_LEN + 1], b[CT_UUID_LEN + 1];
	ids_uuid(a);
	ids_uuid(b);
	assert_int_equal(strlen(a), CT_UUID_LEN);
	assert_true(ids_is_uuid(a));
	assert_string_not_equal(a, b);
	for (const char *p = a; *p; p++)
		assert_false(isupper((unsigned char)*p));
	assert_int_equal(a[14], '4'); /* version 4 */

	char hex[33];
	ids_hex32(hex);
	assert_int_equal(strlen(hex), 32);
	for (const char *p = hex; *p; p++)
		assert_true(isxdigit((unsigned char)*p));
}

static void test_uuid_check(void **state)
{
	(void)state;
	static const char *const good[] = {
		"00000000-0000-0000-0000-000000000000",
		"0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b",
		"0F3A6B1E-8C3D-4E5F-9A0B-1C2D3E4F5A6B",
	};
	static const char *const bad[] = {
		"",
		"0f3a6b1e",
		"0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6",	 /* short */
		"0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b0", /* long */
		"0f3a6b1e-8c3d-4e5f-9a0b_1c2d3e4f5a6b",	 /* separator */
		"0f3a6b1e8c3d-4e5f-9a0b-1c2d3e4f5a6b-",	 /* dash moved */
		"0f3a6b1g-8c3d-4e5f-9a0b-1c2d3e4f5a6b",	 /* not hex */
		"0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b ",
		" 0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b",
		"0f3a6b1e 8c3d 4e5f 9a0b 1c2d3e4f5a6b",
		"mysql",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(ids_is_uuid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ids_is_uuid(bad[i]))
			fail_msg("'%s' taken for a UUID", bad[i]);
}

static void test_random(void **state)
{
	(void)state;
	unsigned char a[32], b[32];
	assert_int_equal(ids_random(a, sizeof a), 0);
	assert_int_equal(ids_random(b, sizeof b), 0);
	assert_memory_not_equal(a, b, sizeof a);
	assert_int_equal(ids_random(a, 0), 0);
}

static void test_base64url_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *raw;
		size_t len;
		const char *text;
	} cases[] = {
		{"", 0, ""},
		{"f", 1, "Zg"},
		{"fo", 2, "Zm8"},
		{"foo", 3, "Zm9v"},
		{"foob", 4, "Zm9vYg"},
		{"fooba", 5, "Zm9vYmE"},
		{"foobar", 6, "Zm9vYmFy"},
		{"\xfb\xff", 2, "-_8"}, /* the two url-safe characters */
		{"\xff\xff\xff", 3, "____"},
		{"\0\0\0", 3, "AAAA"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[32];
		size_t n = ids_base64url((const unsigned char *)cases[i].raw, cases[i].len, text);
		assert_string_equal(text, cases[i].text);
		assert_int_equal(n, strlen(cases[i].text));
		unsigned char raw[32];
		long m = ids_base64url_decode(text, n, raw, sizeof raw);
		assert_int_equal(m, (long)cases[i].len);
		assert_memory_equal(raw, cases[i].raw, cases[i].len);
	}
}

static void test_base64url_round_trip(void **state)
{
	(void)state;
	unsigned char raw[100], back[100];
	char text[100 * 4 / 3 + 4];
	for (size_t len = 0; len <= sizeof raw; len++) {
		assert_int_equal(ids_random(raw, len), 0);
		size_t n = ids_base64url(raw, len, text);
		assert_int_equal(n, strlen(text));
		assert_int_equal(n, (len * 8 + 5) / 6); /* no padding */
		assert_null(strpbrk(text, "+/="));
		long m = ids_base64url_decode(text, n, back, sizeof back);
		assert_int_equal(m, (long)len);
		assert_memory_equal(raw, back, len);
	}
}

static void test_base64url_invalid(void **state)
{
	(void)state;
	unsigned char out[64];
	static const char *const bad[] = {
		"Z",	 /* a lone 6-bit group carries no byte */
		"Zm9vY", /* len % 4 == 1 */
		"Zm9v+", "Zm/v", "Zg==", "Zm 9v", "Zm\x80v", "Zm9v.",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ids_base64url_decode(bad[i], strlen(bad[i]), out, sizeof out) != -1)
			fail_msg("'%s' decoded", bad[i]);
	/* An embedded NUL inside the given length is not a digit. */
	assert_int_equal(ids_base64url_decode("Zm\0v", 4, out, sizeof out), -1);
	/* Output that does not fit in cap is refused, never written past. */
	assert_int_equal(ids_base64url_decode("Zm9vYmFy", 8, out, 5), -1);
	assert_int_equal(ids_base64url_decode("Zm9vYmFy", 8, out, 6), 6);
	/* Only `len` characters are read. */
	assert_int_equal(ids_base64url_decode("Zm9v!!!", 4, out, sizeof out), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid_generate),
		cmocka_unit_test(test_uuid_check),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_base64url_vectors),
		cmocka_unit_test(test_base64url_round_trip),
		cmocka_unit_test(test_base64url_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
