/*
 * mounts.h — reading the kernel's view of mounts and loop devices.
 *
 * Mounts come from /proc/self/mountinfo, loop devices from
 * /sys/block/loopN/loop/backing_file, so the local driver finds what it made by
 * path, whatever a crash left behind. Read-only: owns nothing and changes
 * nothing.
 */
#ifndef CT_COMPUTE_MOUNTS_H
#define CT_COMPUTE_MOUNTS_H

#include <stddef.h>

#include "common/error.h"

#define MOUNTS_DEV_MAX	  64
#define MOUNTS_FSTYPE_MAX 32

/* 1 when mount_point (canonical absolute path) is a mount point, filling the
 * topmost mount's source device and fstype (either may be NULL); 0 when not;
 * -1 when mountinfo cannot be read. */
int mounts_find(const char *mount_point, char source[MOUNTS_DEV_MAX],
		char fstype[MOUNTS_FSTYPE_MAX], struct ct_error *err);

/* Loop devices ("/dev/loopN") whose backing file is `image` (canonical path),
 * also when the file was deleted under them. Returns how many were found (at
 * most max). */
int mounts_loops_for(const char *image, char devs[][MOUNTS_DEV_MAX], int max);

/* The backing file of a loop device ("/dev/loopN"), or "" (out[PATH_MAX]). */
void mounts_loop_backing(const char *dev, char *out);

#endif
