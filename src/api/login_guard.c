/*
 * login_guard.c — see login_guard.h. Buckets live in a chained hash table
 * keyed by kind and name/address, at most MAX_ENTRIES of them: when it is
 * full, buckets that have drained are freed (at most once a second), and if
 * none has, a new name or address is refused until some drain (an attacker who fills it blocks only
 * new names, never lets guesses through).
 */
#define LOG_MODULE "identity"
#include "api/login_guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/ratelimit.h"
#include "common/config.h"
#include "common/log.h"

#define TABLE_SIZE  1024
#define MAX_ENTRIES 8192
#define MAX_KEY	    255

enum kind { KIND_USER = 'u', KIND_SOURCE = 's' };

struct entry {
	struct entry *next;
	struct ratelimit_bucket bucket;
	char kind;
	char key[];
};

static struct entry *table[TABLE_SIZE];
static size_t entries;
static double last_prune;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned hash(char kind, const char *key, size_t len)
{
	unsigned h = 2166136261u ^ (unsigned char)kind;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h % TABLE_SIZE;
}

static long limit_of(char kind)
{
	return cfg_int(kind == KIND_USER ? CFG_LOGIN_FAILURES_PER_USER
					 : CFG_LOGIN_FAILURES_PER_SOURCE);
}

/* Free every bucket that has drained. Caller holds lock. */
static void prune(double now)
{
	for (int i = 0; i < TABLE_SIZE; i++)
		for (struct entry **e = &table[i]; *e;) {
			if (ratelimit_bucket_empty(&(*e)->bucket, limit_of((*e)->kind), now)) {
				struct entry *dead = *e;
				*e = dead->next;
				free(dead);
				entries--;
			} else {
				e = &(*e)->next;
			}
		}
}

/* Caller holds lock. NULL when it is not there and cannot be made. */
static struct entry *find(char kind, const char *key, bool create, double now)
{
	size_t len = strnlen(key, MAX_KEY);
	unsigned h = hash(kind, key, len);
	for (struct entry *e = table[h]; e; e = e->next)
		if (e->kind == kind && !strncmp(e->key, key, len) && !e->key[len])
			return e;
	if (!create)
		return NULL;
	/* A full scan at most once a second: a flood of new names must not turn
	 * into a flood of scans under the lock. */
	if (entries >= MAX_ENTRIES && now - last_prune >= 1.0) {
		last_prune = now;
		prune(now);
	}
	if (entries >= MAX_ENTRIES)
		return NULL;
	struct entry *e = calloc(1, sizeof *e + len + 1);
	if (!e)
		return NULL;
	e->kind = kind;
	memcpy(e->key, key, len);
	e->next = table[h];
	table[h] = e;
	entries++;
	return e;
}

/* 0 when a unit was taken (or no limit applies), else seconds to wait. */
static int take(char kind, const char *key, double now)
{
	long limit = limit_of(kind);
	if (limit <= 0 || !*key)
		return 0;
	struct entry *e = find(kind, key, true, now);
	if (!e)
		return 60;
	return ratelimit_bucket_take(&e->bucket, limit, now);
}

static void give_back(char kind, const char *key, double now)
{
	struct entry *e = limit_of(kind) > 0 && *key ? find(kind, key, false, now) : NULL;
	if (e)
		ratelimit_bucket_give_back(&e->bucket);
}

int login_guard_enter(const char *user, const char *source, int *retry_after)
{
	double now = ratelimit_now();
	pthread_mutex_lock(&lock);
	int wait = take(KIND_USER, user, now);
	if (!wait) {
		wait = take(KIND_SOURCE, source, now);
		if (wait)
			give_back(KIND_USER, user, now);
	}
	pthread_mutex_unlock(&lock);
	*retry_after = wait;
	if (wait)
		log_warning("login for user %.64s from %.64s refused: too many failures", user,
			    *source ? source : "?");
	return wait ? -1 : 0;
}

void login_guard_succeeded(const char *user, const char *source)
{
	double now = ratelimit_now();
	pthread_mutex_lock(&lock);
	give_back(KIND_USER, user, now);
	give_back(KIND_SOURCE, source, now);
	pthread_mutex_unlock(&lock);
}

void login_guard_shutdown(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < TABLE_SIZE; i++)
		while (table[i]) {
			struct entry *next = table[i]->next;
			free(table[i]);
			table[i] = next;
		}
	entries = 0;
	last_prune = 0;
	pthread_mutex_unlock(&lock);
}
