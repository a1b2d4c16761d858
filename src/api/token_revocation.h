/*
 * token_revocation.h — whether a correctly signed token still speaks for its
 * user and project: not when the user was deleted or disabled, changed
 * password or lost a role after the token was issued, nor when its project was
 * deleted or disabled. The answers come from db/identity_admin.h and are cached
 * per user and per project, per thread, for [token] revocation_cache_time
 * seconds, so a request on the hot path costs a hash lookup without a lock,
 * not a query; changes made by this process are seen at once
 * (token_revocation_forget). Owns the caches.
 * May not sign or parse tokens (auth.c).
 */
#ifndef CT_API_TOKEN_REVOCATION_H
#define CT_API_TOKEN_REVOCATION_H

#include <stdbool.h>

/* False when the token must be refused (also when the database cannot say). */
bool token_revocation_allows(const char *user_id, const char *project_id, long long issued_us);
/* After changing a user or project: no thread trusts what it cached before. */
void token_revocation_forget(const char *id);
/* The same for everything (a role deleted; tests). */
void token_revocation_clear(void);

#endif
