/*
 * test_bus_trust.c — what the control plane trusts on the bus, without a broker:
 * the conductor's checks of the instance a message names and of its `sent` time
 * (conductor/message_trust.h), and the RPC master keys (rpc/master_keys.h):
 * published defaults refused, unset keys generated once, kept 0600 and agreed on
 * by processes started at the same moment, instance keys sealed with the published
 * default sealed again.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "common/config.h"
#include "conductor/message_trust.h"
#include "rpc/crypto.h"
#include "rpc/master_keys.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	scratch_create(dir, "bustrust");
	cfg_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cfg_free();
	scratch_remove(dir);
	return 0;
}

static void test_named_instance(void **state)
{
	(void)state;
	struct ct_error err = {0, ""};
	assert_int_equal(conductor_check_named("a-1", "a-1", &err), 0);
	assert_int_equal(conductor_check_named("a-1", "b-2", &err), -1);
	assert_int_equal(err.status, 403);
	assert_non_null(strstr(err.message, "b-2"));
	assert_int_equal(conductor_check_named("a-1", NULL, &err), -1);
	assert_int_equal(conductor_check_named("a-1", "a-10", &err), -1);
	/* plain messages are judged by whoever knows the instance's key */
	assert_int_equal(conductor_check_named(NULL, "b-2", &err), 0);
}

static void test_sent_window(void **state)
{
	(void)state;
	struct ct_error err = {0, ""};
	double now = 1.7e9, trusted = 0;
	/* the past within the window is kept as it is: ordering still works */
	assert_int_equal(conductor_trusted_sent(now - 2.5, now, &trusted, &err), 0);
	assert_true(trusted == now - 2.5);
	/* the future within the window counts as now: later messages stay fresh */
	assert_int_equal(conductor_trusted_sent(now + 200, now, &trusted, &err), 0);
	assert_true(trusted == now);
	assert_true(now + 1 > trusted);
	assert_int_equal(conductor_trusted_sent(now + CONDUCTOR_SENT_WINDOW_S, now, &trusted, &err),
			 0);
	/* beyond the window either way: refused */
	assert_int_equal(
		conductor_trusted_sent(now + CONDUCTOR_SENT_WINDOW_S + 1, now, &trusted, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(conductor_trusted_sent(now + 365.0 * 86400, now, &trusted, &err), -1);
	assert_int_equal(
		conductor_trusted_sent(now - CONDUCTOR_SENT_WINDOW_S - 1, now, &trusted, &err), -1);
	assert_int_equal(conductor_trusted_sent(1e308, now, &trusted, &err), -1);
	assert_int_equal(conductor_trusted_sent(-1e308, now, &trusted, &err), -1);
}

static void test_published_keys_refused(void **state)
{
	(void)state;
	struct ct_error err = {0, ""};
	assert_int_equal(cfg_set(CFG_TASKMANAGER_RPC_ENCR_KEY, RPC_PUBLISHED_TASKMANAGER_KEY, &err),
			 0);
	assert_int_equal(rpc_master_keys_init(dir, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "taskmanager_rpc_encr_key"));
	assert_non_null(strstr(err.message, "allow_published_rpc_keys"));
	assert_null(strstr(err.message, RPC_PUBLISHED_TASKMANAGER_KEY));

	cfg_reset();
	assert_int_equal(cfg_set(CFG_INST_RPC_KEY_ENCR_KEY, RPC_PUBLISHED_INSTANCE_KEY, &err), 0);
	assert_int_equal(rpc_master_keys_init(dir, &err), -1);
	assert_non_null(strstr(err.message, "inst_rpc_key_encr_key"));

	/* the compatibility option lets them through; the unset one is generated */
	assert_int_equal(cfg_set(CFG_ALLOW_PUBLISHED_RPC_KEYS, "true", &err), 0);
	assert_int_equal(rpc_master_keys_init(dir, &err), 0);
	assert_string_equal(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), RPC_PUBLISHED_INSTANCE_KEY);
	assert_int_equal(strlen(cfg_str(CFG_TASKMANAGER_RPC_ENCR_KEY)), 40);
}

static void test_keys_generated_once(void **state)
{
	(void)state;
	struct ct_error err = {0, ""};
	assert_int_equal(rpc_master_keys_init(dir, &err), 0);
	char tm[64], inst[64];
	snprintf(tm, sizeof tm, "%s", cfg_str(CFG_TASKMANAGER_RPC_ENCR_KEY));
	snprintf(inst, sizeof inst, "%s", cfg_str(CFG_INST_RPC_KEY_ENCR_KEY));
	assert_int_equal(strlen(tm), 40);
	assert_int_equal(strlen(inst), 40);
	assert_string_not_equal(tm, inst);
	char path[256];
	snprintf(path, sizeof path, "%s/" RPC_MASTER_KEYS_FILE, dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* a second start reads the same keys */
	cfg_reset();
	assert_int_equal(rpc_master_keys_init(dir, &err), 0);
	assert_string_equal(cfg_str(CFG_TASKMANAGER_RPC_ENCR_KEY), tm);
	assert_string_equal(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), inst);
	/* a configured key wins over the file */
	cfg_reset();
	assert_int_equal(cfg_set(CFG_TASKMANAGER_RPC_ENCR_KEY, "MyOwnSecretKey0123456789", &err),
			 0);
	assert_int_equal(rpc_master_keys_init(dir, &err), 0);
	assert_string_equal(cfg_str(CFG_TASKMANAGER_RPC_ENCR_KEY), "MyOwnSecretKey0123456789");
	assert_string_equal(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), inst);

	/* a damaged file is an error, never silently replaced */
	FILE *f = fopen(path, "w");
	fputs("taskmanager_rpc_encr_key = short\n", f);
	fclose(f);
	cfg_reset();
	assert_int_equal(rpc_master_keys_init(dir, &err), -1);
	assert_non_null(strstr(err.message, "has no valid taskmanager_rpc_encr_key"));
}

/* Eight processes started together: one file, the same keys in each. */
static void test_keys_agreed_by_racing_processes(void **state)
{
	(void)state;
	enum { RACERS = 8 };
	int fds[RACERS][2];
	pid_t pids[RACERS];
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct ct_error err = {0, ""};
			cfg_reset();
			int rc = rpc_master_keys_init(dir, &err);
			char line[128];
			int n = snprintf(line, sizeof line, "%s %s", rc ? "FAIL" : "OK",
					 rc ? err.message : cfg_str(CFG_INST_RPC_KEY_ENCR_KEY));
			if (write(fds[i][1], line, (size_t)n) != n)
				_exit(2);
			_exit(0);
		}
		close(fds[i][1]);
	}
	char first[128] = "";
	for (int i = 0; i < RACERS; i++) {
		char line[128] = "";
		ssize_t n = read(fds[i][0], line, sizeof line - 1);
		close(fds[i][0]);
		int status;
		waitpid(pids[i], &status, 0);
		assert_true(n > 3);
		line[n] = '\0';
		assert_memory_equal(line, "OK ", 3);
		if (!first[0])
			snprintf(first, sizeof first, "%s", line);
		assert_string_equal(line, first);
	}
	/* nothing left behind but the one file */
	int files = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)))
		files += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
}

static void test_rewrap_published(void **state)
{
	(void)state;
	struct ct_error err = {0, ""};
	assert_int_equal(rpc_master_keys_init(dir, &err), 0);
	const char *instance_key = "0123456789abcdef0123456789ABCDEF";
	char *old = rpc_crypto_encrypt(RPC_PUBLISHED_INSTANCE_KEY, instance_key, 32, &err);
	char *sealed = rpc_master_keys_rewrap_published(NULL, old);
	assert_non_null(sealed);
	size_t len = 0;
	char *plain = rpc_crypto_decrypt(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), sealed, &len, &err);
	assert_non_null(plain);
	assert_string_equal(plain, instance_key);
	/* already ours, or anything else: left alone */
	assert_null(rpc_master_keys_rewrap_published(NULL, sealed));
	assert_null(rpc_master_keys_rewrap_published(NULL, "not base64"));
	assert_null(rpc_master_keys_rewrap_published(NULL, ""));
	char *junk = rpc_crypto_encrypt(RPC_PUBLISHED_INSTANCE_KEY, "short", 5, &err);
	assert_null(rpc_master_keys_rewrap_published(NULL, junk));
	free(junk);
	free(plain);
	free(sealed);
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_instance),
		cmocka_unit_test(test_sent_window),
		cmocka_unit_test_setup_teardown(test_published_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_generated_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_agreed_by_racing_processes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rewrap_published, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
