/*
 * task_claims.h — who builds or deletes an instance (db/instance_claims.h),
 * from the taskmanager's side: this process's owner name, whether another
 * owner is still alive, taking a build or a delete over, and a keeper thread
 * that renews this process's leases and resumes what a dead taskmanager left
 * (docs/crash_recovery.md). Owns the keeper thread; may not build or delete
 * anything itself (tasks.c does, on a task thread).
 */
#ifndef CT_TASKMANAGER_TASK_CLAIMS_H
#define CT_TASKMANAGER_TASK_CLAIMS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "db/instance_claims.h"

/* How long a claim holds without renewal, and how long the API's queued
 * build waits for its cast before any taskmanager may take it. */
#define TASK_CLAIM_LEASE_S  15
#define TASK_CLAIM_QUEUED_S 30

/* This process: "<host>/<pid>/<start time in clock ticks since boot>". */
const char *task_claims_owner(void);
/* Unix seconds. */
long long task_claims_now(void);
/* Whether c's owner still works on it: its lease runs and, when it is a
 * process of this host, that process still lives (a restarted one is a new
 * owner, so its predecessor's claims are taken at once). */
bool task_claims_owner_alive(const struct instance_claim *c, long long now);

/* The API: queue instance_id's build with its create_instance args sealed
 * with the instance's RPC key (plain), before the cast. */
int task_claims_queue_build(const char *instance_id, const char *key, const json_t *args,
			    struct ct_error *err);
/* The create_instance cast arrived: 1 when this process now owns the build
 * (or it has no claim, as a replica's), 0 when another one took it. */
int task_claims_take_queued_build(const char *instance_id);
/* A delete starts: 1 when this process now owns it, 0 when a live one does. */
int task_claims_take_delete(const char *instance_id);

/* One round: renew our leases, resume builds and deletes whose owner died. */
void task_claims_sweep(void);
/* The keeper thread: a round every few seconds. */
int task_claims_start(struct ct_error *err);
void task_claims_stop(void);

#endif
