/*
 * thread_client.c — see thread_client.h.
 */
#include "rpc/thread_client.h"

#include <pthread.h>
#include <stdlib.h>

struct client_entry {
	struct rpc_client *client;
	struct client_entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct client_entry *all;
static unsigned long generation = 1;
static _Thread_local struct rpc_client *mine;
static _Thread_local unsigned long my_generation;

struct rpc_client *rpc_thread_client(struct ct_error *err)
{
	if (mine && my_generation == generation)
		return mine;
	struct client_entry *e = calloc(1, sizeof *e);
	if (!e) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	e->client = rpc_client_new(NULL, NULL, err);
	if (!e->client) {
		free(e);
		return NULL;
	}
	pthread_mutex_lock(&lock);
	e->next = all;
	all = e;
	my_generation = generation;
	pthread_mutex_unlock(&lock);
	mine = e->client;
	return mine;
}

void rpc_thread_client_release(void)
{
	struct client_entry *found = NULL;
	pthread_mutex_lock(&lock);
	if (mine && my_generation == generation)
		for (struct client_entry **p = &all; *p; p = &(*p)->next)
			if ((*p)->client == mine) {
				found = *p;
				*p = found->next;
				break;
			}
	pthread_mutex_unlock(&lock);
	mine = NULL;
	if (found) {
		rpc_client_free(found->client); /* its connection closes outside the lock */
		free(found);
	}
}

void rpc_thread_clients_free(void)
{
	pthread_mutex_lock(&lock);
	while (all) {
		struct client_entry *next = all->next;
		rpc_client_free(all->client);
		free(all);
		all = next;
	}
	generation++;
	pthread_mutex_unlock(&lock);
	mine = NULL;
}
