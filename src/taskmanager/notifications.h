/*
 * notifications.h — the taskmanager's notifications, with Trove's names and
 * payloads (trove/common/notification.py, trove/taskmanager/models.py
 * send_usage_event, trove/extensions/mgmt/instances/models.py):
 *
 *   trove.instance.create | delete | modify_flavor   usage events (publisher <host>)
 *   trove.instance.exists                            the periodic audit, when
 *                                                    exists_notification_transformer is set
 *   dbaas.<event>.end | .error                       the end of work the API started
 *                                                    (publisher taskmanager.<host>)
 *
 * Each call is one line at the end of a workflow; it reads the row it needs and
 * queues through rpc/notifier.h, so it never blocks and never fails the work.
 * Owns the payloads' shape and the exists loop; may not write rows. Payloads carry
 * ids, names and sizes, never a password or key.
 */
#ifndef CT_TASKMANAGER_NOTIFICATIONS_H
#define CT_TASKMANAGER_NOTIFICATIONS_H

#include <jansson.h>

#include "common/error.h"

/* trove.instance.<event> for the instance (deleted or not). extra (may be NULL) is
 * merged over the defaults and taken over. */
void tm_notify_usage(const char *event, const char *instance_id, json_t *extra);

/* dbaas.<event>.end, e.g. event "instance_create"; traits (may be NULL, taken over)
 * are the event's end traits (instance_id, backup_id, ...). tenant_id NULL: the
 * instance's (instance_id may be NULL when there is none). */
void tm_notify_end(const char *event, const char *tenant_id, const char *instance_id,
		   json_t *traits);
/* dbaas.<event>.error with Trove's message and exception traits. */
void tm_notify_error(const char *event, const char *tenant_id, const char *instance_id,
		     const char *message);

/* The trove.instance.exists loop (every exists_notification_interval seconds),
 * when exists_notification_transformer is set and notifications are on. */
int tm_notify_exists_start(struct ct_error *err);
void tm_notify_exists_stop(void);
/* One exists round now (the loop's body; for tests through the loop). */
void tm_notify_exists_round(void);

#endif
