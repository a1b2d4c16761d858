/*
 * client.h — the calling side of oslo.messaging RPC: cast, call and fanout cast
 * (spec §2.4, §2.8).
 *
 * A client owns one transport (one AMQP connection) and, once it has made a call, one
 * reply queue reply_<uuid hex> (x-expires rabbit_transient_queues_ttl) that it consumes.
 * rpc_call publishes the request with expiration = timeout and waits for the reply whose
 * _msg_id matches; replies of calls that already timed out are acked and dropped.
 * Every publish waits for the broker's confirm, and a connection lost before the confirm
 * is re-established and the message published again (same _unique_id, so a receiver
 * drops a duplicate): rpc_cast returning 0 means the broker has the message.
 *
 * Threading: every function is thread-safe. A mutex serialises the connection, so one
 * client carries one call at a time; threads that need concurrent calls (API workers)
 * each make their own client. A small keeper thread services heartbeats while the
 * client is idle and drains late replies.
 *
 * Owns its transport, reply queue and keeper thread. May not dispatch requests
 * (server.c does) nor look at what the arguments mean.
 */
#ifndef CT_RPC_CLIENT_H
#define CT_RPC_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "rpc/transport.h"

struct rpc_target {
	const char *topic;	 /* e.g. "taskmanager", "guestagent.<id>" */
	const char *server;	 /* NULL = any server; else routing key <topic>.<server> */
	const char *version;	 /* API version the message needs; NULL = "1.0" */
	const char *key;	 /* secure-serializer key; NULL = plain text */
	const char *instance_id; /* with key: guest→conductor form */
};

/* What a failed call was: remote = the peer answered with a failure (class, module
 * and message of the remote exception); otherwise a timeout (err->status 504) or a bus
 * failure (503). */
struct rpc_failure {
	bool remote;
	char cls[128];
	char module[128];
};

struct rpc_client;

/* opts NULL = from trove.conf; exchange NULL = [DEFAULT] control_exchange. Does not
 * connect yet: the first cast or call does. */
struct rpc_client *rpc_client_new(const struct rpc_transport_opts *opts, const char *exchange,
				  struct ct_error *err);
void rpc_client_free(struct rpc_client *c);

/* Fire and forget; 0 once the broker confirmed. Gives up after rpc_response_timeout. */
int rpc_cast(struct rpc_client *c, const struct rpc_target *target, const char *method,
	     const json_t *args, const json_t *ctx, struct ct_error *err);
/* rpc_cast giving up after timeout_ms (<= 0: rpc_response_timeout), for a
 * caller that must answer its own client soon (the API: 503 while the bus is
 * down, instead of holding an HTTP thread until it returns). */
int rpc_cast_within(struct rpc_client *c, const struct rpc_target *target, const char *method,
		    const json_t *args, const json_t *ctx, long timeout_ms, struct ct_error *err);
/* Cast to every server of the topic (<topic>_fanout exchange). */
int rpc_fanout_cast(struct rpc_client *c, const struct rpc_target *target, const char *method,
		    const json_t *args, const json_t *ctx, struct ct_error *err);
/* Call and wait up to timeout_s (<= 0: rpc_response_timeout). Returns the result (a new
 * reference; JSON null for None) or NULL with err filled: 504 timeout, 503 bus down,
 * else the status rpc_status_for_failure_class() gives the remote class, whose name
 * goes to *failure when it is not NULL. */
json_t *rpc_call(struct rpc_client *c, const struct rpc_target *target, const char *method,
		 const json_t *args, const json_t *ctx, int timeout_s, struct rpc_failure *failure,
		 struct ct_error *err);

/* Declare and bind the queues <topic> and <topic>.<server> so that casts sent before
 * the server first starts are kept (Trove's _create_guest_queue). */
int rpc_client_declare_topic(struct rpc_client *c, const char *topic, const char *server,
			     struct ct_error *err);

#endif
