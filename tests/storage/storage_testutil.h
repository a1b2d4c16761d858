/*
 * storage_testutil.h — what the backup storage tests share: a scratch tree
 * under /tmp removed recursively at the end, counting what a store left on
 * disk, whole-object write and read helpers, and deterministic test bytes.
 * Header-only (static functions) so each test stays one file.
 */
#ifndef CT_TESTS_STORAGE_TESTUTIL_H
#define CT_TESTS_STORAGE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/store.h"

static inline void scratch_tree_create(char dir[64], const char *what)
{
	snprintf(dir, 64, "/tmp/ctrove-%.20s-XXXXXX", what);
	assert_non_null(mkdtemp(dir));
}

static inline int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* rm -r dir (never following symlinks). */
static inline void scratch_tree_remove(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int counted_files;
static bool count_verbose;
static int count_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_F || type == FTW_SL) {
		counted_files++;
		if (count_verbose)
			print_message("  on disk: %s\n", path);
	}
	return 0;
}

/* Files (of any kind but directories) under dir. */
static inline int files_under(const char *dir)
{
	counted_files = 0;
	nftw(dir, count_entry, 16, FTW_PHYS);
	return counted_files;
}

/* Fails, listing what is there, unless dir holds exactly n files. */
static inline void expect_files(const char *dir, int n)
{
	if (files_under(dir) == n)
		return;
	count_verbose = true;
	files_under(dir);
	count_verbose = false;
	fail_msg("%s holds %d files, not %d", dir, counted_files, n);
}

/* Byte i of the deterministic test stream `seed`. */
static inline unsigned char test_byte(uint64_t i, unsigned seed)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return (unsigned char)(x >> 40);
}

static inline unsigned char *test_bytes(size_t len, unsigned seed)
{
	unsigned char *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = test_byte(i, seed);
	return buf;
}

/* Write data as object name in chunks of the sizes given (cycled), publish. */
static inline void put_chunked(struct backup_store *store, const char *name,
			       const unsigned char *data, size_t len, const size_t *chunks,
			       size_t nchunks, const struct store_meta *meta,
			       struct store_object_info *out)
{
	struct ct_error err = {0};
	struct store_writer *w = store_open_write(store, name, &err);
	if (!w)
		fail_msg("open_write %s: %d %s", name, err.status, err.message);
	size_t off = 0;
	for (size_t i = 0; off < len; i++) {
		size_t n = chunks[i % nchunks];
		if (n > len - off)
			n = len - off;
		if (store_write(w, data + off, n, &err))
			fail_msg("write %s: %d %s", name, err.status, err.message);
		off += n;
	}
	if (store_finish(w, meta, out, &err))
		fail_msg("finish %s: %d %s", name, err.status, err.message);
}

static inline void put(struct backup_store *store, const char *name, const char *text)
{
	size_t one = strlen(text) + 1;
	put_chunked(store, name, (const unsigned char *)text, strlen(text), &one, 1, NULL, NULL);
}

/* Read all of name (range NULL) with reads of `step` bytes into a malloc'd
 * buffer; returns -1 with err when a read (or the open) failed. */
static inline int get_all(struct backup_store *store, const char *name,
			  const struct store_range *range, size_t step, unsigned char **out,
			  size_t *len, struct ct_error *err)
{
	*out = NULL;
	*len = 0;
	struct store_reader *r = store_open_read(store, name, range, err);
	if (!r)
		return -1;
	size_t cap = 1024;
	unsigned char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (*len + step > cap) {
			cap = 2 * (*len + step);
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t n = store_read(r, buf + *len, step, err);
		if (n < 0) {
			store_close(r);
			free(buf);
			return -1;
		}
		if (!n)
			break;
		*len += (size_t)n;
	}
	store_close(r);
	*out = buf;
	return 0;
}

#endif
