/*
 * auth.h — who is calling. The handlers see only struct api_identity; how a
 * token becomes one is this module's business, selected by [DEFAULT]
 * auth_strategy:
 *   embedded  tokens issued by the embedded identity service (identity.c): an
 *             HMAC-SHA256-signed, expiring statement of user, project, roles and
 *             issue time, its signature checked without I/O and its revocation
 *             against a cache (token_revocation.h). The key lives in
 *             <state_path>/token.key.
 *   keystone  validation against a real Keystone ([keystone_authtoken]) with a
 *             bounded cache (auth_keystone.h); the embedded identity's /identity
 *             routes are not served then.
 * Owns the signing key.
 */
#ifndef CT_API_AUTH_H
#define CT_API_AUTH_H

#include <stddef.h>
#include <time.h>

#include "api/request.h"

int auth_init(struct ct_error *err);
/* For tests and the fuzzer: use this key instead of the state file. */
void auth_set_key(const unsigned char *key, size_t len);
void auth_shutdown(void);

/* Whether auth_init chose auth_strategy = keystone. */
bool auth_is_keystone(void);

/* Sign a token for user/project/roles (comma-separated) valid until expires. */
int auth_issue(const char *user_id, const char *project_id, const char *roles, time_t expires,
	       char *out, size_t size);
/* 401-class failure for an unknown, forged, expired or revoked token (its
 * user deleted, disabled or given a new password since, its project deleted
 * or disabled); under keystone, 503 when Keystone cannot be asked. */
int auth_validate(const char *token, struct api_identity *who, struct ct_error *err);
/* The signature and expiry alone, without I/O (auth_validate's first half). */
int auth_verify(const char *token, struct api_identity *who, struct ct_error *err);
/* Expiry of a valid token (0 if invalid). */
time_t auth_token_expiry(const char *token);

/* "http://host:port" as clients reach us: public_endpoint, else Host. */
void auth_public_base(const struct api_request *req, char *out, size_t size);

#endif
