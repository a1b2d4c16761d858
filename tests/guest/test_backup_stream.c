/*
 * test_backup_stream.c — guest/backup_stream.c against the real local store in
 * a scratch directory and real child processes (sh, cat, head): round trips of
 * empty, small and tens-of-MB input, and every way a stored object can be
 * wrong (a flipped byte, truncation, trailing bytes, another key, a missing
 * final frame) or a tool can fail (producer or consumer exit 1, a metadata
 * callback failing), each an error with nothing stored or restored.
 * Owns its scratch directory; touches nothing else.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../storage/storage_testutil.h"
#include "guest/backup_stream.h"

static char root[64];
static char store_dir[128];
static char work[128];
static struct backup_store *store;
static struct backup_key key;
static int serial;

static int setup(void **state)
{
	(void)state;
	scratch_tree_create(root, "bkstream");
	snprintf(store_dir, sizeof store_dir, "%s/store", root);
	snprintf(work, sizeof work, "%s/work", root);
	assert_int_equal(mkdir(store_dir, 0700), 0);
	assert_int_equal(mkdir(work, 0700), 0);
	struct store_access acc = {.kind = "local"};
	snprintf(acc.backups_dir, sizeof acc.backups_dir, "%s", store_dir);
	struct ct_error err = {0};
	store = backup_store_open_access(&acc, &err);
	assert_non_null(store);
	for (size_t i = 0; i < sizeof key.bytes; i++)
		key.bytes[i] = (unsigned char)(i * 7 + 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	backup_store_free(store);
	scratch_tree_remove(root);
	return 0;
}

static void next_name(char *name, size_t size)
{
	snprintf(name, size, "database_backups/b%d.xbstream.zst.enc", ++serial);
}

/* Write n deterministic, partly compressible bytes to path. */
static void make_input(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		/* half text-like, half noise: zstd must really work */
		int c = (i / 4096) % 2 ? (int)(x >> 24) : 'a' + (int)((x >> 16) % 4);
		fputc(c, f);
	}
	assert_int_equal(fclose(f), 0);
}

static void assert_same_file(const char *a, const char *b)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
	assert_int_equal(system(cmd), 0);
}

static int backup_file(const char *name, const char *input, backup_meta_fn fn, void *arg,
		       struct store_object_info *info, struct ct_error *err)
{
	char *const argv[] = {"cat", (char *)input, NULL};
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1};
	return backup_stream_from_command(store, name, &key, &cmd, fn, arg, info, err);
}

static int restore_file(const char *name, const struct backup_key *k, const char *output,
			struct ct_error *err)
{
	char script[512];
	snprintf(script, sizeof script, "cat > '%s'", output);
	char *const argv[] = {"sh", "-c", script, NULL};
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1};
	return backup_stream_to_command(store, name, k, &cmd, err);
}

static int meta_lsn(void *arg, struct store_meta *meta, struct ct_error *err)
{
	return store_meta_set(meta, "lsn", arg, err);
}

static void round_trip(size_t n)
{
	char name[128], in[256], out[256];
	next_name(name, sizeof name);
	snprintf(in, sizeof in, "%s/in-%d", work, serial);
	snprintf(out, sizeof out, "%s/out-%d", work, serial);
	make_input(in, n);
	struct store_object_info info = {0};
	struct ct_error err = {0};
	assert_int_equal(backup_file(name, in, meta_lsn, "4242", &info, &err), 0);
	assert_string_equal(info.name, name);
	assert_int_equal(strlen(info.sha256), 64);
	assert_string_equal(store_meta_get(&info.meta, "format"), "ctbk1");
	assert_string_equal(store_meta_get(&info.meta, "lsn"), "4242");
	assert_int_equal(restore_file(name, &key, out, &err), 0);
	assert_same_file(in, out);
}

static void test_round_trip_small(void **state)
{
	(void)state;
	round_trip(1000);
}

static void test_round_trip_empty(void **state)
{
	(void)state;
	round_trip(0);
}

static void test_round_trip_big(void **state)
{
	(void)state;
	round_trip(40u << 20); /* tens of frames */
}

/* Back up n bytes, let edit change the stored file, and expect restoring to
 * fail with a message containing want, its consumer writing nothing usable. */
static void corrupted(size_t n, void (*edit)(const char *path), const struct backup_key *k,
		      const char *want)
{
	char name[128], in[256], out[256], path[512];
	next_name(name, sizeof name);
	snprintf(in, sizeof in, "%s/in-%d", work, serial);
	snprintf(out, sizeof out, "%s/out-%d", work, serial);
	make_input(in, n);
	struct ct_error err = {0};
	assert_int_equal(backup_file(name, in, NULL, NULL, NULL, &err), 0);
	snprintf(path, sizeof path, "%s/%s", store_dir, name);
	if (edit)
		edit(path);
	err = (struct ct_error){0};
	assert_int_equal(restore_file(name, k ? k : &key, out, &err), -1);
	print_message("  restore refused: %s\n", err.message);
	assert_non_null(strstr(err.message, want));
	assert_true(err.status >= 400);
}

static void flip_middle(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	off_t at = st.st_size / 2;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static void cut_last_frame(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* a 1 MiB frame plus its 20 bytes of framing, and a bit */
	assert_int_equal(truncate(path, st.st_size - 100), 0);
}

static void append_garbage(const char *path)
{
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
}

/* The store keeps a record of size and SHA-256 beside the object; an edit
 * that keeps the size is caught by the frame's tag before the checksum. */
static void test_flipped_byte(void **state)
{
	(void)state;
	corrupted(3u << 20, flip_middle, NULL, "corrupted");
}

static void test_truncated(void **state)
{
	(void)state;
	corrupted(3u << 20, cut_last_frame, NULL, "");
}

static void test_trailing_garbage(void **state)
{
	(void)state;
	corrupted(5000, append_garbage, NULL, "");
}

static void test_wrong_key(void **state)
{
	(void)state;
	struct backup_key other = key;
	other.bytes[0] ^= 1;
	corrupted(5000, NULL, &other, "another key");
}

/* The stored bytes of name (as the local store keeps them). */
static unsigned char *stored_bytes(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", store_dir, name);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	unsigned char *buf = malloc((size_t)st.st_size + 16);
	assert_non_null(buf);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

/* Store bytes as a new, consistently recorded object (so only the stream's
 * own checks can find what is wrong) and expect restoring it to fail. */
static void restore_fails(const unsigned char *bytes, size_t len, const char *want)
{
	char name[128], out[256];
	next_name(name, sizeof name);
	snprintf(out, sizeof out, "%s/out-%d", work, serial);
	struct ct_error err = {0};
	struct store_writer *w = store_open_write(store, name, &err);
	assert_non_null(w);
	assert_int_equal(store_write(w, bytes, len, &err), 0);
	assert_int_equal(store_finish(w, NULL, NULL, &err), 0);
	assert_int_equal(restore_file(name, &key, out, &err), -1);
	print_message("  restore refused: %s\n", err.message);
	assert_non_null(strstr(err.message, want));
}

static uint32_t frame_len_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The stream's own checks, behind a store whose record is consistent. */
static void test_stream_checks(void **state)
{
	(void)state;
	char name[128], in[256];
	next_name(name, sizeof name);
	snprintf(in, sizeof in, "%s/in-%d", work, serial);
	make_input(in, 6u << 20);
	struct ct_error err = {0};
	assert_int_equal(backup_file(name, in, NULL, NULL, NULL, &err), 0);
	size_t len;
	unsigned char *obj = stored_bytes(name, &len);
	size_t first = 8 + 4 + frame_len_at(obj + 8) + 16;
	size_t second = 4 + frame_len_at(obj + first) + 16;
	assert_true(first + second < len); /* at least three frames */

	/* cut at a frame boundary: no final frame */
	restore_fails(obj, first, "final frame is missing");
	/* cut inside a frame */
	restore_fails(obj, first + 100, "truncated");
	/* the header only */
	restore_fails(obj, 8, "final frame is missing");
	/* bytes after the final frame */
	unsigned char *longer = malloc(len + 7);
	assert_non_null(longer);
	memcpy(longer, obj, len);
	memcpy(longer + len, "garbage", 7);
	restore_fails(longer, len + 7, "after its final frame");
	/* frames 1 and 2 swapped: the nonce no longer matches */
	memcpy(longer, obj, 8);
	memcpy(longer + 8, obj + first, second);
	memcpy(longer + 8 + second, obj + 8, first - 8);
	memcpy(longer + first + second - 0, obj + first + second, len - first - second);
	restore_fails(longer, len, "corrupted");
	/* frame 2 dropped */
	memcpy(longer, obj, first);
	memcpy(longer + first, obj + first + second, len - first - second);
	restore_fails(longer, len - second, "corrupted");
	/* not this format */
	memcpy(longer, obj, len);
	longer[4] = 2;
	restore_fails(longer, len, "ctbk1");
	/* a frame length beyond the limit */
	memcpy(longer, obj, len);
	longer[8] = 0x7f;
	restore_fails(longer, len, "corrupted");
	free(longer);
	free(obj);
}

static void test_producer_fails(void **state)
{
	(void)state;
	char name[128];
	next_name(name, sizeof name);
	/* some output first: a half-written object must not stay */
	char *const argv[] = {"sh", "-c", "head -c 3000000 /dev/zero; exit 1", NULL};
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1};
	struct ct_error err = {0};
	int files_before = files_under(store_dir);
	assert_int_equal(
		backup_stream_from_command(store, name, &key, &cmd, NULL, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.message, "exit status 1"));
	assert_int_equal(files_under(store_dir), files_before);
	struct store_object_info info;
	err = (struct ct_error){0};
	assert_int_equal(store_stat(store, name, &info, &err), -1);
	assert_int_equal(err.status, 404);
}

static void test_missing_tool(void **state)
{
	(void)state;
	char name[128];
	next_name(name, sizeof name);
	char *const argv[] = {"/nonexistent/tool", NULL};
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1};
	struct ct_error err = {0};
	assert_int_equal(
		backup_stream_from_command(store, name, &key, &cmd, NULL, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.message, "Cannot run"));
	struct store_object_info info;
	assert_int_equal(store_stat(store, name, &info, &err), -1);
}

static int meta_fails(void *arg, struct store_meta *meta, struct ct_error *err)
{
	(void)arg;
	(void)meta;
	return ct_fail(err, 500, "no checkpoint in the log");
}

static void test_meta_fails(void **state)
{
	(void)state;
	char name[128], in[256];
	next_name(name, sizeof name);
	snprintf(in, sizeof in, "%s/in-%d", work, serial);
	make_input(in, 100);
	struct ct_error err = {0};
	assert_int_equal(backup_file(name, in, meta_fails, NULL, NULL, &err), -1);
	assert_string_equal(err.message, "no checkpoint in the log");
	struct store_object_info info;
	assert_int_equal(store_stat(store, name, &info, &err), -1);
}

static void test_consumer_fails(void **state)
{
	(void)state;
	char name[128], in[256];
	next_name(name, sizeof name);
	snprintf(in, sizeof in, "%s/in-%d", work, serial);
	make_input(in, 4u << 20);
	struct ct_error err = {0};
	assert_int_equal(backup_file(name, in, NULL, NULL, NULL, &err), 0);
	/* exits at once: the feeder meets a closed pipe, not a SIGPIPE */
	char *const argv[] = {"sh", "-c", "exit 1", NULL};
	struct backup_command cmd = {.argv = argv, .uid = (uid_t)-1};
	assert_int_equal(backup_stream_to_command(store, name, &key, &cmd, &err), -1);
	print_message("  consumer failure: %s\n", err.message);
	/* reads everything, then fails */
	char *const argv2[] = {"sh", "-c", "cat >/dev/null; exit 3", NULL};
	struct backup_command cmd2 = {.argv = argv2, .uid = (uid_t)-1};
	err = (struct ct_error){0};
	assert_int_equal(backup_stream_to_command(store, name, &key, &cmd2, &err), -1);
	assert_non_null(strstr(err.message, "exit status 3"));
}

static void test_env_and_stderr(void **state)
{
	(void)state;
	char name[128], out[256], log[256];
	next_name(name, sizeof name);
	snprintf(out, sizeof out, "%s/out-%d", work, serial);
	snprintf(log, sizeof log, "%s/log-%d", work, serial);
	char *const env[] = {"CT_STREAM_TEST=from-env", NULL};
	char *const argv[] = {"sh", "-c", "printf %s \"$CT_STREAM_TEST\"; echo to-stderr >&2",
			      NULL};
	struct backup_command cmd = {
		.argv = argv, .env = env, .uid = (uid_t)-1, .cwd = work, .stderr_path = log};
	struct ct_error err = {0};
	assert_int_equal(
		backup_stream_from_command(store, name, &key, &cmd, NULL, NULL, NULL, &err), 0);
	assert_int_equal(restore_file(name, &key, out, &err), 0);
	char buf[64] = {0};
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "from-env");
	f = fopen(log, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "to-stderr\n");
}

static void test_key_from_base64(void **state)
{
	(void)state;
	struct backup_key k;
	struct ct_error err = {0};
	/* 32 bytes 0x00..0x1f */
	assert_int_equal(
		backup_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &k, &err),
		0);
	assert_int_equal(k.bytes[31], 0x1f);
	assert_int_equal(backup_key_from_base64("AAEC", &k, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(
		backup_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=", &k, &err),
		-1);
	assert_int_equal(backup_key_from_base64(NULL, &k, &err), -1);
	/* 33 bytes' worth: too long */
	assert_int_equal(
		backup_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", &k, &err),
		-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_from_base64),	 cmocka_unit_test(test_round_trip_small),
		cmocka_unit_test(test_round_trip_empty), cmocka_unit_test(test_round_trip_big),
		cmocka_unit_test(test_flipped_byte),	 cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing_garbage), cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_stream_checks),	 cmocka_unit_test(test_producer_fails),
		cmocka_unit_test(test_missing_tool),	 cmocka_unit_test(test_meta_fails),
		cmocka_unit_test(test_consumer_fails),	 cmocka_unit_test(test_env_and_stderr),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
