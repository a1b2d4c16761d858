/*
 * test_guest_log.c — guest/guest_log.h's rules against a real local backup
 * store in a temporary directory and a stand-in datastore manager whose one
 * USER log is a file the test writes: statuses (Disabled, Enabled, Ready,
 * Published, Partial, Rotated), publish in parts cut on whole lines with their
 * line counts, rotation discarding the old parts, discard, and the refusals
 * (enable with disable, enabling a SYS log, an unknown log, no store).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "guest/guest_log.h"

static char dir[64], log_path[128], err_path[128];
static bool slow_enabled;
static struct guest_instance inst;
static struct store_access access_;

static int fake_files(const struct guest_instance *i, struct guest_log_file *out, size_t *n,
		      struct ct_error *err)
{
	(void)i;
	(void)err;
	out[0] = (struct guest_log_file){.name = "error", .user = false, .enabled = true};
	snprintf(out[0].path, sizeof out[0].path, "%s", err_path);
	out[1] = (struct guest_log_file){
		.name = "slow_query", .user = true, .enabled = slow_enabled};
	snprintf(out[1].path, sizeof out[1].path, "%s", log_path);
	*n = 2;
	return 0;
}

static int fake_enable(const struct guest_instance *i, const char *name, bool enable, long slow_ms,
		       struct ct_error *err)
{
	(void)i;
	(void)err;
	assert_string_equal(name, "slow_query");
	assert_int_equal(slow_ms, 1000);
	slow_enabled = enable;
	return 0;
}

static const struct datastore_manager fake = {
	.name = "mariadb", .log_files = fake_files, .log_enable = fake_enable};

static void write_log(const char *mode, const char *text)
{
	FILE *f = fopen(log_path, mode);
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static json_t *act(const char *name, bool enable, bool disable, bool publish, bool discard,
		   int want_status)
{
	struct guest_log_request r = {name, enable, disable, publish, discard, &access_};
	struct ct_error err = {0};
	json_t *v = guest_log_action(&inst, &fake, &r, &err);
	if (want_status) {
		assert_null(v);
		assert_int_equal(err.status, want_status);
		return NULL;
	}
	if (!v)
		fail_msg("guest_log_action: %d %s", err.status, err.message);
	return v;
}

static const char *status_of(json_t *v)
{
	return json_string_value(json_object_get(v, "status"));
}

/* The published parts' names, in order, and their total line count. */
struct parts {
	int count;
	long lines;
	uint64_t bytes;
};

static int count_part(const struct store_entry *e, void *arg, struct ct_error *err)
{
	struct parts *p = arg;
	struct store_object_info info;
	char name[STORE_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", e->name);
	struct backup_store *s = backup_store_open_access(&access_, err);
	assert_non_null(s);
	assert_int_equal(store_stat(s, name, &info, err), 0);
	backup_store_free(s);
	p->count++;
	p->lines += atol(store_meta_get(&info.meta, "lines"));
	p->bytes += info.size;
	return 0;
}

static struct parts published_parts(void)
{
	struct parts p = {0};
	struct ct_error err = {0};
	char prefix[256];
	snprintf(prefix, sizeof prefix, "database_logs/%s/mariadb-slow_query/", inst.id);
	struct backup_store *s = backup_store_open_access(&access_, &err);
	assert_non_null(s);
	assert_int_equal(store_list(s, prefix, count_part, &p, &err), 0);
	backup_store_free(s);
	return p;
}

static void test_statuses_publish_rotate_discard(void **state)
{
	(void)state;
	json_t *v = act("slow_query", false, false, false, false, 0);
	assert_string_equal(status_of(v), "Disabled");
	assert_string_equal(json_string_value(json_object_get(v, "container")), "None");
	json_decref(v);

	v = act("slow_query", true, false, false, false, 0);
	assert_string_equal(status_of(v), "Enabled"); /* no file yet */
	json_decref(v);
	assert_true(slow_enabled);

	/* 10 lines of 50 bytes with a 120-byte limit: parts of 2 whole lines. */
	char line[64];
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof line, "%-48d\n", i);
		write_log("a", line);
	}
	v = act("slow_query", false, false, false, false, 0);
	assert_string_equal(status_of(v), "Ready");
	assert_int_equal(json_integer_value(json_object_get(v, "pending")), 490);
	json_decref(v);

	v = act("slow_query", false, false, true, false, 0);
	assert_string_equal(status_of(v), "Published");
	assert_int_equal(json_integer_value(json_object_get(v, "published")), 490);
	assert_int_equal(json_integer_value(json_object_get(v, "pending")), 0);
	assert_string_equal(json_string_value(json_object_get(v, "container")), "database_logs");
	json_decref(v);
	struct parts p = published_parts();
	assert_int_equal(p.count, 5);
	assert_int_equal(p.lines, 10);
	assert_int_equal(p.bytes, 490);

	write_log("a", "one more line\n");
	v = act("slow_query", false, false, false, false, 0);
	assert_string_equal(status_of(v), "Partial");
	json_decref(v);
	json_decref(act("slow_query", false, false, true, false, 0));
	p = published_parts();
	assert_int_equal(p.count, 6);
	assert_int_equal(p.bytes, 504);

	/* Rotated: a new, shorter file. The next publish starts again. */
	write_log("w", "a new file\n");
	v = act("slow_query", false, false, false, false, 0);
	assert_string_equal(status_of(v), "Rotated");
	json_decref(v);
	v = act("slow_query", false, false, true, false, 0);
	assert_string_equal(status_of(v), "Published");
	assert_int_equal(json_integer_value(json_object_get(v, "published")), 11);
	json_decref(v);
	p = published_parts();
	assert_int_equal(p.count, 1);

	v = act("slow_query", false, false, false, true, 0);
	assert_int_equal(json_integer_value(json_object_get(v, "published")), 0);
	assert_string_equal(json_string_value(json_object_get(v, "prefix")), "None");
	json_decref(v);
	assert_int_equal(published_parts().count, 0);

	v = act("slow_query", false, true, false, false, 0);
	assert_string_equal(status_of(v), "Disabled");
	json_decref(v);
	assert_false(slow_enabled);
}

static void test_refusals(void **state)
{
	(void)state;
	act("slow_query", true, true, false, false, 400);
	act("error", true, false, false, false, 400);
	act("error", false, true, false, false, 400);
	act("nope", false, false, false, false, 404);
	struct guest_log_request r = {"error", false, false, true, false, NULL};
	struct ct_error err = {0};
	assert_null(guest_log_action(&inst, &fake, &r, &err));
	assert_int_equal(err.status, 501);
	/* A store description that names no usable store changes nothing. */
	struct store_access bad = {.kind = "local", .backups_dir = "relative"};
	r.store = &bad;
	assert_null(guest_log_action(&inst, &fake, &r, &err));
	assert_int_equal(err.status, 400);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_guest_log.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(log_path, sizeof log_path, "%s/slow.log", dir);
	snprintf(err_path, sizeof err_path, "%s/error.log", dir);
	snprintf(inst.id, sizeof inst.id, "8d0e5c2a-0000-4000-8000-000000000001");
	snprintf(inst.manager, sizeof inst.manager, "mariadb");
	snprintf(inst.run_dir, sizeof inst.run_dir, "%s/run", dir);
	assert_int_equal(mkdir(inst.run_dir, 0700), 0);
	snprintf(access_.kind, sizeof access_.kind, "local");
	snprintf(access_.backups_dir, sizeof access_.backups_dir, "%s/store", dir);
	assert_int_equal(mkdir(access_.backups_dir, 0700), 0);
	cfg_reset();
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_GUEST_LOG_LIMIT, "120", &err), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	cfg_free();
	return 0;
}

int main(void)
{
	log_open("/dev/null", false);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses_publish_rotate_discard),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
