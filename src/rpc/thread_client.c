/*
 * thread_client.c — see thread_client.h. A thread's client is released when
 * the thread exits (a pthread key's destructor): the taskmanager runs every
 * task on a thread of its own, and a client kept until shutdown held its
 * keeper thread, its broker connection and its reply queue for each finished
 * task (hundreds within minutes under `make soak`).
 */
#include "rpc/thread_client.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct client_entry {
	struct rpc_client *client;
	uintptr_t serial; /* never reused: what a thread's key holds */
	struct client_entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct client_entry *all;
static uintptr_t next_serial = 1;
static unsigned long generation = 1;
static _Thread_local struct rpc_client *mine;
static _Thread_local unsigned long my_generation;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* At thread exit: the thread's client, unless rpc_thread_clients_free()
 * already took it (its serial is then no longer listed). */
static void release_on_exit(void *value)
{
	uintptr_t serial = (uintptr_t)value;
	struct client_entry *found = NULL;
	pthread_mutex_lock(&lock);
	for (struct client_entry **p = &all; *p; p = &(*p)->next)
		if ((*p)->serial == serial) {
			found = *p;
			*p = found->next;
			break;
		}
	pthread_mutex_unlock(&lock);
	if (found) {
		rpc_client_free(found->client);
		free(found);
	}
	mine = NULL;
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, release_on_exit);
}

struct rpc_client *rpc_thread_client(struct ct_error *err)
{
	if (mine && my_generation == generation)
		return mine;
	pthread_once(&exit_key_once, make_exit_key);
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
	e->serial = next_serial++;
	e->next = all;
	all = e;
	my_generation = generation;
	pthread_mutex_unlock(&lock);
	pthread_setspecific(exit_key, (void *)e->serial);
	mine = e->client;
	return mine;
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
