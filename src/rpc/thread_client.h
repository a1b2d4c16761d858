/*
 * thread_client.h — one RPC client per thread, made on first use, for code
 * that sends from many threads at once (API workers, taskmanager workers).
 * rpc_thread_clients_free() releases every thread's client at shutdown;
 * a short-lived thread (a task) releases its own when it ends, or every task
 * would leave a broker connection and its keeper thread behind (issue 18).
 */
#ifndef CT_RPC_THREAD_CLIENT_H
#define CT_RPC_THREAD_CLIENT_H

#include "rpc/client.h"

struct rpc_client *rpc_thread_client(struct ct_error *err);
void rpc_thread_clients_free(void);
/* The calling thread's client, if it made one, closed and freed. */
void rpc_thread_client_release(void);

#endif
