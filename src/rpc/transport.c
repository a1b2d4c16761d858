/*
 * transport.c — AMQP connection, topology replay, confirms and reconnects over
 * rabbitmq-c (see transport.h); transport_url is read by url.c. Owns the
 * connection state; may not look inside message bodies and never logs a
 * password or a body.
 */
#define LOG_MODULE "rpc"

#include "rpc/transport.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "rpc/tls_socket.h"
#include "rpc/url.h"

#define CHANNEL		 1
#define FRAME_MAX	 131072
#define SOCKET_TIMEOUT_S 5    /* TCP connect and AMQP handshake */
#define METHOD_TIMEOUT_S 10   /* synchronous AMQP methods (declare, bind ...) */
#define PUMP_SLICE_MS	 1000 /* longest single wait, so heartbeats and stop are serviced */

enum topo_kind { TOPO_EXCHANGE, TOPO_QUEUE, TOPO_BIND, TOPO_CONSUME };

struct topo_op {
	enum topo_kind kind;
	int sub; /* rpc_exchange_kind or rpc_queue_kind */
	char *a; /* exchange or queue */
	char *b; /* bind: exchange */
	char *c; /* bind: routing key */
};

struct pending {
	struct rpc_delivery d;
	struct pending *next;
};

struct rpc_transport {
	struct rpc_transport_opts o;
	char *url_text;
	char *name;
	struct rpc_url url;
	struct rpc_tls tls;
	int last_status; /* rabbitmq-c's status of the last failed socket open */
	size_t host_next;
	size_t cur_host;

	amqp_connection_state_t conn;
	bool up;
	unsigned long generation;
	int64_t next_attempt_ms; /* backoff: earliest next connection attempt */
	int interval_ms;	 /* backoff: wait after the next failed round */

	/* The publish waiting for its confirm (one at a time). */
	uint64_t publish_seq;
	uint64_t wait_tag;
	bool confirmed, nacked, returned;

	struct topo_op *topo;
	size_t n_topo, cap_topo;

	struct pending *head, *tail;
};

int64_t rpc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rpc_transport_opts_from_config(struct rpc_transport_opts *o)
{
	memset(o, 0, sizeof *o);
	o->url = cfg_str(CFG_TRANSPORT_URL);
	o->name = "ctrove";
	o->heartbeat = (int)cfg_int(CFG_RABBIT_HEARTBEAT);
	o->retry_interval = (int)cfg_int(CFG_RABBIT_RETRY_INTERVAL);
	o->retry_backoff = (int)cfg_int(CFG_RABBIT_RETRY_BACKOFF);
	o->interval_max = (int)cfg_int(CFG_RABBIT_INTERVAL_MAX);
	o->durable = cfg_bool(CFG_AMQP_DURABLE_QUEUES);
	o->auto_delete = cfg_bool(CFG_AMQP_AUTO_DELETE);
	o->ha_queues = cfg_bool(CFG_RABBIT_HA_QUEUES);
	o->quorum = cfg_bool(CFG_RABBIT_QUORUM_QUEUE);
	o->transient_ttl = (int)cfg_int(CFG_RABBIT_TRANSIENT_QUEUES_TTL);
	o->prefetch = (int)cfg_int(CFG_RABBIT_QOS_PREFETCH);
	o->missing_consumer_retry = (int)cfg_int(CFG_RABBIT_MISSING_CONSUMER_RETRY);
	o->ssl = cfg_bool(CFG_RABBIT_SSL);
	o->ssl_ca_file = cfg_str(CFG_RABBIT_SSL_CA_FILE);
	o->ssl_cert_file = cfg_str(CFG_RABBIT_SSL_CERT_FILE);
	o->ssl_key_file = cfg_str(CFG_RABBIT_SSL_KEY_FILE);
}

/* ---- connection ------------------------------------------------------------------- */

static bool stopped(const struct rpc_transport *t)
{
	return t->o.stop && atomic_load(t->o.stop);
}

static void drop_pending(struct rpc_transport *t)
{
	while (t->head) {
		struct pending *p = t->head;
		t->head = p->next;
		rpc_delivery_free(&p->d);
		free(p);
	}
	t->tail = NULL;
}

/* Tear the connection down. polite: say connection.close first. */
static void teardown(struct rpc_transport *t, bool polite)
{
	if (t->conn) {
		if (polite && t->up)
			amqp_connection_close(t->conn, AMQP_REPLY_SUCCESS);
		amqp_destroy_connection(t->conn);
	}
	t->conn = NULL;
	if (t->up) {
		t->up = false;
		t->next_attempt_ms = rpc_now_ms();
		t->interval_ms = t->o.retry_interval * 1000;
	}
	drop_pending(t);
}

static void lost(struct rpc_transport *t, const char *why)
{
	if (t->up)
		log_warning("AMQP connection to %s:%d lost: %s", t->url.hosts[t->cur_host].host,
			    t->url.hosts[t->cur_host].port, why);
	teardown(t, false);
}

/* 0 for a normal reply, else -1 with err filled; *refused = the broker said no. */
static int reply_check(amqp_rpc_reply_t r, const char *what, bool *refused, struct ct_error *err)
{
	if (refused)
		*refused = false;
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL: return 0;
	case AMQP_RESPONSE_NONE: return ct_fail(err, 503, "%s: no reply from the broker", what);
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return ct_fail(err, 503, "%s: %s", what, amqp_error_string2(r.library_error));
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;
			if (refused)
				*refused = m->reply_code != AMQP_CONNECTION_FORCED;
			return ct_fail(err, 503, "%s: broker closed the connection: %u %.*s", what,
				       m->reply_code, (int)m->reply_text.len,
				       (const char *)m->reply_text.bytes);
		}
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;
			if (refused)
				*refused = true;
			return ct_fail(err, m->reply_code == 406 ? 409 : 503,
				       "%s: broker refused: %u %.*s", what, m->reply_code,
				       (int)m->reply_text.len, (const char *)m->reply_text.bytes);
		}
		return ct_fail(err, 503, "%s: unexpected broker method 0x%08x", what, r.reply.id);
	}
	return ct_fail(err, 503, "%s: unknown failure", what);
}

static int connect_host(struct rpc_transport *t, const struct rpc_url_host *h, struct ct_error *err)
{
	amqp_connection_state_t c = amqp_new_connection();
	if (!c)
		return ct_fail(err, 500, "out of memory");
	amqp_socket_t *sock =
		t->tls.on ? rpc_tls_socket_new(c, &t->tls, err) : amqp_tcp_socket_new(c);
	struct timeval tv = {SOCKET_TIMEOUT_S, 0};
	t->last_status = 0;
	if (!sock) {
		amqp_destroy_connection(c);
		return t->tls.on ? -1 : ct_fail(err, 500, "out of memory");
	}
	int st = amqp_socket_open_noblock(sock, h->host, h->port, &tv);
	if (st) {
		amqp_destroy_connection(c);
		t->last_status = st;
		if (t->tls.on)
			return rpc_tls_fail(st, h->host, h->port, &t->tls, err);
		return ct_fail(err, 503, "cannot connect: %s", amqp_error_string2(st));
	}
	amqp_set_handshake_timeout(c, &tv);
	struct timeval mtv = {METHOD_TIMEOUT_S, 0};
	amqp_set_rpc_timeout(c, &mtv);

	char conn_name[256], id[33];
	ids_hex32(id);
	snprintf(conn_name, sizeof conn_name, "%s:%d:%s", t->name, (int)getpid(), id);
	amqp_table_entry_t caps[2];
	caps[0].key = amqp_cstring_bytes("consumer_cancel_notify");
	caps[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
	caps[0].value.value.boolean = 1;
	caps[1].key = amqp_cstring_bytes("connection.blocked");
	caps[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
	caps[1].value.value.boolean = 1;
	amqp_table_entry_t props[2];
	props[0].key = amqp_cstring_bytes("connection_name");
	props[0].value.kind = AMQP_FIELD_KIND_UTF8;
	props[0].value.value.bytes = amqp_cstring_bytes(conn_name);
	props[1].key = amqp_cstring_bytes("capabilities");
	props[1].value.kind = AMQP_FIELD_KIND_TABLE;
	props[1].value.value.table.num_entries = 2;
	props[1].value.value.table.entries = caps;
	amqp_table_t table = {2, props};

	amqp_rpc_reply_t r =
		amqp_login_with_properties(c, t->url.vhost, 0, FRAME_MAX, t->o.heartbeat, &table,
					   AMQP_SASL_METHOD_PLAIN, h->user, h->password);
	if (reply_check(r, "login", NULL, err))
		goto fail;
	amqp_channel_open(c, CHANNEL);
	if (reply_check(amqp_get_rpc_reply(c), "channel.open", NULL, err))
		goto fail;
	amqp_confirm_select(c, CHANNEL);
	if (reply_check(amqp_get_rpc_reply(c), "confirm.select", NULL, err))
		goto fail;
	if (t->o.prefetch > 0) {
		amqp_basic_qos(c, CHANNEL, 0, (uint16_t)t->o.prefetch, 0);
		if (reply_check(amqp_get_rpc_reply(c), "basic.qos", NULL, err))
			goto fail;
	}
	t->conn = c;
	t->up = true;
	t->generation++;
	t->publish_seq = 0;
	return 0;
fail:
	amqp_destroy_connection(c);
	return -1;
}

static void fill_queue_args(const struct rpc_transport *t, enum rpc_queue_kind kind,
			    amqp_table_entry_t e[3], amqp_table_t *args)
{
	int n = 0;
	if (kind == RPC_QUEUE_TOPIC && t->o.quorum) {
		e[n].key = amqp_cstring_bytes("x-queue-type");
		e[n].value.kind = AMQP_FIELD_KIND_UTF8;
		e[n].value.value.bytes = amqp_cstring_bytes("quorum");
		n++;
	}
	if (kind == RPC_QUEUE_TRANSIENT && t->o.transient_ttl > 0) {
		e[n].key = amqp_cstring_bytes("x-expires");
		e[n].value.kind = AMQP_FIELD_KIND_I32;
		e[n].value.value.i32 = t->o.transient_ttl * 1000;
		n++;
	}
	if (t->o.ha_queues) {
		e[n].key = amqp_cstring_bytes("x-ha-policy");
		e[n].value.kind = AMQP_FIELD_KIND_UTF8;
		e[n].value.value.bytes = amqp_cstring_bytes("all");
		n++;
	}
	args->num_entries = n;
	args->entries = n ? e : NULL;
}

/* Apply one declaration on the live connection. */
static int topo_apply(struct rpc_transport *t, const struct topo_op *op, bool *refused,
		      struct ct_error *err)
{
	amqp_table_entry_t e[3];
	amqp_table_t args = amqp_empty_table;
	amqp_rpc_reply_t r;
	switch (op->kind) {
	case TOPO_EXCHANGE: {
		bool fanout = op->sub == RPC_EXCHANGE_FANOUT;
		amqp_exchange_declare(t->conn, CHANNEL, amqp_cstring_bytes(op->a),
				      amqp_cstring_bytes(fanout ? "fanout" : "topic"),
				      !fanout && t->o.passive_topic_exchange,
				      fanout ? 0 : t->o.durable, fanout ? 1 : t->o.auto_delete, 0,
				      amqp_empty_table);
		r = amqp_get_rpc_reply(t->conn);
		break;
	}
	case TOPO_QUEUE: {
		bool topic = op->sub == RPC_QUEUE_TOPIC;
		fill_queue_args(t, (enum rpc_queue_kind)op->sub, e, &args);
		amqp_queue_declare(t->conn, CHANNEL, amqp_cstring_bytes(op->a), 0,
				   topic ? (t->o.durable || t->o.quorum) : 0, 0,
				   topic ? t->o.auto_delete : 0, args);
		r = amqp_get_rpc_reply(t->conn);
		break;
	}
	case TOPO_BIND:
		amqp_queue_bind(t->conn, CHANNEL, amqp_cstring_bytes(op->a),
				amqp_cstring_bytes(op->b), amqp_cstring_bytes(op->c),
				amqp_empty_table);
		r = amqp_get_rpc_reply(t->conn);
		break;
	case TOPO_CONSUME:
	default:
		amqp_basic_consume(t->conn, CHANNEL, amqp_cstring_bytes(op->a), amqp_empty_bytes, 0,
				   0, 0, amqp_empty_table);
		r = amqp_get_rpc_reply(t->conn);
		break;
	}
	static const char *const what[] = {"exchange.declare", "queue.declare", "queue.bind",
					   "basic.consume"};
	char label[300];
	snprintf(label, sizeof label, "%s %s", what[op->kind], op->a);
	int rc = reply_check(r, label, refused, err);
	amqp_maybe_release_buffers(t->conn);
	return rc;
}

/* Declare everything recorded, in order. *failed_at = index of the failing op. */
static int replay(struct rpc_transport *t, size_t *failed_at, bool *refused, struct ct_error *err)
{
	for (size_t i = 0; i < t->n_topo; i++)
		if (topo_apply(t, &t->topo[i], refused, err)) {
			*failed_at = i;
			return -1;
		}
	return 0;
}

/* One pass over every host. */
static int connect_round(struct rpc_transport *t, size_t *failed_at, bool *refused,
			 struct ct_error *err)
{
	*failed_at = (size_t)-1;
	*refused = false;
	for (size_t i = 0; i < t->url.n_hosts; i++) {
		const struct rpc_url_host *h = &t->url.hosts[t->host_next];
		t->cur_host = t->host_next;
		t->host_next = (t->host_next + 1) % t->url.n_hosts;
		if (connect_host(t, h, err) == 0) {
			if (replay(t, failed_at, refused, err) == 0) {
				log_info("connected to AMQP server %s:%d (vhost %s)", h->host,
					 h->port, t->url.vhost);
				t->interval_ms = t->o.retry_interval * 1000;
				t->next_attempt_ms = 0;
				return 0;
			}
			teardown(t, false);
		}
		if (rpc_tls_status_is_handshake(t->last_status))
			log_error("AMQP server %s:%d: %s", h->host, h->port,
				  err ? err->message : "");
		else
			log_warning("AMQP server %s:%d: %s", h->host, h->port,
				    err ? err->message : "");
		if (*refused)
			return -1;
	}
	return -1;
}

static void sleep_until(const struct rpc_transport *t, int64_t when)
{
	for (;;) {
		int64_t left = when - rpc_now_ms();
		if (left <= 0 || stopped(t))
			return;
		if (left > 100)
			left = 100;
		struct timespec ts = {0, (long)left * 1000000};
		nanosleep(&ts, NULL);
	}
}

static int ensure_at(struct rpc_transport *t, int64_t deadline_ms, size_t *failed_at, bool *refused,
		     struct ct_error *err)
{
	struct ct_error local;
	if (!err)
		err = &local;
	*failed_at = (size_t)-1;
	*refused = false;
	while (!t->up) {
		if (stopped(t))
			return ct_fail(err, 503, "stopping");
		int64_t now = rpc_now_ms();
		if (t->next_attempt_ms > now) {
			if (deadline_ms && deadline_ms <= now)
				return ct_fail(err, 503, "message bus unavailable: %s",
					       err->message[0] ? err->message : "reconnecting");
			int64_t until = t->next_attempt_ms;
			if (deadline_ms && deadline_ms < until)
				until = deadline_ms;
			sleep_until(t, until);
			continue;
		}
		if (connect_round(t, failed_at, refused, err) == 0)
			return 0;
		if (*refused && *failed_at != (size_t)-1)
			return -1;
		int step = t->interval_ms > 0 ? t->interval_ms : 100;
		t->next_attempt_ms = rpc_now_ms() + step;
		log_warning("reconnecting to the message bus in %d.%d s", step / 1000,
			    step % 1000 / 100);
		t->interval_ms += t->o.retry_backoff * 1000;
		if (t->interval_ms > t->o.interval_max * 1000)
			t->interval_ms = t->o.interval_max * 1000;
		if (deadline_ms && rpc_now_ms() >= deadline_ms)
			return ct_fail(err, 503, "message bus unavailable: %s", err->message);
	}
	return 0;
}

int rpc_transport_ensure(struct rpc_transport *t, int64_t deadline_ms, struct ct_error *err)
{
	size_t failed_at;
	bool refused;
	return ensure_at(t, deadline_ms, &failed_at, &refused, err);
}

bool rpc_transport_is_up(const struct rpc_transport *t)
{
	return t->up;
}

struct rpc_transport *rpc_transport_new(const struct rpc_transport_opts *o, struct ct_error *err)
{
	struct rpc_transport *t = calloc(1, sizeof *t);
	if (!t) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	t->o = *o;
	t->url_text = strdup(o->url ? o->url : "rabbit://");
	t->name = strdup(o->name ? o->name : "ctrove");
	if (!t->url_text || !t->name) {
		ct_fail(err, 500, "out of memory");
		goto fail;
	}
	t->o.url = t->url_text;
	t->o.name = t->name;
	if (rpc_url_parse(t->url_text, &t->url, err))
		goto fail;
	t->tls = (struct rpc_tls){
		.on = rpc_tls_wanted(t->url.tls, o->ssl, rpc_url_option(&t->url, "ssl")),
		.ca_file = o->ssl_ca_file,
		.cert_file = o->ssl_cert_file,
		.key_file = o->ssl_key_file,
	};
	unsigned char r = 0;
	ids_random(&r, 1);
	t->host_next = r % t->url.n_hosts; /* oslo shuffles the hosts */
	t->interval_ms = o->retry_interval * 1000;
	return t;
fail:
	rpc_transport_free(t);
	return NULL;
}

int rpc_transport_check_tls(const struct rpc_transport_opts *o, struct ct_error *err)
{
	struct rpc_transport *t = rpc_transport_new(o, err);
	if (!t)
		return -1;
	int rc = 0;
	for (size_t i = 0; t->tls.on && i < t->url.n_hosts && !rc; i++) {
		const struct rpc_url_host *h = &t->url.hosts[i];
		struct ct_error why = {0};
		if (connect_host(t, h, &why) == 0) {
			teardown(t, true);
			break; /* one broker trusted is enough to start */
		}
		/* Wrong TLS options, or a broker that answered and failed the handshake. */
		if (why.status == 400 || rpc_tls_status_is_handshake(t->last_status)) {
			*err = why;
			rc = -1;
		}
	}
	rpc_transport_free(t);
	return rc;
}

static void topo_free(struct topo_op *op)
{
	free(op->a);
	free(op->b);
	free(op->c);
}

void rpc_transport_free(struct rpc_transport *t)
{
	if (!t)
		return;
	teardown(t, true);
	for (size_t i = 0; i < t->n_topo; i++)
		topo_free(&t->topo[i]);
	free(t->topo);
	rpc_url_free(&t->url);
	free(t->url_text);
	free(t->name);
	free(t);
}

/* ---- frames ----------------------------------------------------------------------- */

static void copy_bytes(char *dst, size_t size, amqp_bytes_t b)
{
	size_t n = b.len < size - 1 ? b.len : size - 1;
	memcpy(dst, b.bytes, n);
	dst[n] = '\0';
}

/* Frame handlers: one per AMQP method the broker sends unasked. Each returns
 * 1 when the frame is handled, or -1 after calling lost(). */
typedef int (*frame_handler)(struct rpc_transport *t, const amqp_frame_t *f);

static void enqueue(struct rpc_transport *t, struct pending *p)
{
	if (t->tail)
		t->tail->next = p;
	else
		t->head = p;
	t->tail = p;
}

/* basic.deliver: the message joins the pending queue for rpc_transport_next. */
static int on_deliver(struct rpc_transport *t, const amqp_frame_t *f)
{
	const amqp_basic_deliver_t *m = f->payload.method.decoded;
	struct pending *p = calloc(1, sizeof *p);
	if (!p) {
		lost(t, "out of memory");
		return -1;
	}
	p->d.tag = m->delivery_tag;
	p->d.generation = t->generation;
	copy_bytes(p->d.routing_key, sizeof p->d.routing_key, m->routing_key);
	copy_bytes(p->d.exchange, sizeof p->d.exchange, m->exchange);
	amqp_message_t msg;
	amqp_rpc_reply_t r = amqp_read_message(t->conn, f->channel, &msg, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		free(p);
		lost(t, "cannot read a delivered message");
		return -1;
	}
	p->d.body = malloc(msg.body.len + 1);
	if (!p->d.body) {
		amqp_destroy_message(&msg);
		free(p);
		lost(t, "out of memory");
		return -1;
	}
	if (msg.body.len)
		memcpy(p->d.body, msg.body.bytes, msg.body.len);
	((char *)p->d.body)[msg.body.len] = '\0';
	p->d.len = msg.body.len;
	amqp_destroy_message(&msg);
	enqueue(t, p);
	return 1;
}

/* basic.ack in confirm mode: the publish waiting for its confirm got it. */
static int on_publish_ack(struct rpc_transport *t, const amqp_frame_t *f)
{
	const amqp_basic_ack_t *m = f->payload.method.decoded;
	if (t->wait_tag &&
	    (m->delivery_tag == t->wait_tag ||
	     (m->multiple && (m->delivery_tag >= t->wait_tag || m->delivery_tag == 0))))
		t->confirmed = true;
	return 1;
}

/* basic.nack in confirm mode: the broker refused the waiting publish. */
static int on_publish_nack(struct rpc_transport *t, const amqp_frame_t *f)
{
	const amqp_basic_nack_t *m = f->payload.method.decoded;
	if (t->wait_tag &&
	    (m->delivery_tag == t->wait_tag || (m->multiple && m->delivery_tag >= t->wait_tag)))
		t->nacked = true;
	return 1;
}

/* basic.return: a mandatory publish reached no queue; its content follows. */
static int on_return(struct rpc_transport *t, const amqp_frame_t *f)
{
	const amqp_basic_return_t *m = f->payload.method.decoded;
	log_debug("broker returned a message for '%.*s': %u %.*s", (int)m->routing_key.len,
		  (const char *)m->routing_key.bytes, m->reply_code, (int)m->reply_text.len,
		  (const char *)m->reply_text.bytes);
	amqp_message_t msg;
	amqp_rpc_reply_t r = amqp_read_message(t->conn, f->channel, &msg, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		lost(t, "cannot read a returned message");
		return -1;
	}
	amqp_destroy_message(&msg);
	t->returned = true;
	return 1;
}

/* basic.cancel: a consumed queue went away; reconnecting declares it again. */
static int on_consumer_cancel(struct rpc_transport *t, const amqp_frame_t *f)
{
	(void)f;
	lost(t, "the broker cancelled a consumer (queue deleted?)");
	return -1;
}

static int on_channel_close(struct rpc_transport *t, const amqp_frame_t *f)
{
	const amqp_channel_close_t *m = f->payload.method.decoded;
	char why[300];
	snprintf(why, sizeof why, "channel closed by the broker: %u %.*s", m->reply_code,
		 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
	amqp_channel_close_ok_t ok = {0};
	amqp_send_method(t->conn, f->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
	lost(t, why);
	return -1;
}

static int on_connection_close(struct rpc_transport *t, const amqp_frame_t *f)
{
	const amqp_connection_close_t *m = f->payload.method.decoded;
	char why[300];
	snprintf(why, sizeof why, "closed by the broker: %u %.*s", m->reply_code,
		 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
	amqp_connection_close_ok_t ok = {0};
	amqp_send_method(t->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
	lost(t, why);
	return -1;
}

/* connection.blocked / unblocked: a resource alarm; publishes wait meanwhile. */
static int on_blocked(struct rpc_transport *t, const amqp_frame_t *f)
{
	(void)t;
	(void)f;
	log_warning("the broker blocked this connection (resource alarm)");
	return 1;
}

static int on_unblocked(struct rpc_transport *t, const amqp_frame_t *f)
{
	(void)t;
	(void)f;
	log_info("the broker unblocked this connection");
	return 1;
}

static const struct {
	amqp_method_number_t method;
	frame_handler handle;
} frame_handlers[] = {
	{AMQP_BASIC_DELIVER_METHOD, on_deliver},
	{AMQP_BASIC_ACK_METHOD, on_publish_ack},
	{AMQP_BASIC_NACK_METHOD, on_publish_nack},
	{AMQP_BASIC_RETURN_METHOD, on_return},
	{AMQP_BASIC_CANCEL_METHOD, on_consumer_cancel},
	{AMQP_CHANNEL_CLOSE_METHOD, on_channel_close},
	{AMQP_CONNECTION_CLOSE_METHOD, on_connection_close},
	{AMQP_CONNECTION_BLOCKED_METHOD, on_blocked},
	{AMQP_CONNECTION_UNBLOCKED_METHOD, on_unblocked},
};

static frame_handler handler_for(amqp_method_number_t method)
{
	for (size_t i = 0; i < sizeof frame_handlers / sizeof frame_handlers[0]; i++)
		if (frame_handlers[i].method == method)
			return frame_handlers[i].handle;
	return NULL;
}

/* Wait up to timeout_ms for one incoming frame and handle it. 1 = handled,
 * 0 = timed out, -1 = connection lost. */
static int pump(struct rpc_transport *t, int timeout_ms)
{
	if (!t->up)
		return -1;
	amqp_frame_t f;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int st = amqp_simple_wait_frame_noblock(t->conn, &f, &tv);
	if (st == AMQP_STATUS_TIMEOUT)
		return 0;
	if (st != AMQP_STATUS_OK) {
		lost(t, amqp_error_string2(st));
		return -1;
	}
	if (f.frame_type == AMQP_FRAME_METHOD) {
		frame_handler handle = handler_for(f.payload.method.id);
		if (!handle)
			log_debug("ignoring AMQP method 0x%08x", f.payload.method.id);
		else if (handle(t, &f) < 0)
			return -1;
	} /* else a stray content frame; nothing to do with it */
	amqp_maybe_release_buffers(t->conn);
	return 1;
}

void rpc_transport_poll(struct rpc_transport *t)
{
	while (t->up && pump(t, 0) == 1)
		;
}

int rpc_transport_next(struct rpc_transport *t, int timeout_ms, struct rpc_delivery *d,
		       struct ct_error *err)
{
	int64_t deadline = rpc_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		if (t->head) {
			struct pending *p = t->head;
			t->head = p->next;
			if (!t->head)
				t->tail = NULL;
			*d = p->d;
			free(p);
			return 1;
		}
		if (stopped(t))
			return 0;
		int64_t left = deadline - rpc_now_ms();
		if (!t->up) {
			if (timeout_ms <= 0)
				return 0;
			size_t failed_at;
			bool refused;
			if (ensure_at(t, deadline, &failed_at, &refused, err)) {
				if (refused)
					return -1;
				return 0;
			}
			continue;
		}
		if (left <= 0)
			return 0;
		pump(t, left > PUMP_SLICE_MS ? PUMP_SLICE_MS : (int)left);
	}
}

int rpc_transport_ack(struct rpc_transport *t, const struct rpc_delivery *d, struct ct_error *err)
{
	if (!t->up || d->generation != t->generation)
		return ct_fail(err, 503, "connection lost before the ack");
	int st = amqp_basic_ack(t->conn, CHANNEL, d->tag, 0);
	if (st) {
		lost(t, amqp_error_string2(st));
		return ct_fail(err, 503, "ack failed: %s", amqp_error_string2(st));
	}
	return 0;
}

void rpc_delivery_free(struct rpc_delivery *d)
{
	free(d->body);
	d->body = NULL;
	d->len = 0;
}

/* ---- topology --------------------------------------------------------------------- */

static bool same(const char *x, const char *y)
{
	return (!x && !y) || (x && y && !strcmp(x, y));
}

static long topo_find(const struct rpc_transport *t, const struct topo_op *op)
{
	for (size_t i = 0; i < t->n_topo; i++) {
		const struct topo_op *o = &t->topo[i];
		if (o->kind == op->kind && o->sub == op->sub && same(o->a, op->a) &&
		    same(o->b, op->b) && same(o->c, op->c))
			return (long)i;
	}
	return -1;
}

static void topo_remove(struct rpc_transport *t, size_t i)
{
	topo_free(&t->topo[i]);
	memmove(&t->topo[i], &t->topo[i + 1], (t->n_topo - i - 1) * sizeof t->topo[0]);
	t->n_topo--;
}

static int topo_add(struct rpc_transport *t, enum topo_kind kind, int sub, const char *a,
		    const char *b, const char *c, int64_t deadline_ms, struct ct_error *err)
{
	struct topo_op op = {kind, sub, (char *)a, (char *)b, (char *)c};
	long idx = topo_find(t, &op);
	if (idx < 0) {
		struct topo_op *n = array_grow(t->topo, t->n_topo, &t->cap_topo, sizeof *n);
		if (!n)
			return ct_fail(err, 500, "out of memory");
		t->topo = n;
		struct topo_op *o = &t->topo[t->n_topo];
		o->kind = kind;
		o->sub = sub;
		o->a = a ? strdup(a) : NULL;
		o->b = b ? strdup(b) : NULL;
		o->c = c ? strdup(c) : NULL;
		if ((a && !o->a) || (b && !o->b) || (c && !o->c)) {
			topo_free(o);
			return ct_fail(err, 500, "out of memory");
		}
		idx = (long)t->n_topo++;
	}
	for (;;) {
		bool refused = false;
		if (!t->up) {
			size_t failed_at;
			if (ensure_at(t, deadline_ms, &failed_at, &refused, err) == 0)
				return 0; /* replay declared it */
			if (refused && failed_at == (size_t)idx)
				topo_remove(t, (size_t)idx);
			return -1;
		}
		if (topo_apply(t, &t->topo[idx], &refused, err) == 0)
			return 0;
		teardown(t, false);
		if (refused) {
			topo_remove(t, (size_t)idx);
			return -1;
		}
	}
}

int rpc_transport_declare_exchange(struct rpc_transport *t, const char *name,
				   enum rpc_exchange_kind kind, int64_t deadline_ms,
				   struct ct_error *err)
{
	return topo_add(t, TOPO_EXCHANGE, kind, name, NULL, NULL, deadline_ms, err);
}

int rpc_transport_declare_queue(struct rpc_transport *t, const char *name, enum rpc_queue_kind kind,
				int64_t deadline_ms, struct ct_error *err)
{
	return topo_add(t, TOPO_QUEUE, kind, name, NULL, NULL, deadline_ms, err);
}

int rpc_transport_bind(struct rpc_transport *t, const char *queue, const char *exchange,
		       const char *routing_key, int64_t deadline_ms, struct ct_error *err)
{
	return topo_add(t, TOPO_BIND, 0, queue, exchange, routing_key, deadline_ms, err);
}

int rpc_transport_consume(struct rpc_transport *t, const char *queue, int64_t deadline_ms,
			  struct ct_error *err)
{
	return topo_add(t, TOPO_CONSUME, 0, queue, NULL, NULL, deadline_ms, err);
}

void rpc_transport_forget(struct rpc_transport *t, const char *queue)
{
	for (size_t i = t->n_topo; i-- > 0;)
		if (t->topo[i].kind != TOPO_EXCHANGE && same(t->topo[i].a, queue))
			topo_remove(t, i);
}

void rpc_transport_delete_queue(struct rpc_transport *t, const char *queue)
{
	rpc_transport_forget(t, queue);
	if (!t->up)
		return;
	amqp_queue_delete(t->conn, CHANNEL, amqp_cstring_bytes(queue), 0, 0);
	if (amqp_get_rpc_reply(t->conn).reply_type != AMQP_RESPONSE_NORMAL)
		teardown(t, false);
	else
		amqp_maybe_release_buffers(t->conn);
}

/* ---- publishing ------------------------------------------------------------------- */

int rpc_transport_publish(struct rpc_transport *t, const char *exchange, const char *routing_key,
			  const void *body, size_t len, long expiration_ms, bool mandatory,
			  int64_t deadline_ms, struct ct_error *err)
{
	char expiration[32];
	amqp_basic_properties_t props;
	memset(&props, 0, sizeof props);
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
		       AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG |
		       AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.content_encoding = amqp_cstring_bytes("utf-8");
	props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	props.priority = 0;
	props.headers = amqp_empty_table;
	if (expiration_ms > 0) {
		snprintf(expiration, sizeof expiration, "%ld", expiration_ms);
		props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
		props.expiration = amqp_cstring_bytes(expiration);
	}
	amqp_bytes_t payload = {len, (void *)body};
	for (;;) {
		if (rpc_transport_ensure(t, deadline_ms, err))
			return -1;
		unsigned long gen = t->generation;
		t->wait_tag = ++t->publish_seq;
		t->confirmed = t->nacked = t->returned = false;
		int st = amqp_basic_publish(t->conn, CHANNEL, amqp_cstring_bytes(exchange),
					    amqp_cstring_bytes(routing_key), mandatory, 0, &props,
					    payload);
		if (st) {
			lost(t, amqp_error_string2(st));
			continue;
		}
		while (t->up && gen == t->generation && !t->confirmed && !t->nacked) {
			int64_t left = deadline_ms ? deadline_ms - rpc_now_ms() : PUMP_SLICE_MS;
			if (left <= 0) {
				t->wait_tag = 0;
				return ct_fail(err, 504, "the broker did not confirm the message");
			}
			pump(t, left > PUMP_SLICE_MS ? PUMP_SLICE_MS : (int)left);
		}
		t->wait_tag = 0;
		if (!t->up || gen != t->generation) {
			log_warning("connection lost before the broker confirmed a message to "
				    "'%s'; publishing it again",
				    routing_key);
			continue;
		}
		if (t->nacked)
			return ct_fail(err, 503, "the broker refused the message");
		if (t->returned)
			return ct_fail(err, 404, "no queue is bound for '%s'", routing_key);
		return 0;
	}
}
