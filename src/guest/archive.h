/*
 * archive.h — the datastore-independent part of continuous archiving (issue
 * 16, /work pitr contract, docs/pitr.md): start_archiving's archive_info
 * checked and kept in <run_dir>/archive_info.json (0600) so shipping resumes
 * after an agent restart, the progress file <data_dir>/.ctrove-archive-state.json
 * (on the volume, so it outlives a reboot: sequence numbers never repeat or
 * skip), object names and metadata, and the
 * worker's half of one shipping round (store opened, key decoded, the
 * manager's archive_ship slot called).
 * Owns those two files and the decoded key of one round (wiped before it
 * returns); may not know a datastore's logs or tools (the managers ship their
 * own files through guest_archive_put_file) nor talk to the bus (the agent's
 * shipping thread casts update_archive).
 */
#ifndef CT_GUEST_ARCHIVE_H
#define CT_GUEST_ARCHIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "guest/backup_stream.h"
#include "guest/datastore.h"
#include "storage/store.h"

#define GUEST_ARCHIVE_INTERVAL_DEFAULT 1
#define GUEST_ARCHIVE_INTERVAL_MAX     3600
#define GUEST_ARCHIVE_GAP_MAX	       512

/* start_archiving(archive_info), checked. Holds secrets (the key, a token):
 * wipe with guest_archive_info_wipe() when done. */
struct guest_archive_info {
	char prefix[STORE_NAME_MAX + 1]; /* "<container>/archive/<instance_id>/" */
	char encryption_key[64];	 /* base64 of 32 bytes; secret */
	struct store_access store;
	int interval; /* seconds between shipping rounds */
};

/* 400 naming the field when archive_info is not what the contract says (the
 * prefix must be a valid store prefix ending in "/archive/<instance_id>/"). */
int guest_archive_info_from_json(const json_t *j, const char *instance_id,
				 struct guest_archive_info *out, struct ct_error *err);
void guest_archive_info_wipe(struct guest_archive_info *a);

/* <run_dir>/archive_info.json: the message's archive_info as received (0600,
 * replaced atomically). load → a new reference, or NULL when there is none
 * (err->status 404) or it cannot be read. */
int guest_archive_info_save(const struct guest_instance *inst, const json_t *archive_info,
			    struct ct_error *err);
json_t *guest_archive_info_load(const struct guest_instance *inst, struct ct_error *err);

/*
 * One shipping round, as the manager's archive_ship slot sees it. The
 * generic part fills store, key, prefix and state (the progress file's JSON:
 * "last_seq", "archived_until", "gap", and whatever the manager keeps under
 * "ds"); the manager ships what is new in order, each object through
 * guest_archive_put_file (which takes the next sequence number and saves the
 * state after the object is published, so a crash repeats at most one
 * object's upload under the same name), and sets archived_until and gap.
 */
struct guest_archive_ctx {
	struct backup_store *store;
	const struct backup_key *key;
	const char *prefix;
	const char *datastore; /* metadata "datastore" */
	const struct guest_instance *inst;
	json_t *state; /* owned by the generic part; the manager edits "ds" */
	char state_path[GUEST_PATH_MAX + 32];
	int shipped; /* objects published in this round */
	/* Set by the last put when its object was already there (published by a
	 * round that died before saving the state): that object's metadata, so
	 * the manager continues from where it really ended. */
	bool existed;
	struct store_meta existing_meta;
	/* guest_archive_set_until was called: everything written before this
	 * round began is shipped. */
	bool caught_up;
};

/* A byte range of a file; parts of one object, in order. */
struct guest_archive_range {
	uint64_t offset, length;
};

/* The sequence number the next object gets (last_seq + 1). */
int64_t guest_archive_next_seq(const struct guest_archive_ctx *ctx);
/* The manager's own part of the state ({} at first; borrowed, editable). */
json_t *guest_archive_ds_state(struct guest_archive_ctx *ctx);
/* Ship bytes [offset, offset + length) of path (length 0 = to its end) as
 * the next object, "<prefix><seq>-<native_name>.zst.enc", with the generic
 * metadata (format, kind, instance_id, datastore, seq) plus meta (the
 * manager's: start_time, end_time, its positions). An object already there
 * under that name (a round that died after publishing it) counts as shipped.
 * On success the sequence number advances and the state is saved. */
int guest_archive_put_file(struct guest_archive_ctx *ctx, const char *native_name, const char *path,
			   uint64_t offset, uint64_t length, const struct store_meta *meta,
			   struct ct_error *err);
/* The same with the object made of several ranges of path, concatenated (at
 * most 8; a zero length is nothing). Edit the manager's state before the
 * call: it is saved with the new sequence number, atomically. */
int guest_archive_put_ranges(struct guest_archive_ctx *ctx, const char *native_name,
			     const char *path, const struct guest_archive_range *ranges, size_t n,
			     const struct store_meta *meta, struct ct_error *err);
/* Record progress without shipping: every commit up to `until` is stored
 * (never moves back). Saves the state. */
int guest_archive_set_until(struct guest_archive_ctx *ctx, int64_t until, struct ct_error *err);
/* Record a gap (what is missing and why; kept until a new start_archiving). */
int guest_archive_set_gap(struct guest_archive_ctx *ctx, const char *text, struct ct_error *err);

/* The worker's side of one round: parse archive_info, open its store, decode
 * its key, load the state, run m->archive_ship. → {"last_seq",
 * "archived_until", "gap", "shipped", "caught_up"} (new reference) or NULL
 * with err; caught_up: the round ended with nothing left to ship. */
json_t *guest_archive_ship(const struct datastore_manager *m, const struct guest_instance *inst,
			   const json_t *archive_info, struct ct_error *err);
#endif
