/*
 * instance_claims.h — table ctrove_instance_claims: which control-plane
 * process is working on an instance's build or delete right now, so that a
 * restarted taskmanager resumes exactly what a dead one left (and nothing a
 * live one is doing). One row per (instance, task); the owner keeps its lease
 * fresh while it works; a row is taken over only by a compare-and-swap on the
 * owner and lease it was seen with, so two processes never both win.
 * A build's row also carries create_instance's arguments sealed with the
 * instance's RPC key (users' passwords are in them) and when the build began.
 * docs/crash_recovery.md has the rules. May not decide who is alive (the
 * taskmanager does) nor read any other table.
 */
#ifndef CT_DB_INSTANCE_CLAIMS_H
#define CT_DB_INSTANCE_CLAIMS_H

#include <stddef.h>

#include "common/error.h"

#define CLAIM_BUILD  "build"
#define CLAIM_DELETE "delete"

/* A build's progress: queued by the API (the cast may still be on its way),
 * running on a taskmanager, prepare sent to the guest. */
#define CLAIM_QUEUED   "queued"
#define CLAIM_RUNNING  "running"
#define CLAIM_PREPARED "prepared"

struct instance_claim {
	char instance_id[37];
	char task[16];
	char owner[256];
	long long lease_until; /* unix seconds */
	long long started_at;  /* unix seconds: when the task began */
	char phase[16];
};

/* A new claim; sealed_args NULL for none. 1 inserted, 0 when the instance
 * already has a claim for that task (nothing changed), -1 failed. */
int claim_insert(const struct instance_claim *c, const char *sealed_args, struct ct_error *err);
/* The claim of (instance, task): 1 read, 0 none, -1 failed. */
int claim_get(const char *instance_id, const char *task, struct instance_claim *out,
	      struct ct_error *err);
/* A build's sealed arguments, malloc'd (caller frees): NULL with err set when
 * there are none (404) or on failure. */
char *claim_sealed_args(const char *instance_id, struct ct_error *err);
/* Every claim of a task (malloc'd array, caller frees). */
int claim_list(const char *task, struct instance_claim **out, size_t *count, struct ct_error *err);
/* Take `seen` over for owner until lease_until, only if it still has the owner
 * and lease it was read with; a queued build becomes running. 1 taken, 0 lost
 * the race (or the claim is gone), -1 failed. */
int claim_take(const struct instance_claim *seen, const char *owner, long long lease_until,
	       struct ct_error *err);
/* Extend every claim owner holds that is not queued (a queued one lives on
 * the API's lease until a taskmanager takes it). */
int claim_renew(const char *owner, long long lease_until, struct ct_error *err);
int claim_set_phase(const char *instance_id, const char *task, const char *phase,
		    struct ct_error *err);
/* Drop one claim; 0 also when there is none. */
int claim_release(const char *instance_id, const char *task, struct ct_error *err);
/* Drop every claim of the instance (it is deleted). */
int claim_forget_instance(const char *instance_id, struct ct_error *err);

#endif
