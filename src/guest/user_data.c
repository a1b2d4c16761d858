/*
 * user_data.c — reads the cloud contract's user data bundle and writes its files
 * under /etc/ctrove/ (user_data.h says what is accepted). Used by
 * `ctrove-guestagent --apply-user-data` from the image's boot unit and by the
 * host-side tests of the nova driver. Owns the parsed bundle and the files it
 * writes; may not touch anything outside <root>/etc/ctrove/.
 */
#include "guest/user_data.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER	  "#cloud-config\n"
#define MAX_DEPTH 4 /* directories below /etc/ctrove/ */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard alphabet, padded, nothing else (no whitespace, no URL alphabet):
 * there is one right encoding and anything else is a mistake worth refusing. */
static int b64_decode(const char *in, size_t n, unsigned char **out, size_t *out_len)
{
	if (n % 4)
		return -1;
	unsigned char *buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -1;
	size_t len = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(c)) < 0)
				goto bad;
		}
		unsigned long w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
				  (unsigned long)v[2] << 6 | (unsigned long)v[3];
		buf[len++] = (unsigned char)(w >> 16);
		if (pad < 2)
			buf[len++] = (unsigned char)(w >> 8);
		if (pad < 1)
			buf[len++] = (unsigned char)w;
		/* Bits left over in the padded group must be zero. */
		if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf)))
			goto bad;
	}
	*out = buf;
	*out_len = len;
	return 0;
bad:
	free(buf);
	return -1;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* A name from the bundle as it may appear in an error message: the message
 * reaches the console and the journal, where a control character could forge a
 * line. */
static const char *shown(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return "(a name with unprintable characters)";
	return s;
}

/* /etc/ctrove/<name>[/<name>]...: each name plain, not starting with a dot (no
 * "." or "..", and our temporary files start with one). */
static int check_path(const char *path, struct ct_error *err)
{
	size_t len = strlen(path);
	if (len >= sizeof((struct user_data_file *)0)->path)
		return ct_fail(err, 400, "user data: path too long");
	if (strncmp(path, USER_DATA_DIR, strlen(USER_DATA_DIR)) != 0)
		return ct_fail(err, 400, "user data: path %.200s is not an absolute path under %s",
			       shown(path), USER_DATA_DIR);
	const char *p = path + strlen(USER_DATA_DIR);
	int depth = 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || p[0] == '.')
			return ct_fail(err, 400,
				       "user data: path %.200s has an empty, hidden, '.' or '..' "
				       "component",
				       shown(path));
		for (size_t i = 0; i < n; i++)
			if (!name_char(p[i]))
				return ct_fail(
					err, 400,
					"user data: path %.200s may hold only letters, digits, "
					"'.', '_', '-' and '/'",
					shown(path));
		if (!slash)
			return 0;
		if (++depth > MAX_DEPTH)
			return ct_fail(err, 400, "user data: path %.200s is too deep", shown(path));
		p = slash + 1;
	}
}

/* "0600" or "600": permission bits only, not set-id, not writable by others. */
static int parse_mode(const char *s, unsigned *mode, struct ct_error *err)
{
	size_t n = strlen(s);
	const char *digits = (n == 4 && s[0] == '0') ? s + 1 : s;
	if (strlen(digits) != 3)
		goto bad;
	unsigned m = 0;
	for (int i = 0; i < 3; i++) {
		if (digits[i] < '0' || digits[i] > '7')
			goto bad;
		m = m * 8 + (unsigned)(digits[i] - '0');
	}
	if (m & 0002)
		return ct_fail(err, 400, "user data: permissions %s would let anyone write",
			       shown(s));
	*mode = m;
	return 0;
bad:
	return ct_fail(err, 400,
		       "user data: permissions '%s' are not an octal mode such as \"0600\" "
		       "(set-id bits are refused)",
		       shown(s));
}

static int parse_file(json_t *entry, size_t index, struct user_data_file *f, struct ct_error *err)
{
	if (!json_is_object(entry))
		return ct_fail(err, 400, "user data: write_files[%zu] is not an object", index);
	const char *key;
	json_t *value;
	json_object_foreach (entry, key, value) {
		if (strcmp(key, "path") && strcmp(key, "content") && strcmp(key, "encoding") &&
		    strcmp(key, "permissions") && strcmp(key, "owner"))
			return ct_fail(err, 400,
				       "user data: write_files[%zu] has unknown key '%.64s'", index,
				       key);
		if (!json_is_string(value))
			return ct_fail(err, 400, "user data: write_files[%zu].%s is not a string",
				       index, key);
	}
	const char *path = json_string_value(json_object_get(entry, "path"));
	const char *content = json_string_value(json_object_get(entry, "content"));
	const char *encoding = json_string_value(json_object_get(entry, "encoding"));
	const char *permissions = json_string_value(json_object_get(entry, "permissions"));
	const char *owner = json_string_value(json_object_get(entry, "owner"));
	if (!path || !content)
		return ct_fail(err, 400, "user data: write_files[%zu] needs path and content",
			       index);
	if (!encoding || strcmp(encoding, "b64"))
		return ct_fail(err, 400, "user data: write_files[%zu] must have encoding \"b64\"",
			       index);
	if (strlen(path) != json_string_length(json_object_get(entry, "path")) ||
	    check_path(path, err))
		return err->status ? -1 : ct_fail(err, 400, "user data: path holds a NUL");
	if (owner && strcmp(owner, "root:root") && strcmp(owner, "root"))
		return ct_fail(err, 400, "user data: %s: owner must be root:root", path);
	f->mode = 0600;
	if (permissions && parse_mode(permissions, &f->mode, err))
		return -1;
	if (b64_decode(content, json_string_length(json_object_get(entry, "content")), &f->content,
		       &f->len))
		return ct_fail(err, 400, "user data: %s: content is not valid base64", path);
	snprintf(f->path, sizeof f->path, "%s", path);
	return 0;
}

struct user_data *user_data_parse(const char *text, size_t len, struct ct_error *err)
{
	if (len > USER_DATA_MAX) {
		ct_fail(err, 413, "user data is larger than %d bytes", USER_DATA_MAX);
		return NULL;
	}
	if (len < strlen(HEADER) || memcmp(text, HEADER, strlen(HEADER))) {
		ct_fail(err, 400, "user data does not start with the line #cloud-config");
		return NULL;
	}
	const char *body = text + strlen(HEADER);
	size_t body_len = len - strlen(HEADER);
	size_t end = body_len;
	while (end > 0 && (body[end - 1] == '\n' || body[end - 1] == ' '))
		end--;
	if (memchr(body, '\n', end) || memchr(body, '\r', end) || memchr(body, '\0', end)) {
		ct_fail(err, 400, "user data: the JSON after #cloud-config must be one line");
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(body, end, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		ct_fail(err, 400, "user data is not JSON: %.200s", jerr.text);
		return NULL;
	}
	struct user_data *u = calloc(1, sizeof *u);
	json_t *files = json_object_get(doc, "write_files");
	if (!u) {
		ct_fail(err, 500, "out of memory");
		goto fail;
	}
	if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_array(files)) {
		ct_fail(err, 400, "user data must be an object with write_files and nothing else");
		goto fail;
	}
	size_t n = json_array_size(files);
	if (n == 0 || n > USER_DATA_MAX_FILES) {
		ct_fail(err, 400, "user data: write_files must list 1 to %d files",
			USER_DATA_MAX_FILES);
		goto fail;
	}
	u->files = calloc(n, sizeof *u->files);
	if (!u->files) {
		ct_fail(err, 500, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_file(json_array_get(files, i), i, &u->files[i], err))
			goto fail;
		u->n++;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(u->files[j].path, u->files[i].path)) {
				ct_fail(err, 400, "user data: %s is listed twice",
					u->files[i].path);
				goto fail;
			}
	}
	json_decref(doc);
	return u;
fail:
	json_decref(doc);
	user_data_free(u);
	return NULL;
}

void user_data_free(struct user_data *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++) {
		if (u->files[i].content) {
			explicit_bzero(u->files[i].content, u->files[i].len);
			free(u->files[i].content);
		}
	}
	free(u->files);
	free(u);
}

/* Open (or, with create, make) one directory below dfd without following a
 * symlink; closes dfd. -1 with errno when it is missing (and !create), a
 * symlink or not a directory. */
static int step_into(int dfd, const char *name, bool create, mode_t mode)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		bool made = mkdirat(dfd, name, mode) == 0;
		if (made || errno == EEXIST)
			fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && made)
			fchmod(fd, mode); /* mkdirat's mode went through the umask */
	}
	int saved = errno;
	close(dfd);
	errno = saved;
	return fd;
}

/* The directory holding path's last name, opened under root; with !create,
 * *missing says that some directory does not exist yet (fine: nothing there
 * to be a symlink). */
static int open_parent(const char *root, const char *path, bool create, bool *missing,
		       const char **name, struct ct_error *err)
{
	char copy[256];
	snprintf(copy, sizeof copy, "%s", path + 1);
	*missing = false;
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ct_fail(err, 500, "cannot open %s", root);
	char *save = NULL;
	char *part = strtok_r(copy, "/", &save);
	size_t done = 0;
	for (char *next; part && (next = strtok_r(NULL, "/", &save)); part = next) {
		done++;
		dfd = step_into(dfd, part, create, done == 1 ? 0755 : 0711);
		if (dfd < 0) {
			if (errno == ENOENT && !create) {
				*missing = true;
				return 0;
			}
			if (errno == ELOOP || errno == ENOTDIR)
				return ct_fail(err, 400,
					       "user data: %s: a directory on the way is a symlink "
					       "or not a directory",
					       path);
			return ct_fail(err, 500, "cannot create the directories of %s: %s", path,
				       strerror(errno));
		}
	}
	*name = strrchr(path, '/') + 1;
	return dfd;
}

/* The target itself may be absent or a regular file; a symlink would be
 * replaced rather than followed by the rename, but it says someone prepared
 * the tree, so refuse. */
static int check_target(const char *root, const struct user_data_file *f, struct ct_error *err)
{
	bool missing;
	const char *name;
	int dfd = open_parent(root, f->path, false, &missing, &name, err);
	if (dfd < 0)
		return -1;
	if (missing)
		return 0;
	struct stat st;
	int rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW);
	close(dfd);
	if (rc == 0 && !S_ISREG(st.st_mode))
		return ct_fail(err, 400, "user data: %s exists and is not a regular file", f->path);
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_one(const char *root, const struct user_data_file *f, struct ct_error *err)
{
	bool missing;
	const char *name;
	int dfd = open_parent(root, f->path, true, &missing, &name, err);
	if (dfd < 0)
		return -1;
	char tmp[300];
	snprintf(tmp, sizeof tmp, ".%s.tmp", name);
	unlinkat(dfd, tmp, 0);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	bool ok = fd >= 0;
	if (ok && geteuid() == 0)
		ok = fchown(fd, 0, 0) == 0;
	ok = ok && fchmod(fd, f->mode) == 0 && write_all(fd, f->content, f->len) == 0 &&
	     fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (ok && renameat(dfd, tmp, dfd, name) != 0)
		ok = false;
	int saved = errno;
	if (!ok)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	if (!ok)
		return ct_fail(err, 500, "cannot write %s: %s", f->path, strerror(saved));
	return 0;
}

int user_data_write(const struct user_data *u, const char *root, struct ct_error *err)
{
	for (size_t i = 0; i < u->n; i++)
		if (check_target(root, &u->files[i], err))
			return -1;
	for (size_t i = 0; i < u->n; i++)
		if (write_one(root, &u->files[i], err))
			return -1;
	return 0;
}

int user_data_apply_file(const char *path, const char *root, struct ct_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ct_fail(err, 404, "cannot read user data %s: %s", path, strerror(errno));
	/* One byte more than allowed, so that a larger file is seen as one. */
	char *buf = malloc(USER_DATA_MAX + 1);
	size_t len = 0;
	ssize_t r = 1;
	while (buf && len <= USER_DATA_MAX && r != 0) {
		r = read(fd, buf + len, USER_DATA_MAX + 1 - len);
		if (r < 0 && errno != EINTR)
			break;
		len += r > 0 ? (size_t)r : 0;
	}
	close(fd);
	if (!buf || r < 0) {
		free(buf);
		return ct_fail(err, 500, "cannot read user data %s", path);
	}
	struct user_data *u = user_data_parse(buf, len, err);
	explicit_bzero(buf, len);
	free(buf);
	if (!u)
		return -1;
	int rc = user_data_write(u, root, err);
	for (size_t i = 0; rc == 0 && i < u->n; i++)
		printf("wrote %s (%04o, %zu bytes)\n", u->files[i].path, u->files[i].mode,
		       u->files[i].len);
	user_data_free(u);
	return rc;
}
