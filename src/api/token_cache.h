/*
 * token_cache.h — what Keystone said about a token, remembered for a while so
 * that not every request costs a round trip: bounded in entries (a
 * set-associative table: a full set gives up its oldest entry) and in time
 * (each entry carries its own deadline). The key is the token's SHA-256, so the
 * cache never holds a token. Thread-safe (one lock; a lookup is a few
 * compares). Owns the table; may not talk to Keystone (auth_keystone.c).
 */
#ifndef CT_API_TOKEN_CACHE_H
#define CT_API_TOKEN_CACHE_H

#include <stdbool.h>
#include <time.h>

#include "api/request.h"

struct token_cache;

/* At most entries tokens (at least 1). */
struct token_cache *token_cache_new(long entries, struct ct_error *err);
void token_cache_free(struct token_cache *c);

/* True when token has an entry still fresh at now: *valid says whether
 * Keystone accepted it, and who is filled for a valid one. */
bool token_cache_get(struct token_cache *c, const char *token, time_t now, struct api_identity *who,
		     bool *valid);
/* Remember the answer for token until `until` (a valid token: who; a refused
 * one: who is NULL). */
void token_cache_put(struct token_cache *c, const char *token, const struct api_identity *who,
		     time_t until, time_t now);
/* Entries held (fresh or not), for tests. */
long token_cache_count(struct token_cache *c);

#endif
