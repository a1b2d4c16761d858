/*
 * client.c — rpc_cast, rpc_call and fanout casts (see client.h). Owns the client's
 * transport, reply queue and keeper thread; never logs arguments or results.
 */
#define LOG_MODULE "rpc"

#include "rpc/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "rpc/envelope.h"
#include "rpc/rpc_metrics.h"

#define SEEN_IDS 16

struct rpc_client {
	pthread_mutex_t lock;
	struct rpc_transport *t;
	char *exchange;
	bool exchange_declared;
	bool reply_declared;
	char reply_q[16 + RPC_ID_LEN];
	char seen[SEEN_IDS][RPC_ID_LEN + 1]; /* _unique_id of recent replies */
	int seen_next;
	long cast_timeout_ms;

	atomic_bool stop;
	pthread_t keeper;
	bool keeper_started;
	pthread_mutex_t keeper_lock;
	pthread_cond_t keeper_cond;
	int keeper_period_ms;
};

/* Service heartbeats and drain late replies while nobody is calling. */
static void *keeper_main(void *arg)
{
	struct rpc_client *c = arg;
	pthread_mutex_lock(&c->keeper_lock);
	while (!atomic_load(&c->stop)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += c->keeper_period_ms / 1000;
		ts.tv_nsec += (long)(c->keeper_period_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->keeper_cond, &c->keeper_lock, &ts);
		if (atomic_load(&c->stop))
			break;
		pthread_mutex_lock(&c->lock);
		if (rpc_transport_is_up(c->t)) {
			rpc_transport_poll(c->t);
			struct rpc_delivery d;
			while (rpc_transport_is_up(c->t) &&
			       rpc_transport_next(c->t, 0, &d, NULL) == 1) {
				rpc_transport_ack(c->t, &d, NULL);
				log_debug("dropping a late reply on %s", c->reply_q);
				rpc_delivery_free(&d);
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&c->keeper_lock);
	return NULL;
}

struct rpc_client *rpc_client_new(const struct rpc_transport_opts *opts, const char *exchange,
				  struct ct_error *err)
{
	struct rpc_transport_opts o;
	if (opts)
		o = *opts;
	else
		rpc_transport_opts_from_config(&o);
	struct rpc_client *c = calloc(1, sizeof *c);
	if (!c) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->keeper_lock, NULL);
	pthread_cond_init(&c->keeper_cond, NULL);
	atomic_init(&c->stop, false);
	o.stop = &c->stop;
	c->exchange = strdup(exchange ? exchange : cfg_str(CFG_CONTROL_EXCHANGE));
	c->t = rpc_transport_new(&o, err);
	if (!c->exchange || !c->t) {
		if (!c->exchange)
			ct_fail(err, 500, "out of memory");
		rpc_client_free(c);
		return NULL;
	}
	char id[RPC_ID_LEN + 1];
	rpc_new_id(id);
	snprintf(c->reply_q, sizeof c->reply_q, "reply_%s", id);
	c->cast_timeout_ms = cfg_int(CFG_RPC_RESPONSE_TIMEOUT) * 1000;
	if (c->cast_timeout_ms <= 0)
		c->cast_timeout_ms = 60000;
	int period = o.heartbeat > 0 ? o.heartbeat * 1000 / 4 : 10000;
	c->keeper_period_ms = period < 1000 ? 1000 : period;
	if (pthread_create(&c->keeper, NULL, keeper_main, c) == 0)
		c->keeper_started = true;
	return c;
}

void rpc_client_free(struct rpc_client *c)
{
	if (!c)
		return;
	atomic_store(&c->stop, true);
	if (c->keeper_started) {
		pthread_mutex_lock(&c->keeper_lock);
		pthread_cond_signal(&c->keeper_cond);
		pthread_mutex_unlock(&c->keeper_lock);
		pthread_join(c->keeper, NULL);
	}
	if (c->t && c->reply_declared && rpc_transport_is_up(c->t))
		rpc_transport_delete_queue(c->t, c->reply_q);
	rpc_transport_free(c->t);
	free(c->exchange);
	pthread_cond_destroy(&c->keeper_cond);
	pthread_mutex_destroy(&c->keeper_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int ensure_exchange(struct rpc_client *c, int64_t deadline, struct ct_error *err)
{
	if (c->exchange_declared)
		return 0;
	if (rpc_transport_declare_exchange(c->t, c->exchange, RPC_EXCHANGE_TOPIC, deadline, err))
		return -1;
	c->exchange_declared = true;
	return 0;
}

static void routing_key(const struct rpc_target *target, char *out, size_t size)
{
	if (target->server && target->server[0])
		snprintf(out, size, "%s.%s", target->topic, target->server);
	else
		snprintf(out, size, "%s", target->topic);
}

/* Encode and publish one request; the caller holds the lock. */
static int send_request(struct rpc_client *c, const struct rpc_target *target, bool fanout,
			const char *method, const json_t *args, const json_t *ctx,
			const char *msg_id, long expiration_ms, int64_t deadline,
			struct ct_error *err)
{
	if (!target || !target->topic || !target->topic[0] || !method || !method[0])
		return ct_fail(err, 400, "RPC target and method are required");
	char rk[512];
	routing_key(target, rk, sizeof rk);
	if (strlen(rk) > 255)
		return ct_fail(err, 400, "RPC topic too long");
	struct rpc_secure sec = {target->key, target->instance_id};
	json_t *msg = rpc_request_new(method, args, target->version, ctx, msg_id,
				      msg_id ? c->reply_q : NULL, &sec, err);
	if (!msg)
		return -1;
	size_t len = 0;
	char *body = rpc_envelope_wrap(msg, &len, err);
	json_decref(msg);
	if (!body)
		return -1;
	int rc;
	if (fanout) {
		char ex[512];
		snprintf(ex, sizeof ex, "%s_fanout", target->topic);
		rc = rpc_transport_declare_exchange(c->t, ex, RPC_EXCHANGE_FANOUT, deadline, err);
		if (rc == 0)
			rc = rpc_transport_publish(c->t, ex, target->topic, body, len, 0, false,
						   deadline, err);
	} else {
		rc = ensure_exchange(c, deadline, err);
		if (rc == 0)
			rc = rpc_transport_publish(c->t, c->exchange, rk, body, len, expiration_ms,
						   false, deadline, err);
	}
	free(body);
	return rc;
}

static int cast(struct rpc_client *c, const struct rpc_target *target, bool fanout,
		const char *method, const json_t *args, const json_t *ctx, long timeout_ms,
		struct ct_error *err)
{
	pthread_mutex_lock(&c->lock);
	int64_t deadline = rpc_now_ms() + (timeout_ms > 0 ? timeout_ms : c->cast_timeout_ms);
	int rc = send_request(c, target, fanout, method, args, ctx, NULL, 0, deadline, err);
	pthread_mutex_unlock(&c->lock);
	rpc_metrics_cast(rc == 0);
	if (rc)
		log_warning("cast %s to %s failed: %s", method ? method : "?",
			    target && target->topic ? target->topic : "?", err ? err->message : "");
	return rc;
}

int rpc_cast(struct rpc_client *c, const struct rpc_target *target, const char *method,
	     const json_t *args, const json_t *ctx, struct ct_error *err)
{
	return cast(c, target, false, method, args, ctx, 0, err);
}

int rpc_cast_within(struct rpc_client *c, const struct rpc_target *target, const char *method,
		    const json_t *args, const json_t *ctx, long timeout_ms, struct ct_error *err)
{
	return cast(c, target, false, method, args, ctx, timeout_ms, err);
}

int rpc_fanout_cast(struct rpc_client *c, const struct rpc_target *target, const char *method,
		    const json_t *args, const json_t *ctx, struct ct_error *err)
{
	return cast(c, target, true, method, args, ctx, 0, err);
}

static bool seen_before(struct rpc_client *c, const char *unique_id)
{
	if (!unique_id[0])
		return false;
	for (int i = 0; i < SEEN_IDS; i++)
		if (!strcmp(c->seen[i], unique_id))
			return true;
	snprintf(c->seen[c->seen_next], sizeof c->seen[0], "%s", unique_id);
	c->seen_next = (c->seen_next + 1) % SEEN_IDS;
	return false;
}

/* A reply to this call that is not sealed with the target's key fails the call: its
 * result would be the word of whoever published it. */
static json_t *refuse_reply(const struct rpc_target *target, const char *method,
			    struct rpc_reply *rep, json_t *partial, const struct ct_error *why,
			    struct ct_error *err)
{
	log_warning("refusing the reply to %s on %s (message %s): %s", method, target->topic,
		    rep->msg_id, why->message);
	rpc_reply_clear(rep);
	json_decref(partial);
	ct_fail(err, 500, "the reply to %s on %s was refused: %s", method, target->topic,
		why->message);
	return NULL;
}

/* Wait for the reply to msg_id; the caller holds the lock. */
static json_t *wait_reply(struct rpc_client *c, const struct rpc_target *target, const char *method,
			  const char *msg_id, int64_t deadline, struct rpc_failure *failure,
			  struct ct_error *err)
{
	json_t *result = NULL;
	for (;;) {
		int64_t left = deadline - rpc_now_ms();
		if (left <= 0)
			break;
		struct rpc_delivery d;
		struct ct_error e;
		int r = rpc_transport_next(c->t, (int)left, &d, &e);
		if (r < 0) {
			json_decref(result);
			ct_fail(err, 503, "%s", e.message);
			return NULL;
		}
		if (r == 0)
			continue;
		rpc_transport_ack(c->t, &d, NULL);
		json_t *msg = rpc_envelope_unwrap(d.body, d.len, &e);
		rpc_delivery_free(&d);
		struct rpc_reply rep;
		if (!msg || rpc_reply_parse(msg, target->key, &rep, &e)) {
			json_decref(msg);
			if (msg && e.status == 403 && !strcmp(rep.msg_id, msg_id))
				return refuse_reply(target, method, &rep, result, &e, err);
			log_warning("dropping a malformed reply on %s: %s", c->reply_q, e.message);
			rpc_reply_clear(&rep);
			continue;
		}
		json_decref(msg);
		if (strcmp(rep.msg_id, msg_id)) {
			log_debug("dropping a reply to an older call (%s)", rep.msg_id);
			rpc_reply_clear(&rep);
			continue;
		}
		if (seen_before(c, rep.unique_id)) {
			rpc_reply_clear(&rep);
			continue;
		}
		if (rep.failed) {
			json_decref(result);
			if (failure) {
				failure->remote = true;
				snprintf(failure->cls, sizeof failure->cls, "%s",
					 rep.failure_class);
				snprintf(failure->module, sizeof failure->module, "%s",
					 rep.failure_module);
			}
			ct_fail(err, rpc_status_for_failure_class(rep.failure_class), "%s",
				rep.failure_message[0] ? rep.failure_message : rep.failure_class);
			return NULL;
		}
		if (rep.result) {
			json_decref(result);
			result = rep.result;
			rep.result = NULL;
		}
		bool ending = rep.ending;
		if (ending && !result && target->key && target->key[0]) {
			ct_fail(&e, 403, "the reply carries no encrypted result");
			return refuse_reply(target, method, &rep, result, &e, err);
		}
		rpc_reply_clear(&rep);
		if (ending)
			return result ? result : json_null();
	}
	json_decref(result);
	if (failure) {
		failure->remote = false;
		snprintf(failure->cls, sizeof failure->cls, "MessagingTimeout");
		snprintf(failure->module, sizeof failure->module, "oslo_messaging.exceptions");
	}
	ct_fail(err, 504, "Timed out waiting for a reply to %s on %s (message ID %s)", method,
		target->topic, msg_id);
	return NULL;
}

json_t *rpc_call(struct rpc_client *c, const struct rpc_target *target, const char *method,
		 const json_t *args, const json_t *ctx, int timeout_s, struct rpc_failure *failure,
		 struct ct_error *err)
{
	if (failure)
		memset(failure, 0, sizeof *failure);
	if (timeout_s <= 0)
		timeout_s = (int)cfg_int(CFG_RPC_RESPONSE_TIMEOUT);
	if (timeout_s <= 0)
		timeout_s = 60;
	int64_t started = rpc_now_ms();
	int64_t deadline = started + (int64_t)timeout_s * 1000;
	json_t *result = NULL;
	char msg_id[RPC_ID_LEN + 1];
	rpc_new_id(msg_id);
	rpc_metrics_call_started();

	pthread_mutex_lock(&c->lock);
	if (!c->reply_declared) {
		if (rpc_transport_declare_queue(c->t, c->reply_q, RPC_QUEUE_TRANSIENT, deadline,
						err) ||
		    rpc_transport_consume(c->t, c->reply_q, deadline, err))
			goto out;
		c->reply_declared = true;
	}
	if (send_request(c, target, false, method, args, ctx, msg_id, (long)timeout_s * 1000,
			 deadline, err))
		goto out;
	result = wait_reply(c, target, method, msg_id, deadline, failure, err);
out:
	pthread_mutex_unlock(&c->lock);
	if (!result && err && err->status == 503 && failure)
		snprintf(failure->cls, sizeof failure->cls, "MessageDeliveryFailure");
	rpc_metrics_call_finished(result ? 0 : (err && err->status ? err->status : 500),
				  (double)(rpc_now_ms() - started) / 1000.0);
	return result;
}

int rpc_client_declare_topic(struct rpc_client *c, const char *topic, const char *server,
			     struct ct_error *err)
{
	char name[512];
	int64_t deadline = rpc_now_ms() + c->cast_timeout_ms;
	pthread_mutex_lock(&c->lock);
	int rc = ensure_exchange(c, deadline, err);
	if (rc == 0)
		rc = rpc_transport_declare_queue(c->t, topic, RPC_QUEUE_TOPIC, deadline, err);
	if (rc == 0)
		rc = rpc_transport_bind(c->t, topic, c->exchange, topic, deadline, err);
	if (rc == 0 && server && server[0]) {
		snprintf(name, sizeof name, "%s.%s", topic, server);
		rc = rpc_transport_declare_queue(c->t, name, RPC_QUEUE_TOPIC, deadline, err);
		if (rc == 0)
			rc = rpc_transport_bind(c->t, name, c->exchange, name, deadline, err);
		rpc_transport_forget(c->t, name);
	}
	/* Declared once; they are the server's to keep, not this client's to re-declare. */
	rpc_transport_forget(c->t, topic);
	pthread_mutex_unlock(&c->lock);
	return rc;
}
