/*
 * paths.h — where the local compute driver keeps things on disk, and the few
 * file-system helpers its modules share.
 *
 * Owns the rules for instance ids as path components and the resolution of
 * [local] instances_dir / volumes_dir (empty = under [DEFAULT] state_path). May
 * not remove anything outside the path it is given, nor cross into another
 * mounted file system while removing.
 */
#ifndef CT_COMPUTE_PATHS_H
#define CT_COMPUTE_PATHS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* 1-64 of [A-Za-z0-9_-], not starting with '-': safe as a file name, an nft
 * chain name and an argv element. */
bool paths_valid_id(const char *id);
/* 400 "Invalid instance id" unless paths_valid_id(). */
int paths_check_id(const char *id, struct ct_error *err);

/* The configured directories (out[PATH_MAX]), canonical when they exist;
 * 500 when configured relative. */
int paths_instances_dir(char *out, struct ct_error *err);
int paths_volumes_dir(char *out, struct ct_error *err);

/* mkdir -p; existing directories are fine. */
int paths_mkdir_p(const char *path, mode_t mode, struct ct_error *err);
/* rm -r of path without following symlinks or entering other file systems;
 * a missing path is success. */
int paths_remove_tree(const char *path, struct ct_error *err);

#endif
