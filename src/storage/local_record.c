/*
 * local_record.c — the local store's record of one object: a small JSON file
 * ".<base>.meta" beside the object's bytes,
 *   {"format": 1, "size": N, "sha256": "<hex>", "created": T, "metadata": {k: v}}
 * with its mtime set to created, so a listing needs no read of it.
 * Reads and writes record files only; may not touch an object's bytes.
 */
#define LOG_MODULE "storage"
#include "storage/local_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define RECORD_FORMAT 1
#define RECORD_MAX    (64 * 1024) /* far above the metadata limits */

void local_record_name(const char *base, char *out)
{
	snprintf(out, NAME_MAX + 1, ".%s.meta", base);
}

bool local_record_exists(int dir_fd, const char *base)
{
	char record[NAME_MAX + 1];
	struct stat st;
	local_record_name(base, record);
	return !fstatat(dir_fd, record, &st, AT_SYMLINK_NOFOLLOW);
}

int local_write_all(int fd, const void *buf, size_t len, const char *name, struct ct_error *err)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == ENOSPC || errno == EDQUOT)
				return ct_fail(err, 500,
					       "The backup store has no space left for '%s'.",
					       name);
			log_error("write of backup object %s: %s", name, strerror(errno));
			return ct_fail(err, 500, "Cannot write backup object '%s': %s.", name,
				       strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static json_t *record_json(const struct store_object_info *info)
{
	json_t *meta = json_object();
	for (unsigned i = 0; meta && i < info->meta.count; i++)
		if (json_object_set_new(meta, info->meta.item[i].key,
					json_string(info->meta.item[i].value))) {
			json_decref(meta);
			return NULL;
		}
	if (!meta)
		return NULL;
	return json_pack("{s:i, s:I, s:s, s:I, s:o}", "format", RECORD_FORMAT, "size",
			 (json_int_t)info->size, "sha256", info->sha256, "created",
			 (json_int_t)info->created, "metadata", meta);
}

int local_record_write(int dir_fd, const char *tmp_name, const struct store_object_info *info,
		       struct ct_error *err)
{
	json_t *record = record_json(info);
	char *text = record ? json_dumps(record, JSON_COMPACT) : NULL;
	json_decref(record);
	if (!text)
		return ct_fail(err, 500, "out of memory");
	int fd = openat(dir_fd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0) {
		log_error("create %s for backup object %s: %s", tmp_name, info->name,
			  strerror(errno));
		free(text);
		return ct_fail(err, 500, "Cannot record backup object '%s': %s.", info->name,
			       strerror(errno));
	}
	int rc = local_write_all(fd, text, strlen(text), info->name, err);
	free(text);
	struct timespec times[2] = {{.tv_sec = (time_t)info->created},
				    {.tv_sec = (time_t)info->created}};
	if (!rc && (futimens(fd, times) || fsync(fd))) {
		log_error("sync record of backup object %s: %s", info->name, strerror(errno));
		rc = ct_fail(err, 500, "Cannot record backup object '%s': %s.", info->name,
			     strerror(errno));
	}
	if (close(fd) && !rc)
		rc = ct_fail(err, 500, "Cannot record backup object '%s': %s.", info->name,
			     strerror(errno));
	if (rc)
		unlinkat(dir_fd, tmp_name, 0);
	return rc;
}

static int corrupt(const char *name, const char *why, struct ct_error *err)
{
	log_error("backup object %s: record unusable: %s", name, why);
	return ct_fail(err, 500, "Backup object '%s' is corrupt: its record is unusable (%s).",
		       name, why);
}

static bool sha256_hex_valid(const char *s)
{
	if (strlen(s) != STORE_SHA256_HEX_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int record_parse(const char *text, size_t len, const char *name,
			struct store_object_info *info, struct ct_error *err)
{
	json_error_t jerr;
	json_t *record = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_int_t format = 0, size = -1, created = -1;
	const char *sha = NULL;
	json_t *meta = NULL;
	int rc = -1;
	if (!record)
		return corrupt(name, "not JSON", err);
	if (json_unpack(record, "{s:I, s:I, s:s, s:I, s:o}", "format", &format, "size", &size,
			"sha256", &sha, "created", &created, "metadata", &meta) ||
	    !json_is_object(meta)) {
		corrupt(name, "fields missing", err);
		goto out;
	}
	if (format != RECORD_FORMAT || size < 0 || created < 0 || !sha256_hex_valid(sha)) {
		corrupt(name, "bad values", err);
		goto out;
	}
	memset(info, 0, sizeof *info);
	snprintf(info->name, sizeof info->name, "%s", name);
	info->size = (uint64_t)size;
	info->created = (int64_t)created;
	snprintf(info->sha256, sizeof info->sha256, "%s", sha);
	const char *key;
	json_t *value;
	json_object_foreach (meta, key, value) {
		struct ct_error meta_err;
		if (!json_is_string(value) ||
		    store_meta_set(&info->meta, key, json_string_value(value), &meta_err)) {
			corrupt(name, "bad metadata", err);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(record);
	return rc;
}

int local_record_read(int dir_fd, const char *base, const char *name,
		      struct store_object_info *info, struct ct_error *err)
{
	char record[NAME_MAX + 1];
	local_record_name(base, record);
	int fd = openat(dir_fd, record, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return ct_fail(err, 404,
				       "Backup file in %s was not found in the object storage.",
				       name);
		return corrupt(name, strerror(errno), err);
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > RECORD_MAX) {
		close(fd);
		return corrupt(name, "not a small regular file", err);
	}
	char *text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return ct_fail(err, 500, "out of memory");
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	int rc = got == (size_t)st.st_size ? record_parse(text, got, name, info, err)
					   : corrupt(name, "short read", err);
	free(text);
	return rc;
}
