/*
 * local_internal.h — what the files of the local directory store share: the
 * store's state, the names of its hidden files, its record format and its
 * listing. Included by local_*.c only.
 *
 * Layout under the root, per object "<container>/<dirs>/<base>":
 *   <container>/<dirs>/<base>               the object's bytes, exactly (0600)
 *   <container>/<dirs>/.<base>.meta         its record: size, sha256, created, metadata
 *   <container>/<dirs>/.<base>.tmp-<hex>    bytes of a writer not yet finished
 *   <container>/<dirs>/.<base>.meta.tmp-<hex>  a record not yet published
 * An object exists when its record does; the record is renamed into place last.
 */
#ifndef CT_STORAGE_LOCAL_INTERNAL_H
#define CT_STORAGE_LOCAL_INTERNAL_H

#include <limits.h>
#include <stdbool.h>

#include "storage/store.h"

struct local_store {
	int root_fd; /* O_DIRECTORY, every path is opened relative to it */
	char root[PATH_MAX];
};

/* ".<base>.meta" into out[NAME_MAX + 1]. */
void local_record_name(const char *base, char *out);
/* Write info as a record file tmp_name in dir (0600, fsync'd, mtime = created);
 * nothing remains of it on failure. */
int local_record_write(int dir_fd, const char *tmp_name, const struct store_object_info *info,
		       struct ct_error *err);
/* Read the record of base in dir into info (name is set to name); 404 when
 * there is none, 500 when it is unreadable. */
int local_record_read(int dir_fd, const char *base, const char *name,
		      struct store_object_info *info, struct ct_error *err);
/* True when dir holds a record for base. */
bool local_record_exists(int dir_fd, const char *base);

/* The store_backend_ops list operation (local_list.c). */
int local_list(void *impl, const char *prefix, store_list_fn fn, void *arg, struct ct_error *err);

/* write(2) all of buf; ENOSPC and other failures as a 500 naming the object. */
int local_write_all(int fd, const void *buf, size_t len, const char *name, struct ct_error *err);

#endif
