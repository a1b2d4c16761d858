/*
 * api.c — see api.h.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/api.h"

#include "common/config.h"
#include "common/log.h"
#include "rpc/thread_client.h"

int taskmanager_cast(const char *method, const json_t *args, struct ct_error *err)
{
	struct rpc_client *client = rpc_thread_client(err);
	if (!client)
		return -1;
	struct rpc_target target = {
		.topic = cfg_str(CFG_TASKMANAGER_QUEUE),
		.version = "1.0",
		.key = cfg_bool(CFG_ENABLE_SECURE_RPC) ? cfg_str(CFG_TASKMANAGER_RPC_ENCR_KEY)
						       : NULL,
	};
	if (rpc_cast(client, &target, method, args, NULL, err)) {
		log_error("cannot cast %s to the taskmanager: %s", method, err->message);
		return -1;
	}
	return 0;
}
