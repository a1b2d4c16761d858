/*
 * compute_testutil.h — helpers shared by the local compute driver's tests:
 * skip unless root, a scratch directory under /tmp removed at the end (after
 * unmounting and detaching anything of ours found inside it), and running a
 * tool by argv. Header-only (static functions) so each test stays one file.
 * Touches only what lives under its own scratch directory.
 */
#ifndef CT_TESTS_COMPUTE_TESTUTIL_H
#define CT_TESTS_COMPUTE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/mounts.h"
#include "compute/paths.h"
#include "compute/run.h"

#define REQUIRE_ROOT()                                                                             \
	do {                                                                                       \
		if (geteuid() != 0) {                                                              \
			print_message("skipped: needs root\n");                                    \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static inline void ctest_init(void)
{
	cfg_reset();
	log_open(NULL, getenv("CTROVE_TEST_DEBUG") != NULL);
}

/* mkdtemp() a directory /tmp/ctrove-<what>-XXXXXX into dir[PATH_MAX]. */
static inline int ctest_scratch(char *dir, const char *what)
{
	snprintf(dir, PATH_MAX, "/tmp/ctrove-%.20s-XXXXXX", what);
	return mkdtemp(dir) ? 0 : -1;
}

/* Run argv; returns the exit status (or -1), stdout in out (may be NULL). */
static inline int ctest_run(const char *const argv[], char *out, size_t outlen)
{
	static struct run_result res;
	struct ct_error err;
	if (run_tool(argv, NULL, &res, &err))
		return -1;
	if (out && outlen) {
		size_t n = strnlen(res.out, outlen - 1);
		memcpy(out, res.out, n);
		out[n] = '\0';
	}
	return res.status;
}

/* Unmount everything mounted under dir, detach every loop device backed by a
 * file under dir, then rm -r dir: the safety net after a failed test. */
static inline void ctest_scratch_remove(const char *dir)
{
	size_t dlen = strlen(dir);
	for (int round = 0; round < 8; round++) {
		FILE *f = fopen("/proc/self/mountinfo", "re");
		if (!f)
			break;
		char line[4096], target[PATH_MAX] = "";
		while (fgets(line, sizeof line, f)) {
			char mp[PATH_MAX];
			if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
			    !strncmp(mp, dir, dlen) && mp[dlen] == '/')
				snprintf(target, sizeof target, "%s", mp);
		}
		fclose(f);
		if (!target[0])
			break;
		const char *const umount[] = {"umount", "-l", target, NULL};
		ctest_run(umount, NULL, 0);
	}
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "loop", 4) != 0)
			continue;
		char backing[PATH_MAX], dev[64];
		mounts_loop_backing(e->d_name, backing);
		if (strncmp(backing, dir, dlen) != 0 || backing[dlen] != '/')
			continue;
		snprintf(dev, sizeof dev, "/dev/%.50s", e->d_name);
		const char *const detach[] = {"losetup", "--detach", dev, NULL};
		ctest_run(detach, NULL, 0);
	}
	if (d)
		closedir(d);
	struct ct_error err;
	paths_remove_tree(dir, &err);
}

#endif
