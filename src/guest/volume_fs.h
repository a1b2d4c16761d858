/*
 * volume_fs.h — the guest's own volume (Trove's resize_fs): after Cinder
 * grew the device, the file system on it grows to match. Only the device
 * the agent's own config names (device_path) is ever touched, never a path
 * a caller sends.
 */
#ifndef CTROVE_GUEST_VOLUME_FS_H
#define CTROVE_GUEST_VOLUME_FS_H

#include "common/error.h"

/* Grow the ext4 file system on device (mounted: online, as Trove's default
 * online_volume_resize) to the device's size; resize2fs's output goes to
 * log_path. An empty device means the data directory is not a volume of its
 * own (a host-run agent, docs/openstack.md): nothing to grow, 0. */
int guest_volume_grow(const char *device, const char *log_path, struct ct_error *err);

#endif
