/*
 * ratelimit.h — Trove's per-project request rate limits (http_*_rate per minute,
 * leaky buckets per project and verb, plus POST on /mgmt). In memory, per
 * process, like Trove's. Owns the bucket table (mutex-protected).
 */
#ifndef CT_API_RATELIMIT_H
#define CT_API_RATELIMIT_H

#include <jansson.h>
#include <stdbool.h>

/* True (and *retry_after set, seconds) when this request is over the limit. */
bool ratelimit_check(const char *project, const char *method, char **segments, int nsegments,
		     int *retry_after);
/* The configured per-minute value for a verb. */
long ratelimit_value(const char *method);
/* The rate entries of GET /limits for a project; new reference. */
json_t *ratelimit_view(const char *project);
void ratelimit_shutdown(void);

/* One leaky bucket holding up to `per_minute` units that drain at per_minute/60
 * a second, for other limiters (login_guard.c); the caller locks. */
struct ratelimit_bucket {
	double level;
	double stamp; /* when level was computed */
};
/* Take one unit: 0, or (nothing taken) the seconds until one fits. A limit of
 * 0 or less always fits. */
int ratelimit_bucket_take(struct ratelimit_bucket *b, long per_minute, double now);
void ratelimit_bucket_give_back(struct ratelimit_bucket *b);
/* True when the bucket has drained completely (its slot may be reused). */
bool ratelimit_bucket_empty(struct ratelimit_bucket *b, long per_minute, double now);
/* The clock the buckets use, in seconds. */
double ratelimit_now(void);

#endif
