/*
 * archive_mark.c — see archive_mark.h. Reads directory entries and their
 * stat(); may not open, change or remove a file.
 */
#include "guest/archive_mark.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static bool later(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

void archive_mark_take(const char *dir, const char *prefix, struct archive_mark *out)
{
	memset(out, 0, sizeof *out);
	clock_gettime(CLOCK_REALTIME, &out->taken);
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct stat st;
	if (fstat(dirfd(d), &st)) {
		closedir(d);
		return;
	}
	out->newest = st.st_mtim; /* files made, renamed or removed */
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, plen))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		out->files++;
		out->bytes += (long long)st.st_size;
		if (later(&st.st_mtim, &out->newest))
			out->newest = st.st_mtim;
	}
	closedir(d);
	out->valid = out->files > 0;
}

bool archive_mark_unchanged(const struct archive_mark *before, const struct archive_mark *now)
{
	if (!before->valid || !now->valid || before->files != now->files ||
	    before->bytes != now->bytes || later(&now->newest, &before->newest) ||
	    later(&before->newest, &now->newest))
		return false;
	struct timespec settled = before->newest;
	settled.tv_sec += 1;
	return !later(&settled, &before->taken);
}
