/*
 * server.h — the HTTP front of `ctrove api` on libmicrohttpd: accepts
 * connections on bind_host:bind_port with one thread per CPU, collects
 * request bodies up to [oslo_middleware] max_request_body_size, hands each
 * request to api_dispatch() and writes the JSON answer. Requests that wait on
 * a guest agent are dispatched on api/wait_pool.h while their connection is
 * suspended. Owns the MHD daemon and the wait pool.
 */
#ifndef CT_API_SERVER_H
#define CT_API_SERVER_H

#include "common/error.h"

int api_server_start(struct ct_error *err);
void api_server_stop(void);

#endif
