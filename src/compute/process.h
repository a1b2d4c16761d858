/*
 * process.h — detached long-lived processes of the local compute driver (the
 * guest agent, a database server): started so that they outlive ctrove, found
 * again by pid file, stopped with SIGTERM then SIGKILL.
 *
 * A started process leads its own session and process group (double fork +
 * setsid, os/spawn.h), has stdin on /dev/null, stdout and stderr appended to a
 * log file, no other inherited descriptor, and writes its pid file itself
 * before exec: "<pid>\n<start time>\n" (start time in clock ticks since boot,
 * /proc/<pid>/stat field 22), so a crash of the caller right after fork still
 * leaves a findable process. A pid file names a live process only when that
 * pid exists, is not a zombie, has the recorded start time and runs the
 * expected command (/proc/<pid>/cmdline equals argv, or argv after an
 * interpreter), so a reused pid is never mistaken for it.
 *
 * Owns the pid files it writes and the processes it started; may not signal
 * a process whose pid file does not match it.
 */
#ifndef CT_COMPUTE_PROCESS_H
#define CT_COMPUTE_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct proc_spec {
	const char *const *argv; /* argv[0] looked up in PATH; NULL-terminated */
	const char *pid_file;	 /* written by the process before exec */
	const char *log_file;	 /* stdout and stderr, appended; NULL = /dev/null */
	const char *work_dir;	 /* NULL = "/" */
	const char *const *env;	 /* NULL = inherit ctrove's environment */
};

/* Start the process unless the pid file already names it alive (then its pid
 * is returned and nothing is started). 500 when it cannot be started, with
 * exec's reason; 501 when argv[0] is not installed. */
int proc_spawn(const struct proc_spec *spec, pid_t *pid, struct ct_error *err);

/* The pid when pid_file names a live process running argv (argv NULL = any
 * command), else 0. Never fails: unreadable or stale pid files mean 0. */
pid_t proc_alive(const char *pid_file, const char *const *argv);

/* SIGTERM to the process and its process group (what it forked and did not
 * move elsewhere), wait up to timeout_ms for all of them to exit, then SIGKILL
 * to the group; removes the pid file. 0 also when nothing was running. */
int proc_stop(const char *pid_file, const char *const *argv, int timeout_ms, struct ct_error *err);

#endif
