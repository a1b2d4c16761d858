/*
 * proc.c — see proc.h. Owns nothing; reads /proc and pid files only.
 * The stat parser keeps to async-signal-safe calls: a child between fork and
 * exec uses it through os_proc_self_start_time().
 */
#include "os/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read up to size - 1 bytes of a small file and NUL-terminate; → length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* A /proc/<pid>/stat line: "pid (comm) state ppid pgrp ... starttime ...".
 * comm may hold spaces and parentheses, so it ends at the last ')'. */
static int parse_stat(const char *buf, struct os_proc_info *info)
{
	const char *open_paren = strchr(buf, '(');
	const char *close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ' ||
	    !close_paren[2])
		return -1;
	size_t len = (size_t)(close_paren - open_paren - 1);
	if (len >= sizeof info->comm)
		len = sizeof info->comm - 1;
	memcpy(info->comm, open_paren + 1, len);
	info->comm[len] = '\0';
	const char *p = close_paren + 2;
	info->state = *p;
	/* Field 3 is the state; 4 the parent, 5 the process group, 22 the start. */
	for (int field = 4; field <= 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
		unsigned long long v = 0;
		for (const char *d = *p == '-' ? p + 1 : p; *d >= '0' && *d <= '9'; d++)
			v = v * 10 + (unsigned long long)(*d - '0');
		if (field == 4)
			info->ppid = (pid_t)v;
		else if (field == 5)
			info->pgrp = (pid_t)v;
		else if (field == 22)
			info->start_time = v;
	}
	return 0;
}

int os_proc_info(pid_t pid, struct os_proc_info *info)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof buf) < 0)
		return -1;
	return parse_stat(buf, info);
}

unsigned long long os_proc_self_start_time(void)
{
	char buf[1024];
	struct os_proc_info info;
	if (read_small("/proc/self/stat", buf, sizeof buf) < 0 || parse_stat(buf, &info))
		return 0;
	return info.start_time;
}

/* The NUL-separated arguments of pid into a per-thread buffer; → length, or -1. */
static ssize_t read_cmdline(pid_t pid, const char **out)
{
	static _Thread_local char buf[65536];
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	ssize_t n;
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

bool os_proc_cmdline_is(pid_t pid, const char *const *argv)
{
	const char *buf;
	ssize_t len = read_cmdline(pid, &buf);
	if (len < 0)
		return false;
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

bool os_proc_cmdline_mentions(pid_t pid, const char *needle)
{
	const char *buf;
	ssize_t len = read_cmdline(pid, &buf);
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(buf + i) + 1)
		if (strstr(buf + i, needle))
			return true;
	return false;
}

int os_proc_each(int (*fn)(pid_t pid, void *ctx), void *ctx)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		rc = fn((pid_t)atol(e->d_name), ctx);
	}
	closedir(d);
	return rc;
}

static int live_in_group(pid_t pid, void *ctx)
{
	struct os_proc_info info;
	return !os_proc_info(pid, &info) && info.pgrp == *(const pid_t *)ctx && info.state != 'Z' &&
	       info.state != 'X';
}

bool os_proc_group_alive(pid_t pgid)
{
	return os_proc_each(live_in_group, &pgid) > 0;
}

int os_pidfile_read(const char *path, pid_t *pid, unsigned long long *start, bool *has_start)
{
	char buf[128];
	if (read_small(path, buf, sizeof buf) < 0)
		return -1;
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
