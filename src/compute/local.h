/*
 * local.h — the `local` compute driver seen from the taskmanager: an instance
 * is a loopback address, a volume, packet-filter rules and a detached
 * ctrove-guestagent process (which runs the database server). Every step is
 * idempotent, so a build or delete interrupted at any point is finished or
 * cleaned up by running it again. Built on address.c, volume.c, netfilter.c
 * and process.c; owns the instance directory (<instances_dir>/<id>: guest.conf,
 * pid and log files) and the guest's run directory (<run_root>/<id>).
 */
#ifndef CT_COMPUTE_LOCAL_H
#define CT_COMPUTE_LOCAL_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "compute/address.h"

struct local_instance_spec {
	const char *id;
	const char *tenant_id;
	const char *manager; /* mariadb, mysql, postgresql */
	const char *datastore_version;
	const char *rpc_key; /* the instance's plain RPC key, "" = none */
	long volume_gb;
	long memory_mb;
	const json_t *allowed_cidrs; /* array of CIDR strings, NULL/empty = anyone */
};

/* Address, volume, rules, guest config and agent. Fills address and mount_point. */
int local_instance_create(const struct local_instance_spec *spec, char address[ADDRESS_MAX],
			  char *mount_point, size_t mount_size, struct ct_error *err);
/* True when the instance's guest agent process is alive. */
bool local_instance_agent_alive(const char *id);
/* Make sure the agent runs (after a crash or reboot); 0 when it already does. */
int local_instance_ensure_agent(const char *id, struct ct_error *err);
/* Replace the instance's packet-filter rules. */
int local_instance_set_access(const char *id, const char *manager, const json_t *allowed_cidrs,
			      struct ct_error *err);
/* Stop every process of the instance, remove rules, volume, files, address. */
int local_instance_delete(const char *id, struct ct_error *err);
/* The datastore's port. */
int local_port_of(const char *manager);

#endif
