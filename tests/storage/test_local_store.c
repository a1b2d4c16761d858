/*
 * test_local_store.c — the backup storage interface over the local directory
 * store, on a real file system: round trips of small and multi-MiB objects in
 * odd-sized chunks (checksums cross-checked with OpenSSL), metadata, stat,
 * list by prefix, delete, abort, write-once, ranges, truncated / extended /
 * corrupted objects found on read, hostile names and symlinks refused, two
 * writers at once, file modes, a full file system, and the choice by config.
 */
#include "storage_testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/mount.h>
#include <time.h>

#include "common/config.h"
#include "storage/local_store.h"

static char dir[64];
static char root[128];
static struct backup_store *store;

static int setup(void **state)
{
	(void)state;
	struct ct_error err = {0};
	scratch_tree_create(dir, "storage");
	snprintf(root, sizeof root, "%s/backups", dir);
	store = local_store_new(root, &err);
	if (!store)
		fail_msg("local_store_new: %s", err.message);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	backup_store_free(store);
	store = NULL;
	char small[128];
	snprintf(small, sizeof small, "%s/small", dir);
	umount2(small, MNT_DETACH); /* test_full_file_system's, had it failed half way */
	scratch_tree_remove(dir);
	return 0;
}

static void openssl_sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void path_of(const char *rel, char out[256])
{
	snprintf(out, 256, "%s/%s", root, rel);
}

static void test_small_round_trip(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_meta meta = {0};
	assert_int_equal(store_meta_set(&meta, "datastore", "mariadb", &err), 0);
	assert_int_equal(store_meta_set(&meta, "lsn", "1234567", &err), 0);
	struct store_object_info info;
	size_t chunks[] = {1, 2};
	int64_t before = (int64_t)time(NULL);
	put_chunked(store, "database_backups/b1.xbstream", (const unsigned char *)"hello", 5,
		    chunks, 2, &meta, &info);
	assert_int_equal(info.size, 5);
	assert_string_equal(info.sha256,
			    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	assert_true(info.created >= before && info.created <= (int64_t)time(NULL));

	/* The bytes are the object, exactly, at its natural path. */
	char path[256];
	path_of("database_backups/b1.xbstream", path);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char text[16] = {0};
	assert_int_equal(fread(text, 1, sizeof text, f), 5);
	fclose(f);
	assert_string_equal(text, "hello");

	struct store_reader *r = store_open_read(store, "database_backups/b1.xbstream", NULL, &err);
	assert_non_null(r);
	const struct store_object_info *ri = store_reader_info(r);
	assert_int_equal(ri->size, 5);
	assert_string_equal(ri->sha256, info.sha256);
	assert_string_equal(store_meta_get(&ri->meta, "lsn"), "1234567");
	assert_string_equal(store_meta_get(&ri->meta, "datastore"), "mariadb");
	assert_null(store_meta_get(&ri->meta, "parent_location"));
	char buf[3];
	assert_int_equal(store_read(r, buf, 3, &err), 3);
	assert_memory_equal(buf, "hel", 3);
	assert_int_equal(store_read(r, buf, 3, &err), 2);
	assert_memory_equal(buf, "lo", 2);
	assert_int_equal(store_read(r, buf, 3, &err), 0);
	assert_int_equal(store_read(r, buf, 3, &err), 0); /* the end stays the end */
	store_close(r);
}

static void test_empty_object(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_writer *w = store_open_write(store, "c/empty", &err);
	assert_non_null(w);
	assert_int_equal(store_write(w, "", 0, &err), 0);
	struct store_object_info info;
	assert_int_equal(store_finish(w, NULL, &info, &err), 0);
	assert_int_equal(info.size, 0);
	assert_string_equal(info.sha256,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(info.meta.count, 0);
	unsigned char *data;
	size_t len;
	assert_int_equal(get_all(store, "c/empty", NULL, 7, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	free(data);
}

static void test_multi_mib_round_trip(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const size_t len = 5 * 1024 * 1024 + 12345;
	unsigned char *data = test_bytes(len, 7);
	size_t chunks[] = {1, 7, 4093, 65537, 262143, 262144, 262145, 1048583, 3};
	struct store_object_info info;
	put_chunked(store, "c/inst/full/0001", data, len, chunks, 9, NULL, &info);
	char expect[65];
	openssl_sha256_hex(data, len, expect);
	assert_int_equal(info.size, len);
	assert_string_equal(info.sha256, expect);

	size_t steps[] = {1000003, 65536, 13};
	for (size_t i = 0; i < 3; i++) {
		unsigned char *back;
		size_t got;
		if (get_all(store, "c/inst/full/0001", NULL, steps[i], &back, &got, &err))
			fail_msg("read back: %s", err.message);
		assert_int_equal(got, len);
		assert_memory_equal(back, data, len);
		free(back);
	}
	struct store_object_info st;
	assert_int_equal(store_stat(store, "c/inst/full/0001", &st, &err), 0);
	assert_int_equal(st.size, len);
	assert_string_equal(st.sha256, expect);
	assert_string_equal(st.name, "c/inst/full/0001");
	free(data);
}

static void test_ranges(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const size_t len = 300000;
	unsigned char *data = test_bytes(len, 3);
	size_t chunk = 4099;
	put_chunked(store, "c/ranged", data, len, &chunk, 1, NULL, NULL);
	unsigned char *back;
	size_t got;

	struct store_range mid = {.offset = 70001, .length = 100000};
	assert_int_equal(get_all(store, "c/ranged", &mid, 4097, &back, &got, &err), 0);
	assert_int_equal(got, 100000);
	assert_memory_equal(back, data + 70001, 100000);
	free(back);

	struct store_range tail = {.offset = 299990};
	assert_int_equal(get_all(store, "c/ranged", &tail, 3, &back, &got, &err), 0);
	assert_int_equal(got, 10);
	assert_memory_equal(back, data + 299990, 10);
	free(back);

	struct store_range at_end = {.offset = len};
	assert_int_equal(get_all(store, "c/ranged", &at_end, 3, &back, &got, &err), 0);
	assert_int_equal(got, 0);
	free(back);

	struct store_range past = {.offset = len + 1};
	assert_null(store_open_read(store, "c/ranged", &past, &err));
	assert_int_equal(err.status, 400);
	struct store_range too_long = {.offset = 10, .length = len};
	assert_null(store_open_read(store, "c/ranged", &too_long, &err));
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "outside"));

	/* A range that runs into a truncation is incomplete, not short. */
	char path[256];
	path_of("c/ranged", path);
	assert_int_equal(truncate(path, 200000), 0);
	struct store_range cut = {.offset = 150000, .length = 100000};
	assert_int_equal(get_all(store, "c/ranged", &cut, 65536, &back, &got, &err), -1);
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "truncated"));
	free(data);
}

struct listed {
	char names[16][64];
	int count;
	int stop_after;
};

static int collect(const struct store_entry *e, void *arg, struct ct_error *err)
{
	struct listed *l = arg;
	if (l->stop_after && l->count == l->stop_after)
		return ct_fail(err, 418, "stopped by the callback");
	assert_true(l->count < 16);
	snprintf(l->names[l->count++], 64, "%s", e->name);
	return 0;
}

static void list_into(const char *prefix, struct listed *l)
{
	struct ct_error err = {0};
	memset(l, 0, sizeof *l);
	if (store_list(store, prefix, collect, l, &err))
		fail_msg("list %s: %s", prefix, err.message);
}

static void test_list_by_prefix(void **state)
{
	(void)state;
	struct ct_error err = {0};
	put(store, "c/b/1", "b1");
	put(store, "c/a/2", "a2");
	put(store, "c/a/1", "a1");
	put(store, "c/ab", "ab");
	put(store, "c/a-z", "az");
	put(store, "d/a/1", "other container");
	/* Neither one in flight nor one aborted is listed. */
	struct store_writer *open = store_open_write(store, "c/a/3", &err);
	assert_non_null(open);
	assert_int_equal(store_write(open, "x", 1, &err), 0);
	struct store_writer *gone = store_open_write(store, "c/a/4", &err);
	assert_non_null(gone);
	store_abort(gone);

	struct listed l;
	list_into("c/a", &l);
	assert_int_equal(l.count, 4);
	assert_string_equal(l.names[0], "c/a-z"); /* byte order: '-' < '/' < 'b' */
	assert_string_equal(l.names[1], "c/a/1");
	assert_string_equal(l.names[2], "c/a/2");
	assert_string_equal(l.names[3], "c/ab");

	list_into("c/a/", &l);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.names[0], "c/a/1");
	assert_string_equal(l.names[1], "c/a/2");

	list_into("c/", &l);
	assert_int_equal(l.count, 5);
	assert_string_equal(l.names[4], "c/b/1");

	list_into("d/", &l);
	assert_int_equal(l.count, 1);
	list_into("c/a/1", &l);
	assert_int_equal(l.count, 1);
	list_into("nothing/", &l);
	assert_int_equal(l.count, 0);
	list_into("c/zz", &l);
	assert_int_equal(l.count, 0);

	/* Size and time come with each entry. */
	struct store_object_info info;
	assert_int_equal(store_stat(store, "c/ab", &info, &err), 0);

	/* The callback can stop the listing with its error. */
	memset(&l, 0, sizeof l);
	l.stop_after = 2;
	assert_int_equal(store_list(store, "c/", collect, &l, &err), -1);
	assert_int_equal(err.status, 418);
	assert_int_equal(l.count, 2);

	assert_int_equal(store_list(store, "c", collect, &l, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(store_list(store, "../", collect, &l, &err), -1);
	assert_int_equal(err.status, 400);
	store_abort(open);
}

static int check_entry(const struct store_entry *e, void *arg, struct ct_error *err)
{
	(void)err;
	const struct store_object_info *want = arg;
	assert_string_equal(e->name, want->name);
	assert_int_equal(e->size, want->size);
	assert_int_equal(e->created, want->created);
	return 0;
}

static void test_stat(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_object_info info, st;
	assert_int_equal(store_stat(store, "c/missing", &st, &err), -1);
	assert_int_equal(err.status, 404);
	assert_non_null(strstr(err.message, "was not found"));
	assert_int_equal(store_stat(store, "nocontainer/x", &st, &err), -1);
	assert_int_equal(err.status, 404);

	struct store_meta meta = {0};
	assert_int_equal(store_meta_set(&meta, "parent_location", "c/full", &err), 0);
	assert_int_equal(store_meta_set(&meta, "parent_checksum", "abc", &err), 0);
	assert_int_equal(store_meta_set(&meta, "parent_checksum", "def", &err), 0); /* replaced */
	size_t chunk = 2;
	put_chunked(store, "c/inc", (const unsigned char *)"12345", 5, &chunk, 1, &meta, &info);
	assert_int_equal(store_stat(store, "c/inc", &st, &err), 0);
	assert_int_equal(st.size, 5);
	assert_string_equal(st.sha256, info.sha256);
	assert_int_equal(st.created, info.created);
	assert_int_equal(st.meta.count, 2);
	assert_string_equal(store_meta_get(&st.meta, "parent_checksum"), "def");
	assert_string_equal(store_meta_get(&st.meta, "parent_location"), "c/full");
	assert_int_equal(store_list(store, "c/inc", check_entry, &info, &err), 0);
}

static void test_delete(void **state)
{
	(void)state;
	struct ct_error err = {0};
	put(store, "c/x/doomed", "bytes");
	put(store, "c/x/kept", "bytes");
	assert_int_equal(store_delete(store, "c/x/doomed", &err), 0);
	struct store_object_info st;
	assert_int_equal(store_stat(store, "c/x/doomed", &st, &err), -1);
	assert_int_equal(err.status, 404);
	assert_null(store_open_read(store, "c/x/doomed", NULL, &err));
	assert_int_equal(err.status, 404);
	assert_int_equal(store_delete(store, "c/x/doomed", &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(store_delete(store, "c/x", &err), -1); /* a directory, not an object */
	assert_int_equal(err.status, 404);
	struct listed l;
	list_into("c/", &l);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.names[0], "c/x/kept");
	expect_files(root, 2); /* kept and its record */
	assert_int_equal(store_delete(store, "c/x/kept", &err), 0);
	expect_files(root, 0);
	/* The name is free again. */
	put(store, "c/x/doomed", "again");
	assert_int_equal(store_stat(store, "c/x/doomed", &st, &err), 0);
	assert_int_equal(st.size, 5);
}

static void test_abort_leaves_nothing(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const size_t len = 3 * 1024 * 1024 + 1;
	unsigned char *data = test_bytes(len, 1);
	struct store_writer *w = store_open_write(store, "c/deep/path/aborted", &err);
	assert_non_null(w);
	assert_int_equal(store_write(w, data, len, &err), 0);
	assert_true(files_under(root) >= 1); /* the bytes were on disk */
	store_abort(w);
	expect_files(root, 0);
	store_abort(NULL);

	/* A finish refused for its metadata removes the bytes too. */
	w = store_open_write(store, "c/badmeta", &err);
	assert_non_null(w);
	assert_int_equal(store_write(w, data, 1000, &err), 0);
	struct store_meta meta = {.count = 1};
	snprintf(meta.item[0].key, sizeof meta.item[0].key, "Bad-Key");
	assert_int_equal(store_finish(w, &meta, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	expect_files(root, 0);
	struct store_object_info st;
	assert_int_equal(store_stat(store, "c/badmeta", &st, &err), -1);
	assert_int_equal(err.status, 404);
	free(data);
}

static void corrupt_and_expect(const char *name, const char *how, const char *message)
{
	struct ct_error err = {0};
	unsigned char *back;
	size_t got;
	if (!get_all(store, name, NULL, 65536, &back, &got, &err))
		fail_msg("%s: a %s object read back as good", name, how);
	assert_int_equal(err.status, 500);
	if (!strstr(err.message, message))
		fail_msg("%s: '%s' lacks '%s'", how, err.message, message);
}

static void test_corruption_detected(void **state)
{
	(void)state;
	const size_t len = 1024 * 1024 + 17;
	unsigned char *data = test_bytes(len, 5);
	size_t chunk = 100000;
	char path[256];

	put_chunked(store, "c/truncated", data, len, &chunk, 1, NULL, NULL);
	path_of("c/truncated", path);
	assert_int_equal(truncate(path, len - 1), 0);
	corrupt_and_expect("c/truncated", "truncated", "shorter than recorded");

	put_chunked(store, "c/extended", data, len, &chunk, 1, NULL, NULL);
	path_of("c/extended", path);
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputc('x', f);
	fclose(f);
	corrupt_and_expect("c/extended", "extended", "longer than recorded");

	put_chunked(store, "c/flipped", data, len, &chunk, 1, NULL, NULL);
	path_of("c/flipped", path);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char b = data[len / 2] ^ 0x01;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)(len / 2)), 1);
	close(fd);
	corrupt_and_expect("c/flipped", "flipped", "checksum does not match");

	/* The failure repeats on every later read. */
	struct ct_error err = {0};
	struct store_reader *r = store_open_read(store, "c/flipped", NULL, &err);
	assert_non_null(r);
	unsigned char *buf = malloc(len + 1);
	ssize_t n;
	while ((n = store_read(r, buf, len + 1, &err)) > 0)
		;
	assert_int_equal(n, -1);
	memset(&err, 0, sizeof err);
	assert_int_equal(store_read(r, buf, 10, &err), -1);
	assert_int_equal(err.status, 500);
	store_close(r);
	free(buf);

	/* A damaged record is an error, never a guess. */
	put(store, "c/badrecord", "data");
	path_of("c/.badrecord.meta", path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"format\": 1, \"size\": \"many\"}", f);
	fclose(f);
	assert_null(store_open_read(store, "c/badrecord", NULL, &err));
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "corrupt"));

	/* Bytes gone, record left: not found. */
	put(store, "c/nobytes", "data");
	path_of("c/nobytes", path);
	assert_int_equal(unlink(path), 0);
	assert_null(store_open_read(store, "c/nobytes", NULL, &err));
	assert_int_equal(err.status, 404);
	free(data);
}

static void test_hostile_names(void **state)
{
	(void)state;
	char longname[STORE_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[1] = '/';
	longname[sizeof longname - 1] = '\0';
	char longcomp[STORE_COMPONENT_MAX + 4] = "c/";
	memset(longcomp + 2, 'b', STORE_COMPONENT_MAX + 1);
	longcomp[sizeof longcomp - 1] = '\0';
	const char *bad[] = {
		NULL,
		"",
		"noslash",
		"/etc/passwd",
		"../escape",
		"c/../../escape",
		"c/..",
		"c/.",
		"c/./x",
		"c/.hidden",
		"c/.x.meta",
		".c/x",
		"c//x",
		"c/x/",
		"c/",
		"c/new\nline",
		"c/tab\there",
		"c/esc\x1b[31m",
		"c/del\x7f",
		"c/bad\xff utf8",
		"c/over\xc0\xaflong",
		longname,
		longcomp,
	};
	struct ct_error err = {0};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *name = bad[i];
		struct store_object_info st;
		err.status = 0;
		if (store_open_write(store, name, &err))
			fail_msg("name %zu was accepted for writing", i);
		assert_int_equal(err.status, 400);
		err.status = 0;
		assert_null(store_open_read(store, name, NULL, &err));
		assert_int_equal(err.status, 400);
		err.status = 0;
		assert_int_equal(store_stat(store, name, &st, &err), -1);
		assert_int_equal(err.status, 400);
		err.status = 0;
		assert_int_equal(store_delete(store, name, &err), -1);
		assert_int_equal(err.status, 400);
		assert_null(strchr(err.message, '\n'));
		assert_null(strchr(err.message, '\x1b'));
	}
	/* Nothing at all was created, not even a directory. */
	struct stat st;
	char path[256];
	path_of("c", path);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof path, "%s/escape", dir);
	assert_int_equal(stat(path, &st), -1);

	/* The longest valid name works. */
	char longest[STORE_NAME_MAX + 1];
	memset(longest, 'n', STORE_NAME_MAX);
	longest[STORE_NAME_MAX] = '\0';
	for (size_t i = 1; i < STORE_NAME_MAX; i += STORE_COMPONENT_MAX)
		longest[i] = '/';
	put(store, longest, "long");
	struct store_object_info info;
	assert_int_equal(store_stat(store, longest, &info, &err), 0);
	assert_int_equal(info.size, 4);

	/* UTF-8 is fine. */
	put(store, "c/sauvegarde-été", "utf8");
}

static void test_symlinks_not_followed(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char outside[128], path[256];
	snprintf(outside, sizeof outside, "%s/outside", dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	put(store, "c/real", "real");
	path_of("c/evil", path);
	assert_int_equal(symlink(outside, path), 0);

	assert_null(store_open_write(store, "c/evil/x", &err));
	assert_int_equal(err.status, 409);
	assert_null(store_open_read(store, "c/evil/x", NULL, &err));
	assert_int_equal(err.status, 404);
	expect_files(outside, 0);

	/* A symlink planted as an object's bytes is not read through. */
	char target[256];
	snprintf(target, sizeof target, "%s/secret", outside);
	FILE *f = fopen(target, "w");
	assert_non_null(f);
	fputs("real", f);
	fclose(f);
	path_of("c/real", path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_null(store_open_read(store, "c/real", NULL, &err));
	assert_int_equal(err.status, 500);
}

static void test_write_once(void **state)
{
	(void)state;
	struct ct_error err = {0};
	put(store, "c/once", "first");
	/* Refused at open, before any byte is streamed. */
	assert_null(store_open_write(store, "c/once", &err));
	assert_int_equal(err.status, 409);
	assert_non_null(strstr(err.message, "already exists"));

	/* Two writers of one new name: the first to finish wins; the other's
	 * finish is refused and leaves nothing. */
	struct store_writer *a = store_open_write(store, "c/race", &err);
	struct store_writer *b = store_open_write(store, "c/race", &err);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(store_write(a, "aaaa", 4, &err), 0);
	assert_int_equal(store_write(b, "bbbbbbbb", 8, &err), 0);
	assert_int_equal(store_finish(b, NULL, NULL, &err), 0);
	assert_int_equal(store_finish(a, NULL, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	unsigned char *back;
	size_t got;
	assert_int_equal(get_all(store, "c/race", NULL, 100, &back, &got, &err), 0);
	assert_int_equal(got, 8);
	assert_memory_equal(back, "bbbbbbbb", 8);
	free(back);
	expect_files(root, 4); /* once, race and their records */

	/* An object's name cannot be a directory of others, nor the reverse. */
	assert_null(store_open_write(store, "c/once/child", &err));
	assert_int_equal(err.status, 409);
	struct store_writer *w = store_open_write(store, "c/dir", &err);
	assert_non_null(w);
	put(store, "c/dir/child", "child"); /* while c/dir is being written */
	assert_int_equal(store_finish(w, NULL, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	assert_null(store_open_write(store, "c/dir", &err));
	assert_int_equal(err.status, 409);
	expect_files(root, 6);
}

struct writer_job {
	const char *name;
	unsigned seed;
	size_t len;
	int rc;
	pthread_barrier_t *start;
};

static void *write_job(void *arg)
{
	struct writer_job *job = arg;
	struct ct_error err = {0};
	unsigned char *data = test_bytes(job->len, job->seed);
	job->rc = -1;
	struct store_writer *w = store_open_write(store, job->name, &err);
	pthread_barrier_wait(job->start); /* both open before either writes */
	if (!w)
		goto out;
	for (size_t off = 0; off < job->len;) {
		size_t n = 1 + (off * 7919 + job->seed) % 50000;
		if (n > job->len - off)
			n = job->len - off;
		if (store_write(w, data + off, n, &err)) {
			store_abort(w);
			goto out;
		}
		off += n;
	}
	job->rc = store_finish(w, NULL, NULL, &err);
out:
	free(data);
	return NULL;
}

static void test_two_writers_at_once(void **state)
{
	(void)state;
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, 2);
	struct writer_job jobs[2] = {
		{"c/inst/a", 11, 2 * 1024 * 1024 + 5, -1, &start},
		{"c/inst/b", 12, 3 * 1024 * 1024 - 9, -1, &start},
	};
	pthread_t threads[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, write_job, &jobs[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < 2; i++) {
		struct ct_error err = {0};
		assert_int_equal(jobs[i].rc, 0);
		unsigned char *want = test_bytes(jobs[i].len, jobs[i].seed);
		unsigned char *back;
		size_t got;
		if (get_all(store, jobs[i].name, NULL, 65536, &back, &got, &err))
			fail_msg("%s: %s", jobs[i].name, err.message);
		assert_int_equal(got, jobs[i].len);
		assert_memory_equal(back, want, got);
		free(back);
		free(want);
	}
	expect_files(root, 4);
}

static void test_crash_leftovers(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char path[256];
	put(store, "c/dir/kept", "kept");
	/* What a writer killed half way leaves: hidden bytes, hidden records, and
	 * (killed between the two renames of publishing) bytes without a record. */
	const char *leftovers[] = {"c/dir/.ghost.tmp-0123456789abcdef",
				   "c/dir/.ghost.meta.tmp-0123456789abcdef", "c/dir/ghost"};
	for (size_t i = 0; i < 3; i++) {
		path_of(leftovers[i], path);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs("partial", f);
		fclose(f);
	}
	struct listed l;
	list_into("c/", &l);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.names[0], "c/dir/kept");
	struct store_object_info st;
	assert_int_equal(store_stat(store, "c/dir/ghost", &st, &err), -1);
	assert_int_equal(err.status, 404);
	assert_null(store_open_read(store, "c/dir/ghost", NULL, &err));
	assert_int_equal(err.status, 404);
	/* The name is free: publishing replaces the unrecorded bytes. */
	put(store, "c/dir/ghost", "whole");
	unsigned char *back;
	size_t got;
	assert_int_equal(get_all(store, "c/dir/ghost", NULL, 64, &back, &got, &err), 0);
	assert_int_equal(got, 5);
	assert_memory_equal(back, "whole", 5);
	free(back);
	/* Deleting a name that only has unrecorded bytes removes them (404). */
	path_of("c/dir/orphan", path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(store_delete(store, "c/dir/orphan", &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(access(path, F_OK), -1);
}

static void expect_mode(const char *rel, mode_t mode)
{
	char path[256];
	struct stat st;
	path_of(rel, path);
	assert_int_equal(lstat(path, &st), 0);
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s has mode %04o, not %04o", rel, st.st_mode & 07777, mode);
}

static void test_modes(void **state)
{
	(void)state;
	mode_t old = umask(0);
	put(store, "c/sub/obj", "private");
	umask(old);
	expect_mode("", 0700);
	expect_mode("c", 0700);
	expect_mode("c/sub", 0700);
	expect_mode("c/sub/obj", 0600);
	expect_mode("c/sub/.obj.meta", 0600);
}

static void test_full_file_system(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char small[128];
	snprintf(small, sizeof small, "%s/small", dir);
	assert_int_equal(mkdir(small, 0700), 0);
	if (mount("tmpfs", small, "tmpfs", 0, "size=1m,mode=0700")) {
		if (errno == EPERM)
			skip(); /* needs root, as make check runs */
		fail_msg("mount tmpfs: %s", strerror(errno));
	}
	struct backup_store *tiny = local_store_new(small, &err);
	assert_non_null(tiny);
	const size_t len = 2 * 1024 * 1024;
	unsigned char *data = test_bytes(len, 9);
	struct store_writer *w = store_open_write(tiny, "c/too-big", &err);
	assert_non_null(w);
	int rc = 0;
	for (size_t off = 0; !rc && off < len; off += 65536)
		rc = store_write(w, data + off, 65536, &err);
	if (!rc)
		rc = store_finish(w, NULL, NULL, &err);
	else {
		/* A failed write leaves the handle able only to abort. */
		assert_int_equal(err.status, 500);
		assert_non_null(strstr(err.message, "no space left"));
		assert_int_equal(store_write(w, data, 1, &err), -1);
		store_abort(w);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(err.status, 500);
	expect_files(small, 0);
	/* And the store still works once there is room. */
	put(tiny, "c/small", "fits");
	assert_int_equal(store_stat(tiny, "c/small", &(struct store_object_info){0}, &err), 0);
	backup_store_free(tiny);
	free(data);
	assert_int_equal(umount(small), 0);
}

static void test_chosen_by_config(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char path[256];
	cfg_reset();
	assert_string_equal(cfg_str(CFG_STORAGE_STRATEGY), "local");
	assert_int_equal(cfg_set(CFG_STATE_PATH, dir, &err), 0);
	struct backup_store *s = backup_store_new(&err);
	assert_non_null(s);
	assert_string_equal(backup_store_kind(s), "local");
	put(s, "c/via-config", "x");
	snprintf(path, sizeof path, "%s/backups/c/via-config", dir);
	assert_int_equal(access(path, F_OK), 0);
	backup_store_free(s);

	snprintf(path, sizeof path, "%s/elsewhere/deeper", dir);
	assert_int_equal(cfg_set(CFG_LOCAL_STORAGE_DIR, path, &err), 0);
	s = backup_store_new(&err);
	assert_non_null(s);
	put(s, "c/configured", "x");
	backup_store_free(s);
	snprintf(path, sizeof path, "%s/elsewhere/deeper/c/configured", dir);
	assert_int_equal(access(path, F_OK), 0);

	assert_int_equal(cfg_set(CFG_LOCAL_STORAGE_DIR, "relative/dir", &err), 0);
	assert_null(backup_store_new(&err));
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "absolute"));

	const char *slots[] = {"s3", "S3"};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(cfg_set(CFG_STORAGE_STRATEGY, slots[i], &err), 0);
		assert_null(backup_store_new(&err));
		assert_int_equal(err.status, 501);
		assert_non_null(strstr(err.message, "not implemented yet"));
	}
	/* Swift without its [swift] credentials: a configuration error, not a slot. */
	assert_int_equal(cfg_set(CFG_STORAGE_STRATEGY, "swift", &err), 0);
	assert_null(backup_store_new(&err));
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "[swift] auth_url"));
	assert_int_equal(cfg_set(CFG_STORAGE_STRATEGY, "ftp", &err), 0);
	assert_null(backup_store_new(&err));
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "unknown"));
	cfg_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_mib_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_by_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_writers_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_leftovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_file_system, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chosen_by_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
