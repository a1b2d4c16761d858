/*
 * process.c — detached processes with pid files (process.h).
 * Owns the pid files it writes and the processes it started; signals only a
 * pid whose start time and command match its pid file.
 */
#define LOG_MODULE "compute"
#include "compute/process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

/* State letter and start time (clock ticks since boot) of pid; -1 when gone. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	/* After ")": field 3 is the state, field 22 the start time. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

static int read_pid_file(const char *path, pid_t *pid, unsigned long long *start, bool *has_start)
{
	char buf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf || v <= 1 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	*has_start = false;
	if (*end == '\n' && end[1] >= '0' && end[1] <= '9') {
		*start = strtoull(end + 1, NULL, 10);
		*has_start = true;
	}
	return 0;
}

/* /proc/<pid>/cmdline equals argv, or argv after one interpreter argument. */
static bool cmdline_matches(pid_t pid, const char *const *argv)
{
	char path[64];
	static _Thread_local char buf[65536];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t len = 0;
	ssize_t n;
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	for (int skip = 0; skip < 2; skip++) {
		const char *p = buf, *end = buf + len;
		for (int i = 0; i < skip && p < end; i++)
			p += strlen(p) + 1;
		size_t i = 0;
		for (; argv[i] && p < end; i++, p += strlen(p) + 1)
			if (strcmp(p, argv[i]) != 0)
				break;
		if (!argv[i] && p >= end)
			return true;
	}
	return false;
}

static bool same_process(pid_t pid, unsigned long long start, bool has_start)
{
	char state;
	unsigned long long now_start;
	if (proc_stat(pid, &state, &now_start))
		return false;
	if (state == 'Z' || state == 'X')
		return false;
	return !has_start || now_start == start;
}

pid_t proc_alive(const char *pid_file, const char *const *argv)
{
	pid_t pid;
	unsigned long long start = 0;
	bool has_start;
	if (read_pid_file(pid_file, &pid, &start, &has_start))
		return 0;
	if (!same_process(pid, start, has_start))
		return 0;
	if (argv && !cmdline_matches(pid, argv))
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

/* 0, or -1 with errno set. */
static int write_own_pid_file(const char *pid_file, const char *tmp_file)
{
	char stat_buf[1024];
	unsigned long long start = 0;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, stat_buf, sizeof stat_buf - 1);
		close(fd);
		if (n > 0) {
			stat_buf[n] = '\0';
			char *p = strrchr(stat_buf, ')');
			for (int field = 2; p && field < 22; field++) {
				p = strchr(p + 1, ' ');
			}
			if (p)
				for (p++; *p >= '0' && *p <= '9'; p++)
					start = start * 10 + (unsigned long long)(*p - '0');
		}
	}
	char line[64];
	size_t len = fmt_ull(line, (unsigned long long)getpid());
	line[len++] = '\n';
	len += fmt_ull(line + len, start);
	line[len++] = '\n';
	fd = open(tmp_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = write(fd, line, len) == (ssize_t)len ? rename(tmp_file, pid_file) : -1;
	int e = errno;
	close(fd);
	if (rc)
		unlink(tmp_file);
	errno = e;
	return rc;
}

enum spawn_stage { STAGE_SETUP = 1, STAGE_PID_FILE, STAGE_EXEC };

static void grandchild(const struct proc_spec *spec, const char *tmp_file, int report_fd)
{
	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	umask(022);
	int report[2] = {STAGE_SETUP, 0};
	int in = open("/dev/null", O_RDONLY);
	int out = spec->log_file ? open(spec->log_file, O_WRONLY | O_CREAT | O_APPEND, 0640)
				 : open("/dev/null", O_WRONLY);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
	    chdir(spec->work_dir ? spec->work_dir : "/")) {
		report[1] = errno;
	} else {
		if (report_fd > 3)
			close_range(3, (unsigned)report_fd - 1, 0);
		close_range((unsigned)report_fd + 1, ~0U, 0);
		report[0] = STAGE_PID_FILE;
		if (write_own_pid_file(spec->pid_file, tmp_file) == 0) {
			report[0] = STAGE_EXEC;
			if (spec->env)
				execvpe(spec->argv[0], (char *const *)spec->argv,
					(char *const *)spec->env);
			else
				execvp(spec->argv[0], (char *const *)spec->argv);
			unlink(spec->pid_file);
		}
		report[1] = errno;
	}
	if (write(report_fd, report, sizeof report) < 0) {
		/* the parent then finds no pid file */
	}
	_exit(127);
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
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(rep[0]);
		close(rep[1]);
		return ct_fail(err, 500, "cannot start %s: %s", spec->argv[0], strerror(e));
	}
	if (child == 0) {
		close(rep[0]);
		if (setsid() < 0)
			_exit(126);
		pid_t g = fork();
		if (g == 0)
			grandchild(spec, tmp_file, rep[1]);
		_exit(g < 0 ? 126 : 0);
	}
	close(rep[1]);
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	int report[2] = {0, 0};
	ssize_t n;
	do
		n = read(rep[0], report, sizeof report);
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ct_fail(err, 500, "cannot start %s: fork failed", spec->argv[0]);
	if (n == (ssize_t)sizeof report) {
		unlink(tmp_file);
		if (report[0] == STAGE_EXEC && report[1] == ENOENT)
			return ct_fail(err, 501, "%s is not installed on this host", spec->argv[0]);
		return ct_fail(err, 500, "cannot start %s: %s%s: %s", spec->argv[0],
			       report[0] == STAGE_SETUP	     ? "log file or working directory"
			       : report[0] == STAGE_PID_FILE ? "pid file "
							     : "exec",
			       report[0] == STAGE_PID_FILE ? spec->pid_file : "",
			       strerror(report[1]));
	}
	unsigned long long start;
	bool has_start;
	if (read_pid_file(spec->pid_file, pid, &start, &has_start))
		return ct_fail(err, 500, "%s started but wrote no pid file %s", spec->argv[0],
			       spec->pid_file);
	log_info("started %s as pid %ld (log %s)", spec->argv[0], (long)*pid,
		 spec->log_file ? spec->log_file : "/dev/null");
	return 0;
}

/* True while a process other than a zombie is in process group pgid. */
static bool group_has_live(pid_t pgid)
{
	DIR *d = opendir("/proc");
	if (!d)
		return false;
	bool live = false;
	struct dirent *e;
	while (!live && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[300], buf[1024];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		char state;
		long ppid, pgrp;
		if (p && sscanf(p + 2, "%c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
		    state != 'Z' && state != 'X')
			live = true;
	}
	closedir(d);
	return live;
}

/* Wait until the process, and its group when it leads one, has exited. */
static bool wait_gone(pid_t pid, unsigned long long start, bool has_start, bool group,
		      int timeout_ms)
{
	for (int waited = 0;; waited += 10) {
		if (!same_process(pid, start, has_start) && (!group || !group_has_live(pid)))
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
		if (read_pid_file(pid_file, &again, &start, &has_start) || again != pid)
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
