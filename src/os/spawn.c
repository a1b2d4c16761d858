/*
 * spawn.c — see spawn.h. Owns nothing; reaps only the intermediate child of
 * its own double fork. Between fork and exec only async-signal-safe calls.
 */
#include "os/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals, identity, stdio, directory and descriptors; 0 or errno. */
static int child_setup(const struct os_child *c)
{
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (c->set_umask)
		umask(c->umask);
	/* Before opening the log: the service user creates it, so owns it. */
	if (c->drop_identity && (setgroups(0, NULL) || setgid(c->gid) || setuid(c->uid)))
		return errno;
	int in = c->stdin_fd > 0 ? c->stdin_fd : open("/dev/null", O_RDONLY);
	int out = c->stdout_fd > 0 ? c->stdout_fd
		  : c->out_path	   ? open(c->out_path, O_WRONLY | O_CREAT | O_APPEND, 0640)
				   : open("/dev/null", O_WRONLY);
	int err = c->stderr_fd > 0 ? c->stderr_fd : out;
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		return errno;
	if (c->work_dir && chdir(c->work_dir))
		return errno;
	/* Keep 0-2 and the report pipe (itself close-on-exec). */
	if (c->report_fd > 0) {
		if (c->report_fd > 3)
			close_range(3, (unsigned)c->report_fd - 1, 0);
		close_range((unsigned)c->report_fd + 1, ~0U, 0);
	} else {
		close_range(3, ~0U, 0);
	}
	return 0;
}

void os_child_exec(const struct os_child *c)
{
	struct os_exec_report report = {OS_STAGE_SETUP, child_setup(c)};
	if (!report.error) {
		report.stage = OS_STAGE_BEFORE_EXEC;
		if (!c->before_exec || c->before_exec(c->ctx) == 0) {
			report.stage = OS_STAGE_EXEC;
			if (c->env)
				execvpe(c->argv[0], (char *const *)c->argv, (char *const *)c->env);
			else
				execvp(c->argv[0], (char *const *)c->argv);
		}
		report.error = errno;
	}
	if (c->report_fd > 0)
		(void)!write(c->report_fd, &report, sizeof report);
	_exit(127);
}

pid_t os_spawn(const struct os_child *c)
{
	pid_t pid = fork();
	if (pid == 0)
		os_child_exec(c);
	return pid;
}

pid_t os_spawn_detached(const struct os_child *c)
{
	int pid_pipe[2];
	if (pipe2(pid_pipe, O_CLOEXEC))
		return -1;
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(pid_pipe[0]);
		close(pid_pipe[1]);
		errno = e;
		return -1;
	}
	if (child == 0) {
		pid_t g = fork();
		if (g == 0) {
			setsid();
			os_child_exec(c);
		}
		(void)!write(pid_pipe[1], &g, sizeof g);
		_exit(g < 0 ? 1 : 0);
	}
	close(pid_pipe[1]);
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	pid_t g = -1;
	ssize_t n;
	do
		n = read(pid_pipe[0], &g, sizeof g);
	while (n < 0 && errno == EINTR);
	close(pid_pipe[0]);
	if (n != (ssize_t)sizeof g || g <= 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = EAGAIN;
		return -1;
	}
	return g;
}

int os_exec_report_read(int fd, struct os_exec_report *r)
{
	ssize_t n;
	do
		n = read(fd, r, sizeof *r);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == (ssize_t)sizeof *r ? -1 : 0;
}
