/*
 * guestagent.c — main() of ctrove-guestagent, the small binary that runs beside
 * each database server (on a VM image, or as a local process): reads its
 * config files (guest_info.conf + trove-guestagent.conf, or one --config-file
 * per layer, or every *.conf of --config-dir), serves the guest RPC API and
 * heartbeats to the conductor until SIGTERM. `ctrove-guestagent --worker` is
 * the same program run by the agent for one datastore operation
 * (guest/worker.h); `--apply-user-data FILE [--root DIR]` writes the cloud's
 * user data bundle under /etc/ctrove/ at boot (guest/user_data.h).
 */
#define LOG_MODULE "guest"
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/core_dumps.h"
#include "common/log.h"
#include "guest/agent.h"
#include "guest/user_data.h"
#include "guest/worker.h"

static int load_dir(const char *dir, struct ct_error *err)
{
	struct dirent **entries;
	int n = scandir(dir, &entries, NULL, alphasort);
	if (n < 0)
		return ct_fail(err, 400, "cannot read config dir %s", dir);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(entries[i]->d_name);
		if (!rc && len > 5 && !strcmp(entries[i]->d_name + len - 5, ".conf")) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
			rc = cfg_load(path, err);
		}
		free(entries[i]);
	}
	free(entries);
	return rc;
}

int main(int argc, char **argv)
{
	struct ct_error err = {0};
	bool debug = false;
	/* The agent holds the instance's RPC key and the datastore's admin
	 * password, its workers the users' passwords: no core files of them. */
	if (core_dumps_disable(&err)) {
		fprintf(stderr, "ctrove-guestagent: %s\n", err.message);
		return 1;
	}
	/* Internal: one datastore operation for a running agent (guest/worker.h). */
	if (argc == 2 && !strcmp(argv[1], "--worker")) {
		int rc = guest_worker_main();
		core_dumps_allow_leak_check();
		return rc;
	}
	/* Boot time, before the agent has a config (docs/guest-image.md). */
	if ((argc == 3 || (argc == 5 && !strcmp(argv[3], "--root"))) &&
	    !strcmp(argv[1], "--apply-user-data")) {
		int rc = user_data_apply_file(argv[2], argc == 5 ? argv[4] : "/", &err);
		if (rc)
			fprintf(stderr, "ctrove-guestagent: %s\n", err.message);
		core_dumps_allow_leak_check();
		return rc ? 1 : 0;
	}
	cfg_reset();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config-file") && i + 1 < argc) {
			if (cfg_load(argv[++i], &err))
				goto fail;
		} else if (!strcmp(argv[i], "--config-dir") && i + 1 < argc) {
			if (load_dir(argv[++i], &err))
				goto fail;
		} else if (!strcmp(argv[i], "--debug")) {
			debug = true;
		} else {
			fprintf(stderr, "usage: ctrove-guestagent [--config-file FILE]... "
					"[--config-dir DIR] "
					"[--debug]\n"
					"       ctrove-guestagent --apply-user-data FILE "
					"[--root DIR]\n");
			cfg_free();
			return 2;
		}
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (log_open(cfg_str(CFG_LOG_FILE), debug || cfg_bool(CFG_DEBUG))) {
		ct_fail(&err, 500, "cannot open log file %s", cfg_str(CFG_LOG_FILE));
		goto fail;
	}
	struct guest_agent *agent = guest_agent_new(&err);
	if (!agent || guest_agent_start(agent, &err)) {
		guest_agent_free(agent);
		goto fail;
	}
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	log_info("signal %d: stopping the agent (the database keeps running)", sig);
	guest_agent_free(agent);
	log_close();
	cfg_free();
	core_dumps_allow_leak_check();
	return 0;
fail:
	fprintf(stderr, "ctrove-guestagent: %s\n", err.message);
	log_close();
	cfg_free();
	core_dumps_allow_leak_check();
	return 1;
}
