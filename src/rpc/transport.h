/*
 * transport.h — one AMQP 0-9-1 connection to RabbitMQ (rabbitmq-c), the way
 * oslo.messaging's rabbit driver uses it (spec §2.1–§2.4, §2.12).
 *
 * A transport owns one connection and one channel (1) in publisher-confirm mode. It
 * reads transport_url with rpc/url.h (several comma-separated hosts: tried round-robin
 * from a random start), logs in with PLAIN, asks for heartbeat_timeout_threshold and services
 * heartbeats whenever it waits. Every exchange, queue, binding and consumer declared
 * through it is recorded; when the connection is lost (socket error, missed heartbeats,
 * broker close, consumer cancel) it reconnects with oslo's backoff (rabbit_retry_interval,
 * + rabbit_retry_backoff per round, at most rabbit_interval_max seconds), declares the
 * recorded topology again and resumes consuming. Deliveries received but not yet handed
 * out are dropped on reconnect: the broker redelivers them.
 *
 * Threading: a transport is not thread-safe. Exactly one thread uses it at a time
 * (client.c holds a mutex, server.c owns one per server thread). The stop flag may be
 * set from any thread (or a signal handler) and interrupts reconnect waits.
 *
 * Owns the socket, the recorded topology and the queue of pending deliveries. May not
 * parse message bodies (envelope.c does) and never logs the password.
 */
#ifndef CT_RPC_TRANSPORT_H
#define CT_RPC_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct rpc_transport_opts {
	const char *url;	    /* transport_url */
	const char *name;	    /* connection_name prefix shown by the broker */
	int heartbeat;		    /* seconds, 0 = off */
	int retry_interval;	    /* seconds */
	int retry_backoff;	    /* seconds */
	int interval_max;	    /* seconds */
	bool durable;		    /* amqp_durable_queues */
	bool auto_delete;	    /* amqp_auto_delete */
	bool ha_queues;		    /* rabbit_ha_queues */
	bool quorum;		    /* rabbit_quorum_queue */
	int transient_ttl;	    /* rabbit_transient_queues_ttl, seconds */
	int prefetch;		    /* rabbit_qos_prefetch_count */
	int missing_consumer_retry; /* kombu_missing_consumer_retry_timeout, seconds */
	/* Topic exchanges (the control exchange) are only checked (a passive declare),
	 * never created: a guest's broker account may not configure them, and the
	 * control plane declares them before any guest exists. */
	bool passive_topic_exchange;
	/* [oslo_messaging_rabbit] ssl, ssl_ca_file, ssl_cert_file, ssl_key_file; amqps://
	 * turns TLS on as ssl does (rpc/tls_socket.h). */
	bool ssl;
	const char *ssl_ca_file;
	const char *ssl_cert_file;
	const char *ssl_key_file;
	const atomic_bool *stop; /* optional: set = give up waiting and reconnecting */
};

/* Options from trove.conf ([DEFAULT] transport_url, [oslo_messaging_rabbit] ...). */
void rpc_transport_opts_from_config(struct rpc_transport_opts *o);

/* Kinds of queues, which decide the declare flags (spec §2.3). */
enum rpc_queue_kind {
	RPC_QUEUE_TOPIC,     /* T and T.S: amqp_durable_queues/auto_delete, ha, quorum */
	RPC_QUEUE_TRANSIENT, /* T_fanout_<id>, reply_<id>: x-expires */
};

enum rpc_exchange_kind {
	RPC_EXCHANGE_TOPIC,  /* the control exchange */
	RPC_EXCHANGE_FANOUT, /* <topic>_fanout: not durable, auto-delete */
};

struct rpc_delivery {
	void *body;
	size_t len;
	uint64_t tag;
	unsigned long generation; /* connection it came on; acks on another fail */
	char routing_key[256];
	char exchange[256];
};

struct rpc_transport;

struct rpc_transport *rpc_transport_new(const struct rpc_transport_opts *o, struct ct_error *err);
/* Closes the connection (politely when it is up) and frees everything. */
void rpc_transport_free(struct rpc_transport *t);

/* Start-up check of a TLS bus: one connection attempt to each host. Fails only
 * when a broker answered and the TLS handshake failed (its certificate is not
 * signed by ssl_ca_file, does not name the host, or the port is not TLS) or the
 * TLS options are wrong; a broker that is down is not an error (the services
 * reconnect). 0 at once for a plain bus. */
int rpc_transport_check_tls(const struct rpc_transport_opts *o, struct ct_error *err);

/* Connect now if not connected, retrying with backoff until deadline_ms (monotonic,
 * 0 = forever) or the stop flag. Replays the recorded topology. */
int rpc_transport_ensure(struct rpc_transport *t, int64_t deadline_ms, struct ct_error *err);
bool rpc_transport_is_up(const struct rpc_transport *t);

/* Declare now (connecting if needed, until deadline_ms as for rpc_transport_ensure) and
 * record for re-declaration after reconnects. A declaration the broker refuses (406
 * PRECONDITION_FAILED: same name, other flags) fails with 409 and is not recorded. */
int rpc_transport_declare_exchange(struct rpc_transport *t, const char *name,
				   enum rpc_exchange_kind kind, int64_t deadline_ms,
				   struct ct_error *err);
int rpc_transport_declare_queue(struct rpc_transport *t, const char *name, enum rpc_queue_kind kind,
				int64_t deadline_ms, struct ct_error *err);
int rpc_transport_bind(struct rpc_transport *t, const char *queue, const char *exchange,
		       const char *routing_key, int64_t deadline_ms, struct ct_error *err);
int rpc_transport_consume(struct rpc_transport *t, const char *queue, int64_t deadline_ms,
			  struct ct_error *err);
/* Stop re-declaring what was recorded for this queue (it stays on the broker). */
void rpc_transport_forget(struct rpc_transport *t, const char *queue);
/* Delete a queue and forget everything recorded about it (best effort). */
void rpc_transport_delete_queue(struct rpc_transport *t, const char *queue);

/* Publish with persistent delivery, application/json utf-8, empty headers, and wait for
 * the broker's confirm. expiration_ms > 0 sets the expiration property. A lost
 * connection is re-established and the message published again until deadline_ms
 * (monotonic ms, 0 = forever). With mandatory, an unroutable message fails with 404. */
int rpc_transport_publish(struct rpc_transport *t, const char *exchange, const char *routing_key,
			  const void *body, size_t len, long expiration_ms, bool mandatory,
			  int64_t deadline_ms, struct ct_error *err);

/* Wait up to timeout_ms for a delivery, servicing heartbeats and reconnecting as
 * needed. 1 = *d filled (free with rpc_delivery_free), 0 = timed out or stopped,
 * -1 = error (err filled). */
int rpc_transport_next(struct rpc_transport *t, int timeout_ms, struct rpc_delivery *d,
		       struct ct_error *err);
/* Process whatever frames are pending without blocking (heartbeats, stray confirms). */
void rpc_transport_poll(struct rpc_transport *t);
/* Acknowledge a delivery; fails when its connection is gone (it will be redelivered). */
int rpc_transport_ack(struct rpc_transport *t, const struct rpc_delivery *d, struct ct_error *err);
void rpc_delivery_free(struct rpc_delivery *d);

/* Monotonic clock in milliseconds (deadlines above). */
int64_t rpc_now_ms(void);

#endif
