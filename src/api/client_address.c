/*
 * client_address.c — the client's IP address of a request as text, for the
 * identity service's audit lines and the notifications' client_ip. Reads the
 * request's peer only.
 */
#include "api/client_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

void api_client_address(const struct api_request *req, char *out, size_t size)
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
