/*
 * server.h — the HTTP front of `ctrove api` on libmicrohttpd: accepts
 * connections on bind_host:bind_port with one thread per CPU, collects
 * request bodies up to [oslo_middleware] max_request_body_size, hands each
 * request to api_dispatch() and writes the JSON answer. Requests that wait on
 * a guest agent are dispatched on api/wait_pool.h while their connection is
 * suspended. HTTPS when [ssl] cert_file/key_file are set (api/https.h); plain
 * HTTP only on a loopback bind_host unless [ssl] allow_plain_http. Owns the MHD
 * daemon, the wait pool and the loaded certificate and key.
 */
#ifndef CT_API_SERVER_H
#define CT_API_SERVER_H

#include "common/error.h"

int api_server_start(struct ct_error *err);
void api_server_stop(void);

#endif
