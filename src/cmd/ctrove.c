/*
 * ctrove.c — main() of the control plane: `ctrove [options] api | all |
 * manage ...`. Reads the config files, opens the log and the database, starts
 * the requested services and waits for SIGINT/SIGTERM, then stops them and
 * frees everything (so the sanitizers can prove nothing leaked). Core dumps are
 * off from the start: the process holds the token key, RPC keys and passwords.
 */
#define LOG_MODULE "ctrove"
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/auth.h"
#include "api/login_guard.h"
#include "api/policy.h"
#include "api/ratelimit.h"
#include "api/routes.h"
#include "api/server.h"
#include "cmd/manage.h"
#include "cmd/openstack_check.h"
#include "common/config.h"
#include "common/core_dumps.h"
#include "common/log.h"
#include "compute/driver.h"
#include "conductor/service.h"
#include "db/instance_keys.h"
#include "db/store.h"
#include "pki/ca.h"
#include "rpc/master_keys.h"
#include "rpc/notifier.h"
#include "rpc/thread_client.h"
#include "rpc/transport.h"
#include "taskmanager/failover.h"
#include "taskmanager/instance_supervisor.h"
#include "taskmanager/instance_tls.h"
#include "taskmanager/notifications.h"
#include "taskmanager/service.h"
#include "taskmanager/tasks.h"

#define MAX_CONFIG_FILES 8

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ctrove [--config-file FILE]... [--debug] <command>\n"
		"\n"
		"commands:\n"
		"  api                 serve the Trove v1.0 REST API (and the embedded identity)\n"
		"  taskmanager         the taskmanager RPC server\n"
		"  conductor           the conductor RPC server (guest heartbeats)\n"
		"  all                 api, taskmanager and conductor in one process\n"
		"  manage SUBCOMMAND   administer the database (ctrove manage help)\n"
		"  openstack-check     authenticate with [service_credentials], print the catalog\n"
		"\n"
		"options:\n"
		"  --config-file FILE  trove.conf to read; repeat to layer files\n"
		"  --debug             log at DEBUG level\n"
		"  --help-config       print every configuration option (Markdown)\n"
		"  --help-routes       print the API route table (Markdown)\n"
		"  --help-policy       print the built-in policy rules (a policy.yaml sample)\n"
		"  --version           print the version\n");
}

static int wait_for_signal(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

enum service { SERVICE_API = 1, SERVICE_TASKMANAGER = 2, SERVICE_CONDUCTOR = 4 };

/* Both RPC master keys set before any service seals or opens a message; instance
 * keys still sealed with Trove's published default are sealed again with ours. */
static int settle_rpc_keys(struct ct_error *err)
{
	if (rpc_master_keys_init(cfg_str(CFG_STATE_PATH), err))
		return -1;
	int rewrapped = instance_keys_rewrap(rpc_master_keys_rewrap_published, NULL, err);
	if (rewrapped < 0)
		return -1;
	if (rewrapped > 0)
		log_info("%d instance RPC key(s) sealed with Trove's published "
			 "inst_rpc_key_encr_key are now sealed with this control plane's own",
			 rewrapped);
	return 0;
}

static int run_services(unsigned services)
{
	struct ct_error err = {0};
	struct rpc_server *taskmanager = NULL, *conductor = NULL;
	int rc = 1;
	if (mkdir(cfg_str(CFG_STATE_PATH), 0711) && errno != EEXIST) {
		log_error("cannot create state_path %s", cfg_str(CFG_STATE_PATH));
		return 1;
	}
	int version = db_schema_version(&err);
	if (version < 0) {
		log_error("%s", err.message);
		return 1;
	}
	if (version < db_latest_version()) {
		log_error("the database schema is at version %d, this ctrove needs %d: run "
			  "'ctrove manage db_sync'",
			  version, db_latest_version());
		return 1;
	}
	if (settle_rpc_keys(&err)) {
		log_error("%s", err.message);
		if (cfg_str(CFG_LOG_FILE)[0])
			fprintf(stderr, "ctrove: %s\n", err.message);
		return 1;
	}
	/* A TLS bus whose broker we do not trust is a configuration error, not an
	 * outage: stop here rather than retry it forever (never plain AMQP). */
	struct rpc_transport_opts bus;
	rpc_transport_opts_from_config(&bus);
	if (rpc_transport_check_tls(&bus, &err)) {
		log_error("%s", err.message);
		if (cfg_str(CFG_LOG_FILE)[0])
			fprintf(stderr, "ctrove: %s\n", err.message);
		return 1;
	}
	/* The API serves the CA certificate, the taskmanager signs with the CA. */
	if ((services & (SERVICE_API | SERVICE_TASKMANAGER)) &&
	    pki_ca_init(cfg_str(CFG_STATE_PATH), &err)) {
		log_error("%s", err.message);
		if (cfg_str(CFG_LOG_FILE)[0])
			fprintf(stderr, "ctrove: %s\n", err.message);
		return 1;
	}
	/* The API asks the driver's capabilities, the taskmanager drives it. */
	const struct compute_driver *driver = compute_driver_current(&err);
	if (!driver) {
		log_error("%s", err.message);
		return 1;
	}
	/* Publishing never blocks a service: a bus that is down only delays them. */
	if (notifier_start(&err)) {
		log_error("%s", err.message);
		if (cfg_str(CFG_LOG_FILE)[0])
			fprintf(stderr, "ctrove: %s\n", err.message);
		return 1;
	}
	if (services & SERVICE_TASKMANAGER) {
		if (driver->init(&err)) {
			log_error("%s", err.message);
			notifier_stop();
			return 1;
		}
		tasks_recover();
		if (!(taskmanager = taskmanager_service_new(&err)) ||
		    rpc_server_start(taskmanager, &err) || instance_tls_rotation_start(&err) ||
		    failover_detector_start(&err) || tm_notify_exists_start(&err) ||
		    instance_supervisor_start(&err))
			goto out;
	}
	if ((services & SERVICE_CONDUCTOR) &&
	    (!(conductor = conductor_service_new(&err)) || rpc_server_start(conductor, &err)))
		goto out;
	if ((services & SERVICE_API) && (auth_init(&err) || api_server_start(&err)))
		goto out;
	int sig = wait_for_signal();
	log_info("signal %d: shutting down", sig);
	rc = 0;
out:
	if (rc)
		log_error("%s", err.message);
	api_server_stop();
	instance_tls_rotation_stop();
	failover_detector_stop();
	tm_notify_exists_stop();
	instance_supervisor_stop();
	if (taskmanager)
		rpc_server_free(taskmanager);
	if (conductor)
		rpc_server_free(conductor);
	tasks_join();
	compute_driver_shutdown();
	notifier_stop();
	rpc_thread_clients_free();
	pki_ca_shutdown();
	return rc;
}

static unsigned services_of(const char *command)
{
	if (!strcmp(command, "api"))
		return SERVICE_API;
	if (!strcmp(command, "taskmanager"))
		return SERVICE_TASKMANAGER;
	if (!strcmp(command, "conductor"))
		return SERVICE_CONDUCTOR;
	if (!strcmp(command, "all"))
		return SERVICE_API | SERVICE_TASKMANAGER | SERVICE_CONDUCTOR;
	return 0;
}

int main(int argc, char **argv)
{
	const char *config_files[MAX_CONFIG_FILES];
	int nconfig = 0;
	bool debug = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--config-file") && i + 1 < argc) {
			if (nconfig == MAX_CONFIG_FILES) {
				fprintf(stderr, "too many --config-file options\n");
				return 2;
			}
			config_files[nconfig++] = argv[++i];
		} else if (!strcmp(argv[i], "--debug")) {
			debug = true;
		} else if (!strcmp(argv[i], "--help-config")) {
			cfg_print_help(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--help-policy")) {
			policy_print_sample(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--help-routes")) {
			routes_print(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("ctrove %s\n", CTROVE_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *command = argv[i];
	/* Before anything secret is read (trove.conf holds keys and passwords). */
	struct ct_error err = {0};
	if (core_dumps_disable(&err)) {
		fprintf(stderr, "ctrove: %s\n", err.message);
		return 1;
	}

	/* Workers must not take SIGINT/SIGTERM: the main thread waits for them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The database file, token key and guest configs are ours alone. */
	umask(077);

	cfg_reset();
	for (int c = 0; c < nconfig; c++)
		if (cfg_load(config_files[c], &err)) {
			fprintf(stderr, "ctrove: %s\n", err.message);
			cfg_free();
			return 1;
		}
	bool is_manage = !strcmp(command, "manage");
	if (log_open(is_manage ? NULL : cfg_str(CFG_LOG_FILE), debug || cfg_bool(CFG_DEBUG))) {
		fprintf(stderr, "ctrove: cannot open log file %s\n", cfg_str(CFG_LOG_FILE));
		cfg_free();
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc;
	if (db_configure(cfg_str(CFG_DB_CONNECTION), &err)) {
		fprintf(stderr, "ctrove: %s\n", err.message);
		rc = 1;
	} else if ((services_of(command) & SERVICE_API) &&
		   policy_init(config_files, nconfig, &err)) {
		/* A policy file that does not say what the operator meant must not
		 * start an API with other rules. */
		log_error("%s", err.message);
		fprintf(stderr, "ctrove: %s\n", err.message);
		rc = 1;
	} else if (is_manage) {
		rc = manage_main(argc - i - 1, argv + i + 1);
	} else if (!strcmp(command, "openstack-check")) {
		rc = openstack_check_main();
	} else if (services_of(command)) {
		rc = run_services(services_of(command));
	} else {
		fprintf(stderr, "unknown command %s\n", command);
		usage(stderr);
		rc = 2;
	}
	auth_shutdown();
	policy_shutdown();
	ratelimit_shutdown();
	login_guard_shutdown();
	db_shutdown();
	curl_global_cleanup();
	log_close();
	cfg_free();
	core_dumps_allow_leak_check();
	return rc;
}
