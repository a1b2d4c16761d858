/*
 * master_keys.h — the control plane's two RPC master keys: [DEFAULT]
 * taskmanager_rpc_encr_key (seals every message to the taskmanager) and
 * inst_rpc_key_encr_key (seals the per-instance keys in instances.encrypted_key).
 *
 * A key the configuration leaves unset is generated at random on first run and
 * kept in <state_path>/rpc_master_keys (0600), published with link(2) only once it
 * is fully written, so api, taskmanager and conductor processes started at the same
 * moment all read the same keys. The defaults Trove publishes in its sources are
 * refused unless [DEFAULT] allow_published_rpc_keys says otherwise.
 *
 * Owns the state file; sets the two options with cfg_set() before any service
 * starts. May not touch the database: rewrapping instance keys sealed with the
 * published default is db/instance_keys.c's, with the callback below.
 */
#ifndef CT_RPC_MASTER_KEYS_H
#define CT_RPC_MASTER_KEYS_H

#include "common/error.h"

#define RPC_PUBLISHED_TASKMANAGER_KEY "bzH6y0SGmjuoY0FNSTptrhgieGXNDX6PIhvz"
#define RPC_PUBLISHED_INSTANCE_KEY    "emYjgHFqfXNB1NGehAFIUeoyw4V4XwWHEaKP"
#define RPC_MASTER_KEYS_FILE	      "rpc_master_keys"

/* Settle both keys: the configured ones (refused with 400 when published and not
 * allowed), the others from state_dir/rpc_master_keys, created when missing. */
int rpc_master_keys_init(const char *state_dir, struct ct_error *err);

/* For instance_keys_rewrap(): an encrypted per-instance key that decrypts with
 * Trove's published inst_rpc_key_encr_key (rows written before ctrove generated its
 * own), sealed again with the current inst_rpc_key_encr_key; NULL for any other. */
char *rpc_master_keys_rewrap_published(void *user, const char *encrypted);

#endif
