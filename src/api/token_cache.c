/*
 * token_cache.c — the bounded token cache (token_cache.h): sets of WAYS
 * entries chosen by the key's first bytes; a put takes a free or stale slot of
 * the set, else the one stored longest ago. May not talk to Keystone.
 */
#include "api/token_cache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

struct entry {
	unsigned char key[32];
	bool used, valid;
	time_t until, stored;
	struct api_identity who;
};

struct token_cache {
	pthread_mutex_t lock;
	long sets, ways;
	struct entry *entries;
};

struct token_cache *token_cache_new(long entries, struct ct_error *err)
{
	if (entries < 1)
		entries = 1;
	struct token_cache *c = calloc(1, sizeof *c);
	long ways = entries < WAYS ? entries : WAYS;
	long sets = entries / ways;
	struct entry *table = c ? calloc((size_t)(sets * ways), sizeof *table) : NULL;
	if (!table) {
		free(c);
		ct_fail(err, 500, "out of memory for a token cache of %ld entries", entries);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->sets = sets;
	c->ways = ways;
	c->entries = table;
	return c;
}

void token_cache_free(struct token_cache *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c->entries, (size_t)(c->sets * c->ways) * sizeof *c->entries);
	free(c->entries);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void hash_token(const char *token, unsigned char key[32])
{
	unsigned int len = 0;
	if (!EVP_Digest(token, strlen(token), key, &len, EVP_sha256(), NULL) || len != 32)
		/* No digest, no entry: a key no put can match twice. */
		memset(key, 0xff, 32);
}

static struct entry *set_of(struct token_cache *c, const unsigned char key[32])
{
	unsigned long long h;
	memcpy(&h, key, sizeof h);
	return &c->entries[(long)(h % (unsigned long long)c->sets) * c->ways];
}

bool token_cache_get(struct token_cache *c, const char *token, time_t now, struct api_identity *who,
		     bool *valid)
{
	unsigned char key[32];
	hash_token(token, key);
	bool found = false;
	pthread_mutex_lock(&c->lock);
	struct entry *set = set_of(c, key);
	for (long i = 0; i < c->ways; i++) {
		struct entry *e = &set[i];
		if (!e->used || CRYPTO_memcmp(e->key, key, sizeof key))
			continue;
		if (e->until <= now) {
			e->used = false;
			break;
		}
		*valid = e->valid;
		if (e->valid && who)
			*who = e->who;
		found = true;
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

void token_cache_put(struct token_cache *c, const char *token, const struct api_identity *who,
		     time_t until, time_t now)
{
	if (until <= now)
		return;
	unsigned char key[32];
	hash_token(token, key);
	pthread_mutex_lock(&c->lock);
	struct entry *set = set_of(c, key);
	struct entry *slot = NULL;
	for (long i = 0; i < c->ways && !slot; i++)
		if (set[i].used && !CRYPTO_memcmp(set[i].key, key, sizeof key))
			slot = &set[i];
	for (long i = 0; i < c->ways && !slot; i++)
		if (!set[i].used || set[i].until <= now)
			slot = &set[i];
	if (!slot) {
		slot = &set[0];
		for (long i = 1; i < c->ways; i++)
			if (set[i].stored < slot->stored)
				slot = &set[i];
	}
	memset(slot, 0, sizeof *slot);
	memcpy(slot->key, key, sizeof key);
	slot->used = true;
	slot->valid = who != NULL;
	if (who)
		slot->who = *who;
	slot->until = until;
	slot->stored = now;
	pthread_mutex_unlock(&c->lock);
}

long token_cache_count(struct token_cache *c)
{
	long n = 0;
	pthread_mutex_lock(&c->lock);
	for (long i = 0; i < c->sets * c->ways; i++)
		n += c->entries[i].used;
	pthread_mutex_unlock(&c->lock);
	return n;
}
