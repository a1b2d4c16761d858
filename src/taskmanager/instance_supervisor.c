/*
 * instance_supervisor.c — see instance_supervisor.h. Only instances with no
 * task and server status ACTIVE are supervised: a build, delete, resize,
 * promotion or failover stops and starts agents itself, and a fenced instance
 * must stay down (the driver refuses it with 409). No status changes here: the
 * restarted agent's heartbeats say how the instance is.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/instance_supervisor.h"

#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/driver.h"
#include "db/instances.h"
#include "taskmanager/periodic.h"
#include "taskmanager/replication_tasks.h"

/* 1 when the agent was started again, 0 when nothing was to do, -1 failed. */
static int supervise(const struct compute_driver *driver, const char *id, struct ct_error *err)
{
	if (driver->agent_alive(id))
		return 0;
	/* Read again: a task may have begun since the list was read. */
	struct instance in;
	if (instance_load(id, NULL, &in, err))
		return err->status == 404 ? 0 : -1;
	if (in.task_id != TASK_NONE || strcmp(in.server_status, "ACTIVE"))
		return 0;
	/* The rules first, so that the database never listens unfiltered. */
	json_t *access = json_loads(in.access, 0, NULL);
	int rc = replication_apply_access(id, json_object_get(access, "allowed_cidrs"), err);
	json_decref(access);
	if (rc || driver->ensure_running(id, err))
		return err->status == 409 ? 0 : -1;
	return 1;
}

int instance_supervisor_round(void)
{
	struct ct_error err = {0};
	const struct compute_driver *driver = compute_driver_current(&err);
	char(*ids)[37] = NULL;
	size_t n = 0;
	if (!driver || instance_ids_in_task(TASK_NONE, &ids, &n, &err)) {
		log_warning("cannot check the guest agents: %s", err.message);
		return 0;
	}
	int started = 0;
	for (size_t i = 0; i < n; i++) {
		struct ct_error one = {0};
		log_set_context(NULL, ids[i]);
		int rc = supervise(driver, ids[i], &one);
		if (rc > 0) {
			log_warning("the guest agent was not running: started it again");
			started++;
		} else if (rc < 0) {
			log_error("cannot start the guest agent again: %s", one.message);
		}
		log_clear_context();
	}
	free(ids);
	return started;
}

static void round_in_loop(void)
{
	(void)instance_supervisor_round();
}

static long check_interval_ms(void)
{
	long seconds = cfg_int(CFG_GUEST_AGENT_CHECK_INTERVAL);
	/* 0: only the round at start; the loop then sleeps as long as it can. */
	return seconds > 0 ? 1000 * seconds : 1000L * 86400 * 365;
}

static struct periodic supervisor =
	PERIODIC("the guest agent supervisor", round_in_loop, check_interval_ms, false);

int instance_supervisor_start(struct ct_error *err)
{
	return periodic_start(&supervisor, err);
}

void instance_supervisor_stop(void)
{
	periodic_stop(&supervisor);
}
