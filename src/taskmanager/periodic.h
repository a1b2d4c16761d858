/*
 * periodic.h — the taskmanager's background loops (backup and archive
 * sweepers, the schedule runner, the failover detector, certificate renewal):
 * one thread per loop that runs a function, waits an interval, and wakes at
 * once when stopped. Owns only that thread and its wake-up; what runs, and any
 * state it keeps, is the caller's.
 */
#ifndef CT_TASKMANAGER_PERIODIC_H
#define CT_TASKMANAGER_PERIODIC_H

#include <pthread.h>
#include <stdbool.h>

#include "common/error.h"

struct periodic {
	const char *what;	   /* for the log: "the failover detector" */
	void (*run)(void);	   /* one round; logs its own failures */
	long (*interval_ms)(void); /* read before each wait, so it follows the config */
	bool wait_first;	   /* wait one interval before the first round */
	/* The loop's own; PERIODIC() sets them up. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stopping;
};

#define PERIODIC(what_, run_, interval_ms_, wait_first_)                                           \
	{                                                                                          \
		.what = (what_), .run = (run_), .interval_ms = (interval_ms_),                     \
		.wait_first = (wait_first_), .lock = PTHREAD_MUTEX_INITIALIZER,                    \
		.wake = PTHREAD_COND_INITIALIZER                                                   \
	}

/* Start the loop's thread; 0 also when it already runs, 500 when no thread
 * can be made (logged too, for callers that cannot fail). */
int periodic_start(struct periodic *p, struct ct_error *err);
/* Stop it and wait for a round in progress to end; nothing when not running. */
void periodic_stop(struct periodic *p);

#endif
