/*
 * instance_keys.h — instances.encrypted_key rewritten in bulk, when the key that
 * seals the per-instance RPC keys changes (ctrove replacing Trove's published
 * inst_rpc_key_encr_key by its own). Owns that one statement pair; may not know
 * how keys are sealed: the caller's rewrap function does.
 */
#ifndef CT_DB_INSTANCE_KEYS_H
#define CT_DB_INSTANCE_KEYS_H

#include "common/error.h"

/* New sealed text for an encrypted key (malloc'd), or NULL to leave it. */
typedef char *(*instance_key_rewrap_fn)(void *user, const char *encrypted);

/* Apply rewrap to every instance's encrypted_key in one transaction; the number of
 * rows changed, or -1. */
int instance_keys_rewrap(instance_key_rewrap_fn rewrap, void *user, struct ct_error *err);

#endif
