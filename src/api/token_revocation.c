/*
 * token_revocation.c — see token_revocation.h. A direct-mapped cache: each
 * user or project id hashes to one slot, which holds what the database said
 * about it and when; a colliding id simply replaces it (a cache miss costs one
 * indexed query, and memory stays fixed whatever ids arrive). Only ids from
 * correctly signed tokens ever get here.
 */
#define LOG_MODULE "auth"
#include "api/token_revocation.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "db/identity_admin.h"

#define SLOTS 1024

enum kind { KIND_USER, KIND_PROJECT };

struct slot {
	char id[65];
	enum kind kind;
	long long valid_after_us; /* LLONG_MAX: no token is valid */
	double loaded;		  /* monotonic seconds; 0 = empty */
};

static struct slot slots[SLOTS];
/* Bumped by every forget: a load that raced with a change is not cached. */
static unsigned long generation;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + 1.0; /* never 0 */
}

static unsigned slot_of(const char *id, enum kind kind)
{
	unsigned h = 2166136261u ^ (unsigned)kind;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % SLOTS;
}

/* From the database; false when it cannot say. */
static bool load(const char *id, enum kind kind, long long *valid_after_us)
{
	struct ct_error err = {0};
	if (kind == KIND_USER)
		return identity_user_tokens_valid_after(id, valid_after_us, &err) == 0;
	bool usable = false;
	if (identity_project_usable(id, &usable, &err))
		return false;
	*valid_after_us = usable ? 0 : LLONG_MAX;
	return true;
}

static bool valid_after(const char *id, enum kind kind, long long *out)
{
	if (strlen(id) >= sizeof slots[0].id)
		return false;
	unsigned i = slot_of(id, kind);
	double now = monotonic_seconds();
	double ttl = (double)cfg_int(CFG_TOKEN_REVOCATION_CACHE_TIME);
	pthread_mutex_lock(&lock);
	struct slot *s = &slots[i];
	bool hit = s->loaded > 0 && s->kind == kind && now - s->loaded < ttl && !strcmp(s->id, id);
	if (hit)
		*out = s->valid_after_us;
	unsigned long seen = generation;
	pthread_mutex_unlock(&lock);
	if (hit)
		return true;
	if (!load(id, kind, out)) {
		log_error("cannot read the token revocation state of %.64s", id);
		return false;
	}
	pthread_mutex_lock(&lock);
	if (generation == seen) {
		memcpy(s->id, id, strlen(id) + 1);
		s->kind = kind;
		s->valid_after_us = *out;
		s->loaded = now;
	}
	pthread_mutex_unlock(&lock);
	return true;
}

bool token_revocation_allows(const char *user_id, const char *project_id, long long issued_us)
{
	long long user_floor, project_floor;
	return valid_after(user_id, KIND_USER, &user_floor) && issued_us >= user_floor &&
	       valid_after(project_id, KIND_PROJECT, &project_floor) && issued_us >= project_floor;
}

void token_revocation_forget(const char *id)
{
	pthread_mutex_lock(&lock);
	generation++;
	for (enum kind k = KIND_USER; k <= KIND_PROJECT; k++) {
		struct slot *s = &slots[slot_of(id, k)];
		if (s->kind == k && !strcmp(s->id, id))
			s->loaded = 0;
	}
	pthread_mutex_unlock(&lock);
}

void token_revocation_clear(void)
{
	pthread_mutex_lock(&lock);
	memset(slots, 0, sizeof slots);
	generation++;
	pthread_mutex_unlock(&lock);
}
