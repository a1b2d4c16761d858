/*
 * test_volume.c — real loop-mounted volumes (needs root, mkfs.xfs, losetup):
 * create/mount/size/used/grow/delete, crashes half-way, a busy volume, ext4
 * and the plain-directory fallback. Everything lives under one scratch
 * directory that the group teardown unmounts, detaches and removes even after
 * a failed assertion. Touches no other mount or loop device.
 */
#include "compute_testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "compute/volume.h"

static char scratch[PATH_MAX];

static const char *const ids[] = {"vol-life",	"vol-crash1", "vol-crash2", "vol-crash3",
				  "vol-manual", "vol-busy",   "vol-ext4",   "vol-dir"};

static void set_dirs(void)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/instances", scratch);
	assert_int_equal(cfg_set(CFG_LOCAL_INSTANCES_DIR, path, NULL), 0);
	snprintf(path, sizeof path, "%s/volumes", scratch);
	assert_int_equal(cfg_set(CFG_LOCAL_VOLUMES_DIR, path, NULL), 0);
}

static int group_setup(void **state)
{
	(void)state;
	ctest_init();
	if (ctest_scratch(scratch, "volume"))
		return -1;
	set_dirs();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	struct ct_error err;
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		volume_delete(ids[i], &err);
	ctest_scratch_remove(scratch);
	cfg_free();
	return 0;
}

/* Back to the default xfs + loop configuration after each test. */
static int test_teardown(void **state)
{
	(void)state;
	struct ct_error err;
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		volume_delete(ids[i], &err);
	cfg_set(CFG_LOCAL_VOLUME_FS, "xfs", NULL);
	cfg_set(CFG_LOCAL_USE_LOOP_DEVICES, "true", NULL);
	volume_init(&err);
	return 0;
}

static void must(int rc, const struct ct_error *err)
{
	if (rc)
		fail_msg("error %d: %s", err->status, err->message);
}

static void assert_gone(const char *id)
{
	char mp[PATH_MAX], image[PATH_MAX], image_new[PATH_MAX + 8], out[8192];
	struct ct_error err;
	must(volume_mount_point(id, mp, &err), &err);
	must(volume_image_path(id, image, &err), &err);
	snprintf(image_new, sizeof image_new, "%s.new", image);
	assert_int_equal(mounts_find(mp, NULL, NULL, &err), 0);
	char devs[4][MOUNTS_DEV_MAX];
	assert_int_equal(mounts_loops_for(image, devs, 4), 0);
	const char *const losetup[] = {"losetup", "-a", NULL};
	assert_int_equal(ctest_run(losetup, out, sizeof out), 0);
	assert_null(strstr(out, image));
	assert_int_not_equal(access(image, F_OK), 0);
	assert_int_not_equal(access(image_new, F_OK), 0);
	assert_int_not_equal(access(mp, F_OK), 0);
}

static void write_file(const char *dir, const char *name, size_t mib)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	static char block[1 << 20];
	memset(block, 'x', sizeof block);
	for (size_t i = 0; i < mib; i++)
		assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

static void test_xfs_lifecycle(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	const char *id = ids[0];
	must(volume_init(&err), &err);
	assert_true(volume_uses_loop());
	must(volume_create(id, 1, &err), &err);

	char mp[PATH_MAX], image[PATH_MAX], source[MOUNTS_DEV_MAX], fstype[MOUNTS_FSTYPE_MAX];
	must(volume_mount_point(id, mp, &err), &err);
	must(volume_image_path(id, image, &err), &err);
	assert_int_equal(mounts_find(mp, source, fstype, &err), 1);
	assert_string_equal(fstype, "xfs");
	char devs[4][MOUNTS_DEV_MAX];
	assert_int_equal(mounts_loops_for(image, devs, 4), 1);
	assert_string_equal(devs[0], source);
	struct stat st;
	assert_int_equal(stat(image, &st), 0);
	assert_true(st.st_size == 1LL << 30);
	assert_true(st.st_blocks * 512LL < 200LL << 20); /* sparse */

	struct volume_stats vs;
	must(volume_stats(id, &vs, &err), &err);
	assert_true(vs.total_gb >= 0.9 && vs.total_gb <= 1.0);
	double used0 = vs.used_gb;
	write_file(mp, "payload", 100);
	must(volume_stats(id, &vs, &err), &err);
	assert_true(vs.used_gb >= used0 + 0.09);

	/* A second create is a no-op on the mounted volume. */
	must(volume_create(id, 1, &err), &err);
	assert_int_equal(mounts_loops_for(image, devs, 4), 1);

	assert_int_equal(volume_grows_online(id, &err), 1);
	must(volume_grow(id, 2, &err), &err);
	must(volume_stats(id, &vs, &err), &err);
	assert_true(vs.total_gb >= 1.9 && vs.total_gb <= 2.0);
	char payload[PATH_MAX + 16];
	snprintf(payload, sizeof payload, "%s/payload", mp);
	assert_int_equal(stat(payload, &st), 0);
	assert_true(st.st_size == 100LL << 20);
	must(volume_grow(id, 2, &err), &err); /* re-run: nothing left to do */
	assert_int_equal(volume_grow(id, 1, &err), -1);
	assert_int_equal(err.status, 400);

	must(volume_delete(id, &err), &err);
	assert_gone(id);
	must(volume_delete(id, &err), &err);
	assert_int_equal(volume_stats(id, &vs, &err), -1);
	assert_int_equal(err.status, 404);
}

/* Crash after mount: unmounted by hand but the loop device still attached. */
static void test_crash_attached_then_delete(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	const char *id = ids[1];
	char mp[PATH_MAX], image[PATH_MAX];
	must(volume_create(id, 1, &err), &err);
	must(volume_mount_point(id, mp, &err), &err);
	must(volume_image_path(id, image, &err), &err);
	const char *const umount[] = {"umount", mp, NULL};
	assert_int_equal(ctest_run(umount, NULL, 0), 0);
	char devs[4][MOUNTS_DEV_MAX];
	assert_int_equal(mounts_loops_for(image, devs, 4), 1);
	must(volume_delete(id, &err), &err);
	assert_gone(id);
}

/* Crash during mkfs: a half-made <id>.img.new; delete removes it, create redoes it. */
static void test_crash_half_image(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	char image[PATH_MAX], junk[PATH_MAX + 8];
	const char *id = ids[2];
	must(volume_init(&err), &err);
	must(volume_image_path(id, image, &err), &err);
	snprintf(junk, sizeof junk, "%s.new", image);
	char vdir[PATH_MAX];
	must(paths_volumes_dir(vdir, &err), &err);
	must(paths_mkdir_p(vdir, 0700, &err), &err);
	FILE *f = fopen(junk, "w");
	assert_non_null(f);
	fputs("not a file system", f);
	fclose(f);
	must(volume_delete(id, &err), &err);
	assert_gone(id);

	f = fopen(junk, "w");
	assert_non_null(f);
	fputs("not a file system", f);
	fclose(f);
	id = ids[3];
	must(volume_image_path(id, image, &err), &err);
	snprintf(junk, sizeof junk, "%s.new", image);
	f = fopen(junk, "w");
	assert_non_null(f);
	fclose(f);
	must(volume_create(id, 1, &err), &err);
	assert_int_not_equal(access(junk, F_OK), 0);
	struct volume_stats vs;
	must(volume_stats(id, &vs, &err), &err);
	assert_true(vs.total_gb >= 0.9);
	must(volume_delete(id, &err), &err);
	assert_gone(id);
}

/* Someone (an operator, a crashed run) mounted the image by hand: create
 * adopts it; a loop device attached by hand is re-used, not duplicated. */
static void test_manual_mount_then_create(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	const char *id = ids[4];
	char mp[PATH_MAX], image[PATH_MAX], devs[4][MOUNTS_DEV_MAX];
	must(volume_create(id, 1, &err), &err);
	must(volume_mount_point(id, mp, &err), &err);
	must(volume_image_path(id, image, &err), &err);
	const char *const umount[] = {"umount", mp, NULL};
	assert_int_equal(ctest_run(umount, NULL, 0), 0);
	assert_int_equal(mounts_loops_for(image, devs, 4), 1);
	const char *const detach[] = {"losetup", "--detach", devs[0], NULL};
	assert_int_equal(ctest_run(detach, NULL, 0), 0);

	const char *const mount_loop[] = {"mount", "-o", "loop", image, mp, NULL};
	assert_int_equal(ctest_run(mount_loop, NULL, 0), 0);
	must(volume_create(id, 1, &err), &err);
	assert_int_equal(mounts_loops_for(image, devs, 4), 1);
	struct volume_stats vs;
	must(volume_stats(id, &vs, &err), &err);
	assert_int_equal(ctest_run(umount, NULL, 0), 0);

	const char *const attach[] = {"losetup", "--find", image, NULL};
	assert_int_equal(ctest_run(attach, NULL, 0), 0);
	assert_int_equal(mounts_loops_for(image, devs, 4), 1);
	must(volume_create(id, 1, &err), &err);
	assert_int_equal(mounts_loops_for(image, devs, 4), 1);
	assert_int_equal(mounts_find(mp, NULL, NULL, &err), 1);
	must(volume_delete(id, &err), &err);
	assert_gone(id);
}

static void test_busy_volume(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	const char *id = ids[5];
	char mp[PATH_MAX], path[PATH_MAX + 16];
	must(volume_create(id, 1, &err), &err);
	must(volume_mount_point(id, mp, &err), &err);
	snprintf(path, sizeof path, "%s/open", mp);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(volume_delete(id, &err), -1);
	assert_int_equal(err.status, 409);
	close(fd);
	must(volume_delete(id, &err), &err);
	assert_gone(id);
}

static void test_ext4_offline_grow(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	const char *id = ids[6];
	must(cfg_set(CFG_LOCAL_VOLUME_FS, "ext4", &err), &err);
	must(volume_init(&err), &err);
	must(volume_create(id, 1, &err), &err);
	char mp[PATH_MAX], fstype[MOUNTS_FSTYPE_MAX];
	must(volume_mount_point(id, mp, &err), &err);
	assert_int_equal(mounts_find(mp, NULL, fstype, &err), 1);
	assert_string_equal(fstype, "ext4");
	write_file(mp, "payload", 10);
	struct volume_stats vs;
	must(volume_stats(id, &vs, &err), &err);
	assert_true(vs.total_gb >= 0.9 && vs.total_gb <= 1.0);
	/* Resize's local driver refuses it: it grows only unmounted. */
	assert_int_equal(volume_grows_online(id, &err), 0);
	must(volume_grow(id, 2, &err), &err);
	must(volume_stats(id, &vs, &err), &err);
	assert_true(vs.total_gb >= 1.9 && vs.total_gb <= 2.0);
	char payload[PATH_MAX + 16];
	snprintf(payload, sizeof payload, "%s/payload", mp);
	assert_int_equal(access(payload, F_OK), 0);
	must(volume_delete(id, &err), &err);
	assert_gone(id);
}

static void test_directory_fallback(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	const char *id = ids[7];
	must(cfg_set(CFG_LOCAL_USE_LOOP_DEVICES, "false", &err), &err);
	must(volume_init(&err), &err);
	assert_false(volume_uses_loop());
	/* ctrove runs with umask 077; the directory must still let the
	 * database's own user through, as a fresh file system's root does. */
	mode_t old_umask = umask(077);
	int rc = volume_create(id, 1, &err);
	umask(old_umask);
	must(rc, &err);
	char mp[PATH_MAX], image[PATH_MAX];
	must(volume_mount_point(id, mp, &err), &err);
	struct stat st;
	assert_int_equal(stat(mp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	must(volume_image_path(id, image, &err), &err);
	assert_int_equal(mounts_find(mp, NULL, NULL, &err), 0);
	assert_int_equal(access(mp, W_OK), 0);
	assert_int_not_equal(access(image, F_OK), 0);
	write_file(mp, "payload", 20);
	struct volume_stats vs;
	must(volume_stats(id, &vs, &err), &err);
	assert_true(vs.used_gb >= 0.01 && vs.used_gb <= 0.03);
	assert_int_equal(volume_grows_online(id, &err), 1);
	must(volume_grow(id, 2, &err), &err); /* no limit: nothing to do */
	must(volume_create(id, 1, &err), &err);
	must(volume_delete(id, &err), &err);
	assert_gone(id);
}

static void test_bad_ids(void **state)
{
	(void)state;
	struct ct_error err;
	assert_int_equal(volume_create("../etc", 1, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(volume_delete("a/b", &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(volume_delete("", &err), -1);
	assert_int_equal(volume_delete("-rf", &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_xfs_lifecycle, test_teardown),
		cmocka_unit_test_teardown(test_crash_attached_then_delete, test_teardown),
		cmocka_unit_test_teardown(test_crash_half_image, test_teardown),
		cmocka_unit_test_teardown(test_manual_mount_then_create, test_teardown),
		cmocka_unit_test_teardown(test_busy_volume, test_teardown),
		cmocka_unit_test_teardown(test_ext4_offline_grow, test_teardown),
		cmocka_unit_test_teardown(test_directory_fallback, test_teardown),
		cmocka_unit_test(test_bad_ids),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
