/*
 * paths.c — directories and file helpers of the local compute driver (paths.h).
 * Owns nothing long-lived; removes only what it is asked to.
 */
#define LOG_MODULE "compute"
#include "compute/paths.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"

bool paths_valid_id(const char *id)
{
	size_t n = 0;
	if (!id || !*id || *id == '-')
		return false;
	for (; id[n]; n++) {
		char c = id[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n <= 64;
}

int paths_check_id(const char *id, struct ct_error *err)
{
	if (paths_valid_id(id))
		return 0;
	return ct_fail(err, 400, "Invalid instance id '%.64s'.", id ? id : "");
}

static int configured_dir(enum cfg_id id, const char *name, const char *under_state, char *out,
			  struct ct_error *err)
{
	const char *dir = cfg_str(id);
	int n;
	if (dir && *dir)
		n = snprintf(out, PATH_MAX, "%s", dir);
	else
		n = snprintf(out, PATH_MAX, "%s/%s", cfg_str(CFG_STATE_PATH), under_state);
	if (n < 0 || n >= PATH_MAX)
		return ct_fail(err, 500, "[local] %s is too long", name);
	if (out[0] != '/')
		return ct_fail(err, 500, "[local] %s must be an absolute path, not '%.200s'", name,
			       out);
	char real[PATH_MAX];
	if (realpath(out, real))
		snprintf(out, PATH_MAX, "%s", real);
	return 0;
}

int paths_instances_dir(char *out, struct ct_error *err)
{
	return configured_dir(CFG_LOCAL_INSTANCES_DIR, "instances_dir", "instances", out, err);
}

int paths_volumes_dir(char *out, struct ct_error *err)
{
	return configured_dir(CFG_LOCAL_VOLUMES_DIR, "volumes_dir", "volumes", out, err);
}

int paths_mkdir_p(const char *path, mode_t mode, struct ct_error *err)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return ct_fail(err, 500, "path too long");
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST) {
			log_error("mkdir %s: %s", buf, strerror(errno));
			return ct_fail(err, 500, "cannot create directory %s: %s", buf,
				       strerror(errno));
		}
		*p = saved;
		if (!saved)
			break;
	}
	struct stat st;
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return ct_fail(err, 500, "%s is not a directory", path);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rc = (type == FTW_DP) ? rmdir(path) : unlink(path);
	if (rc && errno != ENOENT) {
		log_error("remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int paths_remove_tree(const char *path, struct ct_error *err)
{
	struct stat st;
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		return ct_fail(err, 500, "cannot inspect %s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) && errno != ENOENT)
			return ct_fail(err, 500, "cannot remove %s: %s", path, strerror(errno));
		return 0;
	}
	if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT))
		return ct_fail(err, 500, "cannot remove %s completely (see the log)", path);
	if (!access(path, F_OK))
		return ct_fail(err, 500, "cannot remove %s: something else is mounted in it", path);
	return 0;
}
