/*
 * dispatch.h — the request pipeline of the API server, in Trove's order:
 * version documents and identity outside /v1.0; then for /v1.0: token (401),
 * project in the URL (403), media type (415), body size (413), JSON (400), rate
 * limit (413), route (404), access rule (401/403), handler.
 * Owns req->json for the duration of the call. Thread-safe.
 */
#ifndef CT_API_DISPATCH_H
#define CT_API_DISPATCH_H

#include "api/request.h"

void api_dispatch(struct api_request *req, struct api_response *resp);

#endif
