/*
 * task_threads.h — the taskmanager's thread registry: each task runs on a
 * thread of its own, with the instance id in the log context; finished
 * threads are joined on the next submit, and all of them at shutdown.
 * Owns the threads and the copies of their arguments; knows nothing of what
 * a task does (the workflows are in tasks.c).
 */
#ifndef CT_TASKMANAGER_TASK_THREADS_H
#define CT_TASKMANAGER_TASK_THREADS_H

#include <jansson.h>

#include "common/error.h"

/* A task's body. args: the submitted arguments (a copy; NULL when none),
 * valid until it returns. */
typedef void task_run_fn(const char *instance_id, const json_t *args);

/* Start run on a new thread; args is borrowed and copied. */
int task_threads_submit(task_run_fn *run, const char *instance_id, const json_t *args,
			struct ct_error *err);
/* Wait for every task still running, then free them (at shutdown). */
void task_threads_join(void);

#endif
