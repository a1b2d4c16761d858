/*
 * instance_status.h — the two status fields of an instance, derived from the
 * task, the compute server and the guest's service status exactly as Trove
 * does (spec trove-api.md §5, trove-internals.md §4.1). Pure functions: no I/O.
 */
#ifndef CT_API_INSTANCE_STATUS_H
#define CT_API_INSTANCE_STATUS_H

#include <stdbool.h>

struct instance_state {
	int task_id;		   /* instances.task_id */
	const char *server_status; /* compute status: ACTIVE, SHUTOFF, ... ("" unknown) */
	int service_status_id;	   /* service_statuses.status_id */
	bool backup_running;	   /* a NEW/BUILDING/SAVING backup exists */
	bool heartbeat_expired;	   /* last heartbeat older than agent_heartbeat_expiry */
};

/* REST `status`: ACTIVE, BUILD, ERROR, REBOOT, ... */
const char *instance_status(const struct instance_state *s);
/* REST `operating_status`: "" or HEALTHY, ACTIVE, SHUTDOWN, ERROR, ... */
const char *instance_operating_status(const struct instance_state *s);
/* The task's action name (NONE, BUILDING, ...) or NULL for an unknown code. */
const char *instance_task_action(int task_id);

#endif
