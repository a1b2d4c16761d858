/*
 * master_keys.c — see master_keys.h. Never logs a key.
 */
#define LOG_MODULE "rpc"
#include "rpc/master_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "rpc/crypto.h"

#define KEY_CHARS    40
#define FILE_MAX     512
#define ALPHABET     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define ALPHABET_LEN 62

struct master_key {
	enum cfg_id id;
	const char *name;
	const char *published;
	char value[KEY_CHARS + 1];
};

/* [A-Za-z0-9] like Trove's keys, so a Python peer's trove.conf can take it as is. */
static int random_key(char out[KEY_CHARS + 1])
{
	int n = 0;
	while (n < KEY_CHARS) {
		unsigned char buf[64];
		if (ids_random(buf, sizeof buf))
			return -1;
		/* 248 = 4 * 62: reject above it so every character is equally likely. */
		for (size_t i = 0; i < sizeof buf && n < KEY_CHARS; i++)
			if (buf[i] < 4 * ALPHABET_LEN)
				out[n++] = ALPHABET[buf[i] % ALPHABET_LEN];
		explicit_bzero(buf, sizeof buf);
	}
	out[n] = '\0';
	return 0;
}

static bool valid_key(const char *s, size_t len)
{
	if (len < 16 || len > KEY_CHARS)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr(ALPHABET, s[i]) || !s[i])
			return false;
	return true;
}

/* "name = value" lines; every key must be there and well formed. */
static int parse_file(const char *path, char *text, struct master_key *keys, size_t n,
		      struct ct_error *err)
{
	for (size_t k = 0; k < n; k++)
		keys[k].value[0] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		for (size_t k = 0; k < n; k++) {
			size_t nl = strlen(keys[k].name);
			if (strncmp(line, keys[k].name, nl) || strncmp(line + nl, " = ", 3))
				continue;
			const char *v = line + nl + 3;
			if (valid_key(v, strlen(v)))
				snprintf(keys[k].value, sizeof keys[k].value, "%s", v);
		}
	}
	for (size_t k = 0; k < n; k++)
		if (!keys[k].value[0])
			return ct_fail(err, 500,
				       "%s has no valid %s: remove the file to start over "
				       "(instances created since then lose their bus)",
				       path, keys[k].name);
	return 0;
}

static int read_file(const char *path, struct master_key *keys, size_t n, struct ct_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
			       ? 1
			       : ct_fail(err, 500, "cannot read %s: %s", path, strerror(errno));
	char text[FILE_MAX + 1];
	ssize_t len = read(fd, text, FILE_MAX);
	close(fd);
	if (len < 0)
		return ct_fail(err, 500, "cannot read %s: %s", path, strerror(errno));
	text[len] = '\0';
	int rc = parse_file(path, text, keys, n, err);
	explicit_bzero(text, sizeof text);
	return rc;
}

/* Write a complete file under a temporary name, then link it into place: a reader
 * sees no file or the whole file, and of two processes racing, one file wins and the
 * loser reads it. */
static int create_file(const char *path, struct master_key *keys, size_t n, struct ct_error *err)
{
	char text[FILE_MAX];
	int len = snprintf(text, sizeof text,
			   "# ctrove's RPC master keys, generated on first run. Keep them\n"
			   "# secret; a Python Trove sharing this bus needs the same values.\n");
	for (size_t k = 0; k < n; k++) {
		if (random_key(keys[k].value))
			return ct_fail(err, 500, "no random bytes for the RPC master keys");
		len += snprintf(text + len, sizeof text - (size_t)len, "%s = %s\n", keys[k].name,
				keys[k].value);
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
		explicit_bzero(text, sizeof text);
		return ct_fail(err, 500, "the state path is too long for the RPC master keys");
	}
	int fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		explicit_bzero(text, sizeof text);
		return ct_fail(err, 500, "cannot create %s: %s", tmp, strerror(errno));
	}
	bool written = write(fd, text, (size_t)len) == len && fsync(fd) == 0;
	explicit_bzero(text, sizeof text);
	close(fd);
	int rc = 0;
	if (!written)
		rc = ct_fail(err, 500, "cannot write %s: %s", tmp, strerror(errno));
	else if (link(tmp, path) == 0)
		log_info("generated the RPC master keys in %s", path);
	else if (errno == EEXIST)
		rc = read_file(path, keys, n, err) ? -1 : 0;
	else
		rc = ct_fail(err, 500, "cannot create %s: %s", path, strerror(errno));
	unlink(tmp);
	return rc;
}

int rpc_master_keys_init(const char *state_dir, struct ct_error *err)
{
	struct master_key keys[] = {
		{CFG_TASKMANAGER_RPC_ENCR_KEY, "taskmanager_rpc_encr_key",
		 RPC_PUBLISHED_TASKMANAGER_KEY, ""},
		{CFG_INST_RPC_KEY_ENCR_KEY, "inst_rpc_key_encr_key", RPC_PUBLISHED_INSTANCE_KEY,
		 ""},
	};
	size_t n = sizeof keys / sizeof keys[0];
	bool need_file = false;
	for (size_t k = 0; k < n; k++) {
		const char *configured = cfg_str(keys[k].id);
		if (!configured[0]) {
			need_file = true;
			continue;
		}
		if (strcmp(configured, keys[k].published))
			continue;
		if (!cfg_bool(CFG_ALLOW_PUBLISHED_RPC_KEYS))
			return ct_fail(
				err, 400,
				"[DEFAULT] %s is the default Trove publishes in its sources, so "
				"anyone can read or forge what it protects: remove the line "
				"(ctrove then generates a key in %s/%s) or set a secret of your "
				"own; only to share a bus with a Trove that still uses it, set "
				"[DEFAULT] allow_published_rpc_keys = true",
				keys[k].name, state_dir, RPC_MASTER_KEYS_FILE);
		log_warning("[DEFAULT] %s is Trove's published default "
			    "(allow_published_rpc_keys = true): the bus is not protected by it",
			    keys[k].name);
	}
	if (!need_file)
		return 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", state_dir, RPC_MASTER_KEYS_FILE);
	int rc = read_file(path, keys, n, err);
	if (rc == 1)
		rc = create_file(path, keys, n, err);
	for (size_t k = 0; rc == 0 && k < n; k++)
		if (!cfg_str(keys[k].id)[0] && cfg_set(keys[k].id, keys[k].value, err))
			rc = -1;
	for (size_t k = 0; k < n; k++)
		explicit_bzero(keys[k].value, sizeof keys[k].value);
	return rc;
}

char *rpc_master_keys_rewrap_published(void *user, const char *encrypted)
{
	(void)user;
	const char *current = cfg_str(CFG_INST_RPC_KEY_ENCR_KEY);
	if (!encrypted || !encrypted[0] || !strcmp(current, RPC_PUBLISHED_INSTANCE_KEY))
		return NULL;
	size_t len = 0;
	char *key = rpc_crypto_decrypt(RPC_PUBLISHED_INSTANCE_KEY, encrypted, &len, NULL);
	if (!key)
		return NULL;
	/* A wrong key can leave valid padding by chance; a real per-instance key is
	 * 32 characters of [A-Za-z0-9] (Trove's and ctrove's alike). */
	char *out = NULL;
	if (len == 32 && valid_key(key, len))
		out = rpc_crypto_encrypt(current, key, len, NULL);
	explicit_bzero(key, len);
	free(key);
	return out;
}
