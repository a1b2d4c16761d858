/*
 * test_db_thread_conn.c — db/store.c's per-thread connections: a thread's
 * connection (its descriptors, statements and page cache) is closed when the
 * thread exits, not at db_shutdown(); db_shutdown() before a thread's exit
 * closes each connection once (ASan). Regression for the soak's finding: one
 * connection left open per finished taskmanager task thread.
 */
#include "scratch_db.h"

#include <dirent.h>
#include <pthread.h>

static char dir[64];

/* Descriptors of this process open on the scratch database's files. */
static int open_db_files(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char link[300], target[300];
		snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof target - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strstr(target, dir))
			n++;
	}
	closedir(d);
	return n;
}

static void *use_db(void *arg)
{
	struct ct_error err = {0};
	assert_non_null(db_stmt("SELECT 1", &err)); /* opens and caches */
	pthread_barrier_t *hold = arg;
	if (hold)
		pthread_barrier_wait(hold);
	return NULL;
}

static void test_connection_goes_with_its_thread(void **state)
{
	(void)state;
	scratch_db_create(dir, "dbconn");
	int before = open_db_files();
	for (int round = 0; round < 5; round++) {
		pthread_t t[8];
		for (int i = 0; i < 8; i++)
			assert_int_equal(pthread_create(&t[i], NULL, use_db, NULL), 0);
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
		/* 8 connections left open would hold 16 descriptors more each
		 * round. SQLite keeps the descriptor of a connection closed while
		 * another holds a lock, for reuse: a few, not a round's worth. */
		assert_in_range(open_db_files(), before, before + 8);
	}
	scratch_db_remove(dir);
}

static void test_shutdown_before_the_thread_exits(void **state)
{
	(void)state;
	scratch_db_create(dir, "dbconn");
	pthread_barrier_t made;
	pthread_barrier_init(&made, NULL, 2);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, use_db, &made), 0);
	pthread_barrier_wait(&made); /* its connection is open */
	db_shutdown();		     /* closes it first ... */
	pthread_join(t, NULL);	     /* ... and its exit does not close it again */
	assert_int_equal(open_db_files(), 0);
	pthread_barrier_destroy(&made);
	cfg_free();
	scratch_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connection_goes_with_its_thread),
		cmocka_unit_test(test_shutdown_before_the_thread_exits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
