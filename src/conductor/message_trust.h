/*
 * message_trust.h — what the conductor believes of a guest's message once it has
 * decrypted: the instance it names must be the one whose key sealed it, and its
 * `sent` time is trusted only within a window around the conductor's clock.
 * Pure functions (no database, no log, no clock of their own): service.c applies
 * them before a handler runs.
 */
#ifndef CT_CONDUCTOR_MESSAGE_TRUST_H
#define CT_CONDUCTOR_MESSAGE_TRUST_H

#include <stdbool.h>

#include "common/error.h"

/* How far (seconds) a guest's `sent` may be from the conductor's clock: clock skew
 * between a guest and the control plane, and a message's time in the queue. */
#define CONDUCTOR_SENT_WINDOW_S 300.0

/* A sealed message (sealed_by = its _context_csz-instance-id) is about the instance it
 * names (args.instance_id or the notification's instance_id) only when the two are
 * the same; 403 otherwise. sealed_by NULL (a plain message) passes here: whether plain
 * text is acceptable is decided by whoever knows the instance's key. */
int conductor_check_named(const char *sealed_by, const char *named, struct ct_error *err);

/* The `sent` the conductor records for ordering: refused (400) when more than
 * CONDUCTOR_SENT_WINDOW_S from now either way; otherwise min(sent, now), so that a
 * time ahead of the conductor's clock can never make later messages look stale. */
int conductor_trusted_sent(double sent, double now, double *trusted, struct ct_error *err);

#endif
