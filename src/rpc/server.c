/*
 * server.c — RPC server loop and dispatch (see server.h). Owns the server's transport,
 * thread and duplicate cache; logs method names and ids, never arguments or results.
 */
#define LOG_MODULE "rpc"

#include "rpc/server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"

#define SEEN_IDS	  16
#define DISPATCHER_MODULE "oslo_messaging.rpc.dispatcher"
/* Oversized bodies up to this many times the limit are still parsed for a reply. */
#define OVERSIZE_PARSE_FACTOR 4

struct rpc_server {
	struct rpc_server_opts o;
	char *topic, *server, *exchange, *version, *key;
	char fanout_q[512];
	struct rpc_transport *t;
	atomic_bool stop;
	int missing_consumer_retry_ms;

	char seen[SEEN_IDS][RPC_ID_LEN + 1];
	int seen_next;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t ready_lock;
	pthread_cond_t ready_cond;
	bool ready;
	bool finished;
};

struct rpc_server *rpc_server_new(const struct rpc_transport_opts *transport,
				  const struct rpc_server_opts *opts, struct ct_error *err)
{
	if (!opts || !opts->topic || !opts->topic[0] || !opts->methods) {
		ct_fail(err, 400, "an RPC server needs a topic and methods");
		return NULL;
	}
	struct rpc_transport_opts to;
	if (transport)
		to = *transport;
	else
		rpc_transport_opts_from_config(&to);
	struct rpc_server *s = calloc(1, sizeof *s);
	if (!s) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->ready_lock, NULL);
	pthread_cond_init(&s->ready_cond, NULL);
	atomic_init(&s->stop, false);
	s->o = *opts;
	s->topic = strdup(opts->topic);
	s->server = strdup(opts->server ? opts->server : cfg_str(CFG_HOST));
	s->exchange = strdup(opts->exchange ? opts->exchange : cfg_str(CFG_CONTROL_EXCHANGE));
	s->version = strdup(opts->version ? opts->version : "1.0");
	s->key = opts->key && opts->key[0] ? strdup(opts->key) : NULL;
	if (!s->topic || !s->server || !s->exchange || !s->version ||
	    (opts->key && opts->key[0] && !s->key)) {
		ct_fail(err, 500, "out of memory");
		rpc_server_free(s);
		return NULL;
	}
	if (s->o.max_message_size <= 0)
		s->o.max_message_size = cfg_int(CFG_RPC_MAX_MESSAGE_SIZE);
	s->missing_consumer_retry_ms = to.missing_consumer_retry * 1000;
	char id[RPC_ID_LEN + 1];
	rpc_new_id(id);
	snprintf(s->fanout_q, sizeof s->fanout_q, "%s_fanout_%s", s->topic, id);
	to.stop = &s->stop;
	s->t = rpc_transport_new(&to, err);
	if (!s->t) {
		rpc_server_free(s);
		return NULL;
	}
	return s;
}

static int declare(struct rpc_server *s, struct ct_error *err)
{
	char topic_server[512], fanout_ex[512];
	snprintf(topic_server, sizeof topic_server, "%s.%s", s->topic, s->server);
	snprintf(fanout_ex, sizeof fanout_ex, "%s_fanout", s->topic);
	if (strlen(topic_server) > 255 || strlen(s->fanout_q) > 255)
		return ct_fail(err, 400, "RPC topic '%s' is too long", s->topic);
	struct rpc_transport *t = s->t;
	if (rpc_transport_declare_exchange(t, s->exchange, RPC_EXCHANGE_TOPIC, 0, err) ||
	    rpc_transport_declare_queue(t, s->topic, RPC_QUEUE_TOPIC, 0, err) ||
	    rpc_transport_bind(t, s->topic, s->exchange, s->topic, 0, err) ||
	    rpc_transport_declare_queue(t, topic_server, RPC_QUEUE_TOPIC, 0, err) ||
	    rpc_transport_bind(t, topic_server, s->exchange, topic_server, 0, err) ||
	    rpc_transport_declare_exchange(t, fanout_ex, RPC_EXCHANGE_FANOUT, 0, err) ||
	    rpc_transport_declare_queue(t, s->fanout_q, RPC_QUEUE_TRANSIENT, 0, err) ||
	    rpc_transport_bind(t, s->fanout_q, fanout_ex, s->topic, 0, err) ||
	    rpc_transport_consume(t, s->topic, 0, err) ||
	    rpc_transport_consume(t, topic_server, 0, err) ||
	    rpc_transport_consume(t, s->fanout_q, 0, err))
		return -1;
	return 0;
}

static bool seen_before(struct rpc_server *s, const char *unique_id)
{
	if (!unique_id || !unique_id[0])
		return false;
	for (int i = 0; i < SEEN_IDS; i++)
		if (!strcmp(s->seen[i], unique_id))
			return true;
	snprintf(s->seen[s->seen_next], sizeof s->seen[0], "%s", unique_id);
	s->seen_next = (s->seen_next + 1) % SEEN_IDS;
	return false;
}

static void sleep_ms(struct rpc_server *s, int ms)
{
	while (ms > 0 && !atomic_load(&s->stop)) {
		int step = ms > 100 ? 100 : ms;
		struct timespec ts = {0, (long)step * 1000000};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Publish a reply (result, or failure when failure != NULL) to the caller's queue. */
static void send_reply(struct rpc_server *s, const struct rpc_request *req, const char *key,
		       const json_t *result, const char *failure)
{
	struct ct_error err;
	json_t *msg = rpc_reply_new(result, failure, true, req->msg_id, key, &err);
	size_t len = 0;
	char *body = msg ? rpc_envelope_wrap(msg, &len, &err) : NULL;
	json_decref(msg);
	if (!body) {
		log_error("cannot encode the reply to %s: %s", req->msg_id, err.message);
		return;
	}
	int64_t give_up = rpc_now_ms() + s->missing_consumer_retry_ms;
	for (;;) {
		/* The reply must not wait forever on a dead bus: bound it like the retry. */
		int64_t deadline = give_up > rpc_now_ms() + 5000 ? give_up : rpc_now_ms() + 5000;
		if (rpc_transport_publish(s->t, "", req->reply_q, body, len, 0, true, deadline,
					  &err) == 0)
			break;
		if (err.status == 404 && rpc_now_ms() < give_up && !atomic_load(&s->stop)) {
			log_info("reply queue %s is missing; retrying", req->reply_q);
			sleep_ms(s, 1000);
			continue;
		}
		log_warning("reply to %s on %s not delivered: %s", req->msg_id, req->reply_q,
			    err.message);
		break;
	}
	free(body);
}

static void send_failure(struct rpc_server *s, const struct rpc_request *req, const char *cls,
			 const char *module, const char *message)
{
	if (!req->msg_id)
		return;
	char *failure = rpc_failure_encode(cls, module, message);
	if (failure)
		send_reply(s, req, NULL, NULL, failure);
	free(failure);
}

static void send_error(struct rpc_server *s, const struct rpc_request *req,
		       const struct ct_error *err)
{
	const char *cls, *module;
	rpc_failure_class_for_status(err->status, &cls, &module);
	send_failure(s, req, cls, module, err->message);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static unsigned type_bit(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return RPC_T_OBJECT;
	case JSON_ARRAY: return RPC_T_ARRAY;
	case JSON_STRING: return RPC_T_STRING;
	case JSON_INTEGER: return RPC_T_INT;
	case JSON_REAL: return RPC_T_REAL;
	case JSON_TRUE:
	case JSON_FALSE: return RPC_T_BOOL;
	default: return RPC_T_NULL;
	}
}

int rpc_args_check(const struct rpc_method *m, const json_t *args, struct ct_error *err)
{
	const struct rpc_arg *a;
	for (a = m->args; a && a->name; a++) {
		json_t *v = json_object_get(args, a->name);
		if (!v) {
			if (a->required)
				return ct_fail(err, 400,
					       "%s() missing 1 required positional argument: '%s'",
					       m->name, a->name);
			continue;
		}
		if (!(type_bit(v) & a->types))
			return ct_fail(err, 400, "%s(): argument '%s' must not be %s", m->name,
				       a->name, type_name(v));
	}
	if (m->extra_args)
		return 0;
	const char *name;
	json_t *v;
	json_object_foreach ((json_t *)args, name, v) {
		bool known = false;
		for (a = m->args; a && a->name && !known; a++)
			known = !strcmp(a->name, name);
		if (!known)
			return ct_fail(err, 400, "%s() got an unexpected keyword argument '%s'",
				       m->name, name);
	}
	return 0;
}

static const struct rpc_method *find_method(const struct rpc_server *s, const char *name)
{
	if (!name || name[0] == '_')
		return NULL;
	for (const struct rpc_method *m = s->o.methods; m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/* A message the server cannot verify: logged with what identifies it, never its
 * contents (a forged message may carry anything). */
static void refuse_unsealed(const struct rpc_server *s, const struct rpc_request *req,
			    const char *kind, const struct ct_error *why)
{
	if (req->instance_id)
		log_warning("refusing %s %s on %s naming instance %.64s: %s", kind, req->method,
			    s->topic, req->instance_id, why->message);
	else
		log_warning("refusing %s %s on %s: %s", kind, req->method, s->topic, why->message);
}

static void dispatch(struct rpc_server *s, json_t *msg, bool oversized, size_t len)
{
	struct rpc_request req;
	struct ct_error err = {0, ""};
	char *looked_up = NULL;
	int hdr = rpc_request_parse_header(msg, &req, &err);
	const char *kind = req.msg_id ? "call" : "cast";
	if (seen_before(s, req.unique_id)) {
		log_debug("dropping duplicate message %s", req.unique_id);
		goto done;
	}
	if (oversized) {
		log_warning("refusing a %zu-byte %s of %s on %s: larger than "
			    "rpc_max_message_size (%ld)",
			    len, kind, req.method ? req.method : "?", s->topic,
			    s->o.max_message_size);
		ct_fail(&err, 413, "message of %zu bytes exceeds the limit of %ld bytes", len,
			s->o.max_message_size);
		send_error(s, &req, &err);
		goto done;
	}
	if (hdr) {
		log_warning("refusing a malformed %s on %s: %s", kind, s->topic, err.message);
		send_error(s, &req, &err);
		goto done;
	}
	const char *key = s->key;
	if (!key && s->o.key_lookup) {
		if (s->o.key_lookup(s->o.user, req.instance_id, &looked_up, &err)) {
			refuse_unsealed(s, &req, kind, &err);
			send_error(s, &req, &err);
			goto done;
		}
		key = looked_up;
	}
	if (rpc_request_decode(&req, key, &err)) {
		if (err.status == 403)
			refuse_unsealed(s, &req, kind, &err);
		else
			log_warning("refusing %s %s on %s: %s", kind, req.method, s->topic,
				    err.message);
		send_error(s, &req, &err);
		goto done;
	}
	const char *request_id = json_string_value(json_object_get(req.context, "request_id"));
	log_set_context(request_id && !strncmp(request_id, "req-", 4) ? request_id + 4 : request_id,
			req.instance_id);
	if (!rpc_version_compatible(s->version, req.version)) {
		log_warning("refusing %s %s on %s: version %s not supported (endpoint %s)", kind,
			    req.method, s->topic, req.version, s->version);
		char message[256];
		snprintf(message, sizeof message,
			 "Endpoint does not support RPC version %s. Attempted method: %s",
			 req.version, req.method);
		send_failure(s, &req, "UnsupportedVersion", DISPATCHER_MODULE, message);
		goto done;
	}
	const struct rpc_method *m = find_method(s, req.method);
	if (!m) {
		log_warning("refusing %s on %s: no method '%s'", kind, s->topic, req.method);
		char message[512];
		snprintf(message, sizeof message, "Endpoint does not support RPC method %s",
			 req.method);
		send_failure(s, &req, "NoSuchMethod", DISPATCHER_MODULE, message);
		goto done;
	}
	if (rpc_args_check(m, req.args, &err)) {
		log_warning("refusing %s %s on %s: %s", kind, req.method, s->topic, err.message);
		send_failure(s, &req, "TypeError", "builtins", err.message);
		goto done;
	}
	log_debug("%s %s on %s", kind, req.method, s->topic);
	ct_error_clear(&err);
	json_t *result = m->handler(s->o.user, &req, &err);
	if (!result) {
		if (!err.status)
			ct_fail(&err, 500, "%s failed", req.method);
		log_info("%s %s on %s failed: %d %s", kind, req.method, s->topic, err.status,
			 err.message);
		send_error(s, &req, &err);
		goto done;
	}
	if (req.msg_id)
		send_reply(s, &req, key, result, NULL);
	json_decref(result);
done:
	log_clear_context();
	free(looked_up);
	rpc_request_clear(&req);
}

static void handle(struct rpc_server *s, struct rpc_delivery *d)
{
	struct ct_error err;
	/* Ack first, then process: at most once, as oslo.messaging does. */
	if (rpc_transport_ack(s->t, d, &err)) {
		log_warning("not processing a message on %s: %s (the broker will redeliver it)",
			    s->topic, err.message);
		return;
	}
	bool oversized = (long)d->len > s->o.max_message_size;
	if (oversized && d->len / OVERSIZE_PARSE_FACTOR > (size_t)s->o.max_message_size) {
		log_warning("dropping a %zu-byte message on %s: far larger than "
			    "rpc_max_message_size (%ld)",
			    d->len, s->topic, s->o.max_message_size);
		return;
	}
	json_t *msg = rpc_envelope_unwrap(d->body, d->len, &err);
	if (!msg) {
		log_warning("dropping a message on %s (routing key %s): %s", s->topic,
			    d->routing_key, err.message);
		return;
	}
	dispatch(s, msg, oversized, d->len);
	json_decref(msg);
}

static void set_state(struct rpc_server *s, bool ready, bool finished)
{
	pthread_mutex_lock(&s->ready_lock);
	s->ready = ready;
	s->finished = finished;
	pthread_cond_broadcast(&s->ready_cond);
	pthread_mutex_unlock(&s->ready_lock);
}

int rpc_server_run(struct rpc_server *s, struct ct_error *err)
{
	struct ct_error local;
	if (!err)
		err = &local;
	if (declare(s, err)) {
		set_state(s, false, true);
		if (atomic_load(&s->stop))
			return 0;
		log_error("RPC server on %s cannot start: %s", s->topic, err->message);
		return -1;
	}
	log_info("RPC server on topic %s (server %s, exchange %s, version %s) is consuming",
		 s->topic, s->server, s->exchange, s->version);
	set_state(s, true, false);
	while (!atomic_load(&s->stop)) {
		struct rpc_delivery d;
		/* Short waits: a stop request is seen within 200 ms (deleting an
		 * instance waits for its agent to stop). */
		int r = rpc_transport_next(s->t, 200, &d, err);
		if (r == 1) {
			handle(s, &d);
			rpc_delivery_free(&d);
		} else if (r < 0) {
			log_error("RPC server on %s: %s", s->topic, err->message);
			sleep_ms(s, 1000);
		}
	}
	if (rpc_transport_is_up(s->t))
		rpc_transport_delete_queue(s->t, s->fanout_q);
	log_info("RPC server on topic %s stopped", s->topic);
	set_state(s, false, true);
	return 0;
}

static void *server_main(void *arg)
{
	struct rpc_server *s = arg;
	rpc_server_run(s, NULL);
	return NULL;
}

int rpc_server_start(struct rpc_server *s, struct ct_error *err)
{
	if (s->thread_started)
		return 0;
	if (pthread_create(&s->thread, NULL, server_main, s))
		return ct_fail(err, 500, "cannot start the RPC server thread");
	s->thread_started = true;
	return 0;
}

int rpc_server_wait_ready(struct rpc_server *s, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->ready_lock);
	while (!s->ready && !s->finished)
		if (pthread_cond_timedwait(&s->ready_cond, &s->ready_lock, &ts))
			break;
	bool ready = s->ready;
	pthread_mutex_unlock(&s->ready_lock);
	return ready ? 0 : -1;
}

void rpc_server_stop(struct rpc_server *s)
{
	atomic_store(&s->stop, true);
}

void rpc_server_free(struct rpc_server *s)
{
	if (!s)
		return;
	rpc_server_stop(s);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	rpc_transport_free(s->t);
	free(s->topic);
	free(s->server);
	free(s->exchange);
	free(s->version);
	free(s->key);
	pthread_cond_destroy(&s->ready_cond);
	pthread_mutex_destroy(&s->ready_lock);
	free(s);
}
