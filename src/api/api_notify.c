/*
 * api_notify.c — see api_notify.h.
 */
#define LOG_MODULE "api"

#include "api/api_notify.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "rpc/notifier.h"

static void client_ip(const struct api_request *req, char *out, size_t size)
{
	out[0] = '\0';
	if (!req->peer)
		return;
	if (req->peer->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)req->peer)->sin_addr,
			  out, (socklen_t)size);
	else if (req->peer->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)req->peer)->sin6_addr, out,
			  (socklen_t)size);
}

void api_notify_start(const struct api_request *req, const char *event, json_t *traits)
{
	if (!notifier_enabled()) {
		json_decref(traits);
		return;
	}
	char client[64];
	client_ip(req, client, sizeof client);
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
