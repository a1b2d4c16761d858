/*
 * tasks.h — the taskmanager's work on instances, through the configured
 * compute driver: build (create_instance), delete, restart and access update.
 * Each runs on a thread of its own (task_threads.h), records every step in
 * the instance row, and ends with the task back to NONE or in an error task
 * with a fault; a build never stays BUILD past usage_timeout. tasks_recover()
 * finishes or fails what a previous taskmanager left half done.
 */
#ifndef CT_TASKMANAGER_TASKS_H
#define CT_TASKMANAGER_TASKS_H

#include <jansson.h>

#include "common/error.h"
#include "compute/driver.h"
#include "db/instances.h"

/* args: the create_instance cast's arguments (borrowed, copied). */
int tasks_create_instance(const json_t *args, struct ct_error *err);
int tasks_delete_instance(const char *instance_id, struct ct_error *err);
int tasks_restart(const char *instance_id, struct ct_error *err);
int tasks_update_access(const char *instance_id, const json_t *access, struct ct_error *err);
/* A build in two halves, so that replicas get their machines (and addresses)
 * before their source is asked for a snapshot naming them: the machine, its
 * address and its rendered config; then the certificate, prepare (with
 * snapshot when seeding a replica; NULL = none) and the wait for ACTIVE. Each
 * records a failure on the instance (fault, error task) and returns -1. */
struct tasks_build {
	struct instance in;
	long memory;
	struct compute_server server;
	char config[8192];
	double started;
	long wait_s; /* how long to wait for the guest; 0 = the build's timeout */
};
int tasks_build_machine(const char *id, const json_t *create_args, struct tasks_build *b);
int tasks_build_finish(struct tasks_build *b, const json_t *create_args, const json_t *snapshot);
/* Carry on a build taken over from a dead owner (task_claims.h), on a task
 * thread: it becomes ACTIVE within its time limit from its start, or ERROR. */
int tasks_resume_build(const char *instance_id, struct ct_error *err);
/* At start: builds with a claim whose owner died are resumed, others that
 * were interrupted (replicas) go to ERROR; deletes are finished; the claims
 * keeper starts (docs/crash_recovery.md). */
void tasks_recover(void);
/* Wait for running tasks (at shutdown). */
void tasks_join(void);

#endif
