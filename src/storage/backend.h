/*
 * backend.h — what a backup store implements: the table of operations behind
 * store.h, and the constructor that wraps one into a struct backup_store.
 *
 * Only store implementations (local_store.c; Swift and S3 later) and
 * registry.c include this. A backend moves bytes and keeps records; it never
 * hashes (store.c does) and never validates names or metadata (store.c has,
 * before any operation reaches it). Its handles are its own (void *): created
 * by open_*, released by exactly one of finish/abort or by close.
 */
#ifndef CT_STORAGE_BACKEND_H
#define CT_STORAGE_BACKEND_H

#include "storage/store.h"

struct store_backend_ops {
	const char *kind;

	/* A new object being written; 409 when name exists. */
	void *(*open_write)(void *impl, const char *name, struct ct_error *err);
	int (*write)(void *w, const void *buf, size_t len, struct ct_error *err);
	/* Make the bytes durable, record info (size, sha256, created, meta are
	 * filled in) and publish atomically, refusing (409) a name published since
	 * open. Releases w, success or not; on failure nothing of it remains. */
	int (*finish)(void *w, const struct store_object_info *info, struct ct_error *err);
	/* Remove every byte written, release w. */
	void (*abort)(void *w);

	/* Fill info from the object's record, ready to deliver bytes from offset
	 * (store.c checks offset against info->size and limits the length). */
	void *(*open_read)(void *impl, const char *name, uint64_t offset,
			   struct store_object_info *info, struct ct_error *err);
	/* > 0 bytes, 0 at the end of the stored bytes, -1 on error. */
	ssize_t (*read)(void *r, void *buf, size_t len, struct ct_error *err);
	void (*close)(void *r);

	int (*stat)(void *impl, const char *name, struct store_object_info *out,
		    struct ct_error *err);
	/* Entries in byte order of their names. */
	int (*list)(void *impl, const char *prefix, store_list_fn fn, void *arg,
		    struct ct_error *err);
	int (*remove)(void *impl, const char *name, struct ct_error *err);
	/* How another process opens this store (store.h, struct store_access). */
	int (*describe)(void *impl, struct store_access *out, struct ct_error *err);
	void (*free)(void *impl);
};

/* Wraps impl; the store owns it from here (ops->free releases it, also when
 * this fails). */
struct backup_store *backup_store_wrap(const struct store_backend_ops *ops, void *impl,
				       struct ct_error *err);

#endif
