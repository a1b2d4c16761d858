/*
 * instance_status.c — see instance_status.h. The tables mirror
 * trove/instance/tasks.py and service_status.py; the rules are evaluated in
 * Trove's order, first match wins.
 */
#include "api/instance_status.h"

#include <stddef.h>
#include <string.h>

struct task {
	int id;
	const char *action;
	bool error;
};

static const struct task tasks[] = {
	{1, "NONE", false},
	{2, "DELETING", false},
	{3, "REBOOTING", false},
	{4, "RESIZING", false},
	{5, "BUILDING", false},
	{6, "MIGRATING", false},
	{7, "RESTART_REQUIRED", false},
	{8, "PROMOTING", false},
	{9, "EJECTING", false},
	{10, "LOGGING", false},
	{11, "DETACHING", false},
	{12, "UPDATING", false},
	{80, "BUILDING", true},
	{81, "BUILDING", true},
	{82, "BUILDING", true},
	{83, "BUILDING", true},
	{84, "BUILDING", true},
	{85, "PROMOTING", true},
	{86, "EJECTING", true},
	{87, "GROWING", true},
	{88, "SHRINKING", true},
	{89, "UPGRADING", false},
	{90, "UPGRADING", true},
	{91, "ERROR", true},
	{92, "BUILDING", true},
	{93, "UPDATING", true},
};

static const struct task *find_task(int id)
{
	for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
		if (tasks[i].id == id)
			return &tasks[i];
	return NULL;
}

const char *instance_task_action(int task_id)
{
	const struct task *t = find_task(task_id);
	return t ? t->action : NULL;
}

static bool server_is(const struct instance_state *s, const char *status)
{
	return s->server_status && !strcmp(s->server_status, status);
}

const char *instance_status(const struct instance_state *s)
{
	const struct task *t = find_task(s->task_id);
	const char *action = t ? t->action : "NONE";
	if (t && t->error)
		return "ERROR";
	if (!strcmp(action, "BUILDING"))
		return server_is(s, "ERROR") ? "ERROR" : "BUILD";
	static const struct {
		const char *action, *status;
	} direct[] = {{"REBOOTING", "REBOOT"},	{"RESIZING", "RESIZE"},
		      {"UPGRADING", "UPGRADE"}, {"RESTART_REQUIRED", "RESTART_REQUIRED"},
		      {"PROMOTING", "PROMOTE"}, {"EJECTING", "EJECT"},
		      {"LOGGING", "LOGGING"},	{"DETACHING", "DETACH"}};
	for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++)
		if (!strcmp(action, direct[i].action))
			return direct[i].status;
	if (!strcmp(action, "DELETING"))
		return server_is(s, "ACTIVE") || server_is(s, "SHUTDOWN") || server_is(s, "DELETED")
			       ? "SHUTDOWN"
			       : "ERROR";
	if (s->backup_running)
		return "BACKUP";
	static const char *const passthrough[] = {"BUILD",  "ERROR",  "REBOOT",
						  "RESIZE", "ACTIVE", "SHUTDOWN"};
	for (size_t i = 0; i < sizeof passthrough / sizeof passthrough[0]; i++)
		if (server_is(s, passthrough[i]))
			return passthrough[i];
	if (server_is(s, "VERIFY_RESIZE"))
		return "RESIZE";
	return "UNKNOWN";
}

static const char *service_api_status(int id)
{
	switch (id) {
	case 0x01: return "ACTIVE";
	case 0x02: return "BLOCKED";
	case 0x03:
	case 0x04:
	case 0x06: return "SHUTDOWN";
	case 0x05: return "DELETED";
	case 0x08: return "FAILED";
	case 0x09:
	case 0x19: return "BUILD";
	case 0x10: return "PROMOTE";
	case 0x11: return "EJECT";
	case 0x12: return "LOGGING";
	case 0x17: return "NEW";
	case 0x20: return "RESTART_REQUIRED";
	case 0x21: return "HEALTHY";
	case 0x22: return "RESTARTING";
	case 0x23: return "UPGRADING";
	default: return "ERROR"; /* 0x16 unknown, 0x18 guestagent error */
	}
}

const char *instance_operating_status(const struct instance_state *s)
{
	if (s->task_id != 1 || !server_is(s, "ACTIVE"))
		return "";
	if (s->heartbeat_expired && s->service_status_id != 0x20)
		return "ERROR";
	return service_api_status(s->service_status_id);
}
