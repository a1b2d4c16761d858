/*
 * api.c — see api.h.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/api.h"

#include <string.h>

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
	/* The request id travels in the context, as Trove's does, so the taskmanager's
	 * log lines and end notifications name the API request they finish. */
	const char *request_id = log_request_id();
	json_t *ctx = request_id
			      ? json_pack("{s:s+}", "request_id",
					  strncmp(request_id, "req-", 4) ? "req-" : "", request_id)
			      : NULL;
	/* Only the API casts here: it answers 503 soon rather than hold an HTTP
	 * thread while the bus is away (Trove's would wait as oslo retries). */
	int rc = rpc_cast_within(client, &target, method, args, ctx,
				 1000 * cfg_int(CFG_API_BUS_TIMEOUT), err);
	json_decref(ctx);
	if (rc) {
		log_error("cannot cast %s to the taskmanager: %s", method, err->message);
		if (err->status == 503 || err->status == 504)
			return ct_fail(
				err, 503,
				"The message bus is unavailable, so the taskmanager cannot be "
				"reached; nothing was changed. Try again later.");
		return -1;
	}
	return 0;
}
