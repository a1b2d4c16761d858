/*
 * token_revocation.c — see token_revocation.h. A direct-mapped cache per
 * thread: each user or project id hashes to one slot, which holds what the
 * database said about it and when; a colliding id simply replaces it (a cache
 * miss costs one indexed query, and memory stays fixed whatever ids arrive).
 * Only ids from correctly signed tokens ever get here.
 */
#define LOG_MODULE "auth"
#include "api/token_revocation.h"

#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "db/identity_admin.h"

#define SLOTS 64 /* per thread; a miss costs one indexed query */

enum kind { KIND_USER, KIND_PROJECT };

struct slot {
	char id[65];
	enum kind kind;
	long long valid_after_us; /* LLONG_MAX: no token is valid */
	double loaded;		  /* monotonic seconds; 0 = empty */
};

/* Each thread has its own cache, so the hot path takes no lock. A change
 * bumps the generation, and every thread empties its cache when it sees a
 * new one (changes are rare: admin calls). */
static _Thread_local struct slot slots[SLOTS];
static _Thread_local unsigned long slots_generation;
static atomic_ulong generation = 1;

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
	size_t len = strlen(id);
	if (len >= sizeof slots[0].id)
		return false;
	unsigned long seen = atomic_load_explicit(&generation, memory_order_acquire);
	if (slots_generation != seen) {
		memset(slots, 0, sizeof slots);
		slots_generation = seen;
	}
	struct slot *s = &slots[slot_of(id, kind)];
	double now = monotonic_seconds();
	if (s->loaded > 0 && s->kind == kind &&
	    now - s->loaded < (double)cfg_int(CFG_TOKEN_REVOCATION_CACHE_TIME) &&
	    !strcmp(s->id, id)) {
		*out = s->valid_after_us;
		return true;
	}
	if (!load(id, kind, out)) {
		log_error("cannot read the token revocation state of %.64s", id);
		return false;
	}
	/* A load that raced with a change is used once, not cached. */
	if (atomic_load_explicit(&generation, memory_order_acquire) == seen) {
		memcpy(s->id, id, len + 1);
		s->kind = kind;
		s->valid_after_us = *out;
		s->loaded = now;
	}
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
	(void)id; /* every thread's whole cache: simpler than finding each copy */
	atomic_fetch_add_explicit(&generation, 1, memory_order_release);
}

void token_revocation_clear(void)
{
	atomic_fetch_add_explicit(&generation, 1, memory_order_release);
}
