/*
 * tls_socket.h — the TLS side of the AMQP connection (rabbitmq-c's OpenSSL
 * socket): which transport_url/options ask for TLS, a socket that verifies the
 * broker's certificate against ssl_ca_file and its host name (never skipped,
 * never a fall-back to plain AMQP), and the message a failed handshake gets.
 *
 * Owns no state: the socket belongs to the amqp connection it was made for.
 * May not open connections itself (transport.c does) and never logs.
 */
#ifndef CT_RPC_TLS_SOCKET_H
#define CT_RPC_TLS_SOCKET_H

#include <amqp.h>
#include <stdbool.h>

#include "common/error.h"

struct rpc_tls {
	bool on;
	const char *ca_file;   /* required when on */
	const char *cert_file; /* optional client certificate */
	const char *key_file;
};

/* TLS is on for amqps://, for [oslo_messaging_rabbit] ssl = true and for a
 * transport_url option ssl=1/true (oslo's spelling in a URL). */
bool rpc_tls_wanted(bool url_is_amqps, bool config_ssl, const char *url_ssl_option);

/* A verifying TLS socket on c, or NULL with err (400: the options are wrong,
 * e.g. no CA file; 500: out of memory). */
amqp_socket_t *rpc_tls_socket_new(amqp_connection_state_t c, const struct rpc_tls *tls,
				  struct ct_error *err);

/* True for the statuses of a TLS handshake the broker answered but that failed
 * (certificate refused, name mismatch, protocol): retrying will not help. */
bool rpc_tls_status_is_handshake(int status);

/* err = why the TLS connection to host:port failed, in words an operator acts on. */
int rpc_tls_fail(int status, const char *host, int port, const struct rpc_tls *tls,
		 struct ct_error *err);

#endif
