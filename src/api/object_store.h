/*
 * object_store.h — a read-only Swift API subset at /object-store/v1/AUTH_<project>
 * over the backup store's log container, so that the unchanged client's
 * `openstack database log save/tail` (python-swiftclient through the embedded
 * identity's catalog) read published database logs (docs/logs.md).
 */
#ifndef CT_API_OBJECT_STORE_H
#define CT_API_OBJECT_STORE_H

#include "api/request.h"

/* segments[0] is "object-store". */
void object_store_dispatch(struct api_request *req, struct api_response *resp, char **segments,
			   int nsegments);

#endif
