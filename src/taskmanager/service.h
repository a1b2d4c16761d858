/*
 * service.h — the taskmanager's RPC server on [DEFAULT] taskmanager_queue
 * (service.c). The caller starts it (rpc_server_start) and frees it.
 */
#ifndef CT_TASKMANAGER_SERVICE_H
#define CT_TASKMANAGER_SERVICE_H

#include "rpc/server.h"

struct rpc_server *taskmanager_service_new(struct ct_error *err);

#endif
