/*
 * local_store.h — the local directory backup store: every object a file under
 * one directory on this machine (the embedded default, storage_strategy =
 * local). Layout and guarantees in docs/storage.md.
 *
 * Owns its directory tree and nothing outside it.
 */
#ifndef CT_STORAGE_LOCAL_STORE_H
#define CT_STORAGE_LOCAL_STORE_H

#include "common/error.h"
#include "storage/store.h"

/* A store rooted at dir (absolute; created 0700 with missing parents). */
struct backup_store *local_store_new(const char *dir, struct ct_error *err);
/* [local_storage] backups_dir, or <state_path>/backups when empty, into
 * out[PATH_MAX]; 500 when it is not absolute. */
int local_store_dir(char *out, struct ct_error *err);

#endif
