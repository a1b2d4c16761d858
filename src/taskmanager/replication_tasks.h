/*
 * replication_tasks.h — the taskmanager's replication workflows (issue 15;
 * spec trove-guest.md §5, the replication contract): creating replicas from a
 * source's snapshot, promote_to_replica_source, eject_replica_source and
 * detach_replica. Each runs on a task thread and ends with the task NONE; a
 * failure leaves a fault on the instance. May not write guest JSON (guest/api.h
 * does) or SQL (db/replication.h does).
 */
#ifndef CT_TASKMANAGER_REPLICATION_TASKS_H
#define CT_TASKMANAGER_REPLICATION_TASKS_H

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"

/* The create_instance cast for replicas (replica_of set): seeds every replica
 * in args' instance_ids from one snapshot of the source. */
int tasks_create_replicas(const json_t *args, struct ct_error *err);
/* The promote_to_replica_source cast {instance_id}. */
int tasks_promote_to_replica_source(const char *instance_id, struct ct_error *err);
/* The eject_replica_source cast {instance_id}: the source is dead. */
int tasks_eject_replica_source(const char *instance_id, struct ct_error *err);
/* The detach_replica cast {instance_id}: the replica stands alone. */
int tasks_detach_replica(const char *instance_id, struct ct_error *err);

/* At start: promotes, ejects and detaches a previous taskmanager left
 * running end with a fault on the instance (the rows still say who follows
 * whom; an operator retries). */
void tasks_replication_recover(void);

/* Apply allowed_cidrs (a JSON array; empty = anyone) to instance id, widened
 * by its replicas' addresses so they keep reaching it (access updates). */
int replication_apply_access(const char *id, const json_t *allowed_cidrs, struct ct_error *err);

/* Make the most advanced replica of source_id the new source and re-point the
 * others to it (Trove's eject). The caller has decided source_id is dead;
 * fenced=true when it has already been fenced. Returns the new source's id. */
int replication_eject(const char *source_id, bool fenced, char new_source_id[37],
		      struct ct_error *err);

#endif
