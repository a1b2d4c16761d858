/*
 * notifier.c — see notifier.h. One publisher thread drains a bounded queue of
 * inner messages; the bodies are made at publish time so that each topic gets a
 * _unique_id of its own, as oslo's driver gives each send.
 */
#define LOG_MODULE "notify"

#include "rpc/notifier.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "rpc/envelope.h"
#include "rpc/transport.h"

/* How long one message may wait for a reconnecting bus before it is dropped: long
 * enough to ride out a broker restart, short enough that an outage drains the queue
 * rather than growing it without bound. */
#define PUBLISH_WAIT_MS 5000
/* At shutdown, what is still queued gets this long in all. */
#define DRAIN_WAIT_MS 3000
#define MAX_TOPICS    8
#define MAX_DECLARED  16

struct pending {
	json_t *msg; /* the inner message without _unique_id */
	char priority[16];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stopping;
	bool v2, v1, to_log;
	char topics[MAX_TOPICS][128];
	size_t n_topics;
	struct pending *ring;
	size_t cap, head, count;
	atomic_bool stop_bus;
	struct rpc_transport *bus;
	bool exchange_declared;
	char declared[MAX_DECLARED][160];
	size_t n_declared;
	int64_t drain_deadline;
	atomic_ullong sent, dropped;
} N = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

bool notifier_enabled(void)
{
	return N.v1 || N.v2 || N.to_log;
}

void notifier_counts(unsigned long long *sent, unsigned long long *dropped)
{
	*sent = atomic_load(&N.sent);
	*dropped = atomic_load(&N.dropped);
}

/* Split a comma-separated option into trimmed items; f is called for each. */
static int each_item(const char *list, int (*f)(const char *item, void *ctx), void *ctx)
{
	char item[128];
	for (const char *p = list; *p;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			if (n >= sizeof item)
				n = sizeof item - 1;
			memcpy(item, p, n);
			item[n] = '\0';
			if (f(item, ctx))
				return -1;
		}
		p += strcspn(p, ",");
	}
	return 0;
}

static int take_driver(const char *d, void *ctx)
{
	struct ct_error *err = ctx;
	if (!strcmp(d, "messagingv2"))
		N.v2 = true;
	else if (!strcmp(d, "messaging"))
		N.v1 = true;
	else if (!strcmp(d, "log"))
		N.to_log = true;
	else if (strcmp(d, "noop"))
		return ct_fail(
			err, 400,
			"[oslo_messaging_notifications] driver %s is not one of messagingv2, "
			"messaging, log, noop",
			d);
	return 0;
}

static int take_topic(const char *t, void *ctx)
{
	struct ct_error *err = ctx;
	if (N.n_topics == MAX_TOPICS)
		return ct_fail(err, 400, "[oslo_messaging_notifications] topics: at most %d",
			       MAX_TOPICS);
	snprintf(N.topics[N.n_topics++], sizeof N.topics[0], "%s", t);
	return 0;
}

/* ---- the publisher thread ------------------------------------------------------- */

static bool already_declared(const char *queue)
{
	for (size_t i = 0; i < N.n_declared; i++)
		if (!strcmp(N.declared[i], queue))
			return true;
	return false;
}

/* The exchange, and the queue oslo makes for each routing key so that nothing
 * published before the first consumer is lost. The transport re-declares both
 * after a reconnect. */
static int declare_route(const char *exchange, const char *queue, int64_t deadline,
			 struct ct_error *err)
{
	if (!N.exchange_declared) {
		if (rpc_transport_declare_exchange(N.bus, exchange, RPC_EXCHANGE_TOPIC, deadline,
						   err))
			return -1;
		N.exchange_declared = true;
	}
	if (already_declared(queue))
		return 0;
	if (rpc_transport_declare_queue(N.bus, queue, RPC_QUEUE_TOPIC, deadline, err) ||
	    rpc_transport_bind(N.bus, queue, exchange, queue, deadline, err))
		return -1;
	if (N.n_declared < MAX_DECLARED)
		snprintf(N.declared[N.n_declared++], sizeof N.declared[0], "%s", queue);
	return 0;
}

static int publish_one(json_t *msg, const char *priority, const char *topic, int64_t deadline,
		       struct ct_error *err)
{
	const char *exchange = cfg_str(CFG_CONTROL_EXCHANGE);
	char routing_key[160];
	snprintf(routing_key, sizeof routing_key, "%s.%s", topic, priority);
	if (declare_route(exchange, routing_key, deadline, err))
		return -1;
	char unique_id[RPC_ID_LEN + 1];
	rpc_new_id(unique_id);
	json_object_set_new(msg, "_unique_id", json_string(unique_id));
	size_t len = 0;
	char *body = NULL;
	if (N.v2) {
		body = rpc_envelope_wrap(msg, &len, err);
	} else {
		body = json_dumps(msg, JSON_COMPACT);
		len = body ? strlen(body) : 0;
		if (!body)
			ct_fail(err, 500, "out of memory");
	}
	if (!body)
		return -1;
	int rc = rpc_transport_publish(N.bus, exchange, routing_key, body, len, 0, false, deadline,
				       err);
	free(body);
	return rc;
}

static void publish(struct pending *p, int64_t drain_deadline)
{
	for (size_t i = 0; i < N.n_topics; i++) {
		struct ct_error err = {0};
		int64_t deadline = rpc_now_ms() + PUBLISH_WAIT_MS;
		if (drain_deadline && deadline > drain_deadline)
			deadline = drain_deadline;
		if (publish_one(p->msg, p->priority, N.topics[i], deadline, &err)) {
			unsigned long long dropped = atomic_fetch_add(&N.dropped, 1) + 1;
			log_warning("notification %s dropped (%s); %llu dropped so far",
				    json_string_value(json_object_get(p->msg, "event_type")),
				    err.message, dropped);
			continue;
		}
		atomic_fetch_add(&N.sent, 1);
	}
}

static void *publisher(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&N.lock);
	for (;;) {
		while (!N.count && !N.stopping)
			pthread_cond_wait(&N.wake, &N.lock);
		if (!N.count)
			break;
		struct pending p = N.ring[N.head];
		N.head = (N.head + 1) % N.cap;
		N.count--;
		int64_t drain_deadline = N.drain_deadline;
		pthread_mutex_unlock(&N.lock);
		publish(&p, drain_deadline);
		json_decref(p.msg);
		pthread_mutex_lock(&N.lock);
	}
	pthread_mutex_unlock(&N.lock);
	return NULL;
}

/* ---- start, stop, emit ---------------------------------------------------------- */

int notifier_start(struct ct_error *err)
{
	N.v1 = N.v2 = N.to_log = false;
	N.n_topics = 0;
	if (each_item(cfg_str(CFG_NOTIFY_DRIVER), take_driver, err) ||
	    each_item(cfg_str(CFG_NOTIFY_TOPICS), take_topic, err))
		goto off;
	if (!N.v1 && !N.v2) {
		if (N.to_log)
			log_info("notifications go to the log only");
		return 0;
	}
	if (!N.n_topics) {
		ct_fail(err, 400, "[oslo_messaging_notifications] topics is empty");
		goto off;
	}
	long cap = cfg_int(CFG_NOTIFY_QUEUE_SIZE);
	N.cap = cap < 1 ? 1 : (size_t)cap;
	N.head = N.count = 0;
	N.ring = calloc(N.cap, sizeof *N.ring);
	if (!N.ring) {
		ct_fail(err, 500, "out of memory");
		goto off;
	}
	struct rpc_transport_opts o;
	rpc_transport_opts_from_config(&o);
	if (cfg_str(CFG_NOTIFY_TRANSPORT_URL)[0])
		o.url = cfg_str(CFG_NOTIFY_TRANSPORT_URL);
	o.name = "ctrove-notifier";
	o.stop = &N.stop_bus;
	atomic_store(&N.stop_bus, false);
	N.exchange_declared = false;
	N.n_declared = 0;
	N.drain_deadline = 0;
	N.stopping = false;
	if (!(N.bus = rpc_transport_new(&o, err)))
		goto free_ring;
	if (pthread_create(&N.thread, NULL, publisher, NULL)) {
		ct_fail(err, 500, "cannot start the notifier's thread");
		rpc_transport_free(N.bus);
		N.bus = NULL;
		goto free_ring;
	}
	N.running = true;
	log_info("notifications on: %s to %zu topic(s) on exchange %s",
		 N.v2 ? "messagingv2" : "messaging", N.n_topics, cfg_str(CFG_CONTROL_EXCHANGE));
	return 0;
free_ring:
	free(N.ring);
	N.ring = NULL;
off:
	N.v1 = N.v2 = N.to_log = false;
	return -1;
}

void notifier_stop(void)
{
	if (N.running) {
		pthread_mutex_lock(&N.lock);
		N.stopping = true;
		N.drain_deadline = rpc_now_ms() + DRAIN_WAIT_MS;
		pthread_cond_signal(&N.wake);
		pthread_mutex_unlock(&N.lock);
		pthread_join(N.thread, NULL);
		N.running = false;
		rpc_transport_free(N.bus);
		N.bus = NULL;
	}
	for (; N.count; N.count--, N.head = (N.head + 1) % N.cap)
		json_decref(N.ring[N.head].msg);
	free(N.ring);
	N.ring = NULL;
	N.v1 = N.v2 = N.to_log = false;
}

/* oslo writes str(datetime.utcnow()): "2026-12-07 05:39:50.123456". */
static void oslo_timestamp(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%06d", (int)(ts.tv_nsec / 1000 % 1000000));
}

void notifier_info(const char *service, const char *event_type, json_t *payload,
		   const char *request_id, const char *project_id)
{
	if (!payload)
		return;
	if (!notifier_enabled()) {
		json_decref(payload);
		return;
	}
	char message_id[CT_UUID_LEN + 1], timestamp[32], publisher_id[320];
	ids_uuid(message_id);
	oslo_timestamp(timestamp);
	if (service)
		snprintf(publisher_id, sizeof publisher_id, "%s.%s", service, cfg_str(CFG_HOST));
	else
		snprintf(publisher_id, sizeof publisher_id, "%s", cfg_str(CFG_HOST));
	if (N.to_log)
		log_info("notification %s %s from %s", event_type, message_id, publisher_id);
	if (!N.v1 && !N.v2) {
		json_decref(payload);
		return;
	}
	json_t *msg =
		json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s*,s:s*}", "message_id", message_id,
			  "publisher_id", publisher_id, "event_type", event_type, "priority",
			  "INFO", "payload", payload, "timestamp", timestamp, "_context_request_id",
			  request_id, "_context_project_id", project_id);
	if (!msg) {
		atomic_fetch_add(&N.dropped, 1);
		return;
	}
	pthread_mutex_lock(&N.lock);
	bool queued = N.running && !N.stopping && N.count < N.cap;
	if (queued) {
		struct pending *p = &N.ring[(N.head + N.count) % N.cap];
		p->msg = msg;
		snprintf(p->priority, sizeof p->priority, "info");
		N.count++;
		pthread_cond_signal(&N.wake);
	}
	pthread_mutex_unlock(&N.lock);
	if (!queued) {
		unsigned long long dropped = atomic_fetch_add(&N.dropped, 1) + 1;
		log_warning("notification %s dropped: the notifier's queue is full or stopped; "
			    "%llu dropped so far",
			    event_type, dropped);
		json_decref(msg);
	}
}

void notifier_dbaas(const struct notifier_origin *o, const char *event, const char *qualifier,
		    json_t *traits)
{
	if (!notifier_enabled()) {
		json_decref(traits);
		return;
	}
	char rid[96] = "";
	if (o->request_id && o->request_id[0])
		snprintf(rid, sizeof rid, "%s%s", strncmp(o->request_id, "req-", 4) ? "req-" : "",
			 o->request_id);
	json_t *payload =
		json_pack("{s:s,s:s,s:s,s:s,s:s}", "tenant_id", o->tenant_id ? o->tenant_id : "",
			  "client_ip", o->client_ip ? o->client_ip : "", "server_ip",
			  o->server_ip ? o->server_ip : cfg_str(CFG_HOST), "server_type",
			  o->service, "request_id", rid);
	if (payload && traits)
		json_object_update(payload, traits);
	json_decref(traits);
	char event_type[128];
	snprintf(event_type, sizeof event_type, "dbaas.%s.%s", event, qualifier);
	notifier_info(o->service, event_type, payload, rid[0] ? rid : NULL, o->tenant_id);
}
