/*
 * auth_keystone.h — auth_strategy = keystone: a user's token is what an
 * external Keystone v3 says it is. Each token is validated with
 * GET /v3/auth/tokens (X-Subject-Token) under the service user of
 * [keystone_authtoken], and the answer — user, project, roles, or "no such
 * token" — is cached (token_cache.h) for token_cache_time seconds, never past
 * the token's expiry. A token Keystone cannot be asked about (down, slow, our
 * service user refused) is a 503, never a 401. Owns the service session and
 * the cache; may not sign tokens (auth.c) or know the embedded identity.
 */
#ifndef CT_API_AUTH_KEYSTONE_H
#define CT_API_AUTH_KEYSTONE_H

#include "api/request.h"

/* Checks [keystone_authtoken]; Keystone being away is not fatal (the first
 * request tries again), refused service credentials are (401 in err). */
int auth_keystone_init(struct ct_error *err);
void auth_keystone_shutdown(void);
/* 401 for a token Keystone does not accept (also malformed, expired, revoked,
 * not scoped to a project); 503 when Keystone cannot answer. */
int auth_keystone_validate(const char *token, struct api_identity *who, struct ct_error *err);

#endif
