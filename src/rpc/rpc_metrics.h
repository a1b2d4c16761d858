/*
 * rpc_metrics.h — counters of this process's RPC traffic for the metrics
 * endpoint (docs/metrics.md): calls and casts sent, their failures and
 * timeouts, calls waiting for a reply, time spent in calls. Lock-free
 * (relaxed atomics): counting costs a call nothing measurable.
 * Owns the counters; may not know what a call is about.
 */
#ifndef CT_RPC_RPC_METRICS_H
#define CT_RPC_RPC_METRICS_H

#include <stdbool.h>

struct rpc_metrics {
	unsigned long long calls, call_failures, call_timeouts, casts, cast_failures;
	long long calls_in_flight;
	double call_seconds; /* summed over finished calls */
};

void rpc_metrics_call_started(void);
/* status: 0 answered, else the error's status (504 = timed out). */
void rpc_metrics_call_finished(int status, double seconds);
void rpc_metrics_cast(bool ok);
void rpc_metrics_read(struct rpc_metrics *out);

#endif
