/*
 * test_db_failover.c — automatic failover's rows (db/failover.c) on a scratch
 * SQLite database: which sources the detector is shown, that a claim is won
 * exactly once by racing processes and by racing threads, and that settings
 * move to a new source. Rows are seeded and read back with plain SQL here,
 * never through the function under test.
 */
#include "scratch_db.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "db/failover.h"
#include "db/store.h"

#define SRC "11111111-1111-4111-8111-111111111111"
#define REP "22222222-2222-4222-8222-222222222222"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_min_level = LOG_LEVEL_ERROR;
	scratch_db_create(dir, "dbfailover");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scratch_db_remove(dir);
	return 0;
}

/* An instance (replica of `of` unless NULL) whose last heartbeat was `age`
 * seconds ago. */
static void seed(const char *id, const char *of, int age, int status)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "INSERT INTO instances (id, created, name, task_id, tenant_id, server_status,"
		 " deleted, slave_of_id, encrypted_key) VALUES ('%s', datetime('now'), 'n', 1,"
		 " 'p', 'ACTIVE', 0, %s%s%s, 'k-%s');"
		 "INSERT INTO service_statuses (id, instance_id, status_id, status_description,"
		 " updated_at) VALUES ('s-%s', '%s', %d, 'x', datetime('now', '-%d seconds'));",
		 id, of ? "'" : "", of ? of : "NULL", of ? "'" : "", id, id, id, status, age);
	scratch_db_exec(sql);
}

static void opt_in(const char *id, bool automatic, bool synchronous)
{
	struct ct_error err = {0};
	struct failover_settings s = {automatic, synchronous};
	assert_int_equal(failover_settings_set(id, &s, &err), 0);
}

static void test_candidates(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct failover_candidate *c = NULL;
	size_t n = 99;
	seed(SRC, NULL, 60, 0x01);
	seed(REP, SRC, 0, 0x01);
	/* not opted in: never shown */
	assert_int_equal(failover_candidates(5, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	opt_in(SRC, false, true);
	assert_int_equal(failover_candidates(5, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	opt_in(SRC, true, true);
	assert_int_equal(failover_candidates(5, &c, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].id, SRC);
	assert_string_equal(c[0].encrypted_key, "k-" SRC);
	assert_true(c[0].heartbeat_age >= 59 && c[0].heartbeat_age <= 62);
	assert_true(c[0].synchronous);
	free(c);
	c = NULL;
	/* RESTART_REQUIRED keeps updated_at still; the guest's `sent` says it lives */
	scratch_db_exec(
		"INSERT INTO conductor_lastseen (instance_id, method_name, sent) VALUES ('" SRC "',"
		" 'heartbeat', (julianday('now') - 2440587.5) * 86400.0 - 1.5)");
	assert_int_equal(failover_candidates(5, &c, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_true(c[0].heartbeat_age > 1.2 && c[0].heartbeat_age < 3);
	free(c);
	c = NULL;
	scratch_db_exec("DELETE FROM conductor_lastseen");
	/* every replica silent too: the control plane, not the source, is suspect */
	scratch_db_exec("UPDATE service_statuses SET updated_at = datetime('now', '-60 seconds')"
			" WHERE instance_id = '" REP "'");
	assert_int_equal(failover_candidates(5, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	scratch_db_exec(
		"UPDATE service_statuses SET updated_at = datetime('now') WHERE instance_id = '" REP
		"'");
	/* busy with a task: left alone */
	scratch_db_exec("UPDATE instances SET task_id = 3 WHERE id = '" SRC "'");
	assert_int_equal(failover_candidates(5, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	scratch_db_exec("UPDATE instances SET task_id = 1 WHERE id = '" SRC "'");
	/* claimed: shown no more */
	assert_int_equal(failover_claim(SRC, "me", &err), 1);
	assert_int_equal(failover_candidates(5, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	long replicas = 0;
	assert_int_equal(failover_replica_count(SRC, &replicas, &err), 0);
	assert_int_equal(replicas, 1);
	assert_int_equal(failover_is_replica(REP, &err), 1);
	assert_int_equal(failover_is_replica(SRC, &err), 0);
}

static void test_claim_refused_unless_opted_in_source(void **state)
{
	(void)state;
	struct ct_error err = {0};
	seed(SRC, NULL, 60, 0x01);
	seed(REP, SRC, 0, 0x01);
	assert_int_equal(failover_claim(SRC, "me", &err), 0); /* not opted in */
	opt_in(REP, true, false);
	assert_int_equal(failover_claim(REP, "me", &err), 0); /* a replica */
	assert_string_equal(scratch_db_text("SELECT COUNT(*) FROM ctrove_failover_claims"), "0");
	opt_in(SRC, true, false);
	assert_int_equal(failover_claim(SRC, "me", &err), 1);
	assert_int_equal(failover_claim(SRC, "me", &err), 0); /* exactly once, even for me */
	assert_int_equal(failover_claim_finish(SRC, REP, "failed over", &err), 0);
	char by[256], new_id[37];
	assert_int_equal(failover_claim_get(SRC, by, new_id, &err), 1);
	assert_string_equal(by, "me");
	assert_string_equal(new_id, REP);
	assert_string_equal(scratch_db_text("SELECT outcome FROM ctrove_failover_claims"),
			    "failed over");
	assert_int_equal(failover_claim_release(SRC, &err), 0);
	assert_int_equal(failover_claim_get(SRC, by, new_id, &err), 0);
}

/* Eight processes, each its own connection, claim the same source at once. */
static void test_claim_race_processes(void **state)
{
	(void)state;
	enum { RACERS = 8 };
	seed(SRC, NULL, 60, 0x01);
	seed(REP, SRC, 0, 0x01);
	opt_in(SRC, true, true);
	char url[128];
	snprintf(url, sizeof url, "sqlite:///%s/x.sqlite", dir);
	db_shutdown(); /* no connection crosses fork() */
	int fds[RACERS][2];
	pid_t pids[RACERS];
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct ct_error err = {0, ""};
			char me[16];
			snprintf(me, sizeof me, "racer-%d", i);
			int rc = db_configure(url, &err) ? -1 : failover_claim(SRC, me, &err);
			db_shutdown();
			char c = rc == 1 ? 'W' : rc == 0 ? 'L' : 'E';
			_exit(write(fds[i][1], &c, 1) == 1 ? 0 : 2);
		}
		close(fds[i][1]);
	}
	int winners = 0, losers = 0, winner = -1;
	for (int i = 0; i < RACERS; i++) {
		char c = '?';
		assert_int_equal(read(fds[i][0], &c, 1), 1);
		close(fds[i][0]);
		int status;
		waitpid(pids[i], &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (c == 'W') {
			winners++;
			winner = i;
		} else {
			assert_int_equal(c, 'L');
			losers++;
		}
	}
	assert_int_equal(winners, 1);
	assert_int_equal(losers, RACERS - 1);
	struct ct_error err = {0};
	assert_int_equal(db_configure(url, &err), 0);
	char expect[16];
	snprintf(expect, sizeof expect, "racer-%d", winner);
	assert_string_equal(scratch_db_text("SELECT claimed_by FROM ctrove_failover_claims"),
			    expect);
	assert_string_equal(scratch_db_text("SELECT COUNT(*) FROM ctrove_failover_claims"), "1");
}

struct racer {
	pthread_t thread;
	char name[16];
	int rc;
};

static pthread_barrier_t start_line;

static void *claim_thread(void *arg)
{
	struct racer *r = arg;
	struct ct_error err = {0, ""};
	pthread_barrier_wait(&start_line);
	r->rc = failover_claim(SRC, r->name, &err);
	return NULL;
}

/* Threads of one process (a connection each, as in the taskmanager). */
static void test_claim_race_threads(void **state)
{
	(void)state;
	enum { RACERS = 6 };
	seed(SRC, NULL, 60, 0x01);
	seed(REP, SRC, 0, 0x01);
	opt_in(SRC, true, false);
	struct racer r[RACERS];
	pthread_barrier_init(&start_line, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		snprintf(r[i].name, sizeof r[i].name, "thread-%d", i);
		assert_int_equal(pthread_create(&r[i].thread, NULL, claim_thread, &r[i]), 0);
	}
	int winners = 0;
	for (int i = 0; i < RACERS; i++) {
		pthread_join(r[i].thread, NULL);
		assert_true(r[i].rc == 0 || r[i].rc == 1);
		winners += r[i].rc;
	}
	pthread_barrier_destroy(&start_line);
	assert_int_equal(winners, 1);
	assert_string_equal(scratch_db_text("SELECT COUNT(*) FROM ctrove_failover_claims"), "1");
}

static void test_settings_move(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct failover_settings s;
	assert_int_equal(failover_settings_get(SRC, &s, &err), 0);
	assert_false(s.automatic || s.synchronous);
	opt_in(SRC, true, true);
	assert_int_equal(failover_settings_move(SRC, REP, &err), 0);
	assert_int_equal(failover_settings_get(SRC, &s, &err), 0);
	assert_int_equal(failover_settings_get(REP, &s, &err), 1);
	assert_true(s.automatic && s.synchronous);
	assert_string_equal(scratch_db_text("SELECT instance_id FROM ctrove_failover_settings"),
			    REP);
	assert_int_equal(failover_settings_forget(REP, &err), 0);
	assert_string_equal(scratch_db_text("SELECT COUNT(*) FROM ctrove_failover_settings"), "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_candidates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_refused_unless_opted_in_source, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_claim_race_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_race_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_move, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
