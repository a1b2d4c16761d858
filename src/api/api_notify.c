/*
 * api_notify.c — see api_notify.h.
 */
#define LOG_MODULE "api"

#include "api/api_notify.h"
#include "api/client_address.h"

#include <stdio.h>

#include "rpc/notifier.h"

void api_notify_start(const struct api_request *req, const char *event, json_t *traits)
{
	if (!notifier_enabled()) {
		json_decref(traits);
		return;
	}
	char client[64];
	api_client_address(req, client, sizeof client);
	/* Trove's server_ip is the request's Host (webob's request.host). */
	const struct notifier_origin origin = {
		.service = "api",
		.request_id = req->request_id,
		.tenant_id = req->who.project_id,
		.client_ip = client,
		.server_ip = req->host ? req->host : "",
	};
	notifier_dbaas(&origin, event, "start", traits);
}
