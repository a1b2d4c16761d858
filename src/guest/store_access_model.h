/*
 * store_access_model.h — the wire form of a struct store_access
 * (storage/store.h): how the control plane tells a guest agent which backup
 * store to open, inside a message sealed with the instance's key. The token
 * it may carry is a secret: the JSON is never logged.
 * Owns no state; may not open a store.
 */
#ifndef CT_GUEST_STORE_ACCESS_MODEL_H
#define CT_GUEST_STORE_ACCESS_MODEL_H

#include <jansson.h>

#include "common/error.h"
#include "storage/store.h"

/* {"kind", "backups_dir", "storage_url", "auth_token"}; NULL out of memory. */
json_t *store_access_to_json(const struct store_access *a);
/* 400 when j is not such an object or a field does not fit. */
int store_access_from_json(const json_t *j, struct store_access *out, struct ct_error *err);

#endif
