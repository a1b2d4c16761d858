/*
 * backup_models.h — the agent's side of the backup arguments the control
 * plane sends a guest (docs/backup-stream.md, the backup contract):
 * create_backup's backup_info and prepare's backup_info for a restore, parsed
 * and checked into C structs with their own storage. The sender's side
 * (struct guest_backup_request, guest_restore_info and their serialisers) is
 * guest/models.h, used by the taskmanager; the wire keys are the same.
 * Owns no state; may not do I/O or log. The structs hold secrets (the data
 * key, a store token): whoever fills one wipes it with *_wipe() when done.
 */
#ifndef CT_GUEST_BACKUP_MODELS_H
#define CT_GUEST_BACKUP_MODELS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "storage/store.h"

#define GUEST_BACKUP_ID_SIZE   64
#define GUEST_BACKUP_TYPE_SIZE 16   /* "full", "incremental" */
#define GUEST_BACKUP_KEY_SIZE  64   /* base64 of 32 bytes is 44 characters */
#define GUEST_BACKUP_TEXT_SIZE 1024 /* name, description */
#define GUEST_BACKUP_CHAIN_MAX 64   /* a full and up to 63 incrementals */

/* One stored backup: a parent, or a link of a restore chain. */
struct guest_backup_ref {
	char id[GUEST_BACKUP_ID_SIZE];
	char location[STORE_NAME_MAX + 1]; /* the store name: <container>/<object> */
	char checksum[STORE_SHA256_HEX_LEN + 1];
	char backup_type[GUEST_BACKUP_TYPE_SIZE];   /* chain links only */
	char encryption_key[GUEST_BACKUP_KEY_SIZE]; /* chain links only; secret */
};

/* create_backup(backup_info). "" stands for null on the wire. */
struct guest_backup_info {
	char id[GUEST_BACKUP_ID_SIZE];
	char name[GUEST_BACKUP_TEXT_SIZE];
	char description[GUEST_BACKUP_TEXT_SIZE];
	char instance_id[GUEST_BACKUP_ID_SIZE];
	char backup_type[GUEST_BACKUP_TYPE_SIZE]; /* "full" or "incremental" */
	bool has_parent;			  /* incremental: parent is set */
	struct guest_backup_ref parent;		  /* id, location, checksum */
	char datastore[64];
	char datastore_version[64];
	char swift_container[STORE_COMPONENT_MAX + 1];
	char location[STORE_NAME_MAX + 1];	    /* where to write */
	char encryption_key[GUEST_BACKUP_KEY_SIZE]; /* base64 of the data key; secret */
	struct store_access store;
};

/* prepare(backup_info) for a restore: the backup to restore and its whole
 * chain, the full first and this backup last. */
struct guest_restore_plan {
	char id[GUEST_BACKUP_ID_SIZE];
	char instance_id[GUEST_BACKUP_ID_SIZE];
	char location[STORE_NAME_MAX + 1];
	char type[GUEST_BACKUP_TYPE_SIZE];
	char checksum[STORE_SHA256_HEX_LEN + 1];
	size_t n_chain;
	struct guest_backup_ref chain[GUEST_BACKUP_CHAIN_MAX];
	struct store_access store;
};

/* Parsers: 400 naming the field when one is missing, of the wrong type, too
 * long, or not one of the allowed values (backup_type, an incremental without
 * a parent, an empty chain or one whose last link is not this backup). On
 * failure *out is wiped. */
int guest_backup_info_from_json(const json_t *j, struct guest_backup_info *out,
				struct ct_error *err);
int guest_restore_plan_from_json(const json_t *j, struct guest_restore_plan *out,
				 struct ct_error *err);
int guest_store_access_from_json(const json_t *j, struct store_access *out, struct ct_error *err);

void guest_backup_info_wipe(struct guest_backup_info *b);
void guest_restore_plan_wipe(struct guest_restore_plan *r);

#endif
