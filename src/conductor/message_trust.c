/*
 * message_trust.c — see message_trust.h. Pure: touches neither the database nor
 * the log.
 */
#include "conductor/message_trust.h"

#include <math.h>
#include <string.h>

int conductor_check_named(const char *sealed_by, const char *named, struct ct_error *err)
{
	if (!sealed_by)
		return 0;
	if (!named || strcmp(sealed_by, named))
		return ct_fail(err, 403,
			       "the message is sealed with the key of instance %.64s but names "
			       "instance %.64s",
			       sealed_by, named ? named : "(none)");
	return 0;
}

int conductor_trusted_sent(double sent, double now, double *trusted, struct ct_error *err)
{
	if (!isfinite(sent) || fabs(sent - now) > CONDUCTOR_SENT_WINDOW_S)
		return ct_fail(err, 400,
			       "argument sent is more than %.0f seconds from the conductor's "
			       "clock",
			       CONDUCTOR_SENT_WINDOW_S);
	*trusted = sent < now ? sent : now;
	return 0;
}
