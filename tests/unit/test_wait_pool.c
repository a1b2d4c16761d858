/*
 * test_wait_pool.c — api/wait_pool.h with real threads: one key never holds
 * more than its share of the threads, a job of another key runs while the
 * first key's jobs are blocked and queued, held-back jobs run once a slot
 * frees, and stopping runs every queued job.
 */
#include "testutil.h"

#include <pthread.h>
#include <time.h>

#include "api/wait_pool.h"

struct blocking_job {
	struct wait_job job;
	bool ran;
};

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static bool released;
static int running_a, most_running_a, finished;

static void run_blocking(struct wait_job *job)
{
	struct blocking_job *b = (struct blocking_job *)job;
	bool is_a = !strcmp(job->share_key, "project-a");
	pthread_mutex_lock(&m);
	if (is_a) {
		running_a++;
		if (running_a > most_running_a)
			most_running_a = running_a;
		pthread_cond_broadcast(&changed);
		while (!released)
			pthread_cond_wait(&changed, &m);
		running_a--;
	}
	b->ran = true;
	finished++;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&m);
}

/* Wait up to 5 s for pred; true when it came. */
static bool wait_for(bool (*pred)(void))
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&m);
	bool ok;
	while (!(ok = pred()) && pthread_cond_timedwait(&changed, &m, &until) == 0)
		;
	ok = ok || pred();
	pthread_mutex_unlock(&m);
	return ok;
}

static struct blocking_job jobs_a[10], job_b;

static bool two_a_running(void)
{
	return running_a == 2;
}
static bool b_ran(void)
{
	return job_b.ran;
}
static bool all_finished(void)
{
	return finished == 11;
}

static void reset(void)
{
	released = false;
	running_a = most_running_a = finished = 0;
	memset(jobs_a, 0, sizeof jobs_a);
	memset(&job_b, 0, sizeof job_b);
	for (int i = 0; i < 10; i++) {
		jobs_a[i].job.run = run_blocking;
		snprintf(jobs_a[i].job.share_key, sizeof jobs_a[i].job.share_key, "project-a");
	}
	job_b.job.run = run_blocking;
	snprintf(job_b.job.share_key, sizeof job_b.job.share_key, "project-b");
}

/* Ten jobs of project a on a pool of four threads with per-key share `share`,
 * then one of project b: a's run two at a time, b's runs beside them. Returns
 * with m held and a's jobs still blocked (release_all lets them go). */
static void ten_of_a_then_one_of_b(int share)
{
	reset();
	struct ct_error err = {0};
	assert_int_equal(wait_pool_start(4, share, &err), 0);
	for (int i = 0; i < 10; i++)
		assert_true(wait_pool_submit(&jobs_a[i].job));
	assert_true(wait_for(two_a_running));
	/* Project a's eight other jobs stay queued behind its share; b's runs. */
	assert_true(wait_pool_submit(&job_b.job));
	assert_true(wait_for(b_ran));
	pthread_mutex_lock(&m);
	assert_int_equal(most_running_a, 2);
}

static void release_all(void)
{
	released = true;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&m);
}

static void test_one_key_keeps_to_its_share(void **state)
{
	(void)state;
	ten_of_a_then_one_of_b(2);
	assert_int_equal(finished, 1);
	release_all();
	assert_true(wait_for(all_finished));
	assert_int_equal(most_running_a, 2);
	wait_pool_stop();
}

static void test_default_share_is_half_the_pool(void **state)
{
	(void)state;
	ten_of_a_then_one_of_b(0);
	release_all();
	wait_pool_stop(); /* runs what is still queued (shares off), then joins */
	assert_int_equal(finished, 11);
	for (int i = 0; i < 10; i++)
		assert_true(jobs_a[i].ran);
}

static void test_a_stopped_pool_refuses_jobs(void **state)
{
	(void)state;
	reset();
	struct ct_error err = {0};
	assert_int_equal(wait_pool_start(1, 1, &err), 0);
	wait_pool_stop();
	assert_false(wait_pool_submit(&job_b.job));
	assert_false(job_b.ran);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_key_keeps_to_its_share),
		cmocka_unit_test(test_default_share_is_half_the_pool),
		cmocka_unit_test(test_a_stopped_pool_refuses_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
