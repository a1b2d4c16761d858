/*
 * run.c — fork/execvp of machine tools with captured output (run.h).
 * Owns the child processes it starts until they are reaped; may not touch
 * other children of the process (it only waits for the pid it forked).
 */
#define LOG_MODULE "compute"
#include "compute/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "os/spawn.h"

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool run_have_tool(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		char full[4096];
		if (len &&
		    snprintf(full, sizeof full, "%.*s/%s", (int)len, path, name) <
			    (int)sizeof full &&
		    access(full, X_OK) == 0)
			return true;
		if (!colon)
			break;
		path = colon + 1;
	}
	return false;
}

static void append(char *buf, size_t cap, size_t *len, const char *data, size_t n)
{
	if (*len + 1 >= cap)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, data, n);
	*len += n;
	buf[*len] = '\0';
}

/* Write to the tool's stdin without dying of SIGPIPE when it exits early. */
static ssize_t write_nosigpipe(int fd, const char *data, size_t n)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t w = write(fd, data, n);
	int e = errno;
	if (w < 0 && e == EPIPE) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int run_tool(const char *const argv[], const char *input, struct run_result *res,
	     struct ct_error *err)
{
	res->status = -1;
	res->timed_out = false;
	res->out[0] = res->errtext[0] = '\0';
	int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, rep_p[2] = {-1, -1};
	bool ok = !pipe2(out_p, O_CLOEXEC) && !pipe2(err_p, O_CLOEXEC) && !pipe2(rep_p, O_CLOEXEC);
	if (ok && input)
		ok = !pipe2(in_p, O_CLOEXEC);
	struct os_child child = {
		.argv = argv,
		.stdin_fd = input ? in_p[0] : 0, /* 0: /dev/null */
		.stdout_fd = out_p[1],
		.stderr_fd = err_p[1],
		.report_fd = rep_p[1],
	};
	pid_t pid = ok ? os_spawn(&child) : -1;
	if (pid < 0) {
		log_error("%s: cannot start: %s", argv[0], strerror(errno));
		int *all[] = {&in_p[0],	 &in_p[1],  &out_p[0], &out_p[1],
			      &err_p[0], &err_p[1], &rep_p[0], &rep_p[1]};
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			close_fd(all[i]);
		return ct_fail(err, 500, "cannot start %s", argv[0]);
	}
	close_fd(&in_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[1]);
	close_fd(&rep_p[1]);

	struct os_exec_report report;
	int exec_errno = os_exec_report_read(rep_p[0], &report) ? report.error : 0;
	rep_p[0] = -1;

	long timeout_s = cfg_int(CFG_LOCAL_TOOL_TIMEOUT);
	long deadline = now_ms() + (timeout_s > 0 ? timeout_s : 120) * 1000L;
	size_t out_len = 0, err_len = 0, in_off = 0, in_len = input ? strlen(input) : 0;
	if (input && !in_len)
		close_fd(&in_p[1]);
	while (out_p[0] >= 0 || err_p[0] >= 0) {
		struct pollfd fds[3];
		int n = 0, i_in = -1, i_out = -1, i_err = -1;
		if (in_p[1] >= 0) {
			i_in = n;
			fds[n++] = (struct pollfd){.fd = in_p[1], .events = POLLOUT};
		}
		if (out_p[0] >= 0) {
			i_out = n;
			fds[n++] = (struct pollfd){.fd = out_p[0], .events = POLLIN};
		}
		if (err_p[0] >= 0) {
			i_err = n;
			fds[n++] = (struct pollfd){.fd = err_p[0], .events = POLLIN};
		}
		long left = deadline - now_ms();
		if (left <= 0) {
			res->timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		int pr = poll(fds, (nfds_t)n, (int)left);
		if (pr < 0 && errno != EINTR) {
			log_error("%s: poll: %s", argv[0], strerror(errno));
			kill(pid, SIGKILL);
			break;
		}
		if (pr <= 0)
			continue;
		if (i_in >= 0 && fds[i_in].revents) {
			ssize_t w = write_nosigpipe(in_p[1], input + in_off, in_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 && errno != EINTR && errno != EAGAIN)
				in_off = in_len; /* the tool stopped reading */
			if (in_off >= in_len)
				close_fd(&in_p[1]);
		}
		char buf[4096];
		if (i_out >= 0 && fds[i_out].revents) {
			ssize_t got = read(out_p[0], buf, sizeof buf);
			if (got > 0)
				append(res->out, sizeof res->out, &out_len, buf, (size_t)got);
			else if (got == 0 || errno != EINTR)
				close_fd(&out_p[0]);
		}
		if (i_err >= 0 && fds[i_err].revents) {
			ssize_t got = read(err_p[0], buf, sizeof buf);
			if (got > 0)
				append(res->errtext, sizeof res->errtext, &err_len, buf,
				       (size_t)got);
			else if (got == 0 || errno != EINTR)
				close_fd(&err_p[0]);
		}
	}
	close_fd(&in_p[1]);
	close_fd(&out_p[0]);
	close_fd(&err_p[0]);

	int wstatus = 0;
	for (;;) {
		pid_t w = waitpid(pid, &wstatus, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			log_error("%s: waitpid: %s", argv[0], strerror(errno));
			return ct_fail(err, 500, "%s: lost track of the process", argv[0]);
		}
		if (now_ms() > deadline && !res->timed_out) {
			res->timed_out = true;
			kill(pid, SIGKILL);
		}
		struct timespec nap = {0, 2000000};
		nanosleep(&nap, NULL);
	}
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (exec_errno == ENOENT)
		return ct_fail(err, 501, "%s is not installed on this host", argv[0]);
	if (exec_errno)
		return ct_fail(err, 500, "cannot run %s: %s", argv[0], strerror(exec_errno));
	if (res->timed_out)
		return ct_fail(err, 500, "%s did not finish within %ld seconds and was killed",
			       argv[0], timeout_s);
	return 0;
}

/* First line of s, at most 300 characters, for a message. */
static void first_line(const char *s, char out[320])
{
	while (*s == '\n' || *s == ' ')
		s++;
	size_t n = strcspn(s, "\n");
	if (n > 300)
		n = 300;
	memcpy(out, s, n);
	out[n] = '\0';
}

int run_tool_ok(const char *const argv[], const char *input, struct run_result *res,
		struct ct_error *err)
{
	if (run_tool(argv, input, res, err))
		return -1;
	if (res->status == 0)
		return 0;
	char line[320];
	first_line(res->errtext[0] ? res->errtext : res->out, line);
	return ct_fail(err, 500, "%s failed (exit %d): %s", argv[0], res->status,
		       line[0] ? line : "no message");
}
