/*
 * periodic.c — see periodic.h. The wait is on a condition variable, not a
 * sleep, so stopping the taskmanager never waits out an interval.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/periodic.h"

#include <time.h>

#include "common/log.h"

static void wait_interval(struct periodic *p)
{
	long ms = p->interval_ms();
	if (ms < 1)
		ms = 1;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!p->stopping && pthread_cond_timedwait(&p->wake, &p->lock, &until) == 0)
		;
}

static void *loop(void *arg)
{
	struct periodic *p = arg;
	log_set_context(NULL, NULL);
	pthread_mutex_lock(&p->lock);
	if (p->wait_first)
		wait_interval(p);
	while (!p->stopping) {
		pthread_mutex_unlock(&p->lock);
		p->run();
		pthread_mutex_lock(&p->lock);
		wait_interval(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int periodic_start(struct periodic *p, struct ct_error *err)
{
	pthread_mutex_lock(&p->lock);
	int rc = 0;
	p->stopping = false;
	if (!p->running) {
		if (pthread_create(&p->thread, NULL, loop, p) == 0) {
			p->running = true;
		} else {
			rc = ct_fail(err, 500, "cannot start the thread of %s", p->what);
			log_error("%s", err->message);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void periodic_stop(struct periodic *p)
{
	pthread_mutex_lock(&p->lock);
	bool running = p->running;
	p->stopping = true;
	p->running = false;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (running)
		pthread_join(p->thread, NULL);
}
