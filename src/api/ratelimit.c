/*
 * ratelimit.c — see ratelimit.h. A bucket holds `level` requests that leak at
 * value/60 per second; a request is admitted when level + 1 <= value.
 */
#include "api/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/timefmt.h"

enum { RL_POST, RL_PUT, RL_DELETE, RL_GET, RL_MGMT_POST, RL_COUNT };

struct project_limits {
	char project[65];
	struct ratelimit_bucket buckets[RL_COUNT];
	struct project_limits *next;
};

#define TABLE_SIZE 256
static struct project_limits *table[TABLE_SIZE];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const verbs[RL_COUNT] = {"POST", "PUT", "DELETE", "GET", "POST"};

static long limit_of(int kind)
{
	switch (kind) {
	case RL_POST: return cfg_int(CFG_HTTP_POST_RATE);
	case RL_PUT: return cfg_int(CFG_HTTP_PUT_RATE);
	case RL_DELETE: return cfg_int(CFG_HTTP_DELETE_RATE);
	case RL_GET: return cfg_int(CFG_HTTP_GET_RATE);
	default: return cfg_int(CFG_HTTP_MGMT_POST_RATE);
	}
}

long ratelimit_value(const char *method)
{
	for (int k = 0; k < RL_MGMT_POST; k++)
		if (!strcmp(verbs[k], method))
			return limit_of(k);
	return 0;
}

double ratelimit_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned hash(const char *s)
{
	unsigned h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % TABLE_SIZE;
}

/* Caller holds lock. NULL only when out of memory. */
static struct project_limits *find(const char *project, bool create)
{
	unsigned h = hash(project);
	for (struct project_limits *p = table[h]; p; p = p->next)
		if (!strcmp(p->project, project))
			return p;
	if (!create)
		return NULL;
	struct project_limits *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	strncpy(p->project, project, sizeof p->project - 1);
	p->next = table[h];
	table[h] = p;
	return p;
}

static void leak(struct ratelimit_bucket *b, long value, double now)
{
	if (b->stamp > 0) {
		b->level -= (now - b->stamp) * (double)value / 60.0;
		if (b->level < 0)
			b->level = 0;
	}
	b->stamp = now;
}

int ratelimit_bucket_take(struct ratelimit_bucket *b, long value, double now)
{
	if (value <= 0)
		return 0; /* a limit of 0 or less disables the bucket */
	leak(b, value, now);
	if (b->level + 1.0 <= (double)value) {
		b->level += 1.0;
		return 0;
	}
	double wait = (b->level + 1.0 - (double)value) * 60.0 / (double)value;
	int seconds = (int)ceil(wait);
	return seconds > 0 ? seconds : 1;
}

bool ratelimit_check(const char *project, const char *method, char **segments, int nsegments,
		     int *retry_after)
{
	int kind = -1;
	for (int k = 0; k < RL_MGMT_POST; k++)
		if (!strcmp(verbs[k], method))
			kind = k;
	if (kind < 0)
		return false;
	double now = ratelimit_now();
	pthread_mutex_lock(&lock);
	struct project_limits *p = find(project, true);
	int wait = p ? ratelimit_bucket_take(&p->buckets[kind], limit_of(kind), now) : 0;
	if (!wait && p && kind == RL_POST && nsegments > 0 && !strcmp(segments[0], "mgmt"))
		wait = ratelimit_bucket_take(&p->buckets[RL_MGMT_POST], limit_of(RL_MGMT_POST),
					     now);
	pthread_mutex_unlock(&lock);
	*retry_after = wait;
	return wait > 0;
}

void ratelimit_bucket_give_back(struct ratelimit_bucket *b)
{
	b->level = b->level >= 1.0 ? b->level - 1.0 : 0.0;
}

bool ratelimit_bucket_empty(struct ratelimit_bucket *b, long value, double now)
{
	leak(b, value, now);
	return b->level <= 0.0;
}

json_t *ratelimit_view(const char *project)
{
	json_t *list = json_array();
	double now = ratelimit_now();
	pthread_mutex_lock(&lock);
	struct project_limits *p = find(project, false);
	for (int k = 0; k < RL_COUNT; k++) {
		long value = limit_of(k);
		struct ratelimit_bucket b = p ? p->buckets[k] : (struct ratelimit_bucket){0, 0};
		leak(&b, value, now);
		long remaining = value - (long)ceil(b.level);
		if (remaining < 0)
			remaining = 0;
		double next = now;
		if (value > 0 && b.level + 1.0 > (double)value)
			next += (b.level + 1.0 - (double)value) * 60.0 / (double)value;
		char stamp[CT_TIME_LEN];
		timefmt_zulu((time_t)next, stamp);
		json_array_append_new(list,
				      json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:s}", "nextAvailable",
						stamp, "remaining", (json_int_t)remaining, "unit",
						"MINUTE", "value", (json_int_t)value, "verb",
						verbs[k], "uri", k == RL_MGMT_POST ? "*/mgmt" : "*",
						"regex", k == RL_MGMT_POST ? "^/mgmt" : ".*"));
	}
	pthread_mutex_unlock(&lock);
	return list;
}

void ratelimit_shutdown(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < TABLE_SIZE; i++)
		while (table[i]) {
			struct project_limits *next = table[i]->next;
			free(table[i]);
			table[i] = next;
		}
	pthread_mutex_unlock(&lock);
}
