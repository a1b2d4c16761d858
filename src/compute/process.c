/*
 * process.c — detached processes with pid files (process.h).
 * Owns the pid files it writes and the processes it started; signals only a
 * pid whose start time and command match its pid file.
 */
#define LOG_MODULE "compute"
#include "compute/process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "os/proc.h"
#include "os/spawn.h"

static bool same_process(pid_t pid, unsigned long long start, bool has_start)
{
	struct os_proc_info info;
	if (os_proc_info(pid, &info))
		return false;
	if (info.state == 'Z' || info.state == 'X')
		return false;
	return !has_start || info.start_time == start;
}

pid_t proc_alive(const char *pid_file, const char *const *argv)
{
	pid_t pid;
	unsigned long long start = 0;
	bool has_start;
	if (os_pidfile_read(pid_file, &pid, &start, &has_start))
		return 0;
	if (!same_process(pid, start, has_start))
		return 0;
	if (argv && !os_proc_cmdline_is(pid, argv))
		return 0;
	return pid;
}

/* ---- spawning (the child side uses async-signal-safe calls only) ---- */

static size_t fmt_ull(char *out, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

struct pid_file_paths {
	const char *pid_file;
	const char *tmp_file;
};

/* In the child, just before exec: 0, or -1 with errno set. */
static int write_own_pid_file(void *ctx)
{
	const struct pid_file_paths *paths = ctx;
	char line[64];
	size_t len = fmt_ull(line, (unsigned long long)getpid());
	line[len++] = '\n';
	len += fmt_ull(line + len, os_proc_self_start_time());
	line[len++] = '\n';
	int fd = open(paths->tmp_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = write(fd, line, len) == (ssize_t)len ? rename(paths->tmp_file, paths->pid_file)
						      : -1;
	int e = errno;
	close(fd);
	if (rc)
		unlink(paths->tmp_file);
	errno = e;
	return rc;
}

int proc_spawn(const struct proc_spec *spec, pid_t *pid, struct ct_error *err)
{
	pid_t running = proc_alive(spec->pid_file, spec->argv);
	if (running) {
		log_info("%s already runs as pid %ld", spec->argv[0], (long)running);
		*pid = running;
		return 0;
	}
	char tmp_file[PATH_MAX];
	if (snprintf(tmp_file, sizeof tmp_file, "%s.tmp", spec->pid_file) >= (int)sizeof tmp_file)
		return ct_fail(err, 500, "pid file path too long");
	unlink(spec->pid_file); /* stale: names no live process of ours */
	int rep[2];
	if (pipe2(rep, O_CLOEXEC))
		return ct_fail(err, 500, "cannot start %s: %s", spec->argv[0], strerror(errno));
	struct pid_file_paths paths = {spec->pid_file, tmp_file};
	struct os_child child = {
		.argv = spec->argv,
		.env = spec->env,
		.out_path = spec->log_file,
		.work_dir = spec->work_dir ? spec->work_dir : "/",
		.set_umask = true,
		.umask = 022,
		.report_fd = rep[1],
		.before_exec = write_own_pid_file,
		.ctx = &paths,
	};
	pid_t started = os_spawn_detached(&child);
	close(rep[1]);
	struct os_exec_report report;
	int failed = os_exec_report_read(rep[0], &report);
	if (started < 0)
		return ct_fail(err, 500, "cannot start %s: fork failed", spec->argv[0]);
	if (failed) {
		unlink(tmp_file);
		if (report.stage == OS_STAGE_EXEC)
			unlink(spec->pid_file);
		if (report.stage == OS_STAGE_EXEC && report.error == ENOENT)
			return ct_fail(err, 501, "%s is not installed on this host", spec->argv[0]);
		return ct_fail(err, 500, "cannot start %s: %s%s: %s", spec->argv[0],
			       report.stage == OS_STAGE_SETUP ? "log file or working directory"
			       : report.stage == OS_STAGE_BEFORE_EXEC ? "pid file "
								      : "exec",
			       report.stage == OS_STAGE_BEFORE_EXEC ? spec->pid_file : "",
			       strerror(report.error));
	}
	unsigned long long start;
	bool has_start;
	if (os_pidfile_read(spec->pid_file, pid, &start, &has_start))
		return ct_fail(err, 500, "%s started but wrote no pid file %s", spec->argv[0],
			       spec->pid_file);
	log_info("started %s as pid %ld (log %s)", spec->argv[0], (long)*pid,
		 spec->log_file ? spec->log_file : "/dev/null");
	return 0;
}

/* Wait until the process, and its group when it leads one, has exited. */
static bool wait_gone(pid_t pid, unsigned long long start, bool has_start, bool group,
		      int timeout_ms)
{
	for (int waited = 0;; waited += 10) {
		if (!same_process(pid, start, has_start) && (!group || !os_proc_group_alive(pid)))
			return true;
		if (waited >= timeout_ms)
			return false;
		struct timespec nap = {0, 10 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
}

int proc_stop(const char *pid_file, const char *const *argv, int timeout_ms, struct ct_error *err)
{
	pid_t pid = proc_alive(pid_file, argv);
	if (pid) {
		unsigned long long start = 0;
		bool has_start = false;
		pid_t again;
		if (os_pidfile_read(pid_file, &again, &start, &has_start) || again != pid)
			has_start = false;
		/* Processes we spawned lead their own group: stop what they forked too. */
		bool group = getpgid(pid) == pid;
		pid_t target = group ? -pid : pid;
		kill(target, SIGTERM);
		if (!wait_gone(pid, start, has_start, group, timeout_ms)) {
			log_warning("pid %ld did not stop within %d ms of SIGTERM: SIGKILL",
				    (long)pid, timeout_ms);
			kill(target, SIGKILL);
			if (!wait_gone(pid, start, has_start, group, 5000))
				return ct_fail(err, 500, "process %ld survived SIGKILL", (long)pid);
		}
		log_info("stopped pid %ld", (long)pid);
	}
	if (unlink(pid_file) && errno != ENOENT)
		return ct_fail(err, 500, "cannot remove %s: %s", pid_file, strerror(errno));
	return 0;
}
