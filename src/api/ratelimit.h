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

#endif
