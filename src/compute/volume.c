/*
 * volume.c — instance volumes: sparse image, mkfs, loop device, mount (volume.h).
 * Owns <volumes_dir>/<id>.img[.new], the loop devices backed by them, their
 * mounts at <instances_dir>/<id>/data and that directory; may not touch any
 * other mount or loop device. The image appears under its final name only once
 * formatted (mkfs runs on <id>.img.new, then rename), so an existing <id>.img
 * is always a finished file system.
 */
#define LOG_MODULE "compute"
#include "compute/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/config.h"
#include "common/crash_point.h"
#include "common/log.h"
#include "compute/mounts.h"
#include "compute/paths.h"
#include "compute/run.h"

enum vol_mode { VOL_UNSET, VOL_LOOP, VOL_DIR };

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int vol_mode = VOL_UNSET;
static _Atomic int vol_fs_xfs = 1; /* else ext4 */

struct vol_paths {
	char image[PATH_MAX];
	char image_new[PATH_MAX];
	char inst_dir[PATH_MAX];
	char mount_point[PATH_MAX];
};

#define GIB (1024ULL * 1024ULL * 1024ULL)

double volume_to_gb(unsigned long long bytes)
{
	if (!bytes)
		return 0.0;
	double gb = round((double)bytes / (double)GIB * 100.0) / 100.0;
	return gb < 0.01 ? 0.01 : gb;
}

/* ---- start-up: loop devices or directories ---- */

static int probe_loop(const char *vdir, char *why, size_t whylen)
{
	if (access("/dev/loop-control", F_OK)) {
		snprintf(why, whylen, "/dev/loop-control: %s", strerror(errno));
		return -1;
	}
	static const char *const tools[] = {"losetup", "mount", "umount"};
	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
		if (!run_have_tool(tools[i])) {
			snprintf(why, whylen, "%s is not installed", tools[i]);
			return -1;
		}
	char probe[PATH_MAX];
	if (snprintf(probe, sizeof probe, "%s/.loop-probe-%ld", vdir, (long)getpid()) >=
	    (int)sizeof probe) {
		snprintf(why, whylen, "[local] volumes_dir is too long");
		return -1;
	}
	int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20)) {
		snprintf(why, whylen, "cannot write %.200s: %s", probe, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(probe);
		return -1;
	}
	close(fd);
	struct run_result res;
	struct ct_error e;
	const char *const attach[] = {"losetup", "--find", "--show", "--read-only", probe, NULL};
	int rc = run_tool_ok(attach, NULL, &res, &e);
	if (rc) {
		snprintf(why, whylen, "%s", e.message);
	} else {
		char dev[MOUNTS_DEV_MAX];
		snprintf(dev, sizeof dev, "%.*s", (int)strcspn(res.out, "\n"), res.out);
		const char *const detach[] = {"losetup", "--detach", dev, NULL};
		if (run_tool_ok(detach, NULL, &res, &e))
			log_warning("loop probe: %s", e.message);
	}
	unlink(probe);
	return rc;
}

static int init_locked(struct ct_error *err)
{
	const char *want = cfg_str(CFG_LOCAL_VOLUME_FS);
	if (strcmp(want, "xfs") != 0 && strcmp(want, "ext4") != 0)
		return ct_fail(err, 500, "[local] volume_fs must be xfs or ext4, not '%.40s'",
			       want);
	char vdir[PATH_MAX], idir[PATH_MAX];
	if (paths_volumes_dir(vdir, err) || paths_instances_dir(idir, err))
		return -1;
	if (!cfg_bool(CFG_LOCAL_USE_LOOP_DEVICES)) {
		vol_mode = VOL_DIR;
		log_warning("[local] use_loop_devices = false: instance volumes are plain "
			    "directories under %s WITHOUT a size limit",
			    idir);
		return 0;
	}
	bool xfs = !strcmp(want, "xfs");
	if (xfs && !(run_have_tool("mkfs.xfs") && run_have_tool("xfs_growfs"))) {
		xfs = false;
		log_warning("mkfs.xfs or xfs_growfs is missing (package xfsprogs): volumes "
			    "are ext4, which grows only while unmounted");
	}
	if (!xfs && !(run_have_tool("mkfs.ext4") && run_have_tool("resize2fs") &&
		      run_have_tool("e2fsck"))) {
		vol_mode = VOL_DIR;
		log_warning("no mkfs.xfs nor mkfs.ext4 on this host: instance volumes are "
			    "plain directories under %s WITHOUT a size limit",
			    idir);
		return 0;
	}
	if (paths_mkdir_p(vdir, 0700, err))
		return -1;
	char why[CT_ERROR_MESSAGE_MAX + 64];
	if (probe_loop(vdir, why, sizeof why)) {
		vol_mode = VOL_DIR;
		log_warning("loop devices are not usable on this host (%s): instance volumes "
			    "are plain directories under %s WITHOUT a size limit",
			    why, idir);
		return 0;
	}
	vol_fs_xfs = xfs;
	vol_mode = VOL_LOOP;
	log_info("instance volumes: %s images under %s, loop-mounted under %s",
		 xfs ? "xfs" : "ext4", vdir, idir);
	return 0;
}

int volume_init(struct ct_error *err)
{
	pthread_mutex_lock(&init_lock);
	int rc = init_locked(err);
	pthread_mutex_unlock(&init_lock);
	return rc;
}

static int ensure_init(struct ct_error *err)
{
	if (vol_mode != VOL_UNSET)
		return 0;
	pthread_mutex_lock(&init_lock);
	int rc = vol_mode == VOL_UNSET ? init_locked(err) : 0;
	pthread_mutex_unlock(&init_lock);
	return rc;
}

bool volume_uses_loop(void)
{
	return vol_mode == VOL_LOOP;
}

/* ---- paths ---- */

static int vol_paths(const char *id, struct vol_paths *p, struct ct_error *err)
{
	char vdir[PATH_MAX], idir[PATH_MAX];
	if (paths_check_id(id, err) || paths_volumes_dir(vdir, err) ||
	    paths_instances_dir(idir, err))
		return -1;
	if (snprintf(p->image, sizeof p->image, "%s/%s.img", vdir, id) >= PATH_MAX - 8 ||
	    snprintf(p->inst_dir, sizeof p->inst_dir, "%s/%s", idir, id) >= PATH_MAX - 8)
		return ct_fail(err, 500, "volume path too long");
	if (snprintf(p->image_new, sizeof p->image_new, "%s.new", p->image) >= PATH_MAX ||
	    snprintf(p->mount_point, sizeof p->mount_point, "%s/data", p->inst_dir) >= PATH_MAX)
		return ct_fail(err, 500, "volume path too long");
	return 0;
}

int volume_mount_point(const char *instance_id, char *out, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err))
		return -1;
	memcpy(out, p.mount_point, strlen(p.mount_point) + 1);
	return 0;
}

int volume_image_path(const char *instance_id, char *out, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err))
		return -1;
	memcpy(out, p.image, strlen(p.image) + 1);
	return 0;
}

/* ---- steps ---- */

/* "xfs", "ext4" or NULL from the image's superblock. */
static const char *image_fs(const char *image)
{
	unsigned char sb[2048];
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = pread(fd, sb, sizeof sb, 0);
	close(fd);
	if (n >= 4 && !memcmp(sb, "XFSB", 4))
		return "xfs";
	if (n >= 1082 && sb[1080] == 0x53 && sb[1081] == 0xEF)
		return "ext4";
	return NULL;
}

static int make_image(const struct vol_paths *p, const char *id, int size_gb, struct ct_error *err)
{
	struct stat st;
	if (!stat(p->image, &st)) {
		if (!S_ISREG(st.st_mode))
			return ct_fail(err, 500, "%s is not a regular file", p->image);
		if ((unsigned long long)st.st_size != (unsigned long long)size_gb * GIB)
			log_info("volume image of instance %s exists with %lld bytes; kept", id,
				 (long long)st.st_size);
		return 0;
	}
	if (unlink(p->image_new) && errno != ENOENT)
		return ct_fail(err, 500, "cannot remove %s: %s", p->image_new, strerror(errno));
	int fd = open(p->image_new, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ct_fail(err, 500, "cannot create %s: %s", p->image_new, strerror(errno));
	if (ftruncate(fd, (off_t)size_gb * (off_t)GIB)) {
		int e = errno;
		close(fd);
		unlink(p->image_new);
		return ct_fail(err, e == EFBIG || e == ENOSPC ? 413 : 500,
			       "cannot size %s to %d GiB: %s", p->image_new, size_gb, strerror(e));
	}
	close(fd);
	CT_CRASH_POINT("create.volume_file");
	struct run_result res;
	const char *const mkxfs[] = {"mkfs.xfs", "-q", "-f", p->image_new, NULL};
	const char *const mkext4[] = {"mkfs.ext4", "-q", "-F", "-m", "0", p->image_new, NULL};
	if (run_tool_ok(vol_fs_xfs ? mkxfs : mkext4, NULL, &res, err)) {
		unlink(p->image_new);
		return -1;
	}
	if (rename(p->image_new, p->image))
		return ct_fail(err, 500, "cannot rename %s: %s", p->image_new, strerror(errno));
	CT_CRASH_POINT("create.mkfs");
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", p->image);
	*strrchr(dir, '/') = '\0';
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* The loop device backed by the image, attaching one when there is none. */
static int attach(const struct vol_paths *p, char dev[MOUNTS_DEV_MAX], struct ct_error *err)
{
	char devs[8][MOUNTS_DEV_MAX];
	int n = mounts_loops_for(p->image, devs, 8);
	if (n > 0) {
		snprintf(dev, MOUNTS_DEV_MAX, "%s", devs[0]);
		return 0;
	}
	struct run_result res;
	const char *const argv[] = {"losetup", "--find", "--show", p->image, NULL};
	if (run_tool_ok(argv, NULL, &res, err))
		return -1;
	size_t len = strcspn(res.out, "\n");
	if (!len || len >= MOUNTS_DEV_MAX)
		return ct_fail(err, 500, "losetup printed no device for %s", p->image);
	snprintf(dev, MOUNTS_DEV_MAX, "%.*s", (int)len, res.out);
	CT_CRASH_POINT("create.loop_attached");
	return 0;
}

static int mount_dev(const char *dev, const char *mount_point, struct ct_error *err)
{
	struct run_result res;
	const char *const argv[] = {"mount", "-o", "nodev,nosuid,noatime", dev, mount_point, NULL};
	return run_tool_ok(argv, NULL, &res, err);
}

/* 1 when unmounted, -1 failure (409 when busy). */
static int unmount(const char *id, const char *mount_point, struct ct_error *err)
{
	struct run_result res;
	const char *const argv[] = {"umount", mount_point, NULL};
	if (run_tool(argv, NULL, &res, err))
		return -1;
	if (res.status == 0)
		return 1;
	if (strstr(res.errtext, "busy"))
		return ct_fail(err, 409,
			       "The volume of instance %s is in use (a process still has files "
			       "open on it).",
			       id);
	res.errtext[strcspn(res.errtext, "\n")] = '\0';
	return ct_fail(err, 500, "umount %s failed: %.300s", mount_point, res.errtext);
}

/* 0 when what is mounted at the mount point is this instance's image. */
static int check_mounted_ours(const struct vol_paths *p, const char *source, struct ct_error *err)
{
	char backing[PATH_MAX];
	mounts_loop_backing(source, backing);
	if (!strcmp(backing, p->image))
		return 0;
	return ct_fail(err, 409, "%s is already a mount point of %s, not of the volume image %s",
		       p->mount_point, source, p->image);
}

static int attach_and_mount(const struct vol_paths *p, char dev[MOUNTS_DEV_MAX],
			    struct ct_error *err)
{
	char source[MOUNTS_DEV_MAX];
	int m = mounts_find(p->mount_point, source, NULL, err);
	if (m < 0)
		return -1;
	if (m) {
		if (check_mounted_ours(p, source, err))
			return -1;
		snprintf(dev, MOUNTS_DEV_MAX, "%s", source);
		return 0;
	}
	if (paths_mkdir_p(p->mount_point, 0755, err) || attach(p, dev, err))
		return -1;
	return mount_dev(dev, p->mount_point, err);
}

/* ---- operations ---- */

int volume_create(const char *instance_id, int size_gb, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err) || ensure_init(err))
		return -1;
	if (size_gb < 1)
		return ct_fail(err, 400,
			       "Volume 'size' needs to be a positive integer value, "
			       "%d cannot be accepted.",
			       size_gb);
	char vdir[PATH_MAX];
	if (paths_volumes_dir(vdir, err))
		return -1;
	char source[MOUNTS_DEV_MAX];
	int m = mounts_find(p.mount_point, source, NULL, err);
	if (m < 0)
		return -1;
	if (m)
		return check_mounted_ours(&p, source, err);
	if (vol_mode == VOL_DIR) {
		/* 0755 like the root of a fresh file system, whatever our umask (077):
		 * the database server runs as another user and must get through. */
		if (paths_mkdir_p(p.mount_point, 0755, err))
			return -1;
		if (chmod(p.mount_point, 0755))
			return ct_fail(err, 500, "cannot chmod %s: %s", p.mount_point,
				       strerror(errno));
		log_info("volume of instance %s is the directory %s (no size limit)", instance_id,
			 p.mount_point);
		return 0;
	}
	char dev[MOUNTS_DEV_MAX];
	if (paths_mkdir_p(vdir, 0700, err) || make_image(&p, instance_id, size_gb, err) ||
	    attach_and_mount(&p, dev, err))
		return -1;
	CT_CRASH_POINT("create.volume_mounted");
	log_info("volume of instance %s: %d GiB %s on %s mounted at %s", instance_id, size_gb,
		 image_fs(p.image) ? image_fs(p.image) : "?", dev, p.mount_point);
	return 0;
}

int volume_attach(const char *instance_id, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err) || ensure_init(err))
		return -1;
	struct stat st;
	if (stat(p.image, &st)) {
		if (errno == ENOENT && vol_mode == VOL_DIR)
			return 0; /* a plain directory: nothing to attach */
		return ct_fail(err, 404, "instance %s has no volume image %s", instance_id,
			       p.image);
	}
	char source[MOUNTS_DEV_MAX], dev[MOUNTS_DEV_MAX];
	int mounted = mounts_find(p.mount_point, source, NULL, err);
	if (mounted < 0 || attach_and_mount(&p, dev, err))
		return -1;
	if (!mounted)
		log_info("volume of instance %s mounted again from %s at %s", instance_id, dev,
			 p.mount_point);
	return 0;
}

static _Thread_local unsigned long long du_bytes;

static int du_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)type;
	(void)ftw;
	du_bytes += (unsigned long long)st->st_blocks * 512ULL;
	return 0;
}

int volume_stats(const char *instance_id, struct volume_stats *out, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err) || ensure_init(err))
		return -1;
	int m = mounts_find(p.mount_point, NULL, NULL, err);
	if (m < 0)
		return -1;
	struct stat st;
	if (!m && (vol_mode != VOL_DIR || stat(p.mount_point, &st) || !S_ISDIR(st.st_mode)))
		return ct_fail(err, 404, "The volume of instance %s was not found.", instance_id);
	struct statvfs vfs;
	if (statvfs(p.mount_point, &vfs))
		return ct_fail(err, 500, "Filesystem not found (%s)", p.mount_point);
	unsigned long long total = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
	unsigned long long free_b = (unsigned long long)vfs.f_bfree * vfs.f_frsize;
	unsigned long long used = total - free_b;
	if (!m) {
		/* Plain directory on a shared file system: count only its own files. */
		du_bytes = 0;
		nftw(p.mount_point, du_entry, 32, FTW_PHYS | FTW_MOUNT);
		used = du_bytes;
	}
	out->block_size = vfs.f_bsize;
	out->total_blocks = vfs.f_blocks;
	out->free_blocks = vfs.f_bfree;
	out->free_bytes = free_b;
	out->total_gb = volume_to_gb(total);
	out->used_gb = volume_to_gb(used);
	return 0;
}

static int refresh_capacity(const char *dev, struct ct_error *err)
{
	struct run_result res;
	const char *const argv[] = {"losetup", "--set-capacity", dev, NULL};
	return run_tool_ok(argv, NULL, &res, err);
}

static int grow_image(const struct vol_paths *p, unsigned long long bytes, struct ct_error *err)
{
	if (truncate(p->image, (off_t)bytes))
		return ct_fail(err, errno == EFBIG || errno == ENOSPC ? 413 : 500,
			       "cannot grow %s: %s", p->image, strerror(errno));
	return 0;
}

static int grow_ext4(const struct vol_paths *p, const char *id, unsigned long long bytes,
		     unsigned long long have, struct ct_error *err)
{
	/* resize2fs cannot grow a mounted ext4 here (no CAP_SYS_RESOURCE). */
	for (int i = 0; i < 8; i++) {
		int m = mounts_find(p->mount_point, NULL, NULL, err);
		if (m < 0)
			return -1;
		if (!m)
			break;
		if (unmount(id, p->mount_point, err) < 0)
			return -1;
	}
	char dev[MOUNTS_DEV_MAX];
	if (attach(p, dev, err))
		return -1;
	if (have < bytes && grow_image(p, bytes, err))
		return -1;
	struct run_result res;
	const char *const fsck[] = {"e2fsck", "-f", "-y", dev, NULL};
	if (run_tool(fsck, NULL, &res, err))
		return -1;
	if (res.status > 1) {
		res.errtext[strcspn(res.errtext, "\n")] = '\0';
		return ct_fail(err, 500,
			       "e2fsck of the volume of instance %s failed (exit %d): "
			       "%.300s",
			       id, res.status, res.errtext);
	}
	const char *const resize[] = {"resize2fs", dev, NULL};
	if (refresh_capacity(dev, err) || run_tool_ok(resize, NULL, &res, err) ||
	    mount_dev(dev, p->mount_point, err))
		return -1;
	return 0;
}

int volume_grow(const char *instance_id, int new_size_gb, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err) || ensure_init(err))
		return -1;
	if (new_size_gb < 1)
		return ct_fail(err, 400,
			       "Volume 'size' needs to be a positive integer value, "
			       "%d cannot be accepted.",
			       new_size_gb);
	struct stat st;
	if (stat(p.image, &st)) {
		if (vol_mode == VOL_DIR && !access(p.mount_point, F_OK)) {
			log_info("volume of instance %s is a directory without a size limit: "
				 "nothing to grow",
				 instance_id);
			return 0;
		}
		return ct_fail(err, 404, "The volume of instance %s was not found.", instance_id);
	}
	unsigned long long bytes = (unsigned long long)new_size_gb * GIB;
	unsigned long long have = (unsigned long long)st.st_size;
	if (have > bytes)
		return ct_fail(err, 400,
			       "The new volume 'size' must be larger than the current "
			       "volume size of '%llu'.",
			       have / GIB);
	const char *fs = image_fs(p.image);
	if (!fs)
		return ct_fail(err, 500, "%s holds no xfs or ext4 file system", p.image);
	if (!strcmp(fs, "ext4")) {
		if (grow_ext4(&p, instance_id, bytes, have, err))
			return -1;
	} else {
		char dev[MOUNTS_DEV_MAX];
		struct run_result res;
		const char *const growfs[] = {"xfs_growfs", "-d", p.mount_point, NULL};
		if (attach_and_mount(&p, dev, err) ||
		    (have < bytes && grow_image(&p, bytes, err)) || refresh_capacity(dev, err) ||
		    run_tool_ok(growfs, NULL, &res, err))
			return -1;
	}
	log_info("volume of instance %s grown to %d GiB (%s)", instance_id, new_size_gb, fs);
	return 0;
}

int volume_grows_online(const char *instance_id, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err) || ensure_init(err))
		return -1;
	if (access(p.image, F_OK)) {
		if (vol_mode == VOL_DIR && !access(p.mount_point, F_OK))
			return 1;
		return ct_fail(err, 404, "The volume of instance %s was not found.", instance_id);
	}
	const char *fs = image_fs(p.image);
	if (!fs)
		return ct_fail(err, 500, "%s holds no xfs or ext4 file system", p.image);
	return strcmp(fs, "ext4") != 0;
}

int volume_delete(const char *instance_id, struct ct_error *err)
{
	struct vol_paths p;
	if (vol_paths(instance_id, &p, err))
		return -1;
	int mounted = 1;
	bool found = false;
	for (int i = 0; i < 8 && mounted; i++) {
		mounted = mounts_find(p.mount_point, NULL, NULL, err);
		if (mounted < 0 || (mounted && unmount(instance_id, p.mount_point, err) < 0))
			return -1;
		found |= mounted > 0;
	}
	if (mounted)
		return ct_fail(err, 500, "%s is still mounted", p.mount_point);
	CT_CRASH_POINT("delete.unmounted");
	char devs[8][MOUNTS_DEV_MAX];
	int n = mounts_loops_for(p.image, devs, 8);
	found |= n > 0;
	for (int i = 0; i < n; i++) {
		struct run_result res;
		const char *const argv[] = {"losetup", "--detach", devs[i], NULL};
		if (run_tool(argv, NULL, &res, err))
			return -1;
		char backing[PATH_MAX];
		mounts_loop_backing(devs[i], backing);
		if (res.status && backing[0]) {
			res.errtext[strcspn(res.errtext, "\n")] = '\0';
			return ct_fail(err, 500, "losetup --detach %s failed: %.300s", devs[i],
				       res.errtext);
		}
	}
	CT_CRASH_POINT("delete.loop_detached");
	const char *files[] = {p.image, p.image_new};
	for (size_t i = 0; i < 2; i++) {
		if (!unlink(files[i]))
			found = true;
		else if (errno != ENOENT)
			return ct_fail(err, 500, "cannot remove %s: %s", files[i], strerror(errno));
	}
	found |= !access(p.mount_point, F_OK);
	if (paths_remove_tree(p.mount_point, err))
		return -1;
	if (rmdir(p.inst_dir) && errno != ENOENT && errno != ENOTEMPTY)
		log_warning("cannot remove %s: %s", p.inst_dir, strerror(errno));
	if (found)
		log_info("volume of instance %s deleted", instance_id);
	return 0;
}
