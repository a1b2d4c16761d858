/*
 * tls_socket.c — see tls_socket.h. Owns nothing; touches only the socket it
 * makes and OpenSSL's per-thread error queue (read and cleared after a failed
 * handshake, for its reason).
 */
#include "rpc/tls_socket.h"

#include <amqp_ssl_socket.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

bool rpc_tls_wanted(bool url_is_amqps, bool config_ssl, const char *url_ssl_option)
{
	if (url_is_amqps || config_ssl)
		return true;
	return url_ssl_option &&
	       (!strcmp(url_ssl_option, "1") || !strcasecmp(url_ssl_option, "true") ||
		!strcasecmp(url_ssl_option, "yes") || !strcasecmp(url_ssl_option, "on"));
}

amqp_socket_t *rpc_tls_socket_new(amqp_connection_state_t c, const struct rpc_tls *tls,
				  struct ct_error *err)
{
	if (!tls->ca_file || !*tls->ca_file) {
		ct_fail(err, 400,
			"the message bus uses TLS but [oslo_messaging_rabbit] ssl_ca_file is "
			"unset: the broker's certificate cannot be verified");
		return NULL;
	}
	if (access(tls->ca_file, R_OK)) {
		ct_fail(err, 400, "[oslo_messaging_rabbit] ssl_ca_file %s cannot be read",
			tls->ca_file);
		return NULL;
	}
	amqp_socket_t *sock = amqp_ssl_socket_new(c);
	if (!sock) {
		ct_fail(err, 500, "out of memory (TLS socket)");
		return NULL;
	}
	amqp_ssl_socket_set_verify_peer(sock, 1);
	amqp_ssl_socket_set_verify_hostname(sock, 1);
	if (amqp_ssl_socket_set_ssl_versions(sock, AMQP_TLSv1_2, AMQP_TLSvLATEST)) {
		ct_fail(err, 500, "this librabbitmq cannot require TLS 1.2 or later");
		return NULL;
	}
	if (amqp_ssl_socket_set_cacert(sock, tls->ca_file)) {
		ct_fail(err, 400, "[oslo_messaging_rabbit] ssl_ca_file %s holds no PEM certificate",
			tls->ca_file);
		ERR_clear_error();
		return NULL;
	}
	bool cert = tls->cert_file && *tls->cert_file, key = tls->key_file && *tls->key_file;
	if (cert != key) {
		ct_fail(err, 400,
			"[oslo_messaging_rabbit] ssl_cert_file and ssl_key_file go together");
		return NULL;
	}
	if (cert && amqp_ssl_socket_set_key(sock, tls->cert_file, tls->key_file)) {
		ct_fail(err, 400,
			"[oslo_messaging_rabbit] ssl_cert_file/ssl_key_file cannot be loaded "
			"(not PEM, or not a pair)");
		ERR_clear_error();
		return NULL;
	}
	return sock;
}

bool rpc_tls_status_is_handshake(int status)
{
	return status == AMQP_STATUS_SSL_ERROR ||
	       status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED ||
	       status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED ||
	       status == AMQP_STATUS_SSL_CONNECTION_FAILED;
}

int rpc_tls_fail(int status, const char *host, int port, const struct rpc_tls *tls,
		 struct ct_error *err)
{
	/* OpenSSL's own reason ("certificate verify failed", "wrong version
	 * number" ...) says more than rabbitmq-c's status. */
	char reason[256] = "";
	unsigned long e = ERR_peek_last_error();
	if (e)
		ERR_error_string_n(e, reason, sizeof reason);
	ERR_clear_error();
	const char *what = amqp_error_string2(status);
	if (status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)
		return ct_fail(err, 503,
			       "TLS to the message bus at %s:%d refused: the broker's certificate "
			       "does not name %s",
			       host, port, host);
	if (status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED)
		return ct_fail(err, 503,
			       "TLS to the message bus at %s:%d refused: the broker's certificate "
			       "failed verification (not signed by ssl_ca_file %s, expired, or not "
			       "valid yet)%s%s",
			       host, port, tls->ca_file ? tls->ca_file : "", *reason ? ": " : "",
			       reason);
	if (rpc_tls_status_is_handshake(status))
		return ct_fail(err, 503,
			       "TLS to the message bus at %s:%d refused: %s%s%s (is the broker's "
			       "certificate signed by ssl_ca_file %s, and is that port its TLS "
			       "listener?)",
			       host, port, what, *reason ? ": " : "", reason,
			       tls->ca_file ? tls->ca_file : "");
	return ct_fail(err, 503, "cannot connect: %s", what);
}
