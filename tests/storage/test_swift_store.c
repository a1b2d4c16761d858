/*
 * test_swift_store.c — the backup storage interface over the Swift store,
 * against a real Swift (scripts/swift.sh, started once by scripts/check.sh,
 * which exports CTROVE_TEST_SWIFT_AUTH_URL / _USER / _KEY): round trips in one
 * and in several segments, ranges, metadata with '_', write-once at open and at
 * finish, abort and delete leaving no segment, objects changed behind the
 * store's back found on read, listing order, prefixes and pages, a store opened
 * from its description, and Swift unreachable. Each test works in a container
 * of its own and looks behind the store with raw requests (swift_http.h).
 */
#include "storage_testutil.h"

#include <jansson.h>

#include "common/config.h"
#include "common/ids.h"
#include "storage/swift_http.h"

#define SEGMENT 1000 /* backup_segment_max_size for these tests */

static struct backup_store *store;
static struct store_access access_info; /* storage URL and token, for raw requests */
static char container[40];

static const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		fail_msg("%s is not set: run under scripts/check.sh, or start Swift with "
			 "scripts/swift.sh start DIR and eval \"$(scripts/swift.sh env DIR)\"",
			 name);
	return v;
}

static void configure(void)
{
	struct ct_error err = {0};
	cfg_reset();
	assert_int_equal(cfg_set(CFG_STORAGE_STRATEGY, "swift", &err), 0);
	assert_int_equal(
		cfg_set(CFG_SWIFT_AUTH_URL, env_or_fail("CTROVE_TEST_SWIFT_AUTH_URL"), &err), 0);
	assert_int_equal(cfg_set(CFG_SWIFT_AUTH_USER, env_or_fail("CTROVE_TEST_SWIFT_USER"), &err),
			 0);
	assert_int_equal(cfg_set(CFG_SWIFT_AUTH_KEY, env_or_fail("CTROVE_TEST_SWIFT_KEY"), &err),
			 0);
	assert_int_equal(cfg_set(CFG_BACKUP_SEGMENT_MAX_SIZE, "1000", &err), 0);
	assert_int_equal(cfg_set(CFG_SWIFT_TIMEOUT, "20", &err), 0);
	assert_int_equal(cfg_set(CFG_SWIFT_LIST_PAGE, "25", &err), 0);
}

static int setup(void **state)
{
	(void)state;
	struct ct_error err = {0};
	configure();
	store = backup_store_new(&err);
	if (!store)
		fail_msg("backup_store_new: %d %s", err.status, err.message);
	assert_string_equal(backup_store_kind(store), "swift");
	if (backup_store_access(store, &access_info, &err))
		fail_msg("backup_store_access: %d %s", err.status, err.message);
	unsigned char id[6];
	assert_int_equal(ids_random(id, sizeof id), 0);
	snprintf(container, sizeof container, "t%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2],
		 id[3], id[4], id[5]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	backup_store_free(store);
	store = NULL;
	cfg_free();
	return 0;
}

static void name_in(char out[STORE_NAME_MAX + 1], const char *path)
{
	snprintf(out, STORE_NAME_MAX + 1, "%s/%s", container, path);
}

/* A raw request to <storage_url>/<path>[?query] with the store's token. */
static long raw(const char *method, const char *path, const char *query, const char *extra,
		const void *body, size_t body_len, struct swift_response *resp)
{
	char url[2048], token[STORE_ACCESS_TOKEN_MAX + 32];
	snprintf(url, sizeof url, "%s/%s%s%s", access_info.storage_url, path, query ? "?" : "",
		 query ? query : "");
	snprintf(token, sizeof token, "X-Auth-Token: %s", access_info.auth_token);
	struct curl_slist *h = curl_slist_append(NULL, token);
	if (extra)
		h = curl_slist_append(h, extra);
	struct swift_request req = {.method = method,
				    .url = url,
				    .headers = h,
				    .body = body,
				    .body_len = body_len,
				    .body_max = 1 << 20,
				    .timeout = 20};
	struct ct_error err = {0};
	if (swift_http_do(&req, resp, &err))
		fail_msg("raw %s %s: %s", method, path, err.message);
	curl_slist_free_all(h);
	return resp->status;
}

/* Every name in the test's container, hidden segments included. */
static size_t raw_names(char names[][256], size_t max)
{
	struct swift_response resp;
	long status = raw("GET", container, "format=json", NULL, NULL, 0, &resp);
	size_t n = 0;
	if (status == 200) {
		json_t *doc = json_loads(resp.body, 0, NULL);
		assert_true(json_is_array(doc));
		size_t i;
		json_t *item;
		json_array_foreach (doc, i, item) {
			if (n < max)
				snprintf(names[n], 256, "%s",
					 json_string_value(json_object_get(item, "name")));
			n++;
		}
		json_decref(doc);
	} else {
		assert_int_equal(status, 404);
	}
	swift_response_clear(&resp);
	return n;
}

static void expect_raw_count(size_t want)
{
	static char names[64][256];
	size_t n = raw_names(names, 64);
	if (n == want)
		return;
	for (size_t i = 0; i < n && i < 64; i++)
		print_message("  in swift: %s\n", names[i]);
	fail_msg("container %s holds %zu names, not %zu", container, n, want);
}

static void expect_same(struct backup_store *s, const char *name, const unsigned char *data,
			size_t len, size_t step)
{
	struct ct_error err = {0};
	unsigned char *got;
	size_t got_len;
	if (get_all(s, name, NULL, step, &got, &got_len, &err))
		fail_msg("read %s: %d %s", name, err.status, err.message);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	free(got);
}

static void test_small_round_trip(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_meta meta = {0};
	assert_int_equal(store_meta_set(&meta, "datastore_version", "10.11", &err), 0);
	assert_int_equal(store_meta_set(&meta, "lsn", "1234567", &err), 0);
	char name[STORE_NAME_MAX + 1];
	name_in(name, "b1.xbstream.zst.enc");
	size_t chunks[] = {1, 2};
	struct store_object_info info;
	int64_t before = (int64_t)time(NULL);
	put_chunked(store, name, (const unsigned char *)"hello", 5, chunks, 2, &meta, &info);
	assert_string_equal(info.sha256,
			    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	expect_same(store, name, (const unsigned char *)"hello", 5, 3);

	struct store_object_info st;
	assert_int_equal(store_stat(store, name, &st, &err), 0);
	assert_int_equal(st.size, 5);
	assert_string_equal(st.sha256, info.sha256);
	assert_true(st.created >= before - 1 && st.created <= (int64_t)time(NULL) + 1);
	assert_int_equal(st.meta.count, 2);
	assert_string_equal(store_meta_get(&st.meta, "datastore_version"), "10.11");
	assert_string_equal(store_meta_get(&st.meta, "lsn"), "1234567");

	/* Trove's header spelling: '_' sent as '-'. */
	struct swift_response resp;
	char path[STORE_NAME_MAX + 1];
	name_in(path, "b1.xbstream.zst.enc");
	assert_int_equal(raw("HEAD", path, NULL, NULL, NULL, 0, &resp), 200);
	assert_string_equal(store_meta_get(&resp.meta, "datastore_version"), "10.11");
	swift_response_clear(&resp);
	expect_raw_count(2); /* the manifest and its one hidden segment */
}

static void test_segments(void **state)
{
	(void)state;
	const size_t sizes[] = {5500, 3 * SEGMENT, SEGMENT, SEGMENT + 1};
	const size_t want_segments[] = {6, 3, 1, 2};
	size_t total = 0;
	for (size_t k = 0; k < 4; k++) {
		char name[STORE_NAME_MAX + 1], path[64];
		snprintf(path, sizeof path, "dir/obj%zu", k);
		name_in(name, path);
		unsigned char *data = test_bytes(sizes[k], (unsigned)k + 7);
		size_t chunks[] = {7, 333, 4096, 1};
		struct store_object_info info;
		put_chunked(store, name, data, sizes[k], chunks, 4, NULL, &info);
		assert_int_equal(info.size, sizes[k]);
		expect_same(store, name, data, sizes[k], 100);
		expect_same(store, name, data, sizes[k], 65536);
		total += 1 + want_segments[k];
		expect_raw_count(total);
		struct swift_response resp;
		assert_int_equal(raw("HEAD", name, NULL, NULL, NULL, 0, &resp), 200);
		assert_true(resp.slo);
		assert_int_equal(resp.content_length, sizes[k]);
		swift_response_clear(&resp);
		free(data);
	}
}

/* Segments of 1 MiB and an object of several, read back in odd steps: the
 * stream is bounded by one segment's MD5 on the way in and 1 MiB on the way out. */
static void test_large_object(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_BACKUP_SEGMENT_MAX_SIZE, "1048576", &err), 0);
	struct backup_store *big_store = backup_store_new(&err);
	assert_non_null(big_store);
	char name[STORE_NAME_MAX + 1];
	name_in(name, "large");
	size_t len = 5 * 1048576 + 12345;
	unsigned char *data = test_bytes(len, 11);
	struct store_object_info info;
	put_chunked(big_store, name, data, len, (size_t[]){65536, 100001, 3}, 3, NULL, &info);
	assert_int_equal(info.size, len);
	expect_same(big_store, name, data, len, 4093);
	expect_same(store, name, data, len, 262144);
	expect_raw_count(1 + 6);
	assert_int_equal(store_delete(big_store, name, &err), 0);
	expect_raw_count(0);
	backup_store_free(big_store);
	free(data);
}

static void test_empty_object(void **state)
{
	(void)state;
	char name[STORE_NAME_MAX + 1];
	name_in(name, "empty");
	struct store_object_info info;
	put_chunked(store, name, (const unsigned char *)"", 0, (size_t[]){1}, 1, NULL, &info);
	assert_string_equal(info.sha256,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_same(store, name, (const unsigned char *)"", 0, 10);
	struct ct_error err = {0};
	struct store_object_info st;
	assert_int_equal(store_stat(store, name, &st, &err), 0);
	assert_int_equal(st.size, 0);
	expect_raw_count(1);
	assert_int_equal(store_delete(store, name, &err), 0);
	expect_raw_count(0);
}

static void test_ranges(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char name[STORE_NAME_MAX + 1];
	name_in(name, "ranged");
	unsigned char *data = test_bytes(5500, 3);
	put_chunked(store, name, data, 5500, (size_t[]){999}, 1, NULL, NULL);
	const struct store_range ranges[] = {{0, 10}, {1500, 2000}, {999, 2}, {5000, 0}, {5500, 0}};
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		unsigned char *got;
		size_t len;
		if (get_all(store, name, &ranges[i], 77, &got, &len, &err))
			fail_msg("range %zu: %s", i, err.message);
		size_t want = ranges[i].length ? ranges[i].length : 5500 - ranges[i].offset;
		assert_int_equal(len, want);
		assert_memory_equal(got, data + ranges[i].offset, want);
		free(got);
	}
	struct store_range outside = {5000, 501};
	assert_null(store_open_read(store, name, &outside, &err));
	assert_int_equal(err.status, 400);
	free(data);
}

static void test_metadata_limits(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct store_meta meta = {0};
	char key[8], value[STORE_META_VALUE_MAX + 1];
	/* As much as the interface allows in all (Swift's 4096 bytes): the checksum
	 * must not eat into it. */
	memset(value, 'v', STORE_META_VALUE_MAX);
	value[STORE_META_VALUE_MAX] = '\0';
	unsigned i = 0;
	for (;; i++) {
		snprintf(key, sizeof key, "k_%02u", i);
		value[0] = (char)('a' + i);
		if (store_meta_set(&meta, key, value, &err))
			break;
	}
	assert_true(i >= 15);
	char name[STORE_NAME_MAX + 1];
	name_in(name, "meta");
	put_chunked(store, name, (const unsigned char *)"x", 1, (size_t[]){1}, 1, &meta, NULL);
	struct store_object_info st;
	assert_int_equal(store_stat(store, name, &st, &err), 0);
	assert_int_equal(st.meta.count, meta.count);
	for (unsigned k = 0; k < meta.count; k++)
		assert_string_equal(store_meta_get(&st.meta, meta.item[k].key), meta.item[k].value);
}

static void test_write_once(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char name[STORE_NAME_MAX + 1];
	name_in(name, "once");
	put(store, name, "first");
	assert_null(store_open_write(store, name, &err));
	assert_int_equal(err.status, 409);

	/* Two writers of one new name: the first to finish wins, the other's
	 * segments are gone and the winner's bytes untouched. */
	name_in(name, "race");
	unsigned char *a = test_bytes(2500, 1), *b = test_bytes(2500, 2);
	struct store_writer *wa = store_open_write(store, name, &err);
	struct store_writer *wb = store_open_write(store, name, &err);
	assert_non_null(wa);
	assert_non_null(wb);
	assert_int_equal(store_write(wa, a, 2500, &err), 0);
	assert_int_equal(store_write(wb, b, 2500, &err), 0);
	assert_int_equal(store_finish(wb, NULL, NULL, &err), 0);
	memset(&err, 0, sizeof err);
	assert_int_equal(store_finish(wa, NULL, NULL, &err), -1);
	assert_int_equal(err.status, 409);
	expect_same(store, name, b, 2500, 512);
	expect_raw_count(2 + 1 + 3); /* once + its segment, race + its 3 segments */
	free(a);
	free(b);
}

static void test_abort_leaves_nothing(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char name[STORE_NAME_MAX + 1];
	name_in(name, "aborted");
	unsigned char *data = test_bytes(3500, 4);
	struct store_writer *w = store_open_write(store, name, &err);
	assert_non_null(w);
	assert_int_equal(store_write(w, data, 3500, &err), 0); /* 3 segments + half of one */
	expect_raw_count(3);
	store_abort(w);
	expect_raw_count(0);
	struct store_object_info st;
	assert_int_equal(store_stat(store, name, &st, &err), -1);
	assert_int_equal(err.status, 404);
	/* Bad metadata at finish: refused, and nothing remains either. */
	w = store_open_write(store, name, &err);
	assert_non_null(w);
	assert_int_equal(store_write(w, data, 1500, &err), 0);
	struct store_meta meta = {.count = 1};
	snprintf(meta.item[0].key, sizeof meta.item[0].key, "Bad-Key");
	assert_int_equal(store_finish(w, &meta, NULL, &err), -1);
	assert_int_equal(err.status, 400);
	expect_raw_count(0);
	free(data);
}

static void read_fails_at_end(const char *name, size_t len)
{
	struct ct_error err = {0};
	struct store_reader *r = store_open_read(store, name, NULL, &err);
	assert_non_null(r);
	unsigned char buf[300];
	size_t seen = 0;
	ssize_t n;
	while ((n = store_read(r, buf, sizeof buf, &err)) > 0)
		seen += (size_t)n;
	assert_int_equal(n, -1);
	/* 500, or 503 when Swift itself fails the GET (it does, with a 500, when
	 * the first segments it fetches do not match the manifest). */
	assert_true(err.status == 500 || err.status == 503);
	assert_true(seen <= len);
	print_message("  read of %s failed as it must: %s\n", name, err.message);
	store_close(r);
}

static void test_changed_behind_the_store(void **state)
{
	(void)state;
	char name[STORE_NAME_MAX + 1];
	unsigned char *data = test_bytes(2500, 5);

	/* The object replaced by other bytes of the same length, keeping the
	 * recorded checksum: the SHA-256 check at the end catches it. */
	name_in(name, "replaced");
	put_chunked(store, name, data, 2500, (size_t[]){2500}, 1, NULL, NULL);
	struct swift_response resp;
	assert_int_equal(raw("HEAD", name, NULL, NULL, NULL, 0, &resp), 200);
	char type[300];
	snprintf(type, sizeof type, "Content-Type: %s", resp.content_type);
	swift_response_clear(&resp);
	unsigned char *other = test_bytes(2500, 6);
	assert_int_equal(raw("PUT", name, NULL, type, other, 2500, &resp), 201);
	swift_response_clear(&resp);
	read_fails_at_end(name, 2500);

	/* A segment overwritten: Swift's ETag check of the segment stops the
	 * stream, and the store reports the object truncated or corrupt. */
	name_in(name, "segment");
	put_chunked(store, name, data, 2500, (size_t[]){2500}, 1, NULL, NULL);
	static char names[16][256];
	size_t n = raw_names(names, 16);
	const char *seg = NULL;
	for (size_t i = 0; i < n; i++)
		if (strstr(names[i], ".segment_") && strstr(names[i], "_00000001"))
			seg = names[i];
	assert_non_null(seg);
	char seg_path[300];
	snprintf(seg_path, sizeof seg_path, "%s/%s", container, seg);
	assert_int_equal(raw("PUT", seg_path, NULL, NULL, other, SEGMENT, &resp), 201);
	swift_response_clear(&resp);
	read_fails_at_end(name, 2500);

	/* The same deep inside a larger object, after bytes were delivered. */
	name_in(name, "deep");
	unsigned char *big = test_bytes(5 * SEGMENT, 7);
	put_chunked(store, name, big, 5 * SEGMENT, (size_t[]){4096}, 1, NULL, NULL);
	n = raw_names(names, 16);
	seg = NULL;
	for (size_t i = 0; i < n; i++)
		if (strstr(names[i], ".deep_") && strstr(names[i], "_00000004"))
			seg = names[i];
	assert_non_null(seg);
	snprintf(seg_path, sizeof seg_path, "%s/%s", container, seg);
	assert_int_equal(raw("PUT", seg_path, NULL, NULL, other, SEGMENT, &resp), 201);
	swift_response_clear(&resp);
	read_fails_at_end(name, 5 * SEGMENT);
	free(big);
	free(data);
	free(other);
}

struct listing {
	char names[8][64];
	size_t n;
};

static int collect(const struct store_entry *e, void *arg, struct ct_error *err)
{
	(void)err;
	struct listing *l = arg;
	if (l->n < 8)
		snprintf(l->names[l->n], 64, "%s", strchr(e->name, '/') + 1);
	l->n++;
	return 0;
}

static void test_list(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char name[STORE_NAME_MAX + 1], prefix[STORE_NAME_MAX + 1];
	const char *paths[] = {"b", "a/y", "ab", "a/x"};
	for (size_t i = 0; i < 4; i++) {
		name_in(name, paths[i]);
		unsigned char *data = test_bytes(1500, (unsigned)i);
		put_chunked(store, name, data, 1500, (size_t[]){1500}, 1, NULL, NULL);
		free(data);
	}
	struct listing l = {0};
	name_in(prefix, "a");
	assert_int_equal(store_list(store, prefix, collect, &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.names[0], "a/x");
	assert_string_equal(l.names[1], "a/y");
	assert_string_equal(l.names[2], "ab");
	memset(&l, 0, sizeof l);
	name_in(prefix, "");
	assert_int_equal(store_list(store, prefix, collect, &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.names[3], "b");
	memset(&l, 0, sizeof l);
	assert_int_equal(store_list(store, "no-such-container/", collect, &l, &err), 0);
	assert_int_equal(l.n, 0);
}

static int count_entries(const struct store_entry *e, void *arg, struct ct_error *err)
{
	(void)err;
	size_t *n = arg;
	assert_int_equal(e->size, 0);
	(*n)++;
	return 0;
}

/* More objects than one listing page ([swift] list_page_size = 25 here): every
 * one is listed once, by markers. */
static void test_list_pages(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char name[STORE_NAME_MAX + 1], path[32];
	for (int i = 0; i < 60; i++) {
		snprintf(path, sizeof path, "p/%03d", i);
		name_in(name, path);
		put_chunked(store, name, (const unsigned char *)"", 0, (size_t[]){1}, 1, NULL,
			    NULL);
	}
	size_t n = 0;
	name_in(name, "p/");
	assert_int_equal(store_list(store, name, count_entries, &n, &err), 0);
	assert_int_equal(n, 60);
}

static void test_delete(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char name[STORE_NAME_MAX + 1];
	name_in(name, "gone");
	unsigned char *data = test_bytes(4200, 8);
	put_chunked(store, name, data, 4200, (size_t[]){4200}, 1, NULL, NULL);
	expect_raw_count(6);
	assert_int_equal(store_delete(store, name, &err), 0);
	expect_raw_count(0);
	struct store_object_info st;
	assert_int_equal(store_stat(store, name, &st, &err), -1);
	assert_int_equal(err.status, 404);
	assert_int_equal(store_delete(store, name, &err), -1);
	assert_int_equal(err.status, 404);
	unsigned char *got;
	size_t len;
	assert_int_equal(get_all(store, name, NULL, 10, &got, &len, &err), -1);
	assert_int_equal(err.status, 404);
	free(data);
}

static void test_open_access(void **state)
{
	(void)state;
	struct ct_error err = {0};
	char name[STORE_NAME_MAX + 1];
	name_in(name, "described");
	unsigned char *data = test_bytes(2100, 9);
	put_chunked(store, name, data, 2100, (size_t[]){512}, 1, NULL, NULL);

	struct store_access acc;
	assert_int_equal(backup_store_access(store, &acc, &err), 0);
	assert_string_equal(acc.kind, "swift");
	assert_true(!strncmp(acc.storage_url, "http://127.0.0.1:", 17));
	assert_true(strlen(acc.auth_token) > 10);
	assert_int_equal(acc.segment_max_size, SEGMENT);
	assert_int_equal(acc.timeout, 20);
	assert_int_equal(acc.list_page_size, 25);
	/* The segment size travels: a guest cuts the describer's segments, not its own. */
	struct store_access smaller = acc;
	smaller.segment_max_size = 500;
	struct backup_store *guest = backup_store_open_access(&smaller, &err);
	if (!guest)
		fail_msg("open_access: %s", err.message);
	static char names[64][256];
	size_t before = raw_names(names, 64);
	char cut[STORE_NAME_MAX + 1];
	name_in(cut, "cut-by-500");
	put_chunked(guest, cut, data, 2100, (size_t[]){512}, 1, NULL, NULL);
	expect_raw_count(before + 1 + 5); /* the manifest and ceil(2100 / 500) segments */
	expect_same(store, cut, data, 2100, 1000);
	assert_int_equal(store_delete(store, cut, &err), 0);
	backup_store_free(guest);

	guest = backup_store_open_access(&acc, &err);
	if (!guest)
		fail_msg("open_access: %s", err.message);
	expect_same(guest, name, data, 2100, 1000);
	char other[STORE_NAME_MAX + 1];
	name_in(other, "from-guest");
	put_chunked(guest, other, data, 2100, (size_t[]){300}, 1, NULL, NULL);
	expect_same(store, other, data, 2100, 1000);
	/* The guest's store describes itself with the token it was given. */
	struct store_access again;
	assert_int_equal(backup_store_access(guest, &again, &err), 0);
	assert_string_equal(again.auth_token, acc.auth_token);
	backup_store_free(guest);

	/* A refused token: an error without the token in it, and no change. */
	struct store_access bad = acc;
	snprintf(bad.auth_token, sizeof bad.auth_token, "AUTH_tk0000000000000000bogus");
	guest = backup_store_open_access(&bad, &err);
	assert_non_null(guest);
	struct store_writer *w = store_open_write(guest, other, &err);
	assert_null(w);
	assert_null(strstr(err.message, "bogus"));
	assert_int_equal(store_delete(guest, name, &err), -1);
	assert_null(strstr(err.message, "bogus"));
	backup_store_free(guest);
	expect_same(store, name, data, 2100, 1000);

	struct store_access incomplete = {.kind = "swift"};
	assert_null(backup_store_open_access(&incomplete, &err));
	assert_int_equal(err.status, 400);
	/* Without its numbers: the opener has no configuration of its own to guess from. */
	incomplete = acc;
	incomplete.timeout = 0;
	assert_null(backup_store_open_access(&incomplete, &err));
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "timeout"));
	assert_null(strstr(err.message, acc.auth_token));
	snprintf(incomplete.storage_url, sizeof incomplete.storage_url, "ftp://x/v1/AUTH_a");
	snprintf(incomplete.auth_token, sizeof incomplete.auth_token, "t");
	assert_null(backup_store_open_access(&incomplete, &err));
	assert_int_equal(err.status, 400);
	free(data);
}

static void test_swift_unreachable(void **state)
{
	(void)state;
	struct ct_error err = {0};
	/* A closed port: 503 naming the URL, never the key, quickly. */
	assert_int_equal(cfg_set(CFG_SWIFT_AUTH_URL, "http://127.0.0.1:9/auth/v1.0", &err), 0);
	struct backup_store *down = backup_store_new(&err);
	assert_non_null(down);
	char name[STORE_NAME_MAX + 1];
	name_in(name, "x");
	struct store_object_info st;
	assert_int_equal(store_stat(down, name, &st, &err), -1);
	assert_int_equal(err.status, 503);
	assert_non_null(strstr(err.message, "127.0.0.1:9"));
	assert_null(strstr(err.message, getenv("CTROVE_TEST_SWIFT_KEY")));
	struct store_access acc;
	assert_int_equal(backup_store_access(down, &acc, &err), -1);
	assert_int_equal(err.status, 503);
	backup_store_free(down);

	/* A wrong key: refused, named by user, the key nowhere. */
	assert_int_equal(cfg_set(CFG_SWIFT_AUTH_URL, getenv("CTROVE_TEST_SWIFT_AUTH_URL"), &err),
			 0);
	assert_int_equal(cfg_set(CFG_SWIFT_AUTH_KEY, "wrong-key-123", &err), 0);
	down = backup_store_new(&err);
	assert_non_null(down);
	assert_null(store_open_write(down, name, &err));
	assert_int_equal(err.status, 503);
	assert_non_null(strstr(err.message, "ctrove:backup"));
	assert_null(strstr(err.message, "wrong-key-123"));
	backup_store_free(down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_behind_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swift_unreachable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
