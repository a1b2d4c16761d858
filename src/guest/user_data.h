/*
 * user_data.h — the guest side of the cloud contract's user data (docs/openstack.md,
 * docs/guest-image.md): the line `#cloud-config`, then one line of JSON
 * {"write_files": [{"path", "content", "encoding": "b64", "permissions", "owner"}]},
 * read from the config drive or the metadata service by the image's boot unit and
 * written under /etc/ctrove/ before the agent starts.
 *
 * The input comes from the cloud, so it is treated as hostile: only write_files,
 * only base64 content, only plain names under /etc/ctrove/ (no "..", no symlinks
 * on the way, no relative paths), only root as owner, no set-id or world-writable
 * modes, and at most USER_DATA_MAX bytes. Everything is checked before the first
 * byte is written, so a refused bundle changes nothing.
 * Owns the parsed bundle; may not start or configure anything else.
 */
#ifndef CT_GUEST_USER_DATA_H
#define CT_GUEST_USER_DATA_H

#include <stddef.h>

#include "common/error.h"

/* Nova takes at most 65535 bytes of base64 user data, so the decoded text is
 * smaller; the config drive holds the same text decoded. */
#define USER_DATA_MAX	    65536
#define USER_DATA_MAX_FILES 32
#define USER_DATA_DIR	    "/etc/ctrove/"

struct user_data_file {
	char path[256]; /* absolute, under USER_DATA_DIR, checked */
	unsigned mode;	/* permission bits only */
	unsigned char *content;
	size_t len;
};

struct user_data {
	struct user_data_file *files;
	size_t n;
};

/* Parse and check text (len bytes, need not be NUL-terminated). 400 for anything
 * the contract does not allow, 413 when larger than USER_DATA_MAX. */
struct user_data *user_data_parse(const char *text, size_t len, struct ct_error *err);
/* Wipes the contents (keys and passwords) before freeing. NULL is fine. */
void user_data_free(struct user_data *u);
/* Write every file under root ("/" in the image; a scratch directory in tests):
 * directories it creates are 0711, files are replaced atomically with their
 * mode, owned by root when run as root. Refuses (400, nothing written) when a
 * directory on the way is a symlink or not a directory, or a target is a symlink
 * or a directory. */
int user_data_write(const struct user_data *u, const char *root, struct ct_error *err);
/* Read the file at path (at most USER_DATA_MAX bytes), parse it and write it
 * under root. The names written are printed on stdout, never the contents. */
int user_data_apply_file(const char *path, const char *root, struct ct_error *err);

#endif
