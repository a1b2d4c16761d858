/*
 * test_volume_fs.c — guest/volume_fs.c against a real block device (a loop
 * device over a sparse file, as a VM's Cinder volume): the first mount
 * formats it ext4; a second start finds it mounted and leaves it; after an
 * unmount the data is still there (never formatted again); a device with
 * another file system is refused, untouched; after the device grew, an
 * unmounted file system is checked and grown to the new size (this machine
 * cannot grow a mounted ext4 online: no CAP_SYS_RESOURCE; a VM can); an
 * empty device is nothing to do. Owns its scratch directory and loop
 * devices; touches nothing else. Skips (77) without root or losetup.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/volume_fs.h"

static char dir[64], image[96], mnt[96], log_path[96], device[64];

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The loop device over image (a new one), into device. */
static void attach(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "losetup -f --show %s", image);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(device, sizeof device, p));
	device[strcspn(device, "\n")] = '\0';
	assert_int_equal(pclose(p), 0);
}

static double size_mib(void)
{
	struct statvfs st;
	assert_int_equal(statvfs(mnt, &st), 0);
	return (double)st.f_blocks * (double)st.f_frsize / (1024.0 * 1024.0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ctrove-volfs.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(image, sizeof image, "%s/volume.img", dir);
	snprintf(mnt, sizeof mnt, "%s/data", dir);
	snprintf(log_path, sizeof log_path, "%s/tools.log", dir);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "truncate -s 64M %s", image);
	return sh(cmd);
}

static int teardown(void **state)
{
	(void)state;
	umount2(mnt, MNT_DETACH);
	char cmd[256];
	if (device[0]) {
		snprintf(cmd, sizeof cmd, "losetup -d %s", device);
		sh(cmd);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	sh(cmd);
	return 0;
}

static void test_mount_formats_once_and_grow_follows_the_device(void **state)
{
	(void)state;
	struct ct_error err = {0};
	attach();
	assert_int_equal(guest_volume_mount(device, mnt, log_path, &err), 0);
	double first = size_mib();
	assert_true(first > 40 && first < 64);
	char marker[128];
	snprintf(marker, sizeof marker, "%s/kept", mnt);
	FILE *f = fopen(marker, "w");
	assert_non_null(f);
	fputs("data\n", f);
	fclose(f);
	/* A second start: mounted already, left alone. */
	assert_int_equal(guest_volume_mount(device, mnt, log_path, &err), 0);
	assert_int_equal(umount2(mnt, 0), 0);
	assert_int_equal(access(marker, F_OK), -1);
	/* Grown while unmounted (Cinder extended the device): checked, grown. */
	char cmd[256];
	snprintf(cmd, sizeof cmd, "truncate -s 128M %s && losetup -c %s", image, device);
	assert_int_equal(sh(cmd), 0);
	assert_int_equal(guest_volume_grow(device, log_path, &err), 0);
	/* A reboot: mounted again, not formatted again. */
	assert_int_equal(guest_volume_mount(device, mnt, log_path, &err), 0);
	assert_int_equal(access(marker, F_OK), 0);
	double grown = size_mib();
	assert_true(grown > first + 50);
}

static void test_another_file_system_is_refused_untouched(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char cmd[256];
	umount2(mnt, MNT_DETACH);
	snprintf(cmd, sizeof cmd, "losetup -d %s && mkfs.ext2 -q -F %s", device, image);
	assert_int_equal(sh(cmd), 0);
	attach();
	assert_int_equal(guest_volume_mount(device, mnt, log_path, &err), -1);
	assert_non_null(strstr(err.message, "holds a ext2 file system, not ext4"));
	snprintf(cmd, sizeof cmd, "blkid -p -o value -s TYPE %s | grep -qx ext2", device);
	assert_int_equal(sh(cmd), 0);
}

static void test_no_device_is_nothing_to_do(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(guest_volume_mount("", "/nonexistent/x", log_path, &err), 0);
	assert_int_equal(guest_volume_grow("", log_path, &err), 0);
	assert_int_equal(guest_volume_mount(image, mnt, log_path, &err), -1);
	assert_non_null(strstr(err.message, "is not a block device"));
	assert_int_equal(guest_volume_grow("/dev/ctrove-none", log_path, &err), -1);
	assert_non_null(strstr(err.message, "No such file"));
}

int main(void)
{
	if (geteuid() != 0 || sh("command -v losetup >/dev/null && losetup -f >/dev/null") != 0) {
		fprintf(stderr, "skipped: needs root and a free loop device\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mount_formats_once_and_grow_follows_the_device),
		cmocka_unit_test(test_another_file_system_is_refused_untouched),
		cmocka_unit_test(test_no_device_is_nothing_to_do),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
