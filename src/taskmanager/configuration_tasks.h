/*
 * configuration_tasks.h — the taskmanager's side of configuration groups:
 * bringing one instance in line with the group attached to it (or with none)
 * after an attach, a detach or a change of the group (trove-guest.md §6.2).
 * Owns the workflow; may not decide which instances a change concerns (the
 * API casts once per instance).
 */
#ifndef CT_TASKMANAGER_CONFIGURATION_TASKS_H
#define CT_TASKMANAGER_CONFIGURATION_TASKS_H

#include <jansson.h>

#include "common/error.h"

/* ctrove's cast apply_configuration {instance_id, changed: [names]}: write
 * the instance's override file from the group it has now, set the changed
 * names the server can change live, and leave the task RESTART_REQUIRED when
 * a changed name needs a restart. A failure is the instance's fault only. */
int tasks_apply_configuration(const json_t *args, struct ct_error *err);

#endif
