/*
 * notifier.h — oslo.messaging notifications on the bus ([oslo_messaging_notifications]),
 * so Ceilometer-style consumers see Trove's dbaas.* and trove.instance.* events.
 *
 * A notification is oslo's message {message_id, publisher_id, event_type, priority,
 * payload, timestamp} plus _unique_id and the _context_* keys, in oslo's 2.0 envelope
 * (driver messagingv2) or bare (messaging), published to <topic>.<priority> on the
 * control exchange, with the queue of that name declared and bound first as oslo does
 * (so nothing is lost before a consumer comes). Publishing happens on one thread of
 * the notifier's own with its own connection: notifier_info() only queues (bounded by
 * ctrove_queue_size), so an operation never waits for or fails on the bus; a message
 * the bus does not take within a few seconds, or that finds the queue full, is dropped
 * and counted in the log.
 *
 * Owns that thread, its connection and queue. May not know what an event means (the
 * callers build payloads: src/api/api_notify.c, src/taskmanager/usage_events.c) and
 * never logs a payload.
 */
#ifndef CT_RPC_NOTIFIER_H
#define CT_RPC_NOTIFIER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

/* Read the options and, unless the driver is noop, start the publisher. 400 for a
 * driver oslo does not have. */
int notifier_start(struct ct_error *err);
/* Publish what is queued (for at most a few seconds), stop the thread, free all. */
void notifier_stop(void);
/* False with driver noop (or before start): callers may skip building payloads. */
bool notifier_enabled(void);

/* Queue one INFO notification. service "api" / "taskmanager" gives publisher_id
 * "<service>.<host>"; NULL gives "<host>" alone (Trove's trove.instance.* usage
 * events). The payload is taken over (decref'd in every case). request_id and
 * project_id (either may be NULL) become _context_request_id / _context_project_id. */
void notifier_info(const char *service, const char *event_type, json_t *payload,
		   const char *request_id, const char *project_id);

/* Where a dbaas.* event comes from: Trove's base traits. NULL fields are sent as "";
 * server_ip NULL is [DEFAULT] host. */
struct notifier_origin {
	const char *service; /* "api", "taskmanager", "conductor": server_type and publisher */
	const char *request_id;
	const char *tenant_id;
	const char *client_ip;
	const char *server_ip;
};
/* dbaas.<event>.<qualifier> (e.g. "instance_create", "start") with the base traits
 * and traits (may be NULL; taken over) merged in. */
void notifier_dbaas(const struct notifier_origin *o, const char *event, const char *qualifier,
		    json_t *traits);

/* Since start: notifications handed to the broker, and dropped. */
void notifier_counts(unsigned long long *sent, unsigned long long *dropped);

#endif
