/*
 * failover.c — see failover.h. The order of a failover is the point:
 * claim (exactly once), fence (the old source can take no write), eject
 * (a replica becomes source), then the bookkeeping. A failure at any step
 * stops there with a fault on the old source: a source that could not be
 * fenced is never replaced, since two writable sources lose data.
 */
#define LOG_MODULE "failover"
#include "taskmanager/failover.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/driver.h"
#include "db/failover.h"
#include "db/instances.h"
#include "guest/api.h"
#include "taskmanager/periodic.h"
#include "taskmanager/replication_tasks.h"
#include "taskmanager/task_threads.h"

static double monotonic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int failover_apply_synchronous(const char *source_id, struct ct_error *err)
{
	struct failover_settings s;
	int found = failover_settings_get(source_id, &s, err);
	if (found <= 0)
		return found;
	long replicas;
	if (failover_replica_count(source_id, &replicas, err))
		return -1;
	struct instance in;
	if (instance_load(source_id, NULL, &in, err))
		return -1;
	bool enabled = s.synchronous && replicas > 0;
	const struct guest_ref guest = {in.id, in.encrypted_key};
	if (guest_set_synchronous_replication(&guest, enabled, err))
		return -1;
	log_info("synchronous replication %s (%ld replica(s))", enabled ? "on" : "off", replicas);
	return 0;
}

void failover_after_topology_change(const char *old_source, const char *new_source)
{
	struct ct_error err = {0};
	if (strcmp(old_source, new_source) && failover_settings_move(old_source, new_source, &err))
		log_error("cannot move the failover settings to %s: %s", new_source, err.message);
	else if (failover_apply_synchronous(new_source, &err))
		log_error("cannot apply synchronous replication on %s: %s", new_source,
			  err.message);
}

static void run_apply_settings(const char *id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0}, ignored;
	if (failover_apply_synchronous(id, &err)) {
		log_error("cannot apply the failover settings: %s", err.message);
		instance_add_fault(id, err.message, "", &ignored);
	}
}

int tasks_apply_failover_settings(const char *instance_id, struct ct_error *err)
{
	return task_threads_submit(run_apply_settings, instance_id, NULL, err);
}

static void fail_claimed(const char *id, const char *step, const struct ct_error *e)
{
	struct ct_error ignored;
	char outcome[1200];
	snprintf(outcome, sizeof outcome, "%s failed: %s", step, e->message);
	log_error("failover of %s stopped: %s", id, outcome);
	instance_add_fault(id, outcome, "", &ignored);
	instance_set_server_status(id, "ERROR", &ignored);
	failover_claim_finish(id, NULL, outcome, &ignored);
}

static void run_failover(const char *id, const json_t *args)
{
	(void)args;
	struct ct_error err = {0}, ignored;
	double started = monotonic_now();
	const struct compute_driver *driver = compute_driver_current(&err);
	if (!driver || compute_fence(driver, id, &err)) {
		fail_claimed(id, "Fencing", &err);
		return;
	}
	log_warning("source fenced after %.2f s; ejecting it", monotonic_now() - started);
	char new_id[37] = "";
	if (replication_eject(id, true, new_id, &err)) {
		fail_claimed(id, "Ejecting the source", &err);
		return;
	}
	char fault[128];
	snprintf(fault, sizeof fault, "Failed over to %s.", new_id);
	instance_set_server_status(id, "ERROR", &ignored);
	instance_add_fault(id, fault, "", &ignored);
	failover_after_topology_change(id, new_id);
	failover_claim_finish(id, new_id, "failed over", &ignored);
	log_warning("failed over to %s in %.2f s", new_id, monotonic_now() - started);
}

/* When each source was first seen reporting its server down (this process's
 * memory: the rows say only the last status). */
struct down_since {
	char id[37];
	double since;
};

static struct down_since *downs;
static size_t n_downs;
static double detector_started;

static bool server_down(int status)
{
	return status == SERVICE_SHUTDOWN || status == SERVICE_CRASHED || status == SERVICE_FAILED;
}

/* Seconds the source has been reported down; remembers it as down from now
 * on first sight. */
static double down_for(const char *id, double now)
{
	for (size_t i = 0; i < n_downs; i++)
		if (!strcmp(downs[i].id, id))
			return now - downs[i].since;
	struct down_since *grown = realloc(downs, (n_downs + 1) * sizeof *downs);
	if (!grown)
		return 0;
	downs = grown;
	snprintf(downs[n_downs].id, sizeof downs[n_downs].id, "%s", id);
	downs[n_downs++].since = now;
	return 0;
}

static void forget_up(const struct failover_candidate *c, size_t count)
{
	size_t kept = 0;
	for (size_t i = 0; i < n_downs; i++) {
		bool still_down = false;
		for (size_t j = 0; j < count && !still_down; j++)
			still_down =
				!strcmp(c[j].id, downs[i].id) && server_down(c[j].service_status);
		if (still_down)
			downs[kept++] = downs[i];
	}
	n_downs = kept;
}

/* How long a source may be silent: failover_timeout, but never less than
 * two of the guests' heartbeat intervals, or a healthy source whose next
 * heartbeat is a little late under load would be failed over. */
static long silence_allowed(void)
{
	long timeout = cfg_int(CFG_FAILOVER_TIMEOUT);
	long two_beats = 2 * cfg_int(CFG_LOCAL_GUEST_REPORT_INTERVAL);
	if (timeout < 1)
		timeout = 1;
	return timeout > two_beats ? timeout : two_beats;
}

int failover_detect_once(struct ct_error *err)
{
	long timeout = cfg_int(CFG_FAILOVER_TIMEOUT);
	if (timeout < 1)
		timeout = 1;
	long silence = silence_allowed();
	struct failover_candidate *c = NULL;
	size_t count = 0;
	if (failover_candidates((double)silence, &c, &count, err))
		return -1;
	double now = monotonic_now();
	if (detector_started == 0)
		detector_started = now;
	/* Heartbeats missed while no taskmanager ran say nothing about the
	 * source: judge silence only over time this process has watched. */
	bool watched_long_enough = now - detector_started > (double)silence;
	char me[300];
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	snprintf(me, sizeof me, "%s:%ld", host, (long)getpid());
	int started = 0;
	for (size_t i = 0; i < count; i++) {
		bool silent = watched_long_enough && c[i].heartbeat_age > (double)silence;
		bool down = server_down(c[i].service_status) &&
			    down_for(c[i].id, now) > (double)timeout;
		if (!silent && !down)
			continue;
		int claimed = failover_claim(c[i].id, me, err);
		if (claimed < 0) {
			free(c);
			return -1;
		}
		if (!claimed) {
			log_info("source %s: failover claimed by another process", c[i].id);
			continue;
		}
		log_warning("source %s: %s for more than %ld s: failing over", c[i].id,
			    silent ? "no heartbeat" : "server down", silent ? silence : timeout);
		if (task_threads_submit(run_failover, c[i].id, NULL, err)) {
			fail_claimed(c[i].id, "Starting the failover", err);
			continue;
		}
		started++;
	}
	forget_up(c, count);
	free(c);
	return started;
}

static void detect(void)
{
	struct ct_error err = {0};
	if (failover_detect_once(&err) < 0)
		log_error("failover check failed: %s", err.message);
}

/* Twice a second: detection is most of a failover's time. */
static long twice_a_second(void)
{
	return 500;
}

static struct periodic detector = PERIODIC("the failover detector", detect, twice_a_second, true);

int failover_detector_start(struct ct_error *err)
{
	if (silence_allowed() > cfg_int(CFG_FAILOVER_TIMEOUT))
		log_info("failover: a source is failed over after %ld s without a heartbeat (two "
			 "[local] guest_report_interval; failover_timeout is %ld)",
			 silence_allowed(), cfg_int(CFG_FAILOVER_TIMEOUT));
	detector_started = 0;
	return periodic_start(&detector, err);
}

void failover_detector_stop(void)
{
	periodic_stop(&detector);
	free(downs);
	downs = NULL;
	n_downs = 0;
}
