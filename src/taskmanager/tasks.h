/*
 * tasks.h — the taskmanager's work on instances, through the configured
 * compute driver: build (create_instance), delete, restart and access update.
 * Each runs on a thread of its own (task_threads.h), records every step in
 * the instance row, and ends with the task back to NONE or in an error task
 * with a fault; a build never stays BUILD past usage_timeout. tasks_recover()
 * finishes or fails what a previous taskmanager left half done.
 */
#ifndef CT_TASKMANAGER_TASKS_H
#define CT_TASKMANAGER_TASKS_H

#include <jansson.h>

#include "common/error.h"

/* args: the create_instance cast's arguments (borrowed, copied). */
int tasks_create_instance(const json_t *args, struct ct_error *err);
int tasks_delete_instance(const char *instance_id, struct ct_error *err);
int tasks_restart(const char *instance_id, struct ct_error *err);
int tasks_update_access(const char *instance_id, const json_t *access, struct ct_error *err);
/* At start: builds that were interrupted go to ERROR, deletes are finished. */
void tasks_recover(void);
/* Wait for running tasks (at shutdown). */
void tasks_join(void);

#endif
