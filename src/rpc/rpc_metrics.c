/*
 * rpc_metrics.c — see rpc_metrics.h.
 */
#include "rpc/rpc_metrics.h"

#include <stdatomic.h>

static atomic_ullong calls, call_failures, call_timeouts, casts, cast_failures;
static atomic_llong in_flight;
static atomic_ullong call_us;

#define ADD(counter, n) atomic_fetch_add_explicit(&(counter), (n), memory_order_relaxed)
#define GET(counter)	atomic_load_explicit(&(counter), memory_order_relaxed)

void rpc_metrics_call_started(void)
{
	ADD(in_flight, 1);
}

void rpc_metrics_call_finished(int status, double seconds)
{
	ADD(in_flight, -1);
	ADD(calls, 1);
	if (status)
		ADD(call_failures, 1);
	if (status == 504)
		ADD(call_timeouts, 1);
	ADD(call_us, (unsigned long long)(seconds * 1e6));
}

void rpc_metrics_cast(bool ok)
{
	ADD(casts, 1);
	if (!ok)
		ADD(cast_failures, 1);
}

void rpc_metrics_read(struct rpc_metrics *out)
{
	out->calls = GET(calls);
	out->call_failures = GET(call_failures);
	out->call_timeouts = GET(call_timeouts);
	out->casts = GET(casts);
	out->cast_failures = GET(cast_failures);
	out->calls_in_flight = GET(in_flight);
	out->call_seconds = (double)GET(call_us) / 1e6;
}
