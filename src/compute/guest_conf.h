/*
 * guest_conf.h — the [DEFAULT] section every compute driver gives its guest
 * agents (who it is, its key, its bus): one text for the local driver's
 * guest.conf and the nova driver's user data, so that both agents read the
 * same options. Owns nothing; the caller wipes the text (it holds the
 * instance's RPC key and its broker password).
 */
#ifndef CT_COMPUTE_GUEST_CONF_H
#define CT_COMPUTE_GUEST_CONF_H

#include <stddef.h>

#include "common/error.h"
#include "compute/driver.h"

/* "# Written by ctrove's <driver> compute driver ..." and [DEFAULT] for
 * spec, with report_interval, into out; 500 when it does not fit. */
int guest_conf_defaults(const struct compute_spec *s, const char *driver, long report_interval,
			char *out, size_t size, struct ct_error *err);

#endif
