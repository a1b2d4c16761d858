/*
 * request_metrics.c — see request_metrics.h. The slots are a fixed array as
 * large as the route table can grow (checked at record time), so recording
 * never allocates or locks.
 */
#include "api/request_metrics.h"

#include <stdatomic.h>
#include <stdio.h>

#include "api/routes.h"
#include "rpc/rpc_metrics.h"

#define SLOTS_MAX 256
#define CLASSES	  4 /* 2xx 3xx 4xx 5xx (1xx never leaves the server) */
static const double bucket_le[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define BUCKETS (sizeof bucket_le / sizeof bucket_le[0])

struct slot {
	atomic_ullong by_class[CLASSES];
	atomic_ullong buckets[BUCKETS]; /* not cumulative: summed when written */
	atomic_ullong count;
	atomic_ullong micros;
};

static struct slot slots[SLOTS_MAX];
static atomic_llong wait_queue;

static const char *const other_names[API_METRICS_OTHER_COUNT] = {"/identity", "/object-store",
								 "/metrics", "unrouted"};

#define ADD(counter, n) atomic_fetch_add_explicit(&(counter), (n), memory_order_relaxed)
#define GET(counter)	atomic_load_explicit(&(counter), memory_order_relaxed)

void api_metrics_record(int route_index, int status, double seconds)
{
	int count;
	routes_table(&count);
	int slot = route_index >= 0 ? route_index : count + (-1 - route_index);
	if (slot < 0 || slot >= SLOTS_MAX ||
	    (route_index < 0 && -1 - route_index >= API_METRICS_OTHER_COUNT))
		return;
	struct slot *s = &slots[slot];
	int cls = status >= 200 && status < 600 ? status / 100 - 2 : 3;
	ADD(s->by_class[cls], 1);
	size_t b = 0;
	while (b < BUCKETS && seconds > bucket_le[b])
		b++;
	if (b < BUCKETS)
		ADD(s->buckets[b], 1);
	ADD(s->count, 1);
	ADD(s->micros, (unsigned long long)(seconds * 1e6));
}

void api_metrics_wait_queue_add(int delta)
{
	ADD(wait_queue, delta);
}

/* The route label, "<method> /<pattern>" (patterns hold no quote or backslash). */
static void route_label(int slot, int count, const struct api_route *table, char *out, size_t size)
{
	if (slot < count)
		snprintf(out, size, "%s /%s", table[slot].method, table[slot].pattern);
	else
		snprintf(out, size, "%s", other_names[slot - count]);
}

void api_metrics_write(struct text_buffer *out)
{
	int count;
	const struct api_route *table = routes_table(&count);
	int used = count + API_METRICS_OTHER_COUNT;
	if (used > SLOTS_MAX)
		used = SLOTS_MAX;
	static const char *const class_names[CLASSES] = {"2xx", "3xx", "4xx", "5xx"};
	char label[300];

	text_buffer_puts(out, "# HELP ctrove_api_requests_total API requests answered, by route "
			      "and status class.\n# TYPE ctrove_api_requests_total counter\n");
	for (int i = 0; i < used; i++) {
		if (!GET(slots[i].count))
			continue;
		route_label(i, count, table, label, sizeof label);
		for (int c = 0; c < CLASSES; c++) {
			unsigned long long n = GET(slots[i].by_class[c]);
			if (n)
				text_buffer_printf(out,
						   "ctrove_api_requests_total{route=\"%s\","
						   "code=\"%s\"} %llu\n",
						   label, class_names[c], n);
		}
	}
	text_buffer_puts(out, "# HELP ctrove_api_request_duration_seconds Time to answer an API "
			      "request, by route.\n"
			      "# TYPE ctrove_api_request_duration_seconds histogram\n");
	for (int i = 0; i < used; i++) {
		unsigned long long total = GET(slots[i].count);
		if (!total)
			continue;
		route_label(i, count, table, label, sizeof label);
		unsigned long long cumulative = 0;
		for (size_t b = 0; b < BUCKETS; b++) {
			cumulative += GET(slots[i].buckets[b]);
			text_buffer_printf(
				out,
				"ctrove_api_request_duration_seconds_bucket{route=\"%s\","
				"le=\"%g\"} %llu\n",
				label, bucket_le[b], cumulative);
		}
		text_buffer_printf(out,
				   "ctrove_api_request_duration_seconds_bucket{route=\"%s\","
				   "le=\"+Inf\"} %llu\n"
				   "ctrove_api_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
				   "ctrove_api_request_duration_seconds_count{route=\"%s\"} %llu\n",
				   label, total, label, (double)GET(slots[i].micros) / 1e6, label,
				   total);
	}
	text_buffer_printf(out,
			   "# HELP ctrove_api_guest_wait_queue Requests waiting for a guest-call "
			   "thread.\n# TYPE ctrove_api_guest_wait_queue gauge\n"
			   "ctrove_api_guest_wait_queue %lld\n",
			   (long long)GET(wait_queue));

	struct rpc_metrics r;
	rpc_metrics_read(&r);
	text_buffer_printf(
		out,
		"# HELP ctrove_rpc_calls_total RPC calls sent by this process.\n"
		"# TYPE ctrove_rpc_calls_total counter\nctrove_rpc_calls_total %llu\n"
		"# HELP ctrove_rpc_call_failures_total RPC calls that failed (timeouts "
		"included).\n# TYPE ctrove_rpc_call_failures_total counter\n"
		"ctrove_rpc_call_failures_total %llu\n"
		"# HELP ctrove_rpc_call_timeouts_total RPC calls that got no reply in time.\n"
		"# TYPE ctrove_rpc_call_timeouts_total counter\nctrove_rpc_call_timeouts_total "
		"%llu\n"
		"# HELP ctrove_rpc_call_seconds_total Time spent waiting for RPC replies.\n"
		"# TYPE ctrove_rpc_call_seconds_total counter\nctrove_rpc_call_seconds_total %.6f\n"
		"# HELP ctrove_rpc_calls_in_flight RPC calls waiting for their reply now.\n"
		"# TYPE ctrove_rpc_calls_in_flight gauge\nctrove_rpc_calls_in_flight %lld\n"
		"# HELP ctrove_rpc_casts_total RPC casts sent by this process.\n"
		"# TYPE ctrove_rpc_casts_total counter\nctrove_rpc_casts_total %llu\n"
		"# HELP ctrove_rpc_cast_failures_total RPC casts that could not be sent.\n"
		"# TYPE ctrove_rpc_cast_failures_total counter\nctrove_rpc_cast_failures_total "
		"%llu\n",
		r.calls, r.call_failures, r.call_timeouts, r.call_seconds, r.calls_in_flight,
		r.casts, r.cast_failures);
}
