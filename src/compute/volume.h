/*
 * volume.h — an instance's volume on this machine (local compute driver).
 *
 * A volume is a sparse image file <volumes_dir>/<id>.img, formatted XFS (or
 * ext4) and loop-mounted at <instances_dir>/<id>/data, so its size is a real
 * limit; XFS grows while mounted, ext4 only unmounted. Where loop devices are
 * unusable (or [local] use_loop_devices = false) the volume is a plain
 * directory at the same place, without a size limit; volume_init() says which
 * in the log. Every call is idempotent and finishes what a crashed earlier call
 * left: create re-uses an attached loop device or a finished image, delete
 * finds mounts, loop devices and files by name.
 *
 * Owns the image files, their loop devices and mounts, and the mount point
 * directory; may not touch any other mount, loop device or file (it finds its
 * own loop devices by their backing file, never by number). Instance ids are
 * path components: letters, digits, '-' and '_' only.
 */
#ifndef CT_COMPUTE_VOLUME_H
#define CT_COMPUTE_VOLUME_H

#include <limits.h>
#include <stdbool.h>

#include "common/error.h"

/* What Trove's guest reports for a volume (get_filesystem_volume_stats). */
struct volume_stats {
	unsigned long block_size;
	unsigned long long total_blocks, free_blocks;
	unsigned long long free_bytes;
	double total_gb; /* Trove's to_gb(): GiB, 2 decimals, at least 0.01 unless 0 */
	double used_gb;
};

/* Decide, once per configuration, between loop-mounted images and plain
 * directories, and the file system; logs the decision (a WARNING when loop
 * devices cannot be used). Called again it probes again (tests, reloads). The
 * other calls run it on first use. */
int volume_init(struct ct_error *err);
/* After volume_init(): true when volumes are loop-mounted images. */
bool volume_uses_loop(void);

/* Where the data lives, for the datastore's data directory (out[PATH_MAX]). */
int volume_mount_point(const char *instance_id, char *out, struct ct_error *err);
/* The image file's path (out[PATH_MAX]); it may not exist. */
int volume_image_path(const char *instance_id, char *out, struct ct_error *err);

/* Create, format and mount (or finish doing so) a volume of size_gb GiB. */
int volume_create(const char *instance_id, int size_gb, struct ct_error *err);
/* Mount an existing volume again (a reboot dropped its loop device and mount);
 * 0 when it is mounted already or is a plain directory, 404 when the image is
 * gone. Never makes a new, empty volume. */
int volume_attach(const char *instance_id, struct ct_error *err);
/* Used and total space; 404 when the instance has no volume mounted. */
int volume_stats(const char *instance_id, struct volume_stats *out, struct ct_error *err);
/* Grow to new_size_gb GiB: XFS online; ext4 unmounts, checks, resizes and
 * remounts (409 while anything uses the volume). 400 when smaller than now. */
int volume_grow(const char *instance_id, int new_size_gb, struct ct_error *err);
/* 1 when the volume can grow under a running server (XFS, or a plain
 * directory with nothing to grow), 0 when it must be unmounted first (ext4),
 * -1 failed (404 when there is no volume). */
int volume_grows_online(const char *instance_id, struct ct_error *err);
/* Unmount, free the loop device, delete the image and the mount point; 0 when
 * nothing is left (also when nothing was there). 409 while the volume is busy. */
int volume_delete(const char *instance_id, struct ct_error *err);

/* Trove's utils.to_gb(): bytes to GiB rounded to 2 decimals, >= 0.01 unless 0. */
double volume_to_gb(unsigned long long bytes);

#endif
