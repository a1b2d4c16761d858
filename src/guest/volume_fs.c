/*
 * volume_fs.c — see volume_fs.h. Owns nothing; runs blkid, mkfs.ext4,
 * e2fsck and resize2fs on the configured device and mounts it, nothing else.
 */
#define LOG_MODULE "guest"

#include "guest/volume_fs.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/guest_util.h"

static const char *shown(const char *log_path)
{
	return log_path ? log_path : "the agent's log (no log_file: not kept)";
}

static int check_device(const char *device, struct stat *st, struct ct_error *err)
{
	if (stat(device, st))
		return ct_fail(err, 500, "the volume device %s: %s", device, strerror(errno));
	if (!S_ISBLK(st->st_mode))
		return ct_fail(err, 500, "the volume device %s is not a block device", device);
	return 0;
}

/* True when a file system of device st is mounted anywhere (its major:minor
 * in /proc/self/mountinfo). */
static bool device_mounted(const struct stat *st)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return false;
	char line[4096], want[32];
	snprintf(want, sizeof want, " %u:%u ", major(st->st_rdev), minor(st->st_rdev));
	bool found = false;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/* True when path is a mount point (its device differs from its parent's). */
static bool is_mount_point(const char *path)
{
	char parent[PATH_MAX + 4];
	snprintf(parent, sizeof parent, "%s/..", path);
	struct stat here, up;
	return !stat(path, &here) && !stat(parent, &up) &&
	       (here.st_dev != up.st_dev || here.st_ino == up.st_ino);
}

/* The file system type blkid finds on device: 1 found (type set), 0 none. */
static int fs_type(const char *device, char type[32], struct ct_error *err)
{
	/* blkid exits 2 when it finds nothing; its output is the type alone. */
	char out_path[] = "/tmp/ctrove-blkid.XXXXXX";
	int fd = mkstemp(out_path);
	if (fd < 0)
		return ct_fail(err, 500, "mkstemp: %s", strerror(errno));
	const char *const argv[] = {
		"/usr/sbin/blkid", "-p", "-o", "value", "-s", "TYPE", device, NULL};
	struct ct_error run_err = {0};
	int rc = guest_run(argv, out_path, NULL, &run_err);
	type[0] = '\0';
	FILE *f = fdopen(fd, "r");
	if (f) {
		if (fgets(type, 32, f))
			type[strcspn(type, "\n")] = '\0';
		fclose(f);
	} else {
		close(fd);
	}
	unlink(out_path);
	if (rc && strstr(run_err.message, "status 2"))
		return 0;
	if (rc)
		return ct_fail(err, 500, "blkid %s: %s", device, run_err.message);
	return type[0] ? 1 : 0;
}

int guest_volume_mount(const char *device, const char *mount_point, const char *log_path,
		       struct ct_error *err)
{
	if (!device || !*device)
		return 0;
	struct stat st;
	if (check_device(device, &st, err))
		return -1;
	if (is_mount_point(mount_point)) {
		log_info("%s is mounted already", mount_point);
		return 0;
	}
	char type[32];
	int has = fs_type(device, type, err);
	if (has < 0)
		return -1;
	if (has && strcmp(type, "ext4"))
		return ct_fail(err, 500, "the volume device %s holds a %s file system, not ext4",
			       device, type);
	if (!has) {
		const char *const mkfs[] = {"/usr/sbin/mkfs.ext4", "-q",   "-L",
					    "ctrove-data",	   device, NULL};
		if (guest_run(mkfs, log_path, NULL, err))
			return ct_fail(err, 500, "formatting %s failed; see %s", device,
				       shown(log_path));
		log_info("volume %s formatted (ext4)", device);
	}
	if (mkdir(mount_point, 0711) && errno != EEXIST)
		return ct_fail(err, 500, "mkdir %s: %s", mount_point, strerror(errno));
	if (mount(device, mount_point, "ext4", MS_NOATIME, NULL))
		return ct_fail(err, 500, "mounting %s at %s: %s", device, mount_point,
			       strerror(errno));
	log_info("volume %s mounted at %s", device, mount_point);
	return 0;
}

int guest_volume_grow(const char *device, const char *log_path, struct ct_error *err)
{
	if (!device || !*device) {
		log_info("no volume device configured: no file system to grow");
		return 0;
	}
	struct stat st;
	if (check_device(device, &st, err))
		return -1;
	if (!device_mounted(&st)) {
		/* resize2fs refuses an unmounted file system not checked since. */
		const char *const fsck[] = {"/usr/sbin/e2fsck", "-f", "-p", device, NULL};
		if (guest_run(fsck, log_path, NULL, err))
			return ct_fail(err, 500, "checking %s before growing it failed; see %s",
				       device, shown(log_path));
	}
	const char *const argv[] = {"/usr/sbin/resize2fs", device, NULL};
	if (guest_run(argv, log_path, NULL, err))
		return ct_fail(err, 500, "growing the file system on %s failed; see %s", device,
			       shown(log_path));
	log_info("file system on %s grown to the volume's size", device);
	return 0;
}
