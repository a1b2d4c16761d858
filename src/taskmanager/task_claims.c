/*
 * task_claims.c — see task_claims.h. Liveness is the lease, plus /proc for
 * owners on this host: a control plane restarted after kill -9 resumes at
 * once instead of waiting out its predecessor's lease.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/task_claims.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "os/proc.h"
#include "rpc/crypto.h"
#include "taskmanager/periodic.h"
#include "taskmanager/tasks.h"

static pthread_once_t owner_once = PTHREAD_ONCE_INIT;
static char owner_name[256];
static char host_name[128];

static void make_owner(void)
{
	if (gethostname(host_name, sizeof host_name - 1))
		snprintf(host_name, sizeof host_name, "localhost");
	host_name[strcspn(host_name, "/")] = '\0';
	snprintf(owner_name, sizeof owner_name, "%s/%ld/%llu", host_name, (long)getpid(),
		 os_proc_self_start_time());
}

const char *task_claims_owner(void)
{
	pthread_once(&owner_once, make_owner);
	return owner_name;
}

long long task_claims_now(void)
{
	return (long long)time(NULL);
}

bool task_claims_owner_alive(const struct instance_claim *c, long long now)
{
	/* This process knows its own work runs, renewed or not (a database
	 * locked past the lease must not make it build twice); only a queued
	 * build whose cast never came lives on its lease. */
	const char *me = task_claims_owner();
	if (!strcmp(c->owner, me))
		return strcmp(c->phase, CLAIM_QUEUED) != 0 || c->lease_until >= now;
	if (c->lease_until < now)
		return false;
	char host[128];
	long pid;
	unsigned long long start;
	if (sscanf(c->owner, "%127[^/]/%ld/%llu", host, &pid, &start) != 3 ||
	    strcmp(host, host_name))
		return true; /* another host's: only its lease tells */
	struct os_proc_info info;
	return os_proc_info((pid_t)pid, &info) == 0 && info.state != 'Z' &&
	       info.start_time == start;
}

int task_claims_queue_build(const char *instance_id, const char *key, const json_t *args,
			    struct ct_error *err)
{
	char *sealed = rpc_crypto_encrypt_json(key, args, err);
	if (!sealed)
		return -1;
	long long now = task_claims_now();
	struct instance_claim c = {.lease_until = now + TASK_CLAIM_QUEUED_S, .started_at = now};
	snprintf(c.instance_id, sizeof c.instance_id, "%s", instance_id);
	snprintf(c.task, sizeof c.task, "%s", CLAIM_BUILD);
	snprintf(c.owner, sizeof c.owner, "%s", task_claims_owner());
	snprintf(c.phase, sizeof c.phase, "%s", CLAIM_QUEUED);
	int rc = claim_insert(&c, sealed, err);
	free(sealed);
	if (rc == 0)
		return ct_fail(err, 500, "instance %s has a build claim already", instance_id);
	return rc < 0 ? -1 : 0;
}

int task_claims_take_queued_build(const char *instance_id)
{
	struct ct_error err = {0};
	struct instance_claim c;
	int found = claim_get(instance_id, CLAIM_BUILD, &c, &err);
	if (found < 0) {
		log_error("cannot read the build's claim: %s", err.message);
		return 0;
	}
	if (!found)
		return 1;
	if (strcmp(c.phase, CLAIM_QUEUED)) {
		log_info("the build is already taken by %s", c.owner);
		return 0;
	}
	int taken =
		claim_take(&c, task_claims_owner(), task_claims_now() + TASK_CLAIM_LEASE_S, &err);
	if (taken < 0)
		log_error("cannot take the build: %s", err.message);
	else if (!taken)
		log_info("another taskmanager took the build");
	return taken > 0;
}

int task_claims_take_delete(const char *instance_id)
{
	struct ct_error err = {0};
	long long now = task_claims_now();
	struct instance_claim c = {.lease_until = now + TASK_CLAIM_LEASE_S, .started_at = now};
	snprintf(c.instance_id, sizeof c.instance_id, "%s", instance_id);
	snprintf(c.task, sizeof c.task, "%s", CLAIM_DELETE);
	snprintf(c.owner, sizeof c.owner, "%s", task_claims_owner());
	snprintf(c.phase, sizeof c.phase, "%s", CLAIM_RUNNING);
	int inserted = claim_insert(&c, NULL, &err);
	if (inserted < 0)
		log_error("cannot claim the delete: %s", err.message);
	if (inserted)
		return inserted > 0;
	struct instance_claim seen;
	int found = claim_get(instance_id, CLAIM_DELETE, &seen, &err);
	if (found <= 0)
		return 0;
	if (task_claims_owner_alive(&seen, now)) {
		log_info("the delete is already running on %s", seen.owner);
		return 0;
	}
	return claim_take(&seen, task_claims_owner(), now + TASK_CLAIM_LEASE_S, &err) > 0;
}

/* Builds and deletes whose owner died: taken here, carried on by tasks.c. */
static void resume_orphans(const char *task, long long now)
{
	struct ct_error err = {0};
	struct instance_claim *claims = NULL;
	size_t n = 0;
	if (claim_list(task, &claims, &n, &err)) {
		log_error("cannot list %s claims: %s", task, err.message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct instance_claim *c = &claims[i];
		if (task_claims_owner_alive(c, now))
			continue;
		log_set_context(NULL, c->instance_id);
		if (!strcmp(task, CLAIM_DELETE)) {
			/* run_delete takes the claim itself. */
			log_warning("resuming the delete %s left", c->owner);
			if (tasks_delete_instance(c->instance_id, &err))
				log_error("cannot resume the delete: %s", err.message);
			continue;
		}
		int taken = claim_take(c, task_claims_owner(), now + TASK_CLAIM_LEASE_S, &err);
		if (taken < 0)
			log_error("cannot take the build over: %s", err.message);
		if (taken <= 0)
			continue;
		log_warning("resuming the build %s left (phase %s)", c->owner, c->phase);
		if (tasks_resume_build(c->instance_id, &err))
			log_error("cannot resume the build: %s", err.message);
	}
	log_clear_context();
	free(claims);
}

void task_claims_sweep(void)
{
	struct ct_error err = {0};
	long long now = task_claims_now();
	if (claim_renew(task_claims_owner(), now + TASK_CLAIM_LEASE_S, &err))
		log_error("cannot renew this taskmanager's claims: %s", err.message);
	resume_orphans(CLAIM_BUILD, now);
	resume_orphans(CLAIM_DELETE, now);
}

static long every_three_seconds(void)
{
	return 3000;
}

static struct periodic keeper =
	PERIODIC("the claims keeper", task_claims_sweep, every_three_seconds, true);

int task_claims_start(struct ct_error *err)
{
	return periodic_start(&keeper, err);
}

void task_claims_stop(void)
{
	periodic_stop(&keeper);
}
