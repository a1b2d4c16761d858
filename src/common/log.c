/*
 * log.c — line formatting and output for log.h.
 * A line is built in a stack buffer and written with one write(2), so lines
 * from several threads never interleave.
 */
#include "common/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum log_level log_min_level = LOG_LEVEL_INFO;

static int log_fd = STDERR_FILENO;
static _Thread_local char ctx_request[64];
static _Thread_local char ctx_resource[64];

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

int log_open(const char *path, bool debug)
{
	log_min_level = debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	if (!path || !*path)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	log_close();
	log_fd = fd;
	return 0;
}

void log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, size, "%s", src);
}

void log_set_context(const char *request_id, const char *resource_id)
{
	copy_field(ctx_request, sizeof ctx_request, request_id);
	copy_field(ctx_resource, sizeof ctx_resource, resource_id);
}

void log_clear_context(void)
{
	ctx_request[0] = ctx_resource[0] = '\0';
}

const char *log_request_id(void)
{
	return ctx_request[0] ? ctx_request : NULL;
}

int log_fileno(void)
{
	return log_fd;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	int n = snprintf(line, sizeof line,
			 "%04d-%02d-%02d %02d:%02d:%02d.%03ld %d %s %s [%s%s%s%s] ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (long)tv.tv_usec / 1000, (int)getpid(), level_names[level],
			 module, ctx_request[0] ? "req-" : "-", ctx_request,
			 ctx_resource[0] ? " " : "", ctx_resource);
	if (n < 0)
		return;
	if ((size_t)n < sizeof line - 1) {
		va_list ap;
		va_start(ap, fmt);
		int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	/* One event, one line: control characters from user input cannot forge lines. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			line[i] = '?';
	line[n++] = '\n';
	ssize_t w = write(log_fd, line, (size_t)n);
	(void)w;
}

static bool key_is_secret(const char *key)
{
	static const char *const needles[] = {"password", "secret", "token", "key", "credential"};
	for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
		if (strcasestr(key, needles[i]))
			return true;
	return false;
}

json_t *log_json_redacted(const json_t *obj)
{
	if (json_is_object(obj)) {
		json_t *out = json_object();
		const char *key;
		json_t *value;
		json_object_foreach ((json_t *)obj, key, value) {
			if (key_is_secret(key))
				json_object_set_new(out, key, json_string("***"));
			else
				json_object_set_new(out, key, log_json_redacted(value));
		}
		return out;
	}
	if (json_is_array(obj)) {
		json_t *out = json_array();
		size_t i;
		json_t *value;
		json_array_foreach (obj, i, value)
			json_array_append_new(out, log_json_redacted(value));
		return out;
	}
	return json_deep_copy(obj);
}
