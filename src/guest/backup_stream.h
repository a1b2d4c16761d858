/*
 * backup_stream.h — the encrypted backup stream shared by every datastore
 * (format "ctbk1", docs/backup-stream.md): a tool's stdout, compressed with
 * zstd and sealed with AES-256-GCM in framed chunks, written to a backup store
 * object; and the reverse, a verified object decrypted and decompressed into a
 * tool's stdin. Truncation, reordering, tampering, a wrong key and a checksum
 * mismatch all fail the stream.
 *
 * Owns the format and the pump between a child process and a store handle. May
 * not know any datastore, its tools or its metadata keys (the managers pass a
 * command and a metadata callback), and never logs a key.
 */
#ifndef CT_GUEST_BACKUP_STREAM_H
#define CT_GUEST_BACKUP_STREAM_H

#include <sys/types.h>

#include "common/error.h"
#include "storage/store.h"

#define BACKUP_KEY_SIZE 32

/* A backup's data key: a secret, wiped by whoever holds it when done. */
struct backup_key {
	unsigned char bytes[32];
};
/* 400 unless b64 is standard base64 of exactly 32 bytes. */
int backup_key_from_base64(const char *b64, struct backup_key *out, struct ct_error *err);

/* Called after the producer exited 0 and its bytes are all in; fills the object's
 * metadata (an LSN read from the tool's log). Returns 0 or -1 with err. */
typedef int (*backup_meta_fn)(void *arg, struct store_meta *meta, struct ct_error *err);

/* A tool to run: argv[0] searched in PATH unless it holds a '/'; env (NULL or a
 * NULL-terminated "NAME=value" list) is added to the inherited environment;
 * run as uid/gid unless uid == (uid_t)-1; cwd NULL = unchanged; its stderr is
 * appended to stderr_path (NULL = /dev/null). */
struct backup_command {
	char *const *argv;
	char *const *env;
	uid_t uid;
	gid_t gid;
	const char *cwd;
	const char *stderr_path;
};

/* Run argv (as uid/gid when uid != (uid_t)-1, env added), stream its stdout compressed and
 * encrypted into object `name`, stderr to stderr_path. On any failure (exit != 0, I/O,
 * meta_fn failing) the object is aborted and -1 returned. meta_fn may be NULL; out (may
 * be NULL) receives what the store recorded (size, sha256, meta). */
int backup_stream_from_command(struct backup_store *store, const char *name,
			       const struct backup_key *key, const struct backup_command *cmd,
			       backup_meta_fn meta_fn, void *meta_arg,
			       struct store_object_info *out, struct ct_error *err);

/* Read object `name` (verified: SHA-256 at the end, GCM per frame), decrypt, decompress
 * into argv's stdin. -1 if anything fails, including the consumer's exit status. */
int backup_stream_to_command(struct backup_store *store, const char *name,
			     const struct backup_key *key, const struct backup_command *cmd,
			     struct ct_error *err);

#endif
