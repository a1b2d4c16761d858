/*
 * core_dumps.h — keeping keys out of core files. Processes that hold the token
 * signing key, RPC keys or database passwords (ctrove api/taskmanager/
 * conductor/all, ctrove-guestagent and its workers) turn core dumps off at
 * start: RLIMIT_CORE 0 (inherited by what they spawn) and PR_SET_DUMPABLE 0
 * (no core even if a child raises the limit, no ptrace or /proc/<pid>/mem by
 * other processes of the same user). Owns nothing.
 */
#ifndef CT_COMMON_CORE_DUMPS_H
#define CT_COMMON_CORE_DUMPS_H

#include "common/error.h"

int core_dumps_disable(struct ct_error *err);
/* Sanitizer builds only, just before exit: LeakSanitizer inspects the
 * process's threads with ptrace from a helper task, which a non-dumpable
 * process refuses unless run with CAP_SYS_PTRACE; the keys are wiped by then. */
void core_dumps_allow_leak_check(void);

#endif
