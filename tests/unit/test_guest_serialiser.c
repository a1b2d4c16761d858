/*
 * test_guest_serialiser.c — unit tests (cmocka) for guest/models.h, the one
 * serialiser and parser of Trove's guest models: the exact wire bytes the
 * client sends, round trips, hostile names, and clear 400s for missing,
 * wrongly typed or oversized fields. Pure: no RPC, no server.
 * Owns nothing; may not touch files, processes or the network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "guest/models.h"

static char *dump(json_t *j)
{
	assert_non_null(j);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(text);
	return text;
}

static void assert_dumps(json_t *j, const char *expected)
{
	char *text = dump(j);
	assert_string_equal(text, expected);
	free(text);
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

/* The bytes the API has always sent the guest (and Trove's guest expects). */
static void test_wire_bytes(void **state)
{
	(void)state;
	struct ct_error err;
	struct guest_database db;
	assert_int_equal(guest_database_set(&db, "db1", "utf8mb4", "utf8mb4_general_ci", &err), 0);
	assert_dumps(guest_database_to_json(&db),
		     "{\"_name\":\"db1\",\"_character_set\":\"utf8mb4\",\"_collate\":\"utf8mb4_"
		     "general_ci\"}");
	assert_int_equal(guest_database_set(&db, "db2", NULL, "", &err), 0);
	assert_dumps(guest_database_to_json(&db),
		     "{\"_name\":\"db2\",\"_character_set\":null,\"_collate\":null}");

	struct guest_user u = {0};
	assert_int_equal(guest_user_set(&u, "userA", "%", "Passw0rd", &err), 0);
	assert_int_equal(guest_user_add_database(&u, "db1", &err), 0);
	assert_dumps(guest_user_to_json(&u),
		     "{\"_name\":\"userA\",\"_password\":\"Passw0rd\",\"_host\":\"%\",\"_"
		     "databases\":[{\"_name\":\"db1\",\"_character_set\":null,\"_collate\":null}],"
		     "\"_is_root\":false}");
	assert_dumps(guest_password_changes_to_json(&u, 1),
		     "[{\"name\":\"userA\",\"host\":\"%\",\"password\":\"Passw0rd\"}]");
	guest_user_clear(&u);

	/* No host means Trove's default; no password is null. */
	assert_int_equal(guest_user_set(&u, "userB", NULL, NULL, &err), 0);
	assert_dumps(guest_user_to_json(&u),
		     "{\"_name\":\"userB\",\"_password\":null,\"_host\":\"%\",\"_databases\":[],"
		     "\"_is_root\":false}");
	guest_user_clear(&u);

	assert_dumps(guest_user_attrs_to_json("new", NULL, "pw"),
		     "{\"name\":\"new\",\"password\":\"pw\"}");
	assert_dumps(guest_user_attrs_to_json(NULL, NULL, NULL), "{}");
	assert_dumps(guest_databases_to_json(NULL, 0), "[]");
	assert_dumps(guest_users_to_json(NULL, 0), "[]");
}

static void test_round_trip(void **state)
{
	(void)state;
	struct ct_error err;
	struct guest_user in[2];
	memset(in, 0, sizeof in);
	assert_int_equal(guest_user_set(&in[0], "a", "10.0.0.%", "pw1", &err), 0);
	assert_int_equal(guest_user_add_database(&in[0], "x", &err), 0);
	assert_int_equal(guest_user_add_database(&in[0], "y", &err), 0);
	assert_int_equal(guest_user_set(&in[1], "b", "%", "pw2", &err), 0);
	in[1].is_root = true;

	json_t *wire = guest_users_to_json(in, 2);
	assert_non_null(wire);
	struct guest_user *out;
	size_t n;
	assert_int_equal(guest_users_from_json(wire, "users", &out, &n, &err), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(out[i].name, in[i].name);
		assert_string_equal(out[i].host, in[i].host);
		assert_string_equal(out[i].password, in[i].password);
		assert_int_equal(out[i].is_root, in[i].is_root);
		assert_int_equal(out[i].n_databases, in[i].n_databases);
		for (size_t k = 0; k < out[i].n_databases; k++)
			assert_string_equal(out[i].databases[k].name, in[i].databases[k].name);
	}
	/* Serialising what was parsed gives the same bytes. */
	char *first = dump(wire), *second = dump(guest_users_to_json(out, n));
	assert_string_equal(first, second);
	free(first);
	free(second);
	guest_users_free(out, n);
	guest_user_clear(&in[0]);
	guest_user_clear(&in[1]);

	struct guest_database dbs[2];
	assert_int_equal(guest_database_set(&dbs[0], "d1", "latin1", "latin1_swedish_ci", &err), 0);
	assert_int_equal(guest_database_set(&dbs[1], "d2", NULL, NULL, &err), 0);
	wire = guest_databases_to_json(dbs, 2);
	struct guest_database *back;
	assert_int_equal(guest_databases_from_json(wire, "databases", &back, &n, &err), 0);
	json_decref(wire);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(back[i].name, dbs[i].name);
		assert_string_equal(back[i].character_set, dbs[i].character_set);
		assert_string_equal(back[i].collate, dbs[i].collate);
	}
	free(back);
}

/* Names that break naive string building come back byte for byte. */
static void test_hostile_names(void **state)
{
	(void)state;
	static const char *const names[] = {"a\"b",
					    "a\\\"}],\"_is_root\":true,\"x\":\"",
					    "x'; DROP DATABASE mysql; --",
					    "`ab`",
					    "\xc3\xa9l\xc3\xa8ve",
					    "line\nbreak\ttab\x01",
					    "%_%",
					    "{\"_name\":\"inner\"}",
					    "\xf0\x9f\x98\x80",
					    "a@b@c",
					    NULL};
	struct ct_error err;
	for (size_t i = 0; names[i]; i++) {
		struct guest_user u = {0};
		assert_int_equal(guest_user_set(&u, names[i], names[i], names[i], &err), 0);
		assert_int_equal(guest_user_add_database(&u, names[i], &err), 0);
		char *text = dump(guest_user_to_json(&u));
		json_t *j = parse(text);
		free(text);
		struct guest_user back = {0};
		assert_int_equal(guest_user_from_json(j, "user", &back, &err), 0);
		json_decref(j);
		assert_string_equal(back.name, names[i]);
		assert_string_equal(back.host, names[i]);
		assert_string_equal(back.password, names[i]);
		assert_false(back.is_root);
		assert_int_equal(back.n_databases, 1);
		assert_string_equal(back.databases[0].name, names[i]);
		guest_user_clear(&back);
		guest_user_clear(&u);
	}
}

/* Parse text as what; expect a 400 whose message contains needle. */
static void assert_user_refused(const char *text, const char *needle)
{
	struct ct_error err = {0};
	json_t *j = parse(text);
	struct guest_user u = {0};
	assert_int_equal(guest_user_from_json(j, "user", &u, &err), -1);
	json_decref(j);
	assert_int_equal(err.status, 400);
	if (!strstr(err.message, needle))
		fail_msg("'%s' → '%s', expected '%s'", text, err.message, needle);
	assert_null(u.databases); /* left cleared: nothing to free */
	assert_int_equal(u.password[0], 0);
}

static void assert_database_refused(const char *text, const char *needle)
{
	struct ct_error err = {0};
	json_t *j = parse(text);
	struct guest_database *dbs;
	size_t n = 99;
	assert_int_equal(guest_databases_from_json(j, "databases", &dbs, &n, &err), -1);
	json_decref(j);
	assert_int_equal(err.status, 400);
	assert_null(dbs);
	assert_int_equal(n, 0);
	if (!strstr(err.message, needle))
		fail_msg("'%s' → '%s', expected '%s'", text, err.message, needle);
}

static void test_bad_fields(void **state)
{
	(void)state;
	assert_user_refused("[]", "must be an object");
	assert_user_refused("\"userA\"", "must be an object");
	assert_user_refused("{}", "'name' is missing");
	assert_user_refused("{\"_name\":null}", "'name' is missing");
	assert_user_refused("{\"_name\":\"\"}", "'name' is empty");
	assert_user_refused("{\"_name\":5}", "'name' must be a string");
	assert_user_refused("{\"_name\":\"a\",\"_host\":[]}", "'host' must be a string");
	assert_user_refused("{\"_name\":\"a\",\"_password\":{}}", "'password' must be a string");
	assert_user_refused("{\"_name\":\"a\",\"_is_root\":\"yes\"}",
			    "'is_root' must be a boolean");
	assert_user_refused("{\"_name\":\"a\",\"_databases\":{}}", "'databases' must be a list");
	assert_user_refused("{\"_name\":\"a\",\"_databases\":[{\"_name\":\"ok\"},{}]}",
			    "user.databases[1]: 'name' is missing");
	assert_user_refused("{\"_name\":\"a\\u0000b\"}", "'name' contains a NUL character");
	assert_user_refused("{\"_name\":\"a\",\"_password\":\"p\\u0000w\"}",
			    "'password' contains a NUL character");

	assert_database_refused("{}", "databases must be a list");
	assert_database_refused("[5]", "databases[0]: a database must be an object or a name");
	assert_database_refused("[{\"_name\":\"a\"},{\"_character_set\":\"utf8\"}]",
				"databases[1]: 'name' is missing");
	assert_database_refused("[{\"_name\":\"a\",\"_collate\":7}]", "'collate' must be a string");
	assert_database_refused("[\"\"]", "'name' is empty");
	assert_database_refused("[\"a\\u0000b\"]", "NUL");

	/* Too long for the struct: refused, never truncated. */
	char *text = malloc(GUEST_NAME_SIZE + 64);
	assert_non_null(text);
	strcpy(text, "{\"_name\":\"");
	size_t len = strlen(text);
	memset(text + len, 'x', GUEST_NAME_SIZE);
	strcpy(text + len + GUEST_NAME_SIZE, "\"}");
	assert_user_refused(text, "'name' is longer than 511 bytes");
	free(text);

	/* Setting from C refuses the same way. */
	struct ct_error err = {0};
	char long_host[GUEST_HOST_SIZE + 1];
	memset(long_host, 'h', GUEST_HOST_SIZE);
	long_host[GUEST_HOST_SIZE] = '\0';
	struct guest_user u = {0};
	assert_int_equal(guest_user_set(&u, "a", long_host, "pw", &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "'host' is longer"));
}

static void test_lenient_forms(void **state)
{
	(void)state;
	struct ct_error err;
	/* change_passwords' plain keys, a bare database name, no host. */
	json_t *j = parse("{\"name\":\"u\",\"password\":\"pw\",\"databases\":[\"d1\",{\"name\":"
			  "\"d2\"}]}");
	struct guest_user u = {0};
	assert_int_equal(guest_user_from_json(j, "user", &u, &err), 0);
	assert_string_equal(u.name, "u");
	assert_string_equal(u.host, "%");
	assert_string_equal(u.password, "pw");
	assert_int_equal(u.n_databases, 2);
	assert_string_equal(u.databases[0].name, "d1");
	assert_string_equal(u.databases[1].name, "d2");
	assert_string_equal(guest_model_name(j), "u");
	assert_string_equal(guest_model_password(j), "pw");
	assert_null(guest_model_host(j));
	assert_string_equal(guest_model_db_name(json_array_get(guest_model_databases(j), 0)), "d1");
	assert_string_equal(guest_model_db_name(json_array_get(guest_model_databases(j), 1)), "d2");
	json_decref(j);

	/* The underscored key wins over the plain one; wrong types read as NULL. */
	j = parse("{\"_name\":\"under\",\"name\":\"plain\",\"_host\":5,\"_collate\":\"c\"}");
	assert_string_equal(guest_model_name(j), "under");
	assert_null(guest_model_host(j));
	assert_string_equal(guest_model_collate(j), "c");
	assert_null(guest_model_character_set(j));
	assert_null(guest_model_databases(j));
	json_decref(j);
	assert_null(guest_model_name(NULL));

	/* The wipe: a cleared user keeps no password and no databases. */
	for (size_t i = 0; i < sizeof u.password; i++)
		if (u.password[i])
			goto clear;
	fail_msg("the password was not there to wipe");
clear:
	guest_user_clear(&u);
	for (size_t i = 0; i < sizeof u.password; i++)
		assert_int_equal(u.password[i], 0);
	assert_null(u.databases);
	assert_int_equal(u.n_databases, 0);
	guest_users_free(NULL, 3);

	/* null and [] are empty lists. */
	struct guest_user *users = (struct guest_user *)&u;
	size_t n = 7;
	assert_int_equal(guest_users_from_json(json_null(), "users", &users, &n, &err), 0);
	assert_null(users);
	assert_int_equal(n, 0);
	j = parse("[]");
	assert_int_equal(guest_users_from_json(j, "users", &users, &n, &err), 0);
	json_decref(j);
	assert_null(users);
}

static void test_pages(void **state)
{
	(void)state;
	struct ct_error err;
	char next[GUEST_MARKER_SIZE];
	const json_t *items;
	json_t *j = parse("[[{\"_name\":\"a\"}],null]");
	assert_int_equal(guest_page_from_json(j, &items, next, &err), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(next, "");
	json_decref(j);
	j = parse("[[],\"userA@%\"]");
	assert_int_equal(guest_page_from_json(j, &items, next, &err), 0);
	assert_string_equal(next, "userA@%");
	json_decref(j);
	static const char *const bad[] = {
		"{}", "[]", "[[]]", "[{},null]", "[[],5]", "[[],null,1]", "[[],\"a\\u0000\"]",
		NULL};
	for (size_t i = 0; bad[i]; i++) {
		j = parse(bad[i]);
		err.status = 0;
		assert_int_equal(guest_page_from_json(j, &items, next, &err), -1);
		assert_int_equal(err.status, 400);
		json_decref(j);
	}
}

/* ctrove_tls: the three PEM texts round-trip; anything else is a 400. */
static void test_tls_material(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const char *cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	const char *key = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n";
	struct guest_tls in = {cert, key, cert}, out;
	json_t *j = guest_tls_to_json(&in);
	assert_non_null(j);
	assert_int_equal(guest_tls_from_json(j, &out, &err), 0);
	assert_string_equal(out.cert_pem, cert);
	assert_string_equal(out.key_pem, key);
	assert_string_equal(out.ca_pem, cert);
	json_decref(j);

	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"cert\": 1, \"key\": \"x\", \"ca\": \"x\"}",
		/* a key where the certificate goes, and the other way round */
		"{\"cert\": \"-----BEGIN PRIVATE KEY-----\\nA\\n-----END PRIVATE KEY-----\", "
		"\"key\": \"-----BEGIN PRIVATE KEY-----\\nA\\n-----END PRIVATE KEY-----\", "
		"\"ca\": \"-----BEGIN CERTIFICATE-----\\nA\\n-----END CERTIFICATE-----\"}",
		"{\"cert\": \"-----BEGIN CERTIFICATE-----\\nA\\n-----END CERTIFICATE-----\", "
		"\"key\": \"-----BEGIN CERTIFICATE-----\\nA\\n-----END CERTIFICATE-----\", "
		"\"ca\": \"-----BEGIN CERTIFICATE-----\\nA\\n-----END CERTIFICATE-----\"}",
		/* a NUL inside */
		"{\"cert\": \"-----BEGIN CERTIFICATE-----\\u0000-----END CERTIFICATE-----\", "
		"\"key\": \"-----BEGIN PRIVATE KEY-----\\nA\\n-----END PRIVATE KEY-----\", "
		"\"ca\": \"-----BEGIN CERTIFICATE-----\\nA\\n-----END CERTIFICATE-----\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *b = json_loads(bad[i], JSON_ALLOW_NUL, NULL);
		assert_non_null(b);
		ct_error_clear(&err);
		assert_int_equal(guest_tls_from_json(b, &out, &err), -1);
		assert_int_equal(err.status, 400);
		json_decref(b);
	}
	/* Too long. */
	char *huge = malloc(GUEST_TLS_PEM_MAX + 64);
	assert_non_null(huge);
	snprintf(huge, GUEST_TLS_PEM_MAX + 64, "-----BEGIN CERTIFICATE-----\n");
	memset(huge + strlen(huge), 'A', GUEST_TLS_PEM_MAX);
	snprintf(huge + GUEST_TLS_PEM_MAX, 64, "\n-----END CERTIFICATE-----\n");
	struct guest_tls big = {huge, key, cert};
	j = guest_tls_to_json(&big);
	assert_int_equal(guest_tls_from_json(j, &out, &err), -1);
	assert_int_equal(err.status, 400);
	json_decref(j);
	free(huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_bytes),    cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile_names), cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_lenient_forms), cmocka_unit_test(test_pages),
		cmocka_unit_test(test_tls_material),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
