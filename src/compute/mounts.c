/*
 * mounts.c — mountinfo and loop-device lookups (mounts.h). Read-only.
 */
#define LOG_MODULE "compute"
#include "compute/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int mounts_find(const char *mount_point, char source[MOUNTS_DEV_MAX],
		char fstype[MOUNTS_FSTYPE_MAX], struct ct_error *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		log_error("/proc/self/mountinfo: %s", strerror(errno));
		return ct_fail(err, 500, "cannot read the mount table");
	}
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mount_point options [optional...] - type source super */
		char *save = NULL, *field[5] = {0};
		char *tok = strtok_r(line, " \n", &save);
		for (int i = 0; tok && i < 5; i++) {
			field[i] = tok;
			if (i < 4)
				tok = strtok_r(NULL, " \n", &save);
		}
		if (!field[4])
			continue;
		unescape(field[4]);
		if (strcmp(field[4], mount_point) != 0)
			continue;
		char *type = NULL, *src = NULL;
		while ((tok = strtok_r(NULL, " \n", &save))) {
			if (!strcmp(tok, "-")) {
				type = strtok_r(NULL, " \n", &save);
				src = strtok_r(NULL, " \n", &save);
				break;
			}
		}
		/* Later lines are mounted on top: the last match is what is visible. */
		found = 1;
		if (source) {
			snprintf(source, MOUNTS_DEV_MAX, "%s", src ? src : "");
			unescape(source);
		}
		if (fstype)
			snprintf(fstype, MOUNTS_FSTYPE_MAX, "%s", type ? type : "");
	}
	free(line);
	fclose(f);
	return found;
}

void mounts_loop_backing(const char *dev, char *out)
{
	out[0] = '\0';
	const char *name = strrchr(dev, '/');
	name = name ? name + 1 : dev;
	char path[128];
	snprintf(path, sizeof path, "/sys/block/%.60s/loop/backing_file", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, PATH_MAX, f))
		out[strcspn(out, "\n")] = '\0';
	else
		out[0] = '\0';
	fclose(f);
}

int mounts_loops_for(const char *image, char devs[][MOUNTS_DEV_MAX], int max)
{
	DIR *d = opendir("/sys/block");
	if (!d)
		return 0;
	int n = 0;
	size_t ilen = strlen(image);
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		if (strncmp(e->d_name, "loop", 4) != 0)
			continue;
		char backing[PATH_MAX];
		mounts_loop_backing(e->d_name, backing);
		if (strncmp(backing, image, ilen) != 0)
			continue;
		if (backing[ilen] && strcmp(backing + ilen, " (deleted)") != 0)
			continue;
		snprintf(devs[n++], MOUNTS_DEV_MAX, "/dev/%.50s", e->d_name);
	}
	closedir(d);
	return n;
}
