/*
 * failover.h — automatic failover's rows (issue 15): each replication
 * source's opt-in settings (ctrove_failover_settings) and the claim that lets
 * exactly one control-plane process fail a source over
 * (ctrove_failover_claims: the source id is the primary key, so of two
 * processes racing only one INSERT succeeds). Also the detector's question
 * "which opted-in sources look dead?". May not decide that a source is dead,
 * fence it or talk to guests: that is taskmanager/failover.c.
 */
#ifndef CT_DB_FAILOVER_H
#define CT_DB_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct failover_settings {
	bool automatic;	  /* the taskmanager fails the source over by itself */
	bool synchronous; /* commits on the source wait for one replica */
};

/* Replace an instance's settings. */
int failover_settings_set(const char *instance_id, const struct failover_settings *s,
			  struct ct_error *err);
/* 1 found, 0 the instance never had settings (both false), -1 failed. */
int failover_settings_get(const char *instance_id, struct failover_settings *out,
			  struct ct_error *err);
/* Give from's settings to to (after a failover or eject); from keeps none. */
int failover_settings_move(const char *from, const char *to, struct ct_error *err);
/* Forget an instance's settings (it is deleted). */
int failover_settings_forget(const char *instance_id, struct ct_error *err);

/* How many undeleted replicas follow instance_id (instances.slave_of_id). */
int failover_replica_count(const char *instance_id, long *count, struct ct_error *err);
/* 1 when instance_id is a replica of another instance, 0 not, -1 failed. */
int failover_is_replica(const char *instance_id, struct ct_error *err);

/* A source with automatic failover that is not busy with a task and has at
 * least one replica whose heartbeat is younger than max_age — so a silent
 * source is not mistaken for a silent control plane. */
struct failover_candidate {
	char id[37];
	char encrypted_key[256];
	int service_status;   /* the last status its guest reported */
	double heartbeat_age; /* seconds since its last heartbeat */
	bool synchronous;
};
/* malloc'd array (caller frees); sources already claimed are left out. */
int failover_candidates(double max_age, struct failover_candidate **out, size_t *count,
			struct ct_error *err);

/* Claim the failover of source_id for claimed_by (a process name): 1 this
 * caller won and must act, 0 another claim exists or the source is no longer
 * an opted-in, undeleted source; -1 failed. One transaction: the state check
 * and the INSERT keyed on the source id. */
int failover_claim(const char *source_id, const char *claimed_by, struct ct_error *err);
/* Record how a claimed failover ended (new_source_id NULL when it failed). */
int failover_claim_finish(const char *source_id, const char *new_source_id, const char *outcome,
			  struct ct_error *err);
/* Who holds the claim of source_id: 1 found (claimed_by and new_source_id
 * copied, "" for NULL), 0 none, -1 failed. */
int failover_claim_get(const char *source_id, char claimed_by[256], char new_source_id[37],
		       struct ct_error *err);
/* Drop the claim (the old source is deleted or re-attached), so the id could
 * fail over again. */
int failover_claim_release(const char *source_id, struct ct_error *err);

#endif
