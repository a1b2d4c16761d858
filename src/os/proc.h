/*
 * proc.h — finding processes: what /proc says about a pid (state, parent,
 * process group, start time, command name), whether its command line is a
 * given argv or mentions a string, every pid on the machine, and pid files.
 * The one place that parses /proc/<pid>/stat and cmdline, for compute/ and
 * guest/ alike.
 * Owns nothing; reads only — never signals, never writes a file.
 */
#ifndef CT_OS_PROC_H
#define CT_OS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct os_proc_info {
	char state; /* R, S, D, T, t, Z, X ... */
	pid_t ppid;
	pid_t pgrp;
	unsigned long long start_time; /* clock ticks since boot (stat field 22) */
	char comm[16];		       /* the kernel's command name, at most 15 bytes */
};

/* 0, or -1 when the process is gone or its stat cannot be read. */
int os_proc_info(pid_t pid, struct os_proc_info *info);

/* The calling process's start time, 0 when unreadable. Async-signal-safe: a
 * freshly forked child records it in its pid file before exec. */
unsigned long long os_proc_self_start_time(void);

/* /proc/<pid>/cmdline equals argv, or argv after one interpreter argument
 * (a script started through its #! line). */
bool os_proc_cmdline_is(pid_t pid, const char *const *argv);

/* One of the arguments in /proc/<pid>/cmdline contains needle. */
bool os_proc_cmdline_mentions(pid_t pid, const char *needle);

/* fn(pid, ctx) for every process in /proc (the caller included) until fn
 * returns non-zero; → that value, 0 when every pid was visited, -1 when /proc
 * cannot be read. */
int os_proc_each(int (*fn)(pid_t pid, void *ctx), void *ctx);

/* True while a process other than a zombie is in process group pgid. */
bool os_proc_group_alive(pid_t pgid);

/* A pid file: "<pid>" optionally followed by "\n<start time>". 0 with *pid > 1
 * (and *has_start, *start when the second line is a number), or -1 when the
 * file is missing or holds no pid. */
int os_pidfile_read(const char *path, pid_t *pid, unsigned long long *start, bool *has_start);

#endif
