/*
 * request_metrics.h — counters of the API's own traffic for /metrics
 * (docs/metrics.md): per route of the table (routes.h) and for the paths
 * outside it (identity, object store, metrics, unmatched), requests by status
 * class and a latency histogram; and the depth of the queue of requests
 * waiting for a guest-call thread (wait_pool.h). Lock-free (relaxed atomics).
 * Owns the counters; may not read rows or know what a route does.
 */
#ifndef CT_API_REQUEST_METRICS_H
#define CT_API_REQUEST_METRICS_H

#include "common/text_buffer.h"

/* Slots beyond the route table's rows. */
enum api_metrics_other {
	API_METRICS_IDENTITY,
	API_METRICS_OBJECT_STORE,
	API_METRICS_METRICS,
	API_METRICS_UNROUTED, /* versions, 404s, 401s before a route is known */
	API_METRICS_OTHER_COUNT
};

/* route_index: the row of routes_table(), or -1 - enum api_metrics_other. */
void api_metrics_record(int route_index, int status, double seconds);
void api_metrics_wait_queue_add(int delta);
/* Every control-plane family in Prometheus text (with its HELP and TYPE). */
void api_metrics_write(struct text_buffer *out);

#endif
