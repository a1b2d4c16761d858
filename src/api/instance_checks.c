/*
 * instance_checks.c — see instance_checks.h.
 */
#include "api/instance_checks.h"

#include <string.h>

#include "api/instance_status.h"
#include "db/backups.h"

enum { TASK_RESTART_REQUIRED = 7, SERVICE_BLOCKED = 0x02 };

static const char *rest_status(const struct instance *in)
{
	struct instance_state s = {.task_id = in->task_id,
				   .server_status = in->server_status,
				   .service_status_id = in->service_status};
	return instance_status(&s);
}

static int refuse(const struct instance *in, const char *kind, const char *status,
		  struct ct_error *err)
{
	return ct_fail(err, 422,
		       "Instance %s is not currently available for an action to be performed "
		       "(%s status was %s).",
		       in->id, kind, status);
}

int instance_check_can_act(const struct instance *in, struct ct_error *err)
{
	if (strcmp(in->server_status, "ACTIVE") && strcmp(in->server_status, "HEALTHY"))
		return refuse(in, "instance", rest_status(in), err);
	if (in->task_id != TASK_NONE && in->task_id != TASK_RESTART_REQUIRED)
		return refuse(in, "task", instance_task_action(in->task_id), err);
	static const int ok[] = {SERVICE_RUNNING, SERVICE_SHUTDOWN, SERVICE_CRASHED,
				 SERVICE_BLOCKED, SERVICE_HEALTHY,  SERVICE_RESTART_REQUIRED};
	bool usable = false;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		usable = usable || in->service_status == ok[i];
	if (!usable)
		return refuse(in, "instance", service_status_description(in->service_status), err);
	int running = backup_running_for(in->id, err);
	if (running < 0)
		return -1;
	return running ? refuse(in, "instance", "BACKUP", err) : 0;
}
