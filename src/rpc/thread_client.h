/*
 * thread_client.h — one RPC client per thread, made on first use, for code
 * that sends from many threads at once (API workers, taskmanager workers).
 * A thread's client is released when the thread exits;
 * rpc_thread_clients_free() releases every client still held at shutdown.
 */
#ifndef CT_RPC_THREAD_CLIENT_H
#define CT_RPC_THREAD_CLIENT_H

#include "rpc/client.h"

struct rpc_client *rpc_thread_client(struct ct_error *err);
void rpc_thread_clients_free(void);

#endif
