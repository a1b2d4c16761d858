/*
 * resize_tasks.h — the taskmanager's resize workflows (spec
 * trove-internals.md §4.7, §4.8): a volume grown under the running server,
 * and a new flavor (database stopped, machine resized, config rendered for
 * the new memory, database started once). Each runs on a task thread and ends
 * with the task NONE; a failure leaves the old size or flavor working, a fault
 * on the instance and the quota given back.
 */
#ifndef CT_TASKMANAGER_RESIZE_TASKS_H
#define CT_TASKMANAGER_RESIZE_TASKS_H

#include <jansson.h>

#include "common/error.h"

/* args: the resize_volume cast's arguments (new_size, instance_id). */
int tasks_resize_volume(const json_t *args, struct ct_error *err);
/* args: the resize_flavor cast's arguments (instance_id, old_flavor, new_flavor). */
int tasks_resize_flavor(const json_t *args, struct ct_error *err);
/* At start: resizes a previous taskmanager left running end with a fault. */
void tasks_resize_recover(void);

#endif
