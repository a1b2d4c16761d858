/*
 * failover.h — automatic failover (issue 15, docs/replication.md): a
 * detector thread in the taskmanager that, every second, looks for opted-in
 * replication sources whose guest stopped heartbeating, or reports its server
 * down, for [DEFAULT] failover_timeout seconds; claims the source in the
 * control-plane database (so of two taskmanagers only one acts), fences it
 * through the compute driver and ejects it (replication_eject). Also applies
 * a source's synchronous setting to its guest. Owns the detector thread and
 * its memory of when each source was first seen down; may not write SQL
 * (db/failover.h) or guest JSON (guest/api.h).
 */
#ifndef CT_TASKMANAGER_FAILOVER_H
#define CT_TASKMANAGER_FAILOVER_H

#include "common/error.h"

/* Start / stop the detector thread (with the taskmanager service). */
int failover_detector_start(struct ct_error *err);
void failover_detector_stop(void);

/* One pass of the detector: how many failovers this process claimed and
 * started (each on a task thread), or -1. */
int failover_detect_once(struct ct_error *err);

/* Tell source_id's guest whether commits wait for a replica: on when its
 * settings say synchronous and at least one replica follows it, else off
 * (a synchronous source without a replica would block every commit).
 * Called when the settings change, and after replicas are created, promoted
 * or ejected. 0 also when the instance has no settings. */
int failover_apply_synchronous(const char *source_id, struct ct_error *err);

/* After replicas were created (old == new), a promote or an eject: the
 * failover settings follow the source role to new_source, and its
 * synchronous setting is applied there. Failures are logged: the topology
 * change itself has succeeded. */
void failover_after_topology_change(const char *old_source, const char *new_source);

/* The apply_failover_settings cast {instance_id}: failover_apply_synchronous
 * on a task thread. */
int tasks_apply_failover_settings(const char *instance_id, struct ct_error *err);

#endif
