/*
 * volume_fs.h — the guest's own volume in a VM (Trove's mount_volume and
 * resize_fs): the agent mounts the device its config names (device_path) at
 * its data directory when it starts, formatting it the first time, and grows
 * the file system after Cinder grew the device. Only that device is ever
 * touched, never a path a caller sends.
 */
#ifndef CTROVE_GUEST_VOLUME_FS_H
#define CTROVE_GUEST_VOLUME_FS_H

#include "common/error.h"

/* Mount device (ext4, noatime) at mount_point unless something already is
 * mounted there; a device without a file system is formatted first, one with
 * another file system is refused (never overwritten). Tool output goes to
 * log_path (NULL: nowhere). An empty device means the data directory is not a volume of its
 * own (a host-run agent, docs/openstack.md): nothing to do, 0. */
int guest_volume_mount(const char *device, const char *mount_point, const char *log_path,
		       struct ct_error *err);

/* Grow the ext4 file system on device to the device's size: online with
 * resize2fs when it is mounted (Trove's online_volume_resize), else after
 * e2fsck -f as Trove's offline path. Empty device: nothing to grow, 0. */
int guest_volume_grow(const char *device, const char *log_path, struct ct_error *err);

#endif
