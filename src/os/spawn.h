/*
 * spawn.h — starting processes without a shell: the one child side of every
 * fork + exec in ctrove (signals back to default, an empty signal mask,
 * optionally a umask and a service user's identity, stdin/stdout/stderr
 * wired, a working directory, every other inherited descriptor closed), a
 * plain fork for tools the caller waits for, and a double fork for processes
 * that must outlive the caller in a session of their own.
 *
 * A child that cannot get as far as exec writes a struct os_exec_report to
 * report_fd (a close-on-exec pipe, so EOF there means exec succeeded) and
 * exits 127. Used by compute/ (tools, detached agents) and guest/ (database
 * servers, their tools).
 * Owns nothing; never waits for a pid it did not fork, never signals.
 */
#ifndef CT_OS_SPAWN_H
#define CT_OS_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* Descriptors 0-2 are always open in ctrove, so a pipe end is never one of
 * them: 0 in a descriptor field means "not given". */
struct os_child {
	const char *const *argv; /* argv[0] searched in PATH unless it holds a '/' */
	const char *const *env;	 /* NULL = inherit */
	int stdin_fd;		 /* 0 = /dev/null */
	int stdout_fd;		 /* 0 = out_path appended (created 0640), else /dev/null */
	int stderr_fd;		 /* 0 = where stdout goes */
	const char *out_path;
	const char *work_dir; /* NULL = unchanged */
	bool set_umask;
	mode_t umask;
	bool drop_identity; /* become uid/gid, supplementary groups cleared */
	uid_t uid;
	gid_t gid;
	int report_fd; /* 0 = none: failures show only as exit status 127 */
	/* After the set-up, just before exec: async-signal-safe; 0, or -1 with errno. */
	int (*before_exec)(void *ctx);
	void *ctx;
};

enum os_exec_stage { OS_STAGE_SETUP = 1, OS_STAGE_BEFORE_EXEC, OS_STAGE_EXEC };
struct os_exec_report {
	int stage; /* enum os_exec_stage */
	int error; /* errno */
};

/* Fork; the child becomes c (os_child_exec). → its pid, or -1 with errno. */
pid_t os_spawn(const struct os_child *c);

/* Fork twice: the process leads a new session and process group of its own,
 * and is not the caller's child (the intermediate one is reaped here), so it
 * outlives the caller and is never its zombie. → its pid, or -1 with errno. */
pid_t os_spawn_detached(const struct os_child *c);

/* In a freshly forked child: set up as c says and exec; never returns. */
__attribute__((noreturn)) void os_child_exec(const struct os_child *c);

/* The parent's side of report_fd (its write end already closed): 0 when exec
 * succeeded, else -1 with *r filled. Closes fd. */
int os_exec_report_read(int fd, struct os_exec_report *r);

#endif
