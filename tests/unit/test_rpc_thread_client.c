/*
 * test_rpc_thread_client.c — rpc/thread_client.h: a thread's RPC client (its
 * keeper thread, its broker connection) goes when the thread exits, not at
 * shutdown; rpc_thread_clients_free() after or before a thread's exit frees
 * each client once (ASan). No broker: a client connects on first use only.
 * Regression for the soak's finding: one client left per finished task thread.
 */
#include "testutil.h"

#include <dirent.h>
#include <pthread.h>

#include "common/config.h"
#include "rpc/thread_client.h"

static int live_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void *use_client(void *arg)
{
	struct ct_error err = {0};
	struct rpc_client *c = rpc_thread_client(&err);
	assert_non_null(c);
	assert_ptr_equal(rpc_thread_client(&err), c); /* one per thread */
	pthread_barrier_t *hold = arg;
	if (hold)
		pthread_barrier_wait(hold);
	return NULL;
}

static void test_client_goes_with_its_thread(void **state)
{
	(void)state;
	int before = live_threads();
	for (int round = 0; round < 3; round++) {
		pthread_t t[8];
		for (int i = 0; i < 8; i++)
			assert_int_equal(pthread_create(&t[i], NULL, use_client, NULL), 0);
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
		/* The clients' keeper threads were joined as their threads exited. */
		assert_int_equal(live_threads(), before);
	}
	rpc_thread_clients_free();
	assert_int_equal(live_threads(), before);
}

static void test_shutdown_before_the_thread_exits(void **state)
{
	(void)state;
	int before = live_threads();
	pthread_barrier_t made;
	pthread_barrier_init(&made, NULL, 2);
	struct ct_error err = {0};
	assert_non_null(rpc_thread_client(&err)); /* the main thread's, too */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, use_client, &made), 0);
	pthread_barrier_wait(&made); /* its client exists */
	rpc_thread_clients_free();   /* shutdown frees it first ... */
	pthread_join(t, NULL);	     /* ... and its exit does not free it again */
	assert_int_equal(live_threads(), before);
	pthread_barrier_destroy(&made);
}

int main(void)
{
	struct ct_error err = {0};
	/* A closed port: nothing here may reach a broker. */
	if (cfg_set(CFG_TRANSPORT_URL, "rabbit://guest:guest@127.0.0.1:9/", &err))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_goes_with_its_thread),
		cmocka_unit_test(test_shutdown_before_the_thread_exits),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	cfg_free();
	return rc;
}
