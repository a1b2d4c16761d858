/*
 * wait_pool.c — see wait_pool.h.
 */
#define LOG_MODULE "api"
#include "api/wait_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/request_metrics.h"
#include "common/log.h"

/* How many threads a key holds now; a slot is free when count is 0. There are
 * never more keys running than threads. */
struct running_key {
	char key[WAIT_SHARE_KEY_MAX];
	int count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct wait_job *head, *tail;
static bool running;
static pthread_t *threads;
static struct running_key *keys;
static int nthreads, nkeys, share;

static struct running_key *key_slot(const char *key, bool claim)
{
	struct running_key *free_slot = NULL;
	for (int i = 0; i < nkeys; i++) {
		if (keys[i].count && !strcmp(keys[i].key, key))
			return &keys[i];
		if (!keys[i].count && !free_slot)
			free_slot = &keys[i];
	}
	if (claim && free_slot)
		snprintf(free_slot->key, sizeof free_slot->key, "%s", key);
	return claim ? free_slot : NULL;
}

/* The first queued job whose key is under its share (any job once stopping),
 * unlinked; NULL when none may run now. Called with the lock held. */
static struct wait_job *take_runnable(void)
{
	struct wait_job **link = &head, *prev = NULL;
	for (struct wait_job *job = head; job; prev = job, link = &job->next, job = job->next) {
		const struct running_key *k = key_slot(job->share_key, false);
		if (running && k && k->count >= share)
			continue;
		*link = job->next;
		if (tail == job)
			tail = prev;
		api_metrics_wait_queue_add(-1);
		return job;
	}
	return NULL;
}

static void *worker(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct wait_job *job = take_runnable();
		if (!job) {
			if (!running && !head)
				break; /* stopping, and the queue is empty */
			pthread_cond_wait(&wake, &lock);
			continue;
		}
		struct running_key *k = key_slot(job->share_key, true);
		k->count++;
		pthread_mutex_unlock(&lock);
		job->run(job); /* may free job: only k is used after this */
		pthread_mutex_lock(&lock);
		k->count--;
		/* A job held back by its key's share may run now. */
		pthread_cond_broadcast(&wake);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int wait_pool_start(int count, int per_key, struct ct_error *err)
{
	threads = calloc((size_t)count, sizeof *threads);
	keys = calloc((size_t)count, sizeof *keys);
	if (!threads || !keys) {
		free(threads);
		free(keys);
		threads = NULL;
		keys = NULL;
		return ct_fail(err, 500, "out of memory");
	}
	nkeys = count;
	share = per_key > 0 ? per_key : count / 2;
	if (share < 1)
		share = 1;
	if (share > count)
		share = count;
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
		api_metrics_wait_queue_add(1);
		/* Every worker re-checks: the one that wakes may not be allowed it. */
		pthread_cond_broadcast(&wake);
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
	free(keys);
	threads = NULL;
	keys = NULL;
	nthreads = 0;
	nkeys = 0;
}
