/*
 * test_instance_user.c — per-instance OS users (compute/instance_user.h) on
 * the real /etc/passwd: names, range parsing, ensure/lookup/remove idempotent
 * both ways, distinct uids and gids in the range, a foreign account of the
 * same name refused, a stale group adopted, processes killed and files in
 * /tmp swept at removal. Uses its own uid block (79900-79999 of the default
 * range) and removes every account of it it finds, even after a failure.
 */
#include "compute_testutil.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "compute/instance_user.h"
#include "os/proc.h"

#define RANGE "79900-79999"
#define ID_A  "5a1e000a-aaaa-4bbb-8ccc-000000000001"
#define ID_B  "5a1e000b-aaaa-4bbb-8ccc-000000000002"
/* Another id whose first 29 characters are ID_A's: the same user name. */
#define ID_A_TWIN "5a1e000a-aaaa-4bbb-8ccc-000000000099"

static void must(int rc, const struct ct_error *err)
{
	if (rc)
		fail_msg("error %d: %s", err->status, err->message);
}

/* userdel every account of the block: the safety net. */
static void remove_block(void)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return;
	char names[100][64];
	int n = 0;
	struct passwd *pw;
	while (n < 100 && (pw = fgetpwent(f)))
		if (pw->pw_uid >= 79900 && pw->pw_uid <= 79999)
			snprintf(names[n++], sizeof names[0], "%s", pw->pw_name);
	fclose(f);
	for (int i = 0; i < n; i++) {
		const char *argv[] = {"userdel", names[i], NULL};
		ctest_run(argv, NULL, 0);
	}
	const char *g[] = {"groupdel", "ct-5a1e000a-aaaa-4bbb-8ccc-00000", NULL};
	ctest_run(g, NULL, 0);
}

static int group_setup(void **state)
{
	(void)state;
	ctest_init();
	cfg_set(CFG_LOCAL_INSTANCE_UID_RANGE, RANGE, NULL);
	if (geteuid() == 0)
		remove_block();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (geteuid() == 0)
		remove_block();
	cfg_free();
	return 0;
}

static void test_names_and_ranges(void **state)
{
	(void)state;
	struct ct_error err;
	char name[INSTANCE_USER_NAME_MAX];
	must(instance_user_name("9E9D9206-a264-43b9-acb9-86f9a3d620a2", name, sizeof name, &err),
	     &err);
	assert_string_equal(name, "ct-9e9d9206-a264-43b9-acb9-86f9a");
	assert_int_equal(strlen(name), 32);
	must(instance_user_name("db1", name, sizeof name, &err), &err);
	assert_string_equal(name, "ct-db1");
	assert_int_equal(instance_user_name("../x", name, sizeof name, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(instance_user_name("-x", name, sizeof name, &err), -1);

	uid_t a, b;
	must(instance_user_parse_range("70000-79999", &a, &b, &err), &err);
	assert_int_equal(a, 70000);
	assert_int_equal(b, 79999);
	static const char *const bad[] = {
		"",	 "70000",	 "70000-",	    "-5", "999-2000", "80000-70000",
		"0-100", "70000-79999x", "1000-4294967295", NULL};
	for (size_t i = 0; bad[i]; i++) {
		assert_int_equal(instance_user_parse_range(bad[i], &a, &b, &err), -1);
		assert_int_equal(err.status, 400);
	}
}

static void test_ensure_lookup_remove(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	struct instance_user a, again, b;
	assert_int_equal(instance_user_lookup(ID_A, &a, &err), -1);
	assert_int_equal(err.status, 404);
	must(instance_user_ensure(ID_A, &a, &err), &err);
	must(instance_user_ensure(ID_A, &again, &err), &err);
	assert_string_equal(a.name, again.name);
	assert_int_equal(a.uid, again.uid);
	/* An id sharing the cut name is refused, never given A's account. */
	assert_int_equal(instance_user_ensure(ID_A_TWIN, &b, &err), -1);
	assert_int_equal(err.status, 409);
	must(instance_user_ensure(ID_B, &b, &err), &err);
	assert_true(a.uid >= 79900 && a.uid <= 79999 && b.uid >= 79900 && b.uid <= 79999);
	assert_true(a.gid >= 79900 && a.gid <= 79999);
	assert_int_not_equal(a.uid, b.uid);
	assert_int_not_equal(a.gid, b.gid);
	struct passwd *pw = getpwnam(a.name);
	assert_non_null(pw);
	assert_string_equal(pw->pw_shell, "/usr/sbin/nologin");
	assert_string_equal(pw->pw_gecos, "ctrove instance " ID_A);
	struct group *gr = getgrgid(a.gid);
	assert_non_null(gr);
	assert_string_equal(gr->gr_name, a.name);
	assert_null(gr->gr_mem[0]);

	must(instance_user_remove(ID_A, &err), &err);
	assert_null(getpwnam(a.name));
	assert_null(getgrnam(a.name));
	must(instance_user_remove(ID_A, &err), &err);
	assert_int_equal(instance_user_lookup(ID_A, &a, &err), -1);
	assert_int_equal(err.status, 404);
	must(instance_user_stop_processes(ID_A, &err), &err);
	must(instance_user_remove(ID_B, &err), &err);
	assert_null(getpwnam(b.name));
}

static void test_foreign_account_and_stale_group(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	struct instance_user u;
	char name[INSTANCE_USER_NAME_MAX];
	must(instance_user_name(ID_A, name, sizeof name, &err), &err);
	/* Same name, not this instance's: never taken over, never removed. */
	const char *add[] = {
		"useradd",	     "--system", "--no-create-home", "-u", "79998", "-K",
		"SYS_UID_MAX=79999", "-c",	 "someone else",     name, NULL};
	assert_int_equal(ctest_run(add, NULL, 0), 0);
	assert_int_equal(instance_user_ensure(ID_A, &u, &err), -1);
	assert_int_equal(err.status, 409);
	assert_int_equal(instance_user_remove(ID_A, &err), -1);
	assert_int_equal(err.status, 409);
	assert_non_null(getpwnam(name));
	const char *del[] = {"userdel", name, NULL};
	assert_int_equal(ctest_run(del, NULL, 0), 0);

	/* A group left without its user (a crash inside useradd) is replaced. */
	const char *gadd[] = {"groupadd", "-g", "79997", name, NULL};
	assert_int_equal(ctest_run(gadd, NULL, 0), 0);
	must(instance_user_ensure(ID_A, &u, &err), &err);
	assert_non_null(getgrnam(name));
	assert_int_equal(getgrnam(name)->gr_gid, u.gid);
	must(instance_user_remove(ID_A, &err), &err);
	assert_null(getgrnam(name));
	/* And a stale group alone goes with remove. */
	assert_int_equal(ctest_run(gadd, NULL, 0), 0);
	must(instance_user_remove(ID_A, &err), &err);
	assert_null(getgrnam(name));
}

static void test_remove_kills_and_sweeps(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	struct ct_error err;
	struct instance_user u;
	must(instance_user_ensure(ID_A, &u, &err), &err);
	char left[64], dir[64], inside[96];
	snprintf(left, sizeof left, "/tmp/ctrove-iu-left-%u", (unsigned)u.uid);
	snprintf(dir, sizeof dir, "/tmp/ctrove-iu-dir-%u", (unsigned)u.uid);
	snprintf(inside, sizeof inside, "%s/deeper", dir);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t child = fork();
	if (child == 0) {
		/* What a tenant's COPY ... TO PROGRAM could leave: a detached
		 * process (not ours to reap, as in the driver) and files where
		 * everyone may write. */
		pid_t g = fork();
		if (g != 0) {
			(void)!write(pipefd[1], &g, sizeof g);
			_exit(0);
		}
		if (setgid(u.gid) || setuid(u.uid))
			_exit(1);
		setsid();
		FILE *f = fopen(left, "w");
		if (!f || mkdir(dir, 0700) || mkdir(inside, 0700))
			_exit(2);
		fclose(f);
		execl("/bin/sleep", "sleep", "600", (char *)NULL);
		_exit(3);
	}
	pid_t sleeper = 0;
	assert_int_equal(read(pipefd[0], &sleeper, sizeof sleeper), (ssize_t)sizeof sleeper);
	close(pipefd[0]);
	close(pipefd[1]);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	for (int i = 0; i < 200 && access(inside, F_OK); i++)
		usleep(10000);
	assert_int_equal(access(inside, F_OK), 0);
	must(instance_user_remove(ID_A, &err), &err);
	/* Killed: gone, or a zombie until whoever adopted it reaps it. */
	struct os_proc_info info;
	assert_true(os_proc_info(sleeper, &info) != 0 || info.state == 'Z' || info.state == 'X');
	assert_int_not_equal(access(left, F_OK), 0);
	assert_int_not_equal(access(dir, F_OK), 0);
	assert_null(getpwnam(u.name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_ranges),
		cmocka_unit_test(test_ensure_lookup_remove),
		cmocka_unit_test(test_foreign_account_and_stale_group),
		cmocka_unit_test(test_remove_kills_and_sweeps),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
