/*
 * test_process.c — detached processes: spawn (own session and process group,
 * stdin /dev/null, output appended to a log, no inherited descriptors, pid
 * file with start time), liveness that survives pid reuse, stop with SIGTERM
 * then SIGKILL, idempotence. Processes are plain sleep/sh; the group teardown
 * stops every one of them and removes the scratch directory.
 */
#include "compute_testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "compute/process.h"

static char scratch[PATH_MAX];
static char pid_files[4][PATH_MAX + 32];
static char log_file[PATH_MAX + 32];

static const char *const sleeper[] = {"sleep", "300", NULL};
static const char *const talker[] = {"sh", "-c",
				     "echo to-stdout; echo to-stderr >&2; cat; echo stdin-closed; "
				     "ls /proc/$$/fd; echo fd-list-end; sleep 300",
				     NULL};
static const char *const stubborn[] = {"sh", "-c", "trap '' TERM; while :; do sleep 1; done", NULL};

static void must(int rc, const struct ct_error *err)
{
	if (rc)
		fail_msg("error %d: %s", err->status, err->message);
}

static int group_setup(void **state)
{
	(void)state;
	ctest_init();
	if (ctest_scratch(scratch, "process"))
		return -1;
	for (int i = 0; i < 4; i++)
		snprintf(pid_files[i], sizeof pid_files[i], "%s/p%d.pid", scratch, i);
	snprintf(log_file, sizeof log_file, "%s/out.log", scratch);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	struct ct_error err;
	const char *const *all[] = {sleeper, talker, stubborn};
	for (int i = 0; i < 4; i++)
		for (size_t j = 0; j < 3; j++)
			proc_stop(pid_files[i], all[j], 500, &err);
	ctest_scratch_remove(scratch);
	cfg_free();
	return 0;
}

static bool gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	bool zombie = fgets(buf, sizeof buf, f) && strstr(buf, ") Z ");
	fclose(f);
	return zombie;
}

/* True while a non-zombie process is in group pgid (pgrep -g). */
static bool group_alive(pid_t pgid)
{
	char arg[32], out[256];
	snprintf(arg, sizeof arg, "%ld", (long)pgid);
	const char *const argv[] = {"pgrep", "-g", arg, "-r", "R,S,D,T", NULL};
	return ctest_run(argv, out, sizeof out) == 0;
}

static void test_spawn_alive_stop(void **state)
{
	(void)state;
	struct ct_error err;
	struct proc_spec spec = {.argv = sleeper, .pid_file = pid_files[0], .log_file = log_file};
	pid_t pid = 0, again = 0;
	must(proc_spawn(&spec, &pid, &err), &err);
	assert_true(pid > 1);
	assert_int_equal(proc_alive(pid_files[0], sleeper), pid);
	assert_int_equal(proc_alive(pid_files[0], NULL), pid);
	const char *const other[] = {"sleep", "301", NULL};
	assert_int_equal(proc_alive(pid_files[0], other), 0);
	/* Detached: not our child, own session and own process group. */
	assert_int_not_equal(getsid(pid), getsid(0));
	assert_int_equal(getpgid(pid), pid);
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	long ppid = strtol(strchr(strrchr(buf, ')') + 3, ' ') + 1, NULL, 10);
	assert_int_not_equal(ppid, getpid());

	must(proc_spawn(&spec, &again, &err), &err); /* already running */
	assert_int_equal(again, pid);

	must(proc_stop(pid_files[0], sleeper, 3000, &err), &err);
	assert_true(gone(pid));
	assert_int_equal(proc_alive(pid_files[0], sleeper), 0);
	assert_int_not_equal(access(pid_files[0], F_OK), 0);
	must(proc_stop(pid_files[0], sleeper, 3000, &err), &err); /* again: nothing */
}

static bool log_has(const char *what)
{
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(log_file, "r");
		if (f) {
			static char text[65536];
			size_t n = fread(text, 1, sizeof text - 1, f);
			fclose(f);
			text[n] = '\0';
			if (strstr(text, what))
				return true;
		}
		struct timespec nap = {0, 10 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	return false;
}

static void test_stdio_and_descriptors(void **state)
{
	(void)state;
	struct ct_error err;
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: must still not leak */
	assert_true(leak >= 0);
	struct proc_spec spec = {.argv = talker, .pid_file = pid_files[1], .log_file = log_file};
	pid_t pid;
	must(proc_spawn(&spec, &pid, &err), &err);
	close(leak);
	assert_true(log_has("to-stdout"));
	assert_true(log_has("to-stderr"));
	assert_true(log_has("stdin-closed"));
	assert_true(log_has("fd-list-end"));
	/* Only 0, 1 and 2 are open in the process. */
	FILE *f = fopen(log_file, "r");
	assert_non_null(f);
	char line[256];
	bool in_list = false;
	int fds = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "stdin-closed")) {
			in_list = true;
			continue;
		}
		if (!strcmp(line, "fd-list-end"))
			break;
		if (in_list) {
			fds++;
			assert_true(!strcmp(line, "0") || !strcmp(line, "1") || !strcmp(line, "2"));
		}
	}
	fclose(f);
	assert_int_equal(fds, 3);
	assert_int_equal(proc_alive(pid_files[1], talker), pid);
	must(proc_stop(pid_files[1], talker, 3000, &err), &err);
	assert_true(gone(pid));
	assert_false(group_alive(pid)); /* its "sleep 300" child went too */
}

static void test_sigkill_after_timeout(void **state)
{
	(void)state;
	struct ct_error err;
	struct proc_spec spec = {.argv = stubborn, .pid_file = pid_files[2], .log_file = NULL};
	pid_t pid;
	must(proc_spawn(&spec, &pid, &err), &err);
	struct timespec settle = {0, 100 * 1000 * 1000}; /* let sh install its trap */
	nanosleep(&settle, NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	must(proc_stop(pid_files[2], stubborn, 300, &err), &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_false(group_alive(pid));
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 300);
	assert_true(gone(pid));
}

/* A pid file naming a process that is not ours (pid reuse) is never signalled. */
static void test_pid_reuse(void **state)
{
	(void)state;
	struct ct_error err;
	FILE *f = fopen(pid_files[3], "w");
	assert_non_null(f);
	fprintf(f, "%ld\n12345\n", (long)getpid()); /* our pid, wrong start time */
	fclose(f);
	assert_int_equal(proc_alive(pid_files[3], NULL), 0);
	f = fopen(pid_files[3], "w");
	assert_non_null(f);
	fprintf(f, "%ld\n", (long)getpid()); /* no start time, other command */
	fclose(f);
	assert_int_equal(proc_alive(pid_files[3], NULL), getpid());
	assert_int_equal(proc_alive(pid_files[3], sleeper), 0);
	must(proc_stop(pid_files[3], sleeper, 100, &err), &err); /* we survive */
	assert_int_not_equal(access(pid_files[3], F_OK), 0);

	/* A stale pid file does not stop a new spawn. */
	f = fopen(pid_files[3], "w");
	assert_non_null(f);
	fprintf(f, "%ld\n1\n", (long)getpid());
	fclose(f);
	struct proc_spec spec = {.argv = sleeper, .pid_file = pid_files[3]};
	pid_t pid;
	must(proc_spawn(&spec, &pid, &err), &err);
	assert_int_not_equal(pid, getpid());
	assert_int_equal(proc_alive(pid_files[3], sleeper), pid);
	must(proc_stop(pid_files[3], sleeper, 3000, &err), &err);
	assert_true(gone(pid));
}

static void test_spawn_failures(void **state)
{
	(void)state;
	struct ct_error err;
	const char *const missing[] = {"ctrove-no-such-program", NULL};
	struct proc_spec spec = {.argv = missing, .pid_file = pid_files[3]};
	pid_t pid;
	assert_int_equal(proc_spawn(&spec, &pid, &err), -1);
	assert_int_equal(err.status, 501);
	assert_int_not_equal(access(pid_files[3], F_OK), 0);

	char bad_pid_file[PATH_MAX + 64];
	snprintf(bad_pid_file, sizeof bad_pid_file, "%s/no-such-dir/p.pid", scratch);
	spec = (struct proc_spec){.argv = sleeper, .pid_file = bad_pid_file};
	assert_int_equal(proc_spawn(&spec, &pid, &err), -1);
	assert_int_equal(err.status, 500);
	assert_non_null(strstr(err.message, "pid file"));

	spec = (struct proc_spec){
		.argv = sleeper, .pid_file = pid_files[3], .work_dir = "/nonexistent-dir"};
	assert_int_equal(proc_spawn(&spec, &pid, &err), -1);
	assert_int_equal(err.status, 500);
	assert_int_not_equal(access(pid_files[3], F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_alive_stop),
		cmocka_unit_test(test_stdio_and_descriptors),
		cmocka_unit_test(test_sigkill_after_timeout),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_spawn_failures),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
