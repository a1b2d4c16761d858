/*
 * task_threads.c — see task_threads.h. One thread per running task; the list
 * of threads is kept so shutdown can join them.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/task_threads.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

struct task {
	task_run_fn *run;
	char instance_id[37];
	char request_id[64]; /* the cast's, so a task's log lines and notifications name it */
	json_t *args;
	pthread_t thread;
	bool done;
	struct task *next;
};

static pthread_mutex_t tasks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct task *tasks;

static void *task_main(void *arg)
{
	struct task *t = arg;
	log_set_context(t->request_id[0] ? t->request_id : NULL, t->instance_id);
	t->run(t->instance_id, t->args);
	/* Its RPC client and database connection are released when the thread
	 * exits (rpc/thread_client.c, db/store.c). */
	pthread_mutex_lock(&tasks_lock);
	t->done = true;
	pthread_mutex_unlock(&tasks_lock);
	return NULL;
}

/* Join and free finished tasks; with `all`, wait for the running ones too. */
static void reap(bool all)
{
	pthread_mutex_lock(&tasks_lock);
	struct task **p = &tasks;
	while (*p) {
		struct task *t = *p;
		if (!t->done && !all) {
			p = &t->next;
			continue;
		}
		*p = t->next;
		pthread_mutex_unlock(&tasks_lock);
		pthread_join(t->thread, NULL);
		json_decref(t->args);
		free(t);
		pthread_mutex_lock(&tasks_lock);
		p = &tasks;
	}
	pthread_mutex_unlock(&tasks_lock);
}

int task_threads_submit(task_run_fn *run, const char *instance_id, const json_t *args,
			struct ct_error *err)
{
	reap(false);
	struct task *t = calloc(1, sizeof *t);
	if (!t)
		return ct_fail(err, 500, "out of memory");
	t->run = run;
	snprintf(t->instance_id, sizeof t->instance_id, "%s", instance_id);
	snprintf(t->request_id, sizeof t->request_id, "%s",
		 log_request_id() ? log_request_id() : "");
	t->args = args ? json_deep_copy(args) : NULL;
	pthread_mutex_lock(&tasks_lock);
	if (pthread_create(&t->thread, NULL, task_main, t)) {
		pthread_mutex_unlock(&tasks_lock);
		json_decref(t->args);
		free(t);
		return ct_fail(err, 500, "cannot start a task thread");
	}
	t->next = tasks;
	tasks = t;
	pthread_mutex_unlock(&tasks_lock);
	return 0;
}

void task_threads_join(void)
{
	reap(true);
}
