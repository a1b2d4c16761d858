/*
 * local_list.c — listing the local store by prefix: a walk of the tree that
 * enters only directories the prefix can match, collects the published
 * objects (a file with a record), and hands them over in byte order of their
 * names, as Swift lists. Reads directory entries only; may not change any.
 */
#define LOG_MODULE "storage"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/local_internal.h"

struct found {
	char *name;
	uint64_t size;
	int64_t created;
};

struct walk {
	const char *prefix;
	size_t prefix_len;
	struct found *items;
	size_t count, cap;
};

/* path[0..len) and the prefix agree as far as both go. */
static bool agrees(const struct walk *w, const char *path, size_t len)
{
	return !memcmp(path, w->prefix, len < w->prefix_len ? len : w->prefix_len);
}

static int add(struct walk *w, const char *path, size_t len, uint64_t size, int64_t created,
	       struct ct_error *err)
{
	if (w->count == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct found *items = realloc(w->items, cap * sizeof *items);
		if (!items)
			return ct_fail(err, 500, "out of memory");
		w->items = items;
		w->cap = cap;
	}
	char *name = strndup(path, len);
	if (!name)
		return ct_fail(err, 500, "out of memory");
	w->items[w->count++] = (struct found){name, size, created};
	return 0;
}

/* Walks the directory fd (taken over) whose relative path is path[0..len). */
static int walk_dir(struct walk *w, int fd, char *path, size_t len, struct ct_error *err)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		log_error("list backup store at %.*s: %s", (int)len, path, strerror(errno));
		return ct_fail(err, 500, "Cannot list the backup store: %s.", strerror(errno));
	}
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		/* Hidden entries are the store's own; longer paths are no valid name. */
		if (e->d_name[0] == '.' || len + n + 1 > STORE_NAME_MAX)
			continue;
		memcpy(path + len, e->d_name, n);
		if (!agrees(w, path, len + n))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue; /* removed meanwhile */
		if (S_ISDIR(st.st_mode)) {
			path[len + n] = '/';
			if (!agrees(w, path, len + n + 1))
				continue;
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rc = walk_dir(w, sub, path, len + n + 1, err);
		} else if (S_ISREG(st.st_mode) && len + n >= w->prefix_len) {
			char record[NAME_MAX + 1];
			struct stat rst;
			local_record_name(e->d_name, record);
			if (!fstatat(dirfd(d), record, &rst, AT_SYMLINK_NOFOLLOW))
				rc = add(w, path, len + n, (uint64_t)st.st_size,
					 (int64_t)rst.st_mtim.tv_sec, err);
		}
	}
	closedir(d);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->name, ((const struct found *)b)->name);
}

int local_list(void *impl, const char *prefix, store_list_fn fn, void *arg, struct ct_error *err)
{
	struct local_store *s = impl;
	struct walk w = {.prefix = prefix, .prefix_len = strlen(prefix)};
	char path[STORE_NAME_MAX + 2];
	int root = openat(s->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		log_error("list backup store %s: %s", s->root, strerror(errno));
		return ct_fail(err, 500, "Cannot list the backup store: %s.", strerror(errno));
	}
	int rc = walk_dir(&w, root, path, 0, err);
	if (!rc && w.count > 1)
		qsort(w.items, w.count, sizeof *w.items, by_name);
	for (size_t i = 0; !rc && i < w.count; i++) {
		struct store_entry entry = {w.items[i].name, w.items[i].size, w.items[i].created};
		rc = fn(&entry, arg, err);
	}
	for (size_t i = 0; i < w.count; i++)
		free(w.items[i].name);
	free(w.items);
	return rc;
}
