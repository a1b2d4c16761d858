/*
 * metrics.h — GET /metrics: the Prometheus text endpoint of the control plane
 * (docs/metrics.md). Admin only: an admin token in X-Auth-Token or
 * "Authorization: Bearer"; 401 without a valid token, 403 for a non-admin.
 */
#ifndef CT_API_METRICS_H
#define CT_API_METRICS_H

#include "api/request.h"

void metrics_dispatch(struct api_request *req, struct api_response *resp);

#endif
