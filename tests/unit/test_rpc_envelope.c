/*
 * test_rpc_envelope.c — the pure parts of src/rpc: Trove's payload encryption (known
 * vectors captured from Python Trove, round trips, wrong keys), the oslo envelope and
 * request/reply encoding in plain and secure modes, failure strings, version rules
 * and the argument schema check (transport_url: test_rpc_url.c). No broker needed.
 */
#include "testutil.h"

#include "common/config.h"
#include "rpc/crypto.h"
#include "rpc/envelope.h"
#include "rpc/server.h"

#define SPEC_KEY "AbCdEfGhIjKlMnOpQrStUvWxYz012345"

static void test_crypto_spec_vectors(void **state)
{
	(void)state;
	/* spec §2.9: these decrypt to "bob" and "%" with SPEC_KEY. */
	struct ct_error err;
	json_t *v = rpc_crypto_decrypt_json(SPEC_KEY,
					    "yqQg6p12u11q8KywUEKMVj40Q7QQGCGJmnWzlxAgIoM=", &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "bob");
	json_decref(v);
	v = rpc_crypto_decrypt_json(SPEC_KEY, "xB4hdngTztNkZ6qmfAlQeaV91vAISteU0IeN7WofIBI=", &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "%");
	json_decref(v);
	/* Another key does not decrypt it (padding check fails) or yields no JSON. */
	v = rpc_crypto_decrypt_json("other", "yqQg6p12u11q8KywUEKMVj40Q7QQGCGJmnWzlxAgIoM=", &err);
	if (v)
		assert_false(json_is_string(v) && !strcmp(json_string_value(v), "bob"));
	json_decref(v);
}

static void test_crypto_round_trip(void **state)
{
	(void)state;
	struct ct_error err;
	char plain[100];
	for (size_t len = 0; len < sizeof plain; len++) {
		memset(plain, 'a' + (int)(len % 26), len);
		char *enc = rpc_crypto_encrypt("k", plain, len, &err);
		assert_non_null(enc);
		/* iv (16) + padded ciphertext, Base64 with padding, no newlines. */
		size_t raw = 16 + (len / 16 + 1) * 16;
		assert_int_equal(strlen(enc), 4 * ((raw + 2) / 3));
		assert_null(strchr(enc, '\n'));
		size_t out_len = 0;
		char *dec = rpc_crypto_decrypt("k", enc, &out_len, &err);
		assert_non_null(dec);
		assert_int_equal(out_len, len);
		assert_memory_equal(dec, plain, len);
		free(dec);
		free(enc);
	}
	/* The same plaintext encrypts differently each time (random IV). */
	char *a = rpc_crypto_encrypt("k", "x", 1, &err);
	char *b = rpc_crypto_encrypt("k", "x", 1, &err);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	/* Not Base64, too short, wrong length. */
	assert_null(rpc_crypto_decrypt("k", "not base64!", NULL, &err));
	assert_null(rpc_crypto_decrypt("k", "", NULL, &err));
	assert_null(rpc_crypto_decrypt("k", "AAAA", NULL, &err));
	assert_null(rpc_crypto_decrypt_json("k", "hello world", &err));

	json_t *obj = json_must("{\"a\": [1, 2.5, null, true], \"b\": {\"c\": \"d\"}}");
	char *enc = rpc_crypto_encrypt_json("key", obj, &err);
	json_t *back = rpc_crypto_decrypt_json("key", enc, &err);
	assert_true(json_equal(obj, back));
	json_decref(back);
	free(enc);
	json_t *null = json_null();
	enc = rpc_crypto_encrypt_json("key", null, &err);
	back = rpc_crypto_decrypt_json("key", enc, &err);
	assert_true(json_is_null(back));
	json_decref(back);
	free(enc);
	json_decref(obj);
}

static void test_envelope_wrap_unwrap(void **state)
{
	(void)state;
	struct ct_error err;
	json_t *msg = json_must("{\"method\": \"rpc_ping\", \"args\": {}}");
	size_t len = 0;
	char *body = rpc_envelope_wrap(msg, &len, &err);
	assert_non_null(body);
	assert_int_equal(len, strlen(body));
	json_t *outer = json_must(body);
	assert_string_equal(json_string_value(json_object_get(outer, "oslo.version")), "2.0");
	/* double encoded: the inner message is a string */
	assert_true(json_is_string(json_object_get(outer, "oslo.message")));
	assert_int_equal(json_object_size(outer), 2);
	json_decref(outer);
	json_t *back = rpc_envelope_unwrap(body, len, &err);
	assert_true(json_equal(back, msg));
	json_decref(back);
	free(body);
	json_decref(msg);

	/* A bare (pre-envelope) message is accepted as it is. */
	const char *bare = "{\"method\": \"x\", \"args\": {}}";
	back = rpc_envelope_unwrap(bare, strlen(bare), &err);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(back, "method")), "x");
	json_decref(back);

	static const char *const garbage[] = {
		"",
		"not json",
		"\xff\xfe\x00",
		"[1, 2]",
		"42",
		"{\"oslo.version\": \"3.0\", \"oslo.message\": \"{}\"}",
		"{\"oslo.version\": \"2.1\", \"oslo.message\": \"{}\"}",
		"{\"oslo.version\": 2, \"oslo.message\": \"{}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": {}}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"not json\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"[1]\"}",
	};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		err.status = 0;
		json_t *m = rpc_envelope_unwrap(garbage[i], strlen(garbage[i]), &err);
		if (m)
			fail_msg("garbage %zu accepted", i);
		assert_int_equal(err.status, 400);
	}
}

static void test_request_plain(void **state)
{
	(void)state;
	struct ct_error err;
	json_t *args = json_must("{\"instance_id\": \"abc\", \"n\": 3}");
	json_t *ctx =
		json_must("{\"request_id\": \"req-1\", \"user\": null, \"roles\": [\"member\"]}");
	json_t *msg = rpc_request_new("delete_instance", args, NULL, ctx, NULL, NULL, NULL, &err);
	assert_non_null(msg);
	assert_string_equal(json_string_value(json_object_get(msg, "method")), "delete_instance");
	assert_string_equal(json_string_value(json_object_get(msg, "version")), "1.0");
	assert_int_equal(strlen(json_string_value(json_object_get(msg, "_unique_id"))), 32);
	assert_null(json_object_get(msg, "_msg_id"));
	assert_null(json_object_get(msg, "_reply_q"));
	assert_null(json_object_get(msg, "namespace"));
	assert_string_equal(json_string_value(json_object_get(msg, "_context_request_id")),
			    "req-1");
	assert_true(json_is_null(json_object_get(msg, "_context_user")));
	assert_true(json_equal(json_object_get(msg, "args"), args));

	struct rpc_request req;
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_null(req.msg_id);
	assert_int_equal(rpc_request_decode(&req, NULL, &err), 0);
	assert_true(json_equal(req.args, args));
	assert_true(json_equal(req.context, ctx));
	rpc_request_clear(&req);
	json_decref(msg);

	/* A call carries _msg_id, _reply_q and _timeout: null. */
	msg = rpc_request_new("get_user", args, "1.1", ctx, "0123456789abcdef0123456789abcdef",
			      "reply_x", NULL, &err);
	assert_string_equal(json_string_value(json_object_get(msg, "_reply_q")), "reply_x");
	assert_true(json_is_null(json_object_get(msg, "_timeout")));
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_string_equal(req.msg_id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(req.reply_q, "reply_x");
	assert_string_equal(req.version, "1.1");
	rpc_request_clear(&req);
	json_decref(msg);

	/* No method: the header still names the reply queue, so a failure can be sent. */
	msg = json_must("{\"_msg_id\": \"m\", \"_reply_q\": \"reply_q\", \"args\": {}}");
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), -1);
	assert_string_equal(req.reply_q, "reply_q");
	rpc_request_clear(&req);
	json_decref(msg);
	/* args of the wrong type */
	msg = json_must("{\"method\": \"m\", \"args\": [1]}");
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_int_equal(rpc_request_decode(&req, NULL, &err), -1);
	rpc_request_clear(&req);
	json_decref(msg);

	json_decref(args);
	json_decref(ctx);
}

static void test_request_secure(void **state)
{
	(void)state;
	struct ct_error err;
	json_t *args = json_must("{\"username\": \"bob\", \"n\": null, \"flag\": true}");
	json_t *ctx = json_must("{\"request_id\": \"req-2\", \"auth_token\": \"T\"}");
	struct rpc_secure sec = {SPEC_KEY, NULL};
	json_t *msg = rpc_request_new("get_user", args, NULL, ctx, "id", "reply_q", &sec, &err);
	assert_non_null(msg);
	/* every value is ciphertext, the context is one key */
	json_t *wire_args = json_object_get(msg, "args");
	assert_true(json_is_string(json_object_get(wire_args, "username")));
	assert_true(json_is_string(json_object_get(wire_args, "n")));
	assert_string_not_equal(json_string_value(json_object_get(wire_args, "username")), "bob");
	assert_true(json_is_string(json_object_get(msg, "_context_context")));
	assert_null(json_object_get(msg, "_context_request_id"));
	assert_null(json_object_get(msg, "_context_auth_token"));

	struct rpc_request req;
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_int_equal(rpc_request_decode(&req, SPEC_KEY, &err), 0);
	assert_true(json_equal(req.args, args));
	assert_true(json_equal(req.context, ctx));
	rpc_request_clear(&req);
	json_decref(msg);

	/* guest→conductor form: {"entity": E, "csz-instance-id": id} strings */
	struct rpc_secure guest = {SPEC_KEY, "11111111-2222-3333-4444-555555555555"};
	msg = rpc_request_new("heartbeat", args, NULL, ctx, NULL, NULL, &guest, &err);
	assert_string_equal(json_string_value(json_object_get(msg, "_context_csz-instance-id")),
			    guest.instance_id);
	json_t *wrapped = json_must(
		json_string_value(json_object_get(json_object_get(msg, "args"), "username")));
	assert_true(json_is_string(json_object_get(wrapped, "entity")));
	assert_string_equal(json_string_value(json_object_get(wrapped, "csz-instance-id")),
			    guest.instance_id);
	json_decref(wrapped);
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_string_equal(req.instance_id, guest.instance_id);
	assert_int_equal(rpc_request_decode(&req, SPEC_KEY, &err), 0);
	assert_true(json_equal(req.args, args));
	assert_true(json_equal(req.context, ctx));
	rpc_request_clear(&req);
	json_decref(msg);

	json_decref(args);
	json_decref(ctx);
}

/* Decode msg (a request's inner JSON) with key and expect a 403 refusal. */
static void assert_refused(json_t *msg, const char *key)
{
	struct rpc_request req;
	struct ct_error err = {0, ""};
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_int_equal(rpc_request_decode(&req, key, &err), -1);
	assert_int_equal(err.status, 403);
	rpc_request_clear(&req);
	json_decref(msg);
}

/* With a key nothing unverified gets through (Python would pass it on). */
static void test_request_refused_unless_sealed(void **state)
{
	(void)state;
	struct ct_error err;
	json_t *args = json_must("{\"name\": \"bob\"}");
	json_t *ctx = json_must("{\"request_id\": \"req-3\"}");
	struct rpc_secure sec = {SPEC_KEY, NULL};
	struct rpc_secure other = {"another key entirely 0123456789", NULL};
	const char *a = "11111111-2222-3333-4444-555555555555";
	const char *b = "66666666-7777-8888-9999-000000000000";
	struct rpc_secure guest_a = {SPEC_KEY, a}, guest_b = {SPEC_KEY, b};

	/* plain text: values, context keys, no context at all */
	assert_refused(json_must("{\"method\": \"m\", \"args\": {\"a\": \"plain\"},"
				 " \"_context_request_id\": \"req-1\"}"),
		       SPEC_KEY);
	assert_refused(json_must("{\"method\": \"m\", \"args\": {}}"), SPEC_KEY);
	assert_refused(json_must("{\"method\": \"m\", \"args\": {\"b\": 5},"
				 " \"_context_context\": \"garbage\"}"),
		       SPEC_KEY);
	/* sealed with another key */
	assert_refused(rpc_request_new("m", args, NULL, ctx, NULL, NULL, &other, &err), SPEC_KEY);
	/* one plain value beside sealed ones */
	json_t *msg = rpc_request_new("m", args, NULL, ctx, NULL, NULL, &sec, &err);
	json_object_set_new(json_object_get(msg, "args"), "extra", json_string("plain"));
	assert_refused(msg, SPEC_KEY);
	/* a sealed context that is not an object */
	msg = rpc_request_new("m", args, NULL, ctx, NULL, NULL, &sec, &err);
	json_t *n = json_integer(7);
	char *sealed_seven = rpc_crypto_encrypt_json(SPEC_KEY, n, &err);
	json_decref(n);
	json_object_set_new(msg, "_context_context", json_string(sealed_seven));
	free(sealed_seven);
	assert_refused(msg, SPEC_KEY);
	/* guest→conductor: values wrapped for instance B in a message naming A */
	msg = rpc_request_new("heartbeat", args, NULL, ctx, NULL, NULL, &guest_b, &err);
	json_object_set_new(msg, "_context_csz-instance-id", json_string(a));
	assert_refused(msg, SPEC_KEY);
	/* bare ciphertext where the wrapper is due, and the reverse */
	msg = rpc_request_new("heartbeat", args, NULL, ctx, NULL, NULL, &sec, &err);
	json_object_set_new(msg, "_context_csz-instance-id", json_string(a));
	assert_refused(msg, SPEC_KEY);
	msg = rpc_request_new("heartbeat", args, NULL, ctx, NULL, NULL, &guest_a, &err);
	json_object_del(msg, "_context_csz-instance-id");
	assert_refused(msg, SPEC_KEY);

	/* the same message sealed right is read (so the refusals above are not
	 * refusals of everything) */
	msg = rpc_request_new("heartbeat", args, NULL, ctx, NULL, NULL, &guest_a, &err);
	struct rpc_request req;
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_int_equal(rpc_request_decode(&req, SPEC_KEY, &err), 0);
	assert_true(json_equal(req.args, args));
	rpc_request_clear(&req);
	json_decref(msg);
	/* without a key, plain text is read as plain text */
	msg = json_must("{\"method\": \"m\", \"args\": {\"a\": \"plain\"},"
			" \"_context_request_id\": \"req-1\"}");
	assert_int_equal(rpc_request_parse_header(msg, &req, &err), 0);
	assert_int_equal(rpc_request_decode(&req, NULL, &err), 0);
	assert_string_equal(json_string_value(json_object_get(req.args, "a")), "plain");
	assert_string_equal(json_string_value(json_object_get(req.context, "request_id")), "req-1");
	rpc_request_clear(&req);
	json_decref(msg);
	json_decref(args);
	json_decref(ctx);
}

static void test_reply(void **state)
{
	(void)state;
	struct ct_error err;
	json_t *result = json_must("{\"name\": \"bob\", \"host\": \"%\", \"databases\": []}");
	json_t *msg = rpc_reply_new(result, NULL, true, "abc", NULL, &err);
	assert_true(json_is_true(json_object_get(msg, "ending")));
	assert_true(json_is_null(json_object_get(msg, "failure")));
	assert_string_equal(json_string_value(json_object_get(msg, "_msg_id")), "abc");
	assert_non_null(json_object_get(msg, "_unique_id"));
	struct rpc_reply rep;
	assert_int_equal(rpc_reply_parse(msg, NULL, &rep, &err), 0);
	assert_false(rep.failed);
	assert_true(rep.ending);
	assert_true(json_equal(rep.result, result));
	rpc_reply_clear(&rep);
	json_decref(msg);

	/* secure: the result is ciphertext on the wire */
	msg = rpc_reply_new(result, NULL, true, "abc", SPEC_KEY, &err);
	assert_true(json_is_string(json_object_get(msg, "result")));
	assert_int_equal(rpc_reply_parse(msg, SPEC_KEY, &rep, &err), 0);
	assert_true(json_equal(rep.result, result));
	rpc_reply_clear(&rep);
	json_decref(msg);

	/* with a key, a plain or foreign result is refused; msg_id is still known */
	static const char *const unsealed[] = {
		"{\"_msg_id\": \"abc\", \"result\": {\"name\": \"bob\"}, \"ending\": true}",
		"{\"_msg_id\": \"abc\", \"result\": null, \"ending\": true}",
		"{\"_msg_id\": \"abc\", \"result\": \"bm90IHNlYWxlZA==\", \"ending\": true}",
		"{\"_msg_id\": \"abc\", \"result\": 5, \"ending\": false}",
	};
	for (size_t i = 0; i < sizeof unsealed / sizeof unsealed[0]; i++) {
		msg = json_must(unsealed[i]);
		assert_int_equal(rpc_reply_parse(msg, SPEC_KEY, &rep, &err), -1);
		assert_int_equal(err.status, 403);
		assert_string_equal(rep.msg_id, "abc");
		rpc_reply_clear(&rep);
		json_decref(msg);
	}
	msg = rpc_reply_new(result, NULL, true, "abc", "another key entirely 0123456789", &err);
	assert_int_equal(rpc_reply_parse(msg, SPEC_KEY, &rep, &err), -1);
	json_decref(msg);
	/* oslo's keep-alive: a plain null that is not the ending reply, no result */
	msg = json_must("{\"_msg_id\": \"abc\", \"result\": null, \"ending\": false}");
	assert_int_equal(rpc_reply_parse(msg, SPEC_KEY, &rep, &err), 0);
	assert_null(rep.result);
	json_decref(msg);

	/* a None result */
	msg = rpc_reply_new(NULL, NULL, true, "abc", NULL, &err);
	assert_true(json_is_null(json_object_get(msg, "result")));
	json_decref(msg);

	/* failure: a JSON string inside the reply, never encrypted */
	char *failure = rpc_failure_encode("GuestError", "trove.common.exception", "boom");
	msg = rpc_reply_new(NULL, failure, true, "abc", SPEC_KEY, &err);
	free(failure);
	json_t *f = json_must(json_string_value(json_object_get(msg, "failure")));
	assert_string_equal(json_string_value(json_object_get(f, "class")), "GuestError");
	assert_string_equal(json_string_value(json_object_get(f, "message")), "boom");
	assert_true(json_is_array(json_object_get(f, "tb")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "args"), 0)),
			    "boom");
	assert_true(json_is_object(json_object_get(f, "kwargs")));
	json_decref(f);
	assert_int_equal(rpc_reply_parse(msg, SPEC_KEY, &rep, &err), 0);
	assert_true(rep.failed);
	assert_string_equal(rep.failure_class, "GuestError");
	assert_string_equal(rep.failure_module, "trove.common.exception");
	assert_string_equal(rep.failure_message, "boom");
	rpc_reply_clear(&rep);
	json_decref(msg);

	/* a failure string that is not JSON still fails the call */
	msg = json_must("{\"_msg_id\": \"x\", \"failure\": \"oops\", \"result\": null}");
	assert_int_equal(rpc_reply_parse(msg, NULL, &rep, &err), 0);
	assert_true(rep.failed);
	assert_string_equal(rep.failure_class, "RemoteError");
	assert_string_equal(rep.failure_message, "oops");
	json_decref(msg);
	/* no _msg_id: refused */
	msg = json_must("{\"result\": 1}");
	assert_int_equal(rpc_reply_parse(msg, NULL, &rep, &err), -1);
	json_decref(msg);
	json_decref(result);
}

static void test_failure_classes(void **state)
{
	(void)state;
	const char *cls, *module;
	rpc_failure_class_for_status(404, &cls, &module);
	assert_string_equal(cls, "NotFound");
	assert_string_equal(module, "trove.common.exception");
	rpc_failure_class_for_status(501, &cls, &module);
	assert_string_equal(cls, "NotImplementedError");
	assert_string_equal(module, "builtins");
	rpc_failure_class_for_status(500, &cls, &module);
	assert_string_equal(cls, "TroveError");
	assert_int_equal(rpc_status_for_failure_class("DatabaseNotFound"), 404);
	assert_int_equal(rpc_status_for_failure_class("NoSuchMethod"), 501);
	assert_int_equal(rpc_status_for_failure_class("TypeError"), 400);
	assert_int_equal(rpc_status_for_failure_class("GuestError"), 500);
	assert_int_equal(rpc_status_for_failure_class(NULL), 500);
}

static void test_versions(void **state)
{
	(void)state;
	assert_true(rpc_version_compatible("1.0", "1.0"));
	assert_true(rpc_version_compatible("1.1", "1.0"));
	assert_true(rpc_version_compatible("1.1", "1"));
	assert_false(rpc_version_compatible("1.0", "1.1"));
	assert_false(rpc_version_compatible("1.1", "2.0"));
	assert_false(rpc_version_compatible("2.0", "1.0"));
	assert_true(rpc_version_compatible("1.1.2", "1.1.1"));
	assert_false(rpc_version_compatible("1.1", "1.1.1"));
	assert_false(rpc_version_compatible("1.0", "x"));
	assert_false(rpc_version_compatible("1.0", ""));
	assert_false(rpc_version_compatible("1.0", NULL));
}

static json_t *noop(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	(void)req;
	(void)err;
	return json_null();
}

static void test_args_check(void **state)
{
	(void)state;
	static const struct rpc_arg args[] = {
		{"instance_id", RPC_T_STRING, true},
		{"sent", RPC_T_NUMBER | RPC_T_NULL, false},
		{NULL, 0, false},
	};
	const struct rpc_method m = {"heartbeat", noop, args, false};
	struct ct_error err;
	json_t *a = json_must("{\"instance_id\": \"x\", \"sent\": 1.5}");
	assert_int_equal(rpc_args_check(&m, a, &err), 0);
	json_decref(a);
	a = json_must("{\"instance_id\": \"x\"}");
	assert_int_equal(rpc_args_check(&m, a, &err), 0);
	json_decref(a);
	a = json_must("{\"sent\": 1}");
	assert_int_equal(rpc_args_check(&m, a, &err), -1);
	assert_non_null(strstr(err.message, "instance_id"));
	json_decref(a);
	a = json_must("{\"instance_id\": 5}");
	assert_int_equal(rpc_args_check(&m, a, &err), -1);
	json_decref(a);
	a = json_must("{\"instance_id\": \"x\", \"other\": 1}");
	assert_int_equal(rpc_args_check(&m, a, &err), -1);
	assert_non_null(strstr(err.message, "unexpected"));
	const struct rpc_method loose = {"heartbeat", noop, args, true};
	assert_int_equal(rpc_args_check(&loose, a, &err), 0);
	json_decref(a);
}

int main(void)
{
	cfg_reset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_spec_vectors),
		cmocka_unit_test(test_crypto_round_trip),
		cmocka_unit_test(test_envelope_wrap_unwrap),
		cmocka_unit_test(test_request_plain),
		cmocka_unit_test(test_request_secure),
		cmocka_unit_test(test_request_refused_unless_sealed),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_failure_classes),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_args_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
