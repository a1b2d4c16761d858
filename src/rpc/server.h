/*
 * server.h — an oslo.messaging RPC server: one topic, its dispatch table declared as
 * data (method name → handler + argument schema), spec §2.3 and §2.8.
 *
 * It consumes <topic>, <topic>.<server> and <topic>_fanout_<uuid hex> (bound to the
 * <topic>_fanout exchange) with oslo's declare flags. Each delivery is acked first and
 * then processed (at most once, like Python); the last 16 _unique_ids are remembered and
 * repeats dropped. A request is checked in this order: body size (rpc_max_message_size),
 * envelope, header, duplicate, decryption (with a key, anything not sealed with it is
 * refused: 403 Forbidden), version (same major, minor <= the server's),
 * method (NoSuchMethod; names starting with '_' are never dispatched), arguments
 * against the schema (TypeError). Every refusal is logged; when the request carried
 * _msg_id and _reply_q it is answered with an oslo failure reply, and a handler's
 * ct_error becomes a failure whose class follows the status (404 NotFound, 501
 * NotImplementedError, ...). Garbage never stops the server.
 *
 * Threading: the server runs in one thread — rpc_server_run() in the caller's, or
 * rpc_server_start() in its own — which owns its connection and calls the handlers one
 * at a time. A handler must return well within the heartbeat timeout (default 60 s);
 * long work belongs to a worker of the caller's. Start several servers on one topic to
 * consume in parallel. rpc_server_stop() may be called from any thread or a signal
 * handler.
 *
 * Owns the server's transport, thread and duplicate cache. May not interpret
 * arguments: handlers do.
 */
#ifndef CT_RPC_SERVER_H
#define CT_RPC_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "rpc/envelope.h"
#include "rpc/transport.h"

/* JSON types an argument may have (bit set). */
enum {
	RPC_T_STRING = 1 << 0,
	RPC_T_INT = 1 << 1,
	RPC_T_REAL = 1 << 2,
	RPC_T_BOOL = 1 << 3,
	RPC_T_OBJECT = 1 << 4,
	RPC_T_ARRAY = 1 << 5,
	RPC_T_NULL = 1 << 6,
	RPC_T_NUMBER = RPC_T_INT | RPC_T_REAL,
	RPC_T_ANY = 0x7f,
};

struct rpc_arg {
	const char *name;
	unsigned types;
	bool required;
};

/* A handler returns its result (new reference; json_null() for None) or NULL with err
 * filled. req->args has been checked against the schema. */
typedef json_t *(*rpc_handler_fn)(void *user, const struct rpc_request *req, struct ct_error *err);

struct rpc_method {
	const char *name;
	rpc_handler_fn handler;
	const struct rpc_arg *args; /* terminated by {NULL}; NULL = no arguments */
	bool extra_args;	    /* accept arguments not in the schema */
};

/* The key a message must be sealed with, for a server whose key depends on the sender:
 * instance_id is the message's _context_csz-instance-id (NULL when it names none).
 * 0 with *key malloc'd, or *key NULL when plain text is acceptable from that sender;
 * -1 with err filled to refuse the message (no key to check it with). */
typedef int (*rpc_key_lookup_fn)(void *user, const char *instance_id, char **key,
				 struct ct_error *err);

struct rpc_server_opts {
	const char *topic;
	const char *server;		  /* NULL = [DEFAULT] host */
	const char *exchange;		  /* NULL = [DEFAULT] control_exchange */
	const char *version;		  /* endpoint version, e.g. "1.0" */
	const struct rpc_method *methods; /* terminated by {NULL} */
	void *user;			  /* passed to handlers and key_lookup */
	const char *key;		  /* secure-serializer key; NULL = plain text */
	rpc_key_lookup_fn key_lookup;	  /* when key is NULL: the key per message */
	long max_message_size;		  /* 0 = [DEFAULT] rpc_max_message_size */
};

struct rpc_server;

/* transport NULL = from trove.conf. Copies what it needs from both. */
struct rpc_server *rpc_server_new(const struct rpc_transport_opts *transport,
				  const struct rpc_server_opts *opts, struct ct_error *err);
/* Declare, consume and dispatch in the calling thread until rpc_server_stop(). Waits
 * for the broker as long as it takes. -1 only when the broker refuses the topology. */
int rpc_server_run(struct rpc_server *s, struct ct_error *err);
/* The same in a new thread. */
int rpc_server_start(struct rpc_server *s, struct ct_error *err);
/* Wait until the queues are declared and consumed; 0 ready, -1 not within timeout_ms. */
int rpc_server_wait_ready(struct rpc_server *s, int timeout_ms);
/* Ask the loop to end (async-signal-safe). */
void rpc_server_stop(struct rpc_server *s);
/* Stops, joins the thread, deletes the fanout queue, closes and frees. */
void rpc_server_free(struct rpc_server *s);

/* Check args against a schema; 400 naming the argument on mismatch. */
int rpc_args_check(const struct rpc_method *m, const json_t *args, struct ct_error *err);

#endif
