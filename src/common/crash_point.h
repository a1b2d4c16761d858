/*
 * crash_point.h — named fault-injection points (like PostgreSQL's injection
 * points) for the crash-recovery tests: CT_CRASH_POINT("create.volume_mounted")
 * kills the process with SIGKILL — a real kill -9, no cleanup, no atexit —
 * when the environment variable CTROVE_CRASH_AT names that point; with
 * CTROVE_WAIT_AT=<point>:<seconds> the thread passing it waits that long first
 * (to act on a control plane held mid-step).
 *
 * Compiled in only when the build has its tests (meson -Dtests=true defines
 * CTROVE_CRASH_POINTS: build-asan, build-fuzz); in the run and release builds
 * the macro is nothing and no point's name is in the binary (.ci's run step
 * and tests/unit/test_crash_point_off.c check both). docs/crash_recovery.md lists
 * the points. Owns nothing; may not touch anything but its own process.
 */
#ifndef CT_COMMON_CRASH_POINT_H
#define CT_COMMON_CRASH_POINT_H

#ifdef CTROVE_CRASH_POINTS
/* Wait when CTROVE_WAIT_AT names the point, then SIGKILL to this process when
 * CTROVE_CRASH_AT equals name; else nothing. */
void ct_crash_point(const char *name);
#define CT_CRASH_POINT(name) ct_crash_point(name)
#else
#define CT_CRASH_POINT(name) ((void)0)
#endif

#endif
