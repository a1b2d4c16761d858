/*
 * instance_supervisor.h — keeps the guest agent of every ACTIVE instance
 * running, as systemd keeps trove-guestagent running inside a Trove VM: at
 * taskmanager start (after a reboot nothing of an instance runs) and every
 * [DEFAULT] guest_agent_check_interval seconds after. Owns only its loop;
 * reads instance rows through db/ and touches machines only through the
 * compute driver, which rebuilds what a reboot lost before the agent starts.
 */
#ifndef CT_TASKMANAGER_INSTANCE_SUPERVISOR_H
#define CT_TASKMANAGER_INSTANCE_SUPERVISOR_H

#include "common/error.h"

/* One round now (in the loop's thread), then one every interval. */
int instance_supervisor_start(struct ct_error *err);
void instance_supervisor_stop(void);

/* One round in the caller's thread: the number of agents started again. */
int instance_supervisor_round(void);

#endif
