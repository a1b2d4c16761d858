/*
 * store.c — the streams of store.h over any backend: handle lifetimes, byte
 * counts, the SHA-256 of every object, and verification at the end of a read.
 *
 * SHA-256 is libnettle's (already linked for RPC encryption): its context is a
 * plain struct, so hashing allocates nothing and cannot fail, and nettle uses
 * the CPU's SHA extensions where they exist — OpenSSL's EVP would add a
 * context allocation and an error path per object for the same digest.
 * May not touch the medium: every byte goes through struct store_backend_ops.
 */
#include "storage/store.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/backend.h"

struct backup_store {
	const struct store_backend_ops *ops;
	void *impl;
};

struct store_writer {
	struct backup_store *store;
	void *impl;
	struct sha256_ctx sha;
	uint64_t size;
	bool failed;
	char name[STORE_NAME_MAX + 1];
};

enum reader_state { READER_OPEN, READER_DONE, READER_FAILED };

struct store_reader {
	struct backup_store *store;
	void *impl;
	struct sha256_ctx sha;
	bool whole;	   /* hash and compare at the end */
	uint64_t seen;	   /* bytes delivered */
	uint64_t expected; /* bytes to deliver */
	enum reader_state state;
	struct ct_error failure; /* repeated by every read after a failure */
	struct store_object_info info;
};

struct backup_store *backup_store_wrap(const struct store_backend_ops *ops, void *impl,
				       struct ct_error *err)
{
	struct backup_store *store = calloc(1, sizeof *store);
	if (!store) {
		ops->free(impl);
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	store->ops = ops;
	store->impl = impl;
	return store;
}

void backup_store_free(struct backup_store *store)
{
	if (!store)
		return;
	store->ops->free(store->impl);
	free(store);
}

const char *backup_store_kind(const struct backup_store *store)
{
	return store->ops->kind;
}

int backup_store_access(struct backup_store *store, struct store_access *out, struct ct_error *err)
{
	return store->ops->describe(store->impl, out, err);
}

static void sha256_hex(struct sha256_ctx *sha, char out[STORE_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_digest(sha, sizeof digest, digest);
	for (size_t i = 0; i < sizeof digest; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[STORE_SHA256_HEX_LEN] = '\0';
}

struct store_writer *store_open_write(struct backup_store *store, const char *name,
				      struct ct_error *err)
{
	if (store_check_name(name, err))
		return NULL;
	struct store_writer *w = calloc(1, sizeof *w);
	if (!w) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	w->impl = store->ops->open_write(store->impl, name, err);
	if (!w->impl) {
		free(w);
		return NULL;
	}
	w->store = store;
	sha256_init(&w->sha);
	snprintf(w->name, sizeof w->name, "%s", name);
	return w;
}

int store_write(struct store_writer *w, const void *buf, size_t len, struct ct_error *err)
{
	if (w->failed)
		return ct_fail(err, 500, "Backup object '%s' had a failed write; abort it.",
			       w->name);
	if (!len)
		return 0;
	if (w->store->ops->write(w->impl, buf, len, err)) {
		w->failed = true;
		return -1;
	}
	sha256_update(&w->sha, len, buf);
	w->size += len;
	return 0;
}

int store_finish(struct store_writer *w, const struct store_meta *meta,
		 struct store_object_info *out, struct ct_error *err)
{
	int rc = -1;
	struct store_object_info *info = calloc(1, sizeof *info);
	if (!info) {
		ct_fail(err, 500, "out of memory");
		goto abort;
	}
	if (w->failed) {
		ct_fail(err, 500, "Backup object '%s' had a failed write; it was removed.",
			w->name);
		goto abort;
	}
	if (meta) {
		if (store_meta_check(meta, err))
			goto abort;
		info->meta = *meta;
	}
	snprintf(info->name, sizeof info->name, "%s", w->name);
	info->size = w->size;
	sha256_hex(&w->sha, info->sha256);
	info->created = (int64_t)time(NULL);
	rc = w->store->ops->finish(w->impl, info, err);
	if (!rc && out)
		*out = *info;
	free(info);
	free(w);
	return rc;
abort:
	free(info);
	store_abort(w);
	return -1;
}

void store_abort(struct store_writer *w)
{
	if (!w)
		return;
	w->store->ops->abort(w->impl);
	free(w);
}

struct store_reader *store_open_read(struct backup_store *store, const char *name,
				     const struct store_range *range, struct ct_error *err)
{
	if (store_check_name(name, err))
		return NULL;
	struct store_reader *r = calloc(1, sizeof *r);
	if (!r) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	uint64_t offset = range ? range->offset : 0;
	r->impl = store->ops->open_read(store->impl, name, offset, &r->info, err);
	if (!r->impl) {
		free(r);
		return NULL;
	}
	r->store = store;
	snprintf(r->info.name, sizeof r->info.name, "%s", name);
	r->whole = !range;
	r->expected = r->info.size;
	if (range) {
		uint64_t size = r->info.size;
		if (offset > size || (range->length && range->length > size - offset)) {
			ct_fail(err, 400,
				"Range %llu+%llu is outside backup object '%s' of %llu bytes.",
				(unsigned long long)offset, (unsigned long long)range->length, name,
				(unsigned long long)size);
			store_close(r);
			return NULL;
		}
		r->expected = range->length ? range->length : size - offset;
	}
	sha256_init(&r->sha);
	return r;
}

const struct store_object_info *store_reader_info(const struct store_reader *r)
{
	return &r->info;
}

static ssize_t reader_fail(struct store_reader *r, struct ct_error *err, int status,
			   const char *what)
{
	r->state = READER_FAILED;
	ct_fail(&r->failure, status, "Backup object '%s' is corrupt: %s.", r->info.name, what);
	*err = r->failure;
	return -1;
}

/* At the end of the stored bytes: the object is what was recorded, or an error. */
static ssize_t reader_verify_end(struct store_reader *r, struct ct_error *err)
{
	if (r->seen < r->expected)
		return reader_fail(r, err, 500, "it is shorter than recorded (truncated)");
	if (r->whole) {
		char hex[STORE_SHA256_HEX_LEN + 1];
		sha256_hex(&r->sha, hex);
		if (strcmp(hex, r->info.sha256))
			return reader_fail(r, err, 500, "its SHA-256 checksum does not match");
	}
	r->state = READER_DONE;
	return 0;
}

ssize_t store_read(struct store_reader *r, void *buf, size_t len, struct ct_error *err)
{
	if (r->state == READER_FAILED) {
		*err = r->failure;
		return -1;
	}
	if (r->state == READER_DONE || !len)
		return 0;
	if (!r->whole) {
		uint64_t left = r->expected - r->seen;
		if (!left)
			return reader_verify_end(r, err);
		if (len > left)
			len = (size_t)left;
	}
	ssize_t n = r->store->ops->read(r->impl, buf, len, &r->failure);
	if (n < 0) {
		r->state = READER_FAILED;
		*err = r->failure;
		return -1;
	}
	if (!n)
		return reader_verify_end(r, err);
	if ((uint64_t)n > r->expected - r->seen)
		return reader_fail(r, err, 500, "it is longer than recorded");
	r->seen += (uint64_t)n;
	if (r->whole)
		sha256_update(&r->sha, (size_t)n, buf);
	return n;
}

void store_close(struct store_reader *r)
{
	if (!r)
		return;
	r->store->ops->close(r->impl);
	free(r);
}

int store_stat(struct backup_store *store, const char *name, struct store_object_info *out,
	       struct ct_error *err)
{
	if (store_check_name(name, err))
		return -1;
	return store->ops->stat(store->impl, name, out, err);
}

int store_list(struct backup_store *store, const char *prefix, store_list_fn fn, void *arg,
	       struct ct_error *err)
{
	if (store_check_prefix(prefix, err))
		return -1;
	return store->ops->list(store->impl, prefix, fn, arg, err);
}

int store_delete(struct backup_store *store, const char *name, struct ct_error *err)
{
	if (store_check_name(name, err))
		return -1;
	return store->ops->remove(store->impl, name, err);
}
