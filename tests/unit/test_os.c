/*
 * test_os.c — src/os/: /proc parsing (a command name holding ") (" and spaces,
 * parent, group, start time), command-line matching, pid files, and starting
 * real processes — plain and detached, with each failure stage reported.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "os/proc.h"
#include "os/spawn.h"

static char dir[64];
static const char *const *own_argv;

static int setup(void **state)
{
	(void)state;
	scratch_create(dir, "os");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_remove(dir);
	return 0;
}

static void test_proc_info_of_self(void **state)
{
	(void)state;
	char saved[16] = "";
	prctl(PR_GET_NAME, saved);
	/* comm may hold anything: the parser must find the last ')'. */
	prctl(PR_SET_NAME, "a) (b c");
	struct os_proc_info info;
	assert_int_equal(os_proc_info(getpid(), &info), 0);
	prctl(PR_SET_NAME, saved);
	assert_string_equal(info.comm, "a) (b c");
	assert_int_equal(info.state, 'R');
	assert_int_equal(info.ppid, getppid());
	assert_int_equal(info.pgrp, getpgrp());
	assert_true(info.start_time > 0);
	assert_true(info.start_time == os_proc_self_start_time());
	assert_int_equal(os_proc_info(999999999, &info), -1);
}

static void test_cmdline(void **state)
{
	(void)state;
	assert_true(os_proc_cmdline_is(getpid(), own_argv));
	const char *const wrong[] = {"/bin/false", NULL};
	assert_false(os_proc_cmdline_is(getpid(), wrong));
	assert_true(os_proc_cmdline_mentions(getpid(), "test_os"));
	assert_false(os_proc_cmdline_mentions(getpid(), "no-such-argument-here"));
	assert_false(os_proc_cmdline_mentions(999999999, "test_os"));
}

static int count_self(pid_t pid, void *ctx)
{
	if (pid == getpid())
		(*(int *)ctx)++;
	return 0;
}

static void test_each_and_groups(void **state)
{
	(void)state;
	int seen = 0;
	assert_int_equal(os_proc_each(count_self, &seen), 0);
	assert_int_equal(seen, 1);
	assert_true(os_proc_group_alive(getpgrp()));
	assert_false(os_proc_group_alive(999999999));
}

static void test_pidfile(void **state)
{
	(void)state;
	char path[512];
	pid_t pid;
	unsigned long long start = 0;
	bool has_start;
	scratch_write(dir, "with-start", "123\n456\n", path);
	assert_int_equal(os_pidfile_read(path, &pid, &start, &has_start), 0);
	assert_int_equal(pid, 123);
	assert_true(has_start);
	assert_true(start == 456);
	scratch_write(dir, "postmaster", "77\n/var/lib/postgresql\n", path);
	assert_int_equal(os_pidfile_read(path, &pid, &start, &has_start), 0);
	assert_int_equal(pid, 77);
	assert_false(has_start);
	const char *bad[] = {"1\n", "abc\n", "-5\n", "99999999999\n", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		scratch_write(dir, "bad", bad[i], path);
		assert_int_equal(os_pidfile_read(path, &pid, &start, &has_start), -1);
	}
	snprintf(path, sizeof path, "%s/missing", dir);
	assert_int_equal(os_pidfile_read(path, &pid, &start, &has_start), -1);
}

/* Spawn c with a report pipe; → the report's stage, 0 when exec succeeded. */
static int spawn_stage(struct os_child *c, bool detached, int *error, pid_t *pid)
{
	int rep[2];
	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	c->report_fd = rep[1];
	*pid = detached ? os_spawn_detached(c) : os_spawn(c);
	close(rep[1]);
	assert_true(*pid > 0);
	struct os_exec_report r;
	if (!os_exec_report_read(rep[0], &r))
		return 0;
	*error = r.error;
	return r.stage;
}

static int failing_hook(void *ctx)
{
	(void)ctx;
	errno = EROFS;
	return -1;
}

static void test_spawn_reports_each_stage(void **state)
{
	(void)state;
	int error = 0, status;
	pid_t pid;
	const char *const missing[] = {"no-such-program-ctrove", NULL};
	struct os_child c = {.argv = missing};
	assert_int_equal(spawn_stage(&c, false, &error, &pid), OS_STAGE_EXEC);
	assert_int_equal(error, ENOENT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 127);

	const char *const truth[] = {"true", NULL};
	c = (struct os_child){.argv = truth, .work_dir = "/no/such/dir"};
	assert_int_equal(spawn_stage(&c, false, &error, &pid), OS_STAGE_SETUP);
	assert_int_equal(error, ENOENT);
	waitpid(pid, &status, 0);

	c = (struct os_child){.argv = truth, .before_exec = failing_hook};
	assert_int_equal(spawn_stage(&c, false, &error, &pid), OS_STAGE_BEFORE_EXEC);
	assert_int_equal(error, EROFS);
	waitpid(pid, &status, 0);

	c = (struct os_child){.argv = truth};
	assert_int_equal(spawn_stage(&c, false, &error, &pid), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_spawn_wires_stdio_and_closes_the_rest(void **state)
{
	(void)state;
	char out[128];
	snprintf(out, sizeof out, "%s/out.log", dir);
	/* An inherited descriptor without close-on-exec must not reach the child. */
	int leak = open("/dev/null", O_RDONLY);
	assert_true(leak > 2);
	const char *const sh[] = {"/bin/sh", "-c",
				  "ls /proc/self/fd; read x && echo read; echo err >&2; umask",
				  NULL};
	struct os_child c = {.argv = sh, .out_path = out, .set_umask = true, .umask = 027};
	int error = 0, status;
	pid_t pid;
	assert_int_equal(spawn_stage(&c, false, &error, &pid), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(leak);
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char text[1024];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	/* ls's own directory fd is the only one beyond 0-2. */
	assert_memory_equal(text, "0\n1\n2\n3\n", 8);
	assert_false(text[8] >= '0' && text[8] <= '9');
	assert_null(strstr(text, "read\n")); /* stdin is /dev/null */
	assert_non_null(strstr(text, "err\n"));
	assert_non_null(strstr(text, "0027\n"));
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

static void test_spawn_detached(void **state)
{
	(void)state;
	const char *const sleeper[] = {"sleep", "30", NULL};
	struct os_child c = {.argv = sleeper};
	int error = 0;
	pid_t pid;
	assert_int_equal(spawn_stage(&c, true, &error, &pid), 0);
	/* Not our child, leader of its own session and process group. */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(getsid(pid), pid);
	assert_int_equal(getpgid(pid), pid);
	assert_true(os_proc_cmdline_is(pid, sleeper));
	struct os_proc_info info;
	assert_int_equal(os_proc_info(pid, &info), 0);
	assert_int_not_equal(info.ppid, getpid());
	assert_true(os_proc_group_alive(pid));
	kill(pid, SIGKILL);
	for (int i = 0; i < 500 && os_proc_group_alive(pid); i++) {
		struct timespec nap = {0, 10 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	assert_false(os_proc_group_alive(pid));
}

int main(int argc, char **argv)
{
	(void)argc;
	own_argv = (const char *const *)argv;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_info_of_self),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_each_and_groups),
		cmocka_unit_test_setup_teardown(test_pidfile, setup, teardown),
		cmocka_unit_test(test_spawn_reports_each_stage),
		cmocka_unit_test_setup_teardown(test_spawn_wires_stdio_and_closes_the_rest, setup,
						teardown),
		cmocka_unit_test(test_spawn_detached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
