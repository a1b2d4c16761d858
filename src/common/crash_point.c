/*
 * crash_point.c — see crash_point.h. Empty unless the build has its tests.
 * Reads only CTROVE_CRASH_AT; may signal nothing but its own process.
 */
#define LOG_MODULE "crash"
#include "common/crash_point.h"

#ifdef CTROVE_CRASH_POINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

void ct_crash_point(const char *name)
{
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
