/*
 * test_task_claims.c — who may carry on an instance's build or delete
 * (db/instance_claims.c, taskmanager/task_claims.c) on a scratch database:
 * a claim is taken over only with the owner and lease it was seen with (two
 * takers: one wins), a queued build becomes running when taken, renewals skip
 * queued builds, and an owner is alive while its lease runs and, on this
 * host, while its process lives — a restarted process is a new owner; this
 * process's own running work stays its own past the lease.
 */
#include "scratch_db.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "db/instance_claims.h"
#include "taskmanager/task_claims.h"

#define ID "33333333-3333-4333-8333-333333333333"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_min_level = LOG_LEVEL_ERROR + 1;
	scratch_db_create(dir, "claims");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_db_remove(dir);
	return 0;
}

static struct instance_claim claim(const char *owner, long long lease, const char *phase)
{
	struct instance_claim c = {.lease_until = lease, .started_at = 1000};
	snprintf(c.instance_id, sizeof c.instance_id, "%s", ID);
	snprintf(c.task, sizeof c.task, "%s", CLAIM_BUILD);
	snprintf(c.owner, sizeof c.owner, "%s", owner);
	snprintf(c.phase, sizeof c.phase, "%s", phase);
	return c;
}

static void test_take_is_a_compare_and_swap(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct instance_claim c = claim("api/1/1", 5000, CLAIM_QUEUED);
	assert_int_equal(claim_insert(&c, "sealed", &err), 1);
	assert_int_equal(claim_insert(&c, "sealed", &err), 0); /* one per (instance, task) */
	assert_int_equal(claim_take(&c, "tm-a/2/2", 6000, &err), 1);
	/* The second taker saw the same row: it loses. */
	assert_int_equal(claim_take(&c, "tm-b/3/3", 6000, &err), 0);
	struct instance_claim now;
	assert_int_equal(claim_get(ID, CLAIM_BUILD, &now, &err), 1);
	assert_string_equal(now.owner, "tm-a/2/2");
	assert_string_equal(now.phase, CLAIM_RUNNING);
	assert_int_equal(now.lease_until, 6000);
	assert_int_equal(now.started_at, 1000); /* the build's time runs from its start */
	char *sealed = claim_sealed_args(ID, &err);
	assert_non_null(sealed);
	assert_string_equal(sealed, "sealed");
	free(sealed);
	/* A prepared build stays prepared when taken over. */
	assert_int_equal(claim_set_phase(ID, CLAIM_BUILD, CLAIM_PREPARED, &err), 0);
	assert_int_equal(claim_get(ID, CLAIM_BUILD, &now, &err), 1);
	assert_int_equal(claim_take(&now, "tm-b/3/3", 7000, &err), 1);
	assert_int_equal(claim_get(ID, CLAIM_BUILD, &now, &err), 1);
	assert_string_equal(now.phase, CLAIM_PREPARED);
	assert_int_equal(claim_forget_instance(ID, &err), 0);
	assert_int_equal(claim_get(ID, CLAIM_BUILD, &now, &err), 0);
	assert_null(claim_sealed_args(ID, &err));
	assert_int_equal(err.status, 404);
}

static void test_renew_skips_queued_builds(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct instance_claim c = claim("me/1/1", 100, CLAIM_QUEUED);
	assert_int_equal(claim_insert(&c, NULL, &err), 1);
	struct instance_claim d = c;
	snprintf(d.task, sizeof d.task, "%s", CLAIM_DELETE);
	snprintf(d.phase, sizeof d.phase, "%s", CLAIM_RUNNING);
	assert_int_equal(claim_insert(&d, NULL, &err), 1);
	assert_int_equal(claim_renew("me/1/1", 900, &err), 0);
	assert_string_equal(scratch_db_text("SELECT lease_until FROM ctrove_instance_claims"
					    " WHERE task = 'build'"),
			    "100");
	assert_string_equal(scratch_db_text("SELECT lease_until FROM ctrove_instance_claims"
					    " WHERE task = 'delete'"),
			    "900");
	struct instance_claim *list = NULL;
	size_t n = 0;
	assert_int_equal(claim_list(CLAIM_DELETE, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].owner, "me/1/1");
	free(list);
	assert_int_equal(claim_forget_instance(ID, &err), 0);
}

static void test_owner_alive(void **state)
{
	(void)state;
	long long now = task_claims_now();
	const char *me = task_claims_owner();
	struct instance_claim c = claim(me, now + 10, CLAIM_RUNNING);
	assert_true(task_claims_owner_alive(&c, now));
	/* Our own running work past its lease (renewals failed): still ours. */
	c.lease_until = now - 1;
	assert_true(task_claims_owner_alive(&c, now));
	/* Our own queued build whose cast never came: its lease decides. */
	c = claim(me, now + 10, CLAIM_QUEUED);
	assert_true(task_claims_owner_alive(&c, now));
	c.lease_until = now - 1;
	assert_false(task_claims_owner_alive(&c, now));

	/* A process of this host that has exited: dead at once, lease or not. */
	char host[128];
	snprintf(host, sizeof host, "%s", me);
	*strchr(host, '/') = '\0';
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	char owner[256];
	snprintf(owner, sizeof owner, "%s/%ld/1", host, (long)pid);
	c = claim(owner, now + 10, CLAIM_RUNNING);
	assert_false(task_claims_owner_alive(&c, now));
	/* This process under another start time: a pid used again, not the owner. */
	snprintf(owner, sizeof owner, "%s/%ld/1", host, (long)getpid());
	c = claim(owner, now + 10, CLAIM_RUNNING);
	assert_false(task_claims_owner_alive(&c, now));
	/* Another host's owner: alive while its lease runs. */
	c = claim("elsewhere.example/1/1", now + 10, CLAIM_RUNNING);
	assert_true(task_claims_owner_alive(&c, now));
	c.lease_until = now - 1;
	assert_false(task_claims_owner_alive(&c, now));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_is_a_compare_and_swap),
		cmocka_unit_test(test_renew_skips_queued_builds),
		cmocka_unit_test(test_owner_alive),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
