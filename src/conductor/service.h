/*
 * service.h — the conductor's RPC server (service.c). The caller starts it
 * (rpc_server_start) and frees it (rpc_server_free).
 */
#ifndef CT_CONDUCTOR_SERVICE_H
#define CT_CONDUCTOR_SERVICE_H

#include "rpc/server.h"

struct rpc_server *conductor_service_new(struct ct_error *err);
/* The per-instance RPC key of a guest (decrypted), malloc'd; NULL if none. */
char *conductor_instance_key(void *user, const char *instance_id);

#endif
