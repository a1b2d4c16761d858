/*
 * store.h — the backup storage interface: large objects as streams, with a
 * SHA-256 checksum and metadata, in a store chosen by config (docs/storage.md).
 *
 * Owns the handle protocol and the checksum: every store (local directory,
 * Swift, S3) moves bytes only; this layer counts and hashes them on the way in
 * and verifies them on the way out, so a corrupted or truncated object is an
 * error at the end of a read in every store alike. May not know how any store
 * lays out its objects (that is behind struct store_backend_ops, backend.h).
 *
 * Names are "<container>/<object path>": the container is the Swift container
 * or S3 bucket (a top directory in the local store), the rest may hold '/'.
 * Writing a name that exists is refused (409): objects are written once.
 *
 * Threads: a store is read-only after backup_store_new() and may be shared; a
 * writer or reader handle belongs to one thread at a time.
 */
#ifndef CT_STORAGE_STORE_H
#define CT_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define STORE_NAME_MAX	     512 /* bytes of a whole name */
#define STORE_COMPONENT_MAX  200 /* bytes between two '/' (leaves room for temp suffixes) */
#define STORE_SHA256_HEX_LEN 64

/* Metadata travels with an object (Swift: X-Object-Meta-<key>). The limits are
 * Swift's (4096 bytes in all), so what one store accepts every store accepts. */
#define STORE_META_MAX	     24
#define STORE_META_KEY_MAX   64	 /* [a-z][a-z0-9_]* */
#define STORE_META_VALUE_MAX 256 /* printable ASCII */
#define STORE_META_TOTAL_MAX 4096

struct store_meta_item {
	char key[STORE_META_KEY_MAX + 1];
	char value[STORE_META_VALUE_MAX + 1];
};

struct store_meta {
	unsigned count;
	struct store_meta_item item[STORE_META_MAX];
};

struct store_object_info {
	char name[STORE_NAME_MAX + 1];
	uint64_t size;			       /* bytes of the object */
	char sha256[STORE_SHA256_HEX_LEN + 1]; /* lower-case hex of all its bytes */
	int64_t created;		       /* Unix seconds it was published */
	struct store_meta meta;
};

/* One object in a listing; name is borrowed for the call only. */
struct store_entry {
	const char *name;
	uint64_t size;
	int64_t created;
};

/* A byte range of an object; length 0 = to its end. */
struct store_range {
	uint64_t offset;
	uint64_t length;
};

struct backup_store;
struct store_writer;
struct store_reader;

/* The store [DEFAULT] storage_strategy names (local by default); 501 for a store
 * that has a slot but no implementation yet (swift, s3). Free with
 * backup_store_free() after every handle on it is finished or closed. */
struct backup_store *backup_store_new(struct ct_error *err);
void backup_store_free(struct backup_store *store);
/* "local", "swift", ... */
const char *backup_store_kind(const struct backup_store *store);

/*
 * How another process reaches the same store: the taskmanager describes its
 * store (Swift: the storage URL and a token fresh enough for one backup), the
 * description travels to the guest agent inside a sealed RPC message, and the
 * agent opens it with backup_store_open_access(). A fixed-size value without
 * pointers, owned by the caller; auth_token is a secret (never logged).
 */
#define STORE_ACCESS_URL_MAX   1024
#define STORE_ACCESS_TOKEN_MAX 1024
struct store_access {
	char kind[16];				     /* "local", "swift" */
	char backups_dir[4096];			     /* local: the store's root directory */
	char storage_url[STORE_ACCESS_URL_MAX + 1];  /* swift: https://host:port/v1/AUTH_x */
	char auth_token[STORE_ACCESS_TOKEN_MAX + 1]; /* swift: X-Auth-Token */
	/* swift: the describer's backup_segment_max_size and [swift] timeout and
	 * list_page_size. The opener uses these, never its own configuration: a
	 * guest's worker has none, and its segments are the control plane's. */
	uint64_t segment_max_size;
	long timeout;
	long list_page_size;
};
int backup_store_access(struct backup_store *store, struct store_access *out, struct ct_error *err);
/* 400 for a kind ctrove does not know or a description missing what its kind
 * needs; 501 for a kind with a slot but no implementation. */
struct backup_store *backup_store_open_access(const struct store_access *access,
					      struct ct_error *err);

/*
 * Writing: open, write any number of chunks of any size, then exactly one of
 * store_finish() or store_abort() — both release the handle. finish records the
 * size, the SHA-256 and meta (known only at the end of a backup: an LSN, a WAL
 * position) and publishes the object atomically: readers see all of it or
 * nothing. When finish fails, or on abort, no byte of the object remains.
 * After a failed store_write() the handle only accepts store_abort().
 * An existing name is refused with 409 at open and again, atomically, at finish.
 */
struct store_writer *store_open_write(struct backup_store *store, const char *name,
				      struct ct_error *err);
int store_write(struct store_writer *w, const void *buf, size_t len, struct ct_error *err);
/* meta may be NULL; out (may be NULL) receives what was recorded. */
int store_finish(struct store_writer *w, const struct store_meta *meta,
		 struct store_object_info *out, struct ct_error *err);
void store_abort(struct store_writer *w);

/*
 * Reading: open (range NULL = the whole object), read chunks until store_read()
 * returns 0, then store_close(). For a whole object, 0 comes only after the
 * size and SHA-256 matched what was recorded: a truncated, extended or
 * corrupted object makes the last read fail instead, so a consumer must not
 * trust the bytes before it has seen 0. A range is checked for completeness
 * only (the checksum covers the whole object).
 */
struct store_reader *store_open_read(struct backup_store *store, const char *name,
				     const struct store_range *range, struct ct_error *err);
/* What the store recorded for the object being read (size, checksum, meta). */
const struct store_object_info *store_reader_info(const struct store_reader *r);
/* Bytes read (> 0), 0 at the verified end, -1 on error (then only close). */
ssize_t store_read(struct store_reader *r, void *buf, size_t len, struct ct_error *err);
void store_close(struct store_reader *r);

int store_stat(struct backup_store *store, const char *name, struct store_object_info *out,
	       struct ct_error *err);

/* fn is called for each object whose name starts with prefix, in byte order of
 * the names; it returns 0 to go on or -1 (with err set) to stop the listing with
 * that error. prefix is "<container>/" or longer. */
typedef int (*store_list_fn)(const struct store_entry *entry, void *arg, struct ct_error *err);
int store_list(struct backup_store *store, const char *prefix, store_list_fn fn, void *arg,
	       struct ct_error *err);

/* 404 when the object does not exist. */
int store_delete(struct backup_store *store, const char *name, struct ct_error *err);

/* Names and metadata (names.c, meta.c): 400 with the reason when refused. */
int store_check_name(const char *name, struct ct_error *err);
int store_check_prefix(const char *prefix, struct ct_error *err);
/* Sets or replaces key; 400 on a bad key or value or when the limits are hit. */
int store_meta_set(struct store_meta *meta, const char *key, const char *value,
		   struct ct_error *err);
/* The value of key, or NULL. */
const char *store_meta_get(const struct store_meta *meta, const char *key);
/* Every item valid, no key twice, within the limits. */
int store_meta_check(const struct store_meta *meta, struct ct_error *err);

#endif
