/*
 * local_store.c — the local directory backup store (local_store.h): writers,
 * readers, stat and delete on files under one root, opened component by
 * component with openat(O_NOFOLLOW) so that no name and no planted symlink can
 * reach outside the root.
 *
 * Publishing is atomic and write-once: bytes go to a hidden temp file, are
 * fsync'd with their record, and are renamed into place under flock() of their
 * directory, the record last, then the directory is fsync'd. A crash leaves
 * only hidden temp files or bytes without a record — never a visible partial
 * object. Owns its root directory; may not touch anything outside it.
 */
#define LOG_MODULE "storage"
#include "storage/local_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "storage/backend.h"
#include "storage/local_internal.h"

#define WRITE_BUFFER (256 * 1024) /* few write(2)s however small the caller's chunks */

struct local_writer {
	int dir_fd;
	int fd;
	size_t used;
	char base[STORE_COMPONENT_MAX + 1];
	char tmp[NAME_MAX + 1];
	char name[STORE_NAME_MAX + 1];
	unsigned char buf[WRITE_BUFFER];
};

struct local_reader {
	int fd;
	char name[STORE_NAME_MAX + 1];
};

static int not_found(const char *name, struct ct_error *err)
{
	return ct_fail(err, 404, "Backup file in %s was not found in the object storage.", name);
}

static int io_fail(const char *what, const char *name, struct ct_error *err)
{
	log_error("%s for backup object %s: %s", what, name, strerror(errno));
	return ct_fail(err, 500, "Backup store: %s failed for '%s': %s.", what, name,
		       strerror(errno));
}

/* The subdirectory comp of dir; with create, made 0700 (and its entry synced). */
static int open_subdir(int dir, const char *comp, bool create, const char *name,
		       struct ct_error *err)
{
	int fd = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (!mkdirat(dir, comp, 0700)) {
			if (fsync(dir))
				return io_fail("fsync of a directory", name, err);
		} else if (errno != EEXIST) {
			return io_fail("mkdir", name, err);
		}
		fd = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return not_found(name, err);
	if (errno == ENOTDIR || errno == ELOOP) {
		if (!create)
			return not_found(name, err);
		return ct_fail(err, 409,
			       "Backup object '%s' cannot be created: a part of its path is an "
			       "object.",
			       name);
	}
	return io_fail("open of a directory", name, err);
}

/* The directory holding name's last component (which *base points to). */
static int open_parent(struct local_store *s, const char *name, bool create, const char **base,
		       struct ct_error *err)
{
	int dir = s->root_fd;
	const char *c = name;
	const char *slash;
	while ((slash = strchr(c, '/'))) {
		char comp[STORE_COMPONENT_MAX + 1];
		size_t n = (size_t)(slash - c);
		memcpy(comp, c, n); /* names.c bounds n by STORE_COMPONENT_MAX */
		comp[n] = '\0';
		int next = open_subdir(dir, comp, create, name, err);
		if (dir != s->root_fd)
			close(dir);
		if (next < 0)
			return -1;
		dir = next;
		c = slash + 1;
	}
	*base = c;
	return dir; /* names hold a '/', so never the root itself */
}

static void random_suffix(char out[17])
{
	static const char hex[] = "0123456789abcdef";
	static _Atomic unsigned counter;
	unsigned char bytes[8];
	if (ids_random(bytes, sizeof bytes)) {
		/* getrandom() failing is near impossible; O_EXCL still keeps names unique. */
		unsigned long long v = ((unsigned long long)getpid() << 32) ^ ++counter;
		memcpy(bytes, &v, sizeof bytes);
	}
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[16] = '\0';
}

static void *local_open_write(void *impl, const char *name, struct ct_error *err)
{
	struct local_store *s = impl;
	const char *base;
	int dir = open_parent(s, name, true, &base, err);
	if (dir < 0)
		return NULL;
	if (local_record_exists(dir, base)) {
		close(dir);
		ct_fail(err, 409, "Backup object '%s' already exists.", name);
		return NULL;
	}
	struct stat st;
	if (!fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode)) {
		close(dir);
		ct_fail(err, 409,
			"Backup object '%s' cannot be created: objects exist under that name.",
			name);
		return NULL;
	}
	struct local_writer *w = malloc(sizeof *w);
	if (!w) {
		close(dir);
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	w->dir_fd = dir;
	w->used = 0;
	snprintf(w->base, sizeof w->base, "%s", base);
	snprintf(w->name, sizeof w->name, "%s", name);
	for (int attempt = 0;; attempt++) {
		char suffix[17];
		random_suffix(suffix);
		snprintf(w->tmp, sizeof w->tmp, ".%s.tmp-%s", base, suffix);
		w->fd = openat(dir, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       0600);
		if (w->fd >= 0)
			return w;
		if (errno != EEXIST || attempt == 3)
			break;
	}
	io_fail("create", name, err);
	close(dir);
	free(w);
	return NULL;
}

static int flush(struct local_writer *w, struct ct_error *err)
{
	if (!w->used)
		return 0;
	int rc = local_write_all(w->fd, w->buf, w->used, w->name, err);
	w->used = 0;
	return rc;
}

static int local_write(void *handle, const void *buf, size_t len, struct ct_error *err)
{
	struct local_writer *w = handle;
	if (w->used + len > WRITE_BUFFER && flush(w, err))
		return -1;
	if (len >= WRITE_BUFFER)
		return local_write_all(w->fd, buf, len, w->name, err);
	memcpy(w->buf + w->used, buf, len);
	w->used += len;
	return 0;
}

static void writer_release(struct local_writer *w, const char *record_tmp)
{
	if (w->fd >= 0)
		close(w->fd);
	unlinkat(w->dir_fd, w->tmp, 0);
	if (record_tmp)
		unlinkat(w->dir_fd, record_tmp, 0);
	close(w->dir_fd);
	free(w);
}

static void local_abort(void *handle)
{
	writer_release(handle, NULL);
}

/* Under the directory's lock: the name is still free, bytes then record go in. */
static int publish(struct local_writer *w, const char *record_tmp, struct ct_error *err)
{
	char record[NAME_MAX + 1];
	local_record_name(w->base, record);
	if (local_record_exists(w->dir_fd, w->base))
		return ct_fail(err, 409, "Backup object '%s' already exists.", w->name);
	/* Bytes without a record are a crashed writer's (we hold the lock): replaced. */
	if (renameat(w->dir_fd, w->tmp, w->dir_fd, w->base)) {
		if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
			return ct_fail(err, 409,
				       "Backup object '%s' cannot be created: objects exist "
				       "under that name.",
				       w->name);
		return io_fail("rename", w->name, err);
	}
	if (renameat(w->dir_fd, record_tmp, w->dir_fd, record)) {
		int rc = io_fail("rename of the record", w->name, err);
		unlinkat(w->dir_fd, w->base, 0);
		return rc;
	}
	if (fsync(w->dir_fd)) {
		int rc = io_fail("fsync of the directory", w->name, err);
		unlinkat(w->dir_fd, record, 0);
		unlinkat(w->dir_fd, w->base, 0);
		return rc;
	}
	return 0;
}

static int local_finish(void *handle, const struct store_object_info *info, struct ct_error *err)
{
	struct local_writer *w = handle;
	char record_tmp[NAME_MAX + 1];
	snprintf(record_tmp, sizeof record_tmp, ".%s.meta%s", w->base,
		 w->tmp + strlen(w->base) + 1);
	if (flush(w, err))
		goto fail;
	if (fsync(w->fd)) {
		io_fail("fsync", w->name, err);
		goto fail;
	}
	int fd = w->fd;
	w->fd = -1;
	if (close(fd)) {
		io_fail("close", w->name, err);
		goto fail;
	}
	if (local_record_write(w->dir_fd, record_tmp, info, err))
		goto fail;
	if (flock(w->dir_fd, LOCK_EX)) {
		io_fail("lock of the directory", w->name, err);
		goto fail;
	}
	int rc = publish(w, record_tmp, err);
	flock(w->dir_fd, LOCK_UN);
	if (rc)
		goto fail;
	close(w->dir_fd);
	free(w);
	return 0;
fail:
	writer_release(w, record_tmp);
	return -1;
}

static void *local_open_read(void *impl, const char *name, uint64_t offset,
			     struct store_object_info *info, struct ct_error *err)
{
	struct local_store *s = impl;
	const char *base;
	int dir = open_parent(s, name, false, &base, err);
	if (dir < 0)
		return NULL;
	struct local_reader *r = NULL;
	if (local_record_read(dir, base, name, info, err))
		goto out;
	int fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			not_found(name, err);
		else
			io_fail("open", name, err);
		goto out;
	}
	if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		io_fail("seek", name, err);
		close(fd);
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = malloc(sizeof *r);
	if (!r) {
		ct_fail(err, 500, "out of memory");
		close(fd);
		goto out;
	}
	r->fd = fd;
	snprintf(r->name, sizeof r->name, "%s", name);
out:
	close(dir);
	return r;
}

static ssize_t local_read(void *handle, void *buf, size_t len, struct ct_error *err)
{
	struct local_reader *r = handle;
	for (;;) {
		ssize_t n = read(r->fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return io_fail("read", r->name, err);
	}
}

static void local_close(void *handle)
{
	struct local_reader *r = handle;
	close(r->fd);
	free(r);
}

static int local_stat(void *impl, const char *name, struct store_object_info *out,
		      struct ct_error *err)
{
	const char *base;
	int dir = open_parent(impl, name, false, &base, err);
	if (dir < 0)
		return -1;
	int rc = local_record_read(dir, base, name, out, err);
	close(dir);
	return rc;
}

static int local_remove(void *impl, const char *name, struct ct_error *err)
{
	const char *base;
	int dir = open_parent(impl, name, false, &base, err);
	if (dir < 0)
		return -1;
	char record[NAME_MAX + 1];
	local_record_name(base, record);
	int rc = 0;
	if (flock(dir, LOCK_EX)) {
		rc = io_fail("lock of the directory", name, err);
		goto out;
	}
	/* The record goes first: from then on the object does not exist. */
	if (unlinkat(dir, record, 0)) {
		if (errno != ENOENT) {
			rc = io_fail("unlink", name, err);
			goto unlock;
		}
		/* Bytes without a record are a crashed writer's (we hold the lock). */
		unlinkat(dir, base, 0);
		rc = not_found(name, err);
		goto unlock;
	}
	if (unlinkat(dir, base, 0) && errno != ENOENT)
		log_warning("backup object %s: its bytes stay behind its removed record: %s", name,
			    strerror(errno));
	if (fsync(dir))
		rc = io_fail("fsync of the directory", name, err);
unlock:
	flock(dir, LOCK_UN);
out:
	close(dir);
	return rc;
}

static int local_describe(void *impl, struct store_access *out, struct ct_error *err)
{
	const struct local_store *s = impl;
	memset(out, 0, sizeof *out);
	snprintf(out->kind, sizeof out->kind, "local");
	if ((size_t)snprintf(out->backups_dir, sizeof out->backups_dir, "%s", s->root) >=
	    sizeof out->backups_dir)
		return ct_fail(err, 500, "backups_dir too long");
	return 0;
}

static void local_free(void *impl)
{
	struct local_store *s = impl;
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s);
}

static const struct store_backend_ops local_ops = {
	.kind = "local",
	.open_write = local_open_write,
	.write = local_write,
	.finish = local_finish,
	.abort = local_abort,
	.open_read = local_open_read,
	.read = local_read,
	.close = local_close,
	.stat = local_stat,
	.list = local_list,
	.remove = local_remove,
	.describe = local_describe,
	.free = local_free,
};

/* mkdir -p with 0700 for what is missing. */
static int make_root(const char *dir, struct ct_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			log_error("mkdir %s: %s", path, strerror(errno));
			return ct_fail(err, 500, "Cannot create the backup directory %s: %s.", path,
				       strerror(errno));
		}
		*p = saved;
		if (!saved)
			return 0;
	}
}

struct backup_store *local_store_new(const char *dir, struct ct_error *err)
{
	if (!dir || dir[0] != '/' || strlen(dir) >= PATH_MAX) {
		ct_fail(err, 500, "The local backup directory must be an absolute path.");
		return NULL;
	}
	if (make_root(dir, err))
		return NULL;
	struct local_store *s = calloc(1, sizeof *s);
	if (!s) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	snprintf(s->root, sizeof s->root, "%s", dir);
	s->root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (s->root_fd < 0 || fstat(s->root_fd, &st)) {
		log_error("open backup directory %s: %s", dir, strerror(errno));
		ct_fail(err, 500, "Cannot open the backup directory %s: %s.", dir, strerror(errno));
		local_free(s);
		return NULL;
	}
	if (st.st_mode & 077)
		log_warning("backup directory %s is open to others (mode %04o); 0700 is expected",
			    dir, (unsigned)(st.st_mode & 07777));
	return backup_store_wrap(&local_ops, s, err);
}

int local_store_dir(char *out, struct ct_error *err)
{
	const char *dir = cfg_str(CFG_LOCAL_STORAGE_DIR);
	int n = dir && *dir ? snprintf(out, PATH_MAX, "%s", dir)
			    : snprintf(out, PATH_MAX, "%s/backups", cfg_str(CFG_STATE_PATH));
	if (n < 0 || n >= PATH_MAX)
		return ct_fail(err, 500, "[local_storage] backups_dir is too long.");
	if (out[0] != '/')
		return ct_fail(
			err, 500,
			"[local_storage] backups_dir must be an absolute path, not '%.200s'.", out);
	return 0;
}
