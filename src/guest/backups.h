/*
 * backups.h — the datastore-independent part of a guest's backups: a
 * create_backup message turned into a call of the manager's create_backup
 * with the store opened and the data key decoded (in the worker), the
 * conductor told BUILDING and then COMPLETED or FAILED (in the agent), and a
 * restore chain walked for prepare.
 * Owns the order of those steps and the wiping of the key and the token; may
 * not know any datastore's tools or files (the managers do), nor talk to the
 * bus outside guest_backup_report().
 */
#ifndef CT_GUEST_BACKUPS_H
#define CT_GUEST_BACKUPS_H

#include <jansson.h>

#include "common/error.h"
#include "guest/backup_models.h"
#include "guest/backup_stream.h"
#include "guest/datastore.h"

/* The worker's side of create_backup: parse backup_info, decode its key, open
 * its store, run m->create_backup. → {"checksum", "location", "size" (bytes)}
 * (a new reference) or NULL with err (no object left behind). */
json_t *guest_backup_create(const struct datastore_manager *m, const struct guest_instance *inst,
			    const json_t *backup_info, struct ct_error *err);

/* One link of a restore chain, called in order (the full first); key is the
 * link's decoded data key, wiped after the call. */
typedef int (*guest_restore_fn)(void *ctx, struct backup_store *store,
				const struct guest_backup_ref *link, size_t index, size_t count,
				const struct backup_key *key, struct ct_error *err);

/* prepare's backup_info (the restore form): parse it, open its store, check
 * every object of the chain exists, and call fn for each link. -1 with err at
 * the first failure (the caller must not start the server then). */
int guest_restore_chain(const json_t *backup_info, guest_restore_fn fn, void *ctx,
			struct ct_error *err);

#endif
