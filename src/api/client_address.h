/*
 * client_address.h — the client's IP address of a request as text.
 */
#ifndef CT_API_CLIENT_ADDRESS_H
#define CT_API_CLIENT_ADDRESS_H

#include <netinet/in.h> /* INET6_ADDRSTRLEN for the callers' buffers */
#include <stddef.h>

#include "api/request.h"

/* "" when unknown (the fuzzer, unit tests). */
void api_client_address(const struct api_request *req, char *out, size_t size);

#endif
