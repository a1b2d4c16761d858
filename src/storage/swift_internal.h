/*
 * swift_internal.h — what the Swift store's files share (swift_store.c,
 * swift_auth.c, swift_list.c): the store's state, its tokens, and one request
 * helper that retries once with a new token when Swift refuses an old one.
 *
 * Only src/storage/swift_*.c include this.
 */
#ifndef CT_STORAGE_SWIFT_INTERNAL_H
#define CT_STORAGE_SWIFT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "openstack/session.h"
#include "storage/store.h"
#include "storage/swift_http.h"

/* A storage URL and its token: a secret (never logged), copied by value so a
 * transfer keeps using the token it started with. */
struct swift_auth {
	char storage_url[STORE_ACCESS_URL_MAX + 1];
	char token[STORE_ACCESS_TOKEN_MAX + 1];
};

struct swift_store {
	pthread_mutex_t lock; /* guards current */
	struct swift_auth current;
	bool can_auth; /* [swift] credentials (the control plane), or a given token (a guest) */
	/* Keystone instead of tempauth ([swift] auth_url empty): the service session
	 * ([service_credentials]) whose token and catalog give the storage URL. */
	struct os_session *keystone;
	char auth_url[STORE_ACCESS_URL_MAX + 1];
	char auth_user[256];
	char auth_key[256];
	uint64_t segment_size;
	long timeout;
	long list_page; /* names per listing request */
};

struct swift_store *swift_store_configured(struct ct_error *err);
struct swift_store *swift_store_from_access(const struct store_access *access,
					    struct ct_error *err);
void swift_store_release(struct swift_store *st);

/* The store's token, authenticating first when it has none. */
int swift_auth_get(struct swift_store *st, struct swift_auth *out, struct ct_error *err);
/* A new token when the store can authenticate, else the one it was given. */
int swift_auth_fresh(struct swift_store *st, struct swift_auth *out, struct ct_error *err);

/* X-Auth-Token: ...; free with swift_headers_free(), which wipes it. */
struct curl_slist *swift_auth_headers(const struct swift_auth *auth, struct ct_error *err);
void swift_headers_free(struct curl_slist *headers);
/* <storage_url>/<path escaped, '/' kept>[?query] */
int swift_url(const struct swift_auth *auth, const char *path, const char *query, char *out,
	      size_t len, struct ct_error *err);

/* One request on path ("<container>" or "<container>/<object>"): 0 with Swift's
 * answer in resp (cleared by the caller), -1 when Swift was not reached. body
 * non-NULL sends it (a PUT); a 401 re-authenticates once (auth is updated). */
int swift_call(struct swift_store *st, struct swift_auth *auth, const char *method,
	       const char *path, const char *query, const struct curl_slist *extra,
	       const char *body, size_t body_len, size_t body_max, struct swift_response *resp,
	       struct ct_error *err);

int swift_list(void *impl, const char *prefix, store_list_fn fn, void *arg, struct ct_error *err);

#endif
