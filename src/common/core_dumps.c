/*
 * core_dumps.c — see core_dumps.h.
 */
#include "common/core_dumps.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define CT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CT_SANITIZED 1
#endif
#endif

int core_dumps_disable(struct ct_error *err)
{
	struct rlimit none = {0, 0};
	if (setrlimit(RLIMIT_CORE, &none))
		return ct_fail(err, 500, "cannot turn core dumps off (RLIMIT_CORE): %s",
			       strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return ct_fail(err, 500, "cannot turn core dumps off (PR_SET_DUMPABLE): %s",
			       strerror(errno));
	return 0;
}

void core_dumps_allow_leak_check(void)
{
#ifdef CT_SANITIZED
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}
