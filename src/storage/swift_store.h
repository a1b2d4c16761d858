/*
 * swift_store.h — the OpenStack Swift backup store (storage_strategy = swift):
 * objects as static large objects of streamed segments, write-once, with the
 * SHA-256 and metadata on the manifest. Layout and guarantees in docs/storage.md.
 *
 * Owns its Swift account's objects under the names it is given and the hidden
 * segments of its writers; nothing else in the account.
 */
#ifndef CT_STORAGE_SWIFT_STORE_H
#define CT_STORAGE_SWIFT_STORE_H

#include "common/error.h"
#include "storage/store.h"

/* The store [swift] configures: tempauth at auth_url with auth_user and
 * auth_key, on first use and again when a token is refused. */
struct backup_store *swift_store_new(struct ct_error *err);
/* A store reached with a storage URL and a token another process obtained
 * (store.h, struct store_access); it never authenticates itself. */
struct backup_store *swift_store_new_access(const struct store_access *access,
					    struct ct_error *err);

#endif
