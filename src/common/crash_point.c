/*
 * crash_point.c — see crash_point.h. Empty unless the build has its tests.
 * Reads only CTROVE_CRASH_AT and CTROVE_WAIT_AT; may signal nothing but its
 * own process.
 */
#define LOG_MODULE "crash"
#include "common/crash_point.h"

#ifdef CTROVE_CRASH_POINTS
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

/* CTROVE_WAIT_AT=<name>:<seconds> holds the thread that passes the point, so
 * a test can act (start a second taskmanager, kill this one) mid-step. */
static void wait_if_named(const char *name)
{
	const char *wait = getenv("CTROVE_WAIT_AT");
	size_t len = strlen(name);
	if (!wait || strncmp(wait, name, len) != 0 || wait[len] != ':')
		return;
	long seconds = strtol(wait + len + 1, NULL, 10);
	if (seconds <= 0 || seconds > 600)
		return;
	log_warning("crash point %s: waiting %ld s", name, seconds);
	struct timespec ts = {seconds, 0};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void ct_crash_point(const char *name)
{
	wait_if_named(name);
	const char *wanted = getenv("CTROVE_CRASH_AT");
	if (!wanted || strcmp(wanted, name) != 0)
		return;
	/* The line tells a test which point fired; then no cleanup of any kind. */
	log_error("crash point %s: SIGKILL", name);
	raise(SIGKILL);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int ct_crash_points_absent;
#endif
