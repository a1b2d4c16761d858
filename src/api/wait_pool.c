/*
 * wait_pool.c — see wait_pool.h.
 */
#define LOG_MODULE "api"
#include "api/wait_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct wait_job *head, *tail;
static bool running;
static pthread_t *threads;
static int nthreads;

static void *worker(void *unused)
{
	(void)unused;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (!head && running)
			pthread_cond_wait(&wake, &lock);
		struct wait_job *job = head;
		if (job) {
			head = job->next;
			if (!head)
				tail = NULL;
		}
		pthread_mutex_unlock(&lock);
		if (!job)
			return NULL; /* stopping, and the queue is empty */
		job->run(job);
	}
}

int wait_pool_start(int count, struct ct_error *err)
{
	threads = calloc((size_t)count, sizeof *threads);
	if (!threads)
		return ct_fail(err, 500, "out of memory");
	running = true;
	for (nthreads = 0; nthreads < count; nthreads++) {
		int e = pthread_create(&threads[nthreads], NULL, worker, NULL);
		if (e) {
			wait_pool_stop();
			return ct_fail(err, 500, "cannot start the guest-call threads: %s",
				       strerror(e));
		}
	}
	return 0;
}

bool wait_pool_submit(struct wait_job *job)
{
	pthread_mutex_lock(&lock);
	bool queued = running;
	if (queued) {
		job->next = NULL;
		if (tail)
			tail->next = job;
		else
			head = job;
		tail = job;
		pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
	return queued;
}

void wait_pool_stop(void)
{
	pthread_mutex_lock(&lock);
	running = false;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	nthreads = 0;
}
