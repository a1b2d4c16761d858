/*
 * envelope.c — oslo.messaging envelope, request and reply encoding (see envelope.h).
 * Pure: no globals, no I/O, no logging.
 */
#include "rpc/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "rpc/crypto.h"

#define CONTEXT_PREFIX	       "_context_"
#define CONDUCTOR_INSTANCE_KEY "csz-instance-id"
#define AMQP_SHORTSTR_MAX      255

void rpc_new_id(char out[RPC_ID_LEN + 1])
{
	ids_hex32(out);
}

static bool secure_on(const struct rpc_secure *sec)
{
	return sec && sec->key && sec->key[0];
}

char *rpc_envelope_wrap(const json_t *msg, size_t *len, struct ct_error *err)
{
	char *inner = json_dumps(msg, JSON_COMPACT);
	if (!inner) {
		ct_fail(err, 500, "cannot encode the RPC message");
		return NULL;
	}
	json_t *outer = json_object();
	json_object_set_new(outer, "oslo.version", json_string("2.0"));
	json_object_set_new(outer, "oslo.message", json_string(inner));
	free(inner);
	char *body = json_dumps(outer, JSON_COMPACT);
	json_decref(outer);
	if (!body) {
		ct_fail(err, 500, "cannot encode the RPC envelope");
		return NULL;
	}
	if (len)
		*len = strlen(body);
	return body;
}

/* "2.0" and any 2.x with x <= 0 are accepted, as oslo's _VERSION_KEY check does. */
static bool envelope_version_ok(const char *v)
{
	return rpc_version_compatible("2.0", v);
}

json_t *rpc_envelope_unwrap(const void *body, size_t len, struct ct_error *err)
{
	json_error_t jerr;
	json_t *outer = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
	if (!outer) {
		ct_fail(err, 400, "message body is not JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(outer)) {
		json_decref(outer);
		ct_fail(err, 400, "message body is not a JSON object");
		return NULL;
	}
	json_t *ver = json_object_get(outer, "oslo.version");
	json_t *inner = json_object_get(outer, "oslo.message");
	if (!ver || !inner)
		return outer; /* a bare, pre-envelope message */
	if (!json_is_string(ver) || !envelope_version_ok(json_string_value(ver))) {
		json_decref(outer);
		ct_fail(err, 400, "unsupported oslo.version");
		return NULL;
	}
	if (!json_is_string(inner)) {
		json_decref(outer);
		ct_fail(err, 400, "oslo.message is not a string");
		return NULL;
	}
	json_t *msg = json_loadb(json_string_value(inner), json_string_length(inner),
				 JSON_ALLOW_NUL, &jerr);
	json_decref(outer);
	if (!msg) {
		ct_fail(err, 400, "oslo.message is not JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(msg)) {
		json_decref(msg);
		ct_fail(err, 400, "oslo.message is not a JSON object");
		return NULL;
	}
	return msg;
}

/* One argument value as the secure serializer sends it. */
static json_t *secure_value(const json_t *value, const struct rpc_secure *sec, struct ct_error *err)
{
	char *enc = rpc_crypto_encrypt_json(sec->key, value, err);
	if (!enc)
		return NULL;
	if (!sec->instance_id) {
		json_t *s = json_string(enc);
		free(enc);
		return s;
	}
	json_t *wrap = json_object();
	json_object_set_new(wrap, "entity", json_string(enc));
	json_object_set_new(wrap, CONDUCTOR_INSTANCE_KEY, json_string(sec->instance_id));
	free(enc);
	char *text = json_dumps(wrap, JSON_COMPACT);
	json_decref(wrap);
	if (!text) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	json_t *s = json_string(text);
	free(text);
	return s;
}

json_t *rpc_request_new(const char *method, const json_t *args, const char *version,
			const json_t *ctx, const char *msg_id, const char *reply_q,
			const struct rpc_secure *sec, struct ct_error *err)
{
	char unique_id[RPC_ID_LEN + 1];
	json_t *msg = json_object();
	json_t *out_args = json_object();
	if (!msg || !out_args)
		goto oom;
	if (args && !json_is_object(args)) {
		ct_fail(err, 400, "RPC arguments must be an object");
		goto fail;
	}
	const char *name;
	json_t *value;
	json_object_foreach ((json_t *)args, name, value) {
		json_t *v = secure_on(sec) ? secure_value(value, sec, err) : json_incref(value);
		if (!v)
			goto fail;
		json_object_set_new(out_args, name, v);
	}
	json_object_set_new(msg, "method", json_string(method));
	json_object_set_new(msg, "args", out_args);
	out_args = NULL;
	json_object_set_new(msg, "version", json_string(version ? version : "1.0"));
	if (msg_id) {
		json_object_set_new(msg, "_msg_id", json_string(msg_id));
		json_object_set_new(msg, "_reply_q", json_string(reply_q));
		json_object_set_new(msg, "_timeout", json_null());
	}
	rpc_new_id(unique_id);
	json_object_set_new(msg, "_unique_id", json_string(unique_id));

	if (secure_on(sec)) {
		json_t *empty = ctx ? NULL : json_object();
		char *enc = rpc_crypto_encrypt_json(sec->key, ctx ? ctx : empty, err);
		json_decref(empty);
		if (!enc)
			goto fail;
		json_object_set_new(msg, CONTEXT_PREFIX "context", json_string(enc));
		free(enc);
		if (sec->instance_id)
			json_object_set_new(msg, CONTEXT_PREFIX CONDUCTOR_INSTANCE_KEY,
					    json_string(sec->instance_id));
	} else if (ctx) {
		json_object_foreach ((json_t *)ctx, name, value) {
			char key[256];
			snprintf(key, sizeof key, CONTEXT_PREFIX "%s", name);
			json_object_set(msg, key, value);
		}
	}
	return msg;
oom:
	ct_fail(err, 500, "out of memory");
fail:
	json_decref(out_args);
	json_decref(msg);
	return NULL;
}

static const char *get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int rpc_request_parse_header(json_t *msg, struct rpc_request *req, struct ct_error *err)
{
	memset(req, 0, sizeof *req);
	req->msg = json_incref(msg);
	req->method = get_str(msg, "method");
	req->version = get_str(msg, "version");
	if (!req->version)
		req->version = "1.0";
	req->namespace_ = get_str(msg, "namespace");
	req->msg_id = get_str(msg, "_msg_id");
	req->reply_q = get_str(msg, "_reply_q");
	req->unique_id = get_str(msg, "_unique_id");
	req->instance_id = get_str(msg, CONTEXT_PREFIX CONDUCTOR_INSTANCE_KEY);
	/* A reply needs both; a queue name is an AMQP short string. */
	if (!req->msg_id || !req->reply_q || !req->reply_q[0] ||
	    strlen(req->reply_q) > AMQP_SHORTSTR_MAX || strlen(req->msg_id) > 255)
		req->msg_id = req->reply_q = NULL;
	if (!req->method || !req->method[0])
		return ct_fail(err, 400, "message has no method");
	return 0;
}

/* Decrypt one argument value. With instance_id set it must be the guest→conductor
 * wrapper naming that same instance; otherwise bare ciphertext. NULL when the value
 * is not encrypted with key (plain text, garbage, another key or another instance). */
static json_t *sealed_value(const json_t *value, const char *key, const char *instance_id)
{
	const char *s = json_string_value(value);
	if (!s)
		return NULL;
	if (!instance_id)
		return rpc_crypto_decrypt_json(key, s, NULL);
	json_t *wrap = json_loads(s, 0, NULL);
	const char *entity = get_str(wrap, "entity");
	const char *named = get_str(wrap, CONDUCTOR_INSTANCE_KEY);
	json_t *plain = entity && named && !strcmp(named, instance_id)
				? rpc_crypto_decrypt_json(key, entity, NULL)
				: NULL;
	json_decref(wrap);
	return plain;
}

/* The context as a keyed sender seals it: one _context_context that decrypts to an
 * object. Plain _context_* keys beside it are not read. */
static json_t *sealed_context(const json_t *msg, const char *key)
{
	const char *sealed = get_str(msg, CONTEXT_PREFIX "context");
	json_t *ctx = sealed ? rpc_crypto_decrypt_json(key, sealed, NULL) : NULL;
	if (ctx && !json_is_object(ctx)) {
		json_decref(ctx);
		ctx = NULL;
	}
	return ctx;
}

int rpc_request_decode(struct rpc_request *req, const char *key, struct ct_error *err)
{
	if (key && !key[0])
		key = NULL;
	json_t *args = json_object_get(req->msg, "args");
	if (args && !json_is_object(args) && !json_is_null(args))
		return ct_fail(err, 400, "args is not an object");
	json_decref(req->args);
	req->args = json_object();
	json_decref(req->context);
	req->context = NULL;
	const char *name;
	json_t *value;
	if (key) {
		/* Unlike Python, nothing that fails to decrypt is passed on: a
		 * plain or foreign value would be the sender's word, unverified. */
		json_object_foreach (args, name, value) {
			json_t *plain = sealed_value(value, key, req->instance_id);
			if (!plain)
				return ct_fail(err, 403,
					       "argument '%.64s' is not encrypted with the key of "
					       "this %s",
					       name, req->instance_id ? "instance" : "topic");
			json_object_set_new(req->args, name, plain);
		}
		req->context = sealed_context(req->msg, key);
		if (!req->context)
			return ct_fail(err, 403,
				       "the context is not encrypted with the key of this %s",
				       req->instance_id ? "instance" : "topic");
		return 0;
	}
	json_object_foreach (args, name, value)
		json_object_set(req->args, name, value);
	req->context = json_object();
	size_t plen = strlen(CONTEXT_PREFIX);
	json_object_foreach (req->msg, name, value) {
		if (strncmp(name, CONTEXT_PREFIX, plen) || !strcmp(name + plen, "context") ||
		    !strcmp(name + plen, CONDUCTOR_INSTANCE_KEY))
			continue;
		json_object_set(req->context, name + plen, value);
	}
	return 0;
}

void rpc_request_clear(struct rpc_request *req)
{
	json_decref(req->args);
	json_decref(req->context);
	json_decref(req->msg);
	memset(req, 0, sizeof *req);
}

json_t *rpc_reply_new(const json_t *result, const char *failure, bool ending, const char *msg_id,
		      const char *key, struct ct_error *err)
{
	char unique_id[RPC_ID_LEN + 1];
	json_t *msg = json_object();
	if (failure) {
		json_object_set_new(msg, "result", json_null());
		json_object_set_new(msg, "failure", json_string(failure));
	} else {
		json_t *null = result ? NULL : json_null();
		const json_t *value = result ? result : null;
		if (key && key[0]) {
			char *enc = rpc_crypto_encrypt_json(key, value, err);
			json_decref(null);
			if (!enc) {
				json_decref(msg);
				return NULL;
			}
			json_object_set_new(msg, "result", json_string(enc));
			free(enc);
		} else {
			json_object_set(msg, "result", (json_t *)value);
			json_decref(null);
		}
		json_object_set_new(msg, "failure", json_null());
	}
	json_object_set_new(msg, "ending", json_boolean(ending));
	json_object_set_new(msg, "_msg_id", json_string(msg_id));
	rpc_new_id(unique_id);
	json_object_set_new(msg, "_unique_id", json_string(unique_id));
	return msg;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int rpc_reply_parse(const json_t *msg, const char *key, struct rpc_reply *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	if (!json_is_object(msg))
		return ct_fail(err, 400, "reply is not an object");
	const char *msg_id = get_str(msg, "_msg_id");
	if (!msg_id)
		return ct_fail(err, 400, "reply has no _msg_id");
	copy_str(out->msg_id, sizeof out->msg_id, msg_id);
	copy_str(out->unique_id, sizeof out->unique_id, get_str(msg, "_unique_id"));
	out->ending = json_is_true(json_object_get(msg, "ending"));
	json_t *failure = json_object_get(msg, "failure");
	if (failure && !json_is_null(failure)) {
		out->failed = true;
		const char *text = json_string_value(failure);
		json_t *f = text ? json_loads(text, 0, NULL) : NULL;
		if (json_is_object(f)) {
			copy_str(out->failure_class, sizeof out->failure_class,
				 get_str(f, "class"));
			copy_str(out->failure_module, sizeof out->failure_module,
				 get_str(f, "module"));
			copy_str(out->failure_message, sizeof out->failure_message,
				 get_str(f, "message"));
		} else {
			copy_str(out->failure_class, sizeof out->failure_class, "RemoteError");
			copy_str(out->failure_message, sizeof out->failure_message, text);
		}
		json_decref(f);
		return 0;
	}
	json_t *result = json_object_get(msg, "result");
	if (!result)
		return 0; /* an old-style "ending" message */
	if (!key || !key[0]) {
		out->result = json_incref(result);
		return 0;
	}
	/* oslo's call-monitor keep-alive carries a plain null that is no result. */
	if (!out->ending && json_is_null(result))
		return 0;
	const char *sealed = json_string_value(result);
	out->result = sealed ? rpc_crypto_decrypt_json(key, sealed, NULL) : NULL;
	if (!out->result)
		return ct_fail(err, 403, "the result is not encrypted with the key");
	return 0;
}

void rpc_reply_clear(struct rpc_reply *reply)
{
	json_decref(reply->result);
	reply->result = NULL;
}

char *rpc_failure_encode(const char *cls, const char *module, const char *message)
{
	json_t *f = json_object();
	json_object_set_new(f, "class", json_string(cls));
	json_object_set_new(f, "module", json_string(module));
	json_object_set_new(f, "message", json_string(message ? message : ""));
	json_object_set_new(f, "tb", json_array());
	json_t *args = json_array();
	json_array_append_new(args, json_string(message ? message : ""));
	json_object_set_new(f, "args", args);
	json_object_set_new(f, "kwargs", json_object());
	char *text = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	return text;
}

#define TROVE_EXC "trove.common.exception"

static const struct {
	int status;
	const char *cls;
	const char *module;
} failure_classes[] = {
	{400, "BadRequest", TROVE_EXC},
	{403, "Forbidden", TROVE_EXC},
	{404, "NotFound", TROVE_EXC},
	{413, "BadRequest", TROVE_EXC},
	{422, "UnprocessableEntity", TROVE_EXC},
	{501, "NotImplementedError", "builtins"},
	{504, "GuestTimeout", TROVE_EXC},
};

void rpc_failure_class_for_status(int status, const char **cls, const char **module)
{
	for (size_t i = 0; i < sizeof failure_classes / sizeof failure_classes[0]; i++)
		if (failure_classes[i].status == status) {
			*cls = failure_classes[i].cls;
			*module = failure_classes[i].module;
			return;
		}
	*cls = "TroveError";
	*module = TROVE_EXC;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int rpc_status_for_failure_class(const char *cls)
{
	if (!cls)
		return 500;
	if (ends_with(cls, "NotFound"))
		return 404;
	if (!strcmp(cls, "NoSuchMethod") || !strcmp(cls, "NotImplementedError"))
		return 501;
	if (!strcmp(cls, "GuestTimeout") || !strcmp(cls, "MessagingTimeout"))
		return 504;
	if (!strcmp(cls, "Forbidden") || !strcmp(cls, "PolicyNotAuthorized"))
		return 403;
	if (!strcmp(cls, "UnprocessableEntity"))
		return 422;
	static const char *const bad[] = {"BadRequest", "UnsupportedVersion", "TypeError",
					  "ValueError", "KeyError"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (!strcmp(cls, bad[i]))
			return 400;
	return 500;
}

static bool parse_version(const char *v, long parts[3])
{
	parts[0] = parts[1] = parts[2] = 0;
	if (!v || !*v)
		return false;
	for (int i = 0; i < 3; i++) {
		char *end;
		parts[i] = strtol(v, &end, 10);
		if (end == v)
			return false;
		if (!*end)
			return true;
		if (*end != '.')
			return false;
		v = end + 1;
	}
	return false;
}

bool rpc_version_compatible(const char *endpoint_version, const char *msg_version)
{
	long imp[3], ver[3];
	if (!parse_version(endpoint_version, imp) || !parse_version(msg_version, ver))
		return false;
	if (ver[0] != imp[0] || ver[1] > imp[1])
		return false;
	if (ver[1] == imp[1] && ver[2] > imp[2])
		return false;
	return true;
}
