/*
 * envelope.h — the oslo.messaging message format (spec §2.5–§2.9), pure functions.
 *
 * On the wire a body is {"oslo.version": "2.0", "oslo.message": "<inner JSON>"}: the
 * inner message is a JSON string, so it is encoded twice. A request carries method,
 * args, version, _unique_id, the _context_* keys and, for a call, _msg_id, _reply_q and
 * _timeout; a reply carries result, failure, ending, _msg_id and _unique_id.
 * Trove's secure serializer (§2.7) is applied here when a key is given: every argument
 * value, the result and the whole context are encrypted with crypto.h, optionally in
 * the guest→conductor form ({"entity": E, "csz-instance-id": id} strings).
 *
 * Owns nothing global; every function is re-entrant and touches neither the network
 * nor the log (callers log). Returned json_t and strings belong to the caller.
 */
#ifndef CT_RPC_ENVELOPE_H
#define CT_RPC_ENVELOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define RPC_ID_LEN 32 /* uuid4 hex, the form of _msg_id, _unique_id and queue suffixes */

/* How arguments, results and contexts are protected on one hop. */
struct rpc_secure {
	const char *key;	 /* NULL or "" = plain text */
	const char *instance_id; /* non-NULL: guest→conductor form (ConductorGuestSerializer) */
};

/* A decoded request. Every pointer lives as long as the struct (rpc_request_clear). */
struct rpc_request {
	json_t *msg;		 /* the inner message, owned */
	const char *method;	 /* NULL when missing */
	json_t *args;		 /* object, owned (decrypted copy in secure mode) */
	const char *version;	 /* "1.0" when absent */
	const char *namespace_;	 /* NULL unless set */
	json_t *context;	 /* context fields without the _context_ prefix, owned */
	const char *msg_id;	 /* NULL for a cast */
	const char *reply_q;	 /* NULL for a cast */
	const char *unique_id;	 /* NULL when missing */
	const char *instance_id; /* _context_csz-instance-id, NULL when absent */
};

/* A decoded reply; result is owned (NULL until set). */
struct rpc_reply {
	json_t *result;
	bool failed;
	bool ending;
	char msg_id[RPC_ID_LEN + 1];
	char unique_id[RPC_ID_LEN + 1];
	char failure_class[128];
	char failure_module[128];
	char failure_message[CT_ERROR_MESSAGE_MAX];
};

/* A fresh uuid4 hex id. */
void rpc_new_id(char out[RPC_ID_LEN + 1]);

/* Body bytes for an inner message (malloc'd, *len set). */
char *rpc_envelope_wrap(const json_t *msg, size_t *len, struct ct_error *err);
/* The inner message of a body: an object, new reference. A JSON object without both
 * envelope keys is taken as a bare pre-envelope message, as oslo does. 400 on garbage,
 * on an oslo.version other than 2.0 and on a non-object inner message. */
json_t *rpc_envelope_unwrap(const void *body, size_t len, struct ct_error *err);

/* Build a request. ctx may be NULL (empty context); msg_id/reply_q NULL for a cast. */
json_t *rpc_request_new(const char *method, const json_t *args, const char *version,
			const json_t *ctx, const char *msg_id, const char *reply_q,
			const struct rpc_secure *sec, struct ct_error *err);

/* Read the header fields (method, version, ids, reply queue, instance id) of msg, which
 * the request takes a reference to. Enough for a failure reply even when -1 is returned. */
int rpc_request_parse_header(json_t *msg, struct rpc_request *req, struct ct_error *err);
/* Decode args and context. With a key (non-NULL, non-empty) every argument value and
 * the context (_context_context) must decrypt with it — and, when the request names
 * an instance (_context_csz-instance-id), every value must be the guest→conductor
 * wrapper naming that same instance; anything else (plain text, another key, another
 * instance, no sealed context) is 403 and nothing is decoded. Stricter than Python,
 * which passes such values through. Without a key the message is read as plain text. */
int rpc_request_decode(struct rpc_request *req, const char *key, struct ct_error *err);
void rpc_request_clear(struct rpc_request *req);

/* Build a reply; failure is the JSON string of rpc_failure_encode or NULL. */
json_t *rpc_reply_new(const json_t *result, const char *failure, bool ending, const char *msg_id,
		      const char *key, struct ct_error *err);
/* Decode a reply object. With a key, a result must decrypt with it (403 otherwise;
 * msg_id is filled in all the same); a plain null in a reply that is not the ending
 * one is oslo's keep-alive and yields no result. */
int rpc_reply_parse(const json_t *msg, const char *key, struct rpc_reply *out,
		    struct ct_error *err);
void rpc_reply_clear(struct rpc_reply *reply);

/* The failure string of a reply, as oslo's serialize_remote_exception writes it. */
char *rpc_failure_encode(const char *cls, const char *module, const char *message);
/* The Python exception a ctrove error status stands for (class and module). */
void rpc_failure_class_for_status(int status, const char **cls, const char **module);
/* The ctrove status for a remote exception class (500 when unknown). */
int rpc_status_for_failure_class(const char *cls);

/* oslo's version rule: same major, message minor <= endpoint minor. */
bool rpc_version_compatible(const char *endpoint_version, const char *msg_version);

#endif
