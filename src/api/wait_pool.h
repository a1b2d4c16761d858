/*
 * wait_pool.h — the threads that serve requests which wait on a guest agent.
 *
 * A database, user or root call holds its thread for as long as the guest
 * takes to answer (up to GUEST_TIMEOUT_HIGH). Served by the HTTP threads, a
 * few calls to a hung guest would stall every other request; so the HTTP
 * front suspends such a connection and hands the request to this pool, and
 * the HTTP threads (one per CPU) stay free for everything else.
 *
 * Jobs carry a share key (the project in the URL): no key runs more than its
 * share of the threads at once, so one tenant's calls to its own hung guest
 * cannot hold every thread and delay another tenant's calls. Queued jobs run
 * in arrival order among those whose key is under its share.
 *
 * Owns its threads and the queue; a job belongs to its submitter, the pool
 * only runs it. May not know what a job does.
 */
#ifndef CT_API_WAIT_POOL_H
#define CT_API_WAIT_POOL_H

#include <stdbool.h>

#include "common/error.h"

#define WAIT_SHARE_KEY_MAX 65

struct wait_job {
	void (*run)(struct wait_job *job);
	char share_key[WAIT_SHARE_KEY_MAX]; /* "" is a key like any other */
	struct wait_job *next;		    /* the queue's link */
};

/* share: the most threads one key may hold at once (<= 0: half the pool, at
 * least one). */
int wait_pool_start(int threads, int share, struct ct_error *err);
/* Queue job; false when the pool is not running (stopped or stopping): the
 * caller then runs it itself. */
bool wait_pool_submit(struct wait_job *job);
/* Refuse new jobs, run every queued one (shares no longer apply), join the
 * threads. */
void wait_pool_stop(void);

#endif
