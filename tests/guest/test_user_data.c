/*
 * test_user_data.c — guest/user_data.h, the image's reader of the cloud's user
 * data, against a scratch root directory: a good bundle (contents, modes,
 * subdirectories, replacing a file), and the refusals that must leave the tree
 * unchanged — bad base64, paths that leave /etc/ctrove/ (.., relative, symlinked
 * directories and targets), unknown keys, owners and modes, huge input, a
 * missing #cloud-config line or JSON on more than one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/user_data.h"

static char root[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/ctrove-userdata-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* "#cloud-config\n" + the compact JSON of doc (stolen). */
static char *bundle(json_t *doc)
{
	char *json = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	assert_non_null(json);
	char *text = malloc(strlen(json) + 32);
	sprintf(text, "#cloud-config\n%s\n", json);
	free(json);
	return text;
}

static json_t *entry(const char *path, const char *b64, const char *mode)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "path", path, "encoding", "b64", "content",
			      b64, "owner", "root:root");
	if (mode)
		json_object_set_new(e, "permissions", json_string(mode));
	return e;
}

static char *one_file(const char *path, const char *b64)
{
	return bundle(json_pack("{s:[o]}", "write_files", entry(path, b64, "0600")));
}

/* Parse + write text under root; returns the error status (0 = written). */
static int apply(const char *text)
{
	struct ct_error err = {0};
	struct user_data *u = user_data_parse(text, strlen(text), &err);
	if (u) {
		int rc = user_data_write(u, root, &err);
		user_data_free(u);
		if (rc == 0)
			return 0;
	}
	assert_true(err.status != 0);
	assert_true(err.message[0] != '\0');
	return err.status;
}

static void expect_refused(char *text, int status, const char *what)
{
	int got = apply(text);
	if (got != status)
		fail_msg("%s: expected %d, got %d", what, status, got);
	free(text);
}

static void read_file(const char *rel, char *buf, size_t size, struct stat *st)
{
	char path[256];
	snprintf(path, sizeof path, "%s%s", root, rel);
	assert_int_equal(lstat(path, st), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static bool exists(const char *rel)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof path, "%s%s", root, rel);
	return lstat(path, &st) == 0;
}

static void test_good_bundle(void **state)
{
	(void)state;
	/* "[DEFAULT]\nguest_id = x\n", "CA\n", "ab" (one and two padding bytes). */
	char *text = bundle(json_pack(
		"{s:[o, o, o]}", "write_files",
		entry("/etc/ctrove/guest.conf", "W0RFRkFVTFRdCmd1ZXN0X2lkID0geAo=", "0600"),
		entry("/etc/ctrove/tls/ca.pem", "Q0EK", "644"),
		entry("/etc/ctrove/x", "YWI=", NULL)));
	assert_int_equal(apply(text), 0);
	char buf[256];
	struct stat st;
	read_file("/etc/ctrove/guest.conf", buf, sizeof buf, &st);
	assert_string_equal(buf, "[DEFAULT]\nguest_id = x\n");
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_uid, geteuid());
	read_file("/etc/ctrove/tls/ca.pem", buf, sizeof buf, &st);
	assert_string_equal(buf, "CA\n");
	assert_int_equal(st.st_mode & 07777, 0644);
	read_file("/etc/ctrove/x", buf, sizeof buf, &st);
	assert_string_equal(buf, "ab");
	assert_int_equal(st.st_mode & 07777, 0600); /* no permissions: 0600, not 0644 */
	char dir[128];
	snprintf(dir, sizeof dir, "%s/etc/ctrove/tls", root);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0711);

	/* Applying again replaces the file (the next boot's bundle wins). */
	free(text);
	text = one_file("/etc/ctrove/guest.conf", "bmV3");
	assert_int_equal(apply(text), 0);
	read_file("/etc/ctrove/guest.conf", buf, sizeof buf, &st);
	assert_string_equal(buf, "new");
	free(text);
	/* No temporary file is left beside it. */
	assert_false(exists("/etc/ctrove/.guest.conf.tmp"));
}

static void test_bad_base64(void **state)
{
	(void)state;
	const char *bad[] = {"YWJ",   "YW=j", "Y===",	  "YWJj ZA==", "YWJj\nZA==",
			     "YWI-",  "YWI_", "YR==",	  "YWJ=YWJj",  "=YWJ",
			     "YW\"j", "",     "YWJjZ===", "YWJjZA=",   "!!!!"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (bad[i][0] == '\0')
			continue; /* empty content is a valid empty file */
		expect_refused(one_file("/etc/ctrove/guest.conf", bad[i]), 400, bad[i]);
	}
	assert_false(exists("/etc/ctrove"));
	/* Empty content is an empty file, not an error. */
	char *text = one_file("/etc/ctrove/empty", "");
	assert_int_equal(apply(text), 0);
	free(text);
	/* Not "b64": cloud-init's other encodings and plain text are refused. */
	const char *encodings[] = {"base64", "gzip", "text/plain", "gz+b64"};
	for (size_t i = 0; i < 4; i++) {
		json_t *e = entry("/etc/ctrove/a", "YWI=", "0600");
		json_object_set_new(e, "encoding", json_string(encodings[i]));
		expect_refused(bundle(json_pack("{s:[o]}", "write_files", e)), 400, encodings[i]);
	}
	json_t *e = entry("/etc/ctrove/a", "YWI=", "0600");
	json_object_del(e, "encoding");
	expect_refused(bundle(json_pack("{s:[o]}", "write_files", e)), 400, "no encoding");
	assert_false(exists("/etc/ctrove/a"));
}

static void test_paths_outside(void **state)
{
	(void)state;
	const char *bad[] = {"/etc/ctrove/../passwd",
			     "/etc/ctrove/a/../../shadow",
			     "/etc/ctrove/./guest.conf",
			     "/etc/ctrove/.hidden",
			     "etc/ctrove/guest.conf",
			     "guest.conf",
			     "./etc/ctrove/guest.conf",
			     "/etc/ctrovex/guest.conf",
			     "/etc/ctrove",
			     "/etc/ctrove/",
			     "/etc/ctrove//guest.conf",
			     "/etc/ctrove/dir/",
			     "/etc/passwd",
			     "/tmp/x",
			     "//etc/ctrove/guest.conf",
			     "/etc/ctrove/a b",
			     "/etc/ctrove/a\\b",
			     "/etc/ctrove/a/b/c/d/e/f"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		expect_refused(one_file(bad[i], "YWI="), 400, bad[i]);
	/* A NUL inside the path (JSON allows \u0000 in strings). */
	expect_refused(
		strdup("#cloud-config\n{\"write_files\":[{\"path\":\"/etc/ctrove/a\\u0000/x\","
		       "\"encoding\":\"b64\",\"content\":\"YWI=\"}]}\n"),
		400, "NUL");
	/* A control character in a refused path never reaches the message (it goes
	 * to the console and the journal). */
	char *text = one_file("/tmp/x\n2026 forged line", "YWI=");
	struct ct_error err = {0};
	assert_null(user_data_parse(text, strlen(text), &err));
	assert_int_equal(err.status, 400);
	assert_null(strchr(err.message, '\n'));
	assert_null(strstr(err.message, "forged"));
	free(text);
	assert_false(exists("/etc/ctrove"));
}

static void test_symlinks(void **state)
{
	(void)state;
	char path[256], outside[128];
	snprintf(outside, sizeof outside, "%s/outside", root);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(path, sizeof path, "%s/etc", root);
	assert_int_equal(mkdir(path, 0755), 0);

	/* /etc/ctrove itself a symlink out of the tree. */
	snprintf(path, sizeof path, "%s/etc/ctrove", root);
	assert_int_equal(symlink(outside, path), 0);
	expect_refused(one_file("/etc/ctrove/guest.conf", "YWI="), 400, "symlinked /etc/ctrove");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0711), 0);

	/* A subdirectory that is a symlink; the good file before it is not written
	 * either (everything is checked first). */
	snprintf(path, sizeof path, "%s/etc/ctrove/tls", root);
	assert_int_equal(symlink(outside, path), 0);
	expect_refused(bundle(json_pack("{s:[o, o]}", "write_files",
					entry("/etc/ctrove/guest.conf", "YWI=", "0600"),
					entry("/etc/ctrove/tls/ca.pem", "YWI=", "0644"))),
		       400, "symlinked subdirectory");
	assert_false(exists("/etc/ctrove/guest.conf"));
	snprintf(path, sizeof path, "%s/outside/ca.pem", root);
	assert_int_equal(access(path, F_OK), -1);

	/* The target a symlink to a file outside: refused, that file unchanged. */
	snprintf(path, sizeof path, "%s/outside/secret", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	char link[256];
	snprintf(link, sizeof link, "%s/etc/ctrove/guest.conf", root);
	assert_int_equal(symlink(path, link), 0);
	expect_refused(one_file("/etc/ctrove/guest.conf", "YWI="), 400, "symlinked target");
	char buf[16];
	struct stat st;
	read_file("/outside/secret", buf, sizeof buf, &st);
	assert_string_equal(buf, "keep");

	/* A directory where the file should be, and a file where a directory
	 * should be. */
	snprintf(path, sizeof path, "%s/etc/ctrove/d", root);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(one_file("/etc/ctrove/d", "YWI="), 400, "directory target");
	snprintf(path, sizeof path, "%s/etc/ctrove/plain", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	expect_refused(one_file("/etc/ctrove/plain/x", "YWI="), 400, "file as directory");
}

static void test_unknown_keys_modes_owners(void **state)
{
	(void)state;
	/* cloud-init's other modules are not ours to run. */
	expect_refused(bundle(json_pack("{s:[o], s:[s]}", "write_files",
					entry("/etc/ctrove/a", "YWI=", NULL), "runcmd", "id")),
		       400, "runcmd");
	expect_refused(bundle(json_pack("{s:[s]}", "runcmd", "id")), 400, "only runcmd");
	const char *keys[] = {"append", "defer", "source", "Path"};
	for (size_t i = 0; i < 4; i++) {
		json_t *e = entry("/etc/ctrove/a", "YWI=", NULL);
		json_object_set_new(e, keys[i], json_string("x"));
		expect_refused(bundle(json_pack("{s:[o]}", "write_files", e)), 400, keys[i]);
	}
	json_t *e = entry("/etc/ctrove/a", "YWI=", NULL);
	json_object_set_new(e, "permissions", json_integer(384));
	expect_refused(bundle(json_pack("{s:[o]}", "write_files", e)), 400, "integer mode");
	const char *modes[] = {"4755", "2700", "1700",	"0666", "0602", "0800",
			       "rw",   "",     "06000", "60",	"0x1ff"};
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
		expect_refused(bundle(json_pack("{s:[o]}", "write_files",
						entry("/etc/ctrove/a", "YWI=", modes[i]))),
			       400, modes[i]);
	const char *owners[] = {"mysql:mysql", "root:mysql", "0:0", ""};
	for (size_t i = 0; i < 4; i++) {
		e = entry("/etc/ctrove/a", "YWI=", NULL);
		json_object_set_new(e, "owner", json_string(owners[i]));
		expect_refused(bundle(json_pack("{s:[o]}", "write_files", e)), 400, owners[i]);
	}
	/* Missing path or content, not an object, an empty list, too many files,
	 * the same path twice, a duplicated key. */
	e = entry("/etc/ctrove/a", "YWI=", NULL);
	json_object_del(e, "content");
	expect_refused(bundle(json_pack("{s:[o]}", "write_files", e)), 400, "no content");
	expect_refused(bundle(json_pack("{s:[s]}", "write_files", "/etc/ctrove/a")), 400,
		       "string entry");
	expect_refused(bundle(json_pack("{s:[]}", "write_files")), 400, "empty list");
	expect_refused(bundle(json_pack("{s:{}}", "write_files")), 400, "object list");
	expect_refused(bundle(json_pack("[]")), 400, "array document");
	json_t *many = json_array();
	for (int i = 0; i <= USER_DATA_MAX_FILES; i++) {
		char p[64];
		snprintf(p, sizeof p, "/etc/ctrove/f%d", i);
		json_array_append_new(many, entry(p, "YWI=", NULL));
	}
	expect_refused(bundle(json_pack("{s:o}", "write_files", many)), 400, "too many");
	expect_refused(
		bundle(json_pack("{s:[o, o]}", "write_files", entry("/etc/ctrove/a", "YWI=", NULL),
				 entry("/etc/ctrove/a", "YWI=", NULL))),
		400, "twice");
	expect_refused(
		strdup("#cloud-config\n{\"write_files\":[{\"path\":\"/etc/ctrove/a\","
		       "\"path\":\"/etc/passwd\",\"encoding\":\"b64\",\"content\":\"\"}]}\n"),
		400, "duplicate key");
	assert_false(exists("/etc/ctrove"));
}

static void test_header_and_shape(void **state)
{
	(void)state;
	const char *json = "{\"write_files\":[{\"path\":\"/etc/ctrove/a\",\"encoding\":\"b64\","
			   "\"content\":\"YWI=\"}]}";
	const char *prefixes[] = {"",
				  "#cloud-config ",
				  "#!/bin/sh\n",
				  "#cloud-config\r\n",
				  " #cloud-config\n",
				  "#cloud-config\n\n",
				  "#cloud-boothook\n"};
	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
		char *text = malloc(strlen(json) + 64);
		sprintf(text, "%s%s", prefixes[i], json);
		expect_refused(text, 400, prefixes[i]);
	}
	/* JSON over two lines, YAML, trailing garbage, nothing after the header. */
	expect_refused(strdup("#cloud-config\n{\"write_files\":\n[]}\n"), 400, "two lines");
	expect_refused(strdup("#cloud-config\nwrite_files:\n- path: /etc/ctrove/a\n"), 400, "yaml");
	expect_refused(strdup("#cloud-config\n{\"write_files\":[]} x\n"), 400, "garbage");
	expect_refused(strdup("#cloud-config\n"), 400, "header only");
	expect_refused(strdup("#cloud-config"), 400, "header without newline");
	/* The exact shape with or without a final newline is fine. */
	char text[256];
	snprintf(text, sizeof text, "#cloud-config\n%s", json);
	assert_int_equal(apply(text), 0);
}

static void test_huge_input(void **state)
{
	(void)state;
	/* A well-formed bundle one byte over the limit (one long file). */
	size_t content_len = USER_DATA_MAX; /* base64 chars, multiple of 4 */
	char *b64 = malloc(content_len + 1);
	memset(b64, 'A', content_len);
	b64[content_len] = '\0';
	char *text = one_file("/etc/ctrove/big", b64);
	free(b64);
	assert_true(strlen(text) > USER_DATA_MAX);
	expect_refused(text, 413, "huge");
	assert_false(exists("/etc/ctrove"));

	/* Through the file reader: a file far larger than the limit is not read
	 * whole, and refused the same way. */
	char path[128];
	snprintf(path, sizeof path, "%s/user_data", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("#cloud-config\n", f);
	for (int i = 0; i < 1 << 20; i++)
		fputc(' ', f);
	fclose(f);
	struct ct_error err = {0};
	assert_int_equal(user_data_apply_file(path, root, &err), -1);
	assert_int_equal(err.status, 413);
	/* A missing file says so. */
	assert_int_equal(user_data_apply_file("/nonexistent/user_data", root, &err), -1);
	assert_int_equal(err.status, 404);

	/* A good file through the same reader. */
	char *good = one_file("/etc/ctrove/guest.conf", "YWI=");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(good, f);
	fclose(f);
	free(good);
	assert_int_equal(user_data_apply_file(path, root, &err), 0);
	assert_true(exists("/etc/ctrove/guest.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_bundle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_base64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys_modes_owners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_and_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_input, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
