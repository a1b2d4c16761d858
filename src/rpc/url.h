/*
 * url.h — oslo.messaging's transport_url for RabbitMQ, parsed (spec §2.1):
 *
 *   rabbit://[user[:pass]@]host[:port][,[user[:pass]@]host[:port]...][/vhost][?options]
 *
 * amqp:// is accepted as rabbit://; amqps:// is the same over TLS (tls set, port
 * 5671 by default). Missing parts are oslo's defaults: user and password guest,
 * host localhost, port 5672, vhost "/". %xx escapes are decoded
 * everywhere; options are key=value pairs split on '&', '+' read as a space,
 * pairs without a value skipped and repeated keys joined with ',' (Python's
 * parse_qs, as oslo does). The transport reads none of the options yet.
 *
 * Pure: owns only the strings it returns. May not log (the URL holds passwords)
 * and knows nothing of connections.
 */
#ifndef CT_RPC_URL_H
#define CT_RPC_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct rpc_url_host {
	char *host; /* IPv6 without its brackets */
	int port;
	char *user;
	char *password;
};

struct rpc_url_option {
	char *key;
	char *value;
};

struct rpc_url {
	struct rpc_url_host *hosts; /* at least one */
	size_t n_hosts;
	char *vhost;
	struct rpc_url_option *options;
	size_t n_options;
	bool tls; /* amqps:// */
};

/* Fills *out (the caller frees it with rpc_url_free). A malformed URL fails
 * with 400, *out empty, and a message that names the part but never echoes a
 * credential. */
int rpc_url_parse(const char *url, struct rpc_url *out, struct ct_error *err);
/* Frees everything and wipes the passwords first. */
void rpc_url_free(struct rpc_url *u);
/* The value of option key, or NULL. Borrowed from u. */
const char *rpc_url_option(const struct rpc_url *u, const char *key);

#endif
