/*
 * driver.h — the compute driver interface: how the taskmanager gets a
 * machine for an instance (address, volume, access rules, a running guest
 * agent) without knowing what provides it. One table of operations per
 * driver, chosen by [DEFAULT] compute_driver; `local` (compute/local.c) is
 * the first. A new feature adds a slot here and a row in each driver, never
 * an `if (driver == ...)` in a caller.
 *
 * Slots a driver does not implement yet are NULL; callers go through the
 * compute_*() wrappers below, which answer Trove's 501 for them. Capability
 * fields let the API refuse a request before anything is built.
 * Owns the registry of drivers; may not touch the database or the bus.
 */
#ifndef CT_COMPUTE_DRIVER_H
#define CT_COMPUTE_DRIVER_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#include "common/error.h"

/* What the taskmanager asks for. Borrowed for the call. */
struct compute_spec {
	const char *id;
	const char *tenant_id;
	const char *manager; /* mariadb, mysql, postgresql */
	const char *datastore_version;
	const char *rpc_key;	   /* the instance's plain RPC key, "" = none */
	const char *transport_url; /* the guest's own bus login (never the control plane's);
				    * NULL when the agent already runs */
	long volume_gb;
	long memory_mb;
	const json_t *allowed_cidrs; /* array of CIDR strings, NULL/empty = anyone */
	/* What a driver that builds machines elsewhere (nova) also needs; the
	 * local driver ignores them. NULL/"" = not given. */
	const char *flavor_id;	       /* ctrove's flavor id, which is the Nova flavor's */
	const char *availability_zone; /* the request's; "" = the scheduler's choice */
	const char *volume_type;       /* the request's; "" = the driver's default */
	const char *image_id;	       /* the datastore version's image; "" = by tags */
	const char *image_tags;	       /* comma-separated Glance tags of the version */
	const json_t *nics;	       /* the request's nics ([{"net-id": ...}, ...]) */
};

/* What a created instance got. */
struct compute_server {
	char address[64];	    /* where clients reach the database */
	char mount_point[PATH_MAX]; /* where the guest finds its volume */
};

struct compute_driver {
	const char *name; /* the value of compute_driver */
	/* Capabilities. */
	bool volume_types; /* honours a requested volume type */

	/* At taskmanager start: probe the host. What it cannot offer is
	 * logged at WARNING and answered per request; -1 only when the driver
	 * cannot work at all. */
	int (*init)(struct ct_error *err);
	/* Address, volume, access rules, guest config and a running agent;
	 * idempotent, so running it again finishes an interrupted build. When
	 * the agent already runs (a build resumed after a crash) every step is
	 * done: it only reports the server, and transport_url is NULL (the agent
	 * keeps the bus login it runs with; docs/crash_recovery.md). */
	int (*create)(const struct compute_spec *spec, struct compute_server *out,
		      struct ct_error *err);
	/* Stop everything of the instance and remove it; 0 when nothing is left. */
	int (*destroy)(const char *id, struct ct_error *err);
	/* True when the instance's guest agent runs. */
	bool (*agent_alive)(const char *id);
	/* Start the agent again when it is not running (after a crash or a
	 * reboot); 0 when it already runs. */
	int (*ensure_running)(const char *id, struct ct_error *err);
	/* Replace who may reach the database (CIDR strings; empty = anyone). */
	int (*set_access)(const char *id, const char *manager, const json_t *allowed_cidrs,
			  struct ct_error *err);

	/* Optional (NULL = 501 through the wrappers). */
	int (*resize_volume)(const char *id, long new_size_gb, struct ct_error *err);
	/* After resize_volume the guest grows its own file system (a VM's agent
	 * owns its volume's mount: Trove's resize_fs); false when the driver
	 * grows it itself (the local driver, from the host). */
	bool guest_grows_filesystem;
	/* To flavor_id (Nova's flavor: ctrove's flavors are the cloud's) with
	 * memory_mb of RAM (what the local driver gives the agent). */
	int (*resize_flavor)(const char *id, const char *flavor_id, long memory_mb,
			     struct ct_error *err);
	int (*attach_storage)(const char *id, const char *storage_id, struct ct_error *err);
	/* Automatic failover: make sure a source presumed dead can take no more
	 * writes — its server and agent stopped, all TCP to and from its address
	 * dropped, and nothing restarting them — before a replica is promoted.
	 * unfence undoes the traffic part (an operator re-attaching it). */
	int (*fence)(const char *id, struct ct_error *err);
	int (*unfence)(const char *id, struct ct_error *err);
	/* At exit: release what init made (sessions, caches). May be NULL. */
	void (*shutdown)(void);
};

/* The driver called name, or NULL. */
const struct compute_driver *compute_driver_find(const char *name);
/* The configured driver ([DEFAULT] compute_driver); NULL with 500 naming the
 * bad value and the known ones (ctrove refuses to start with one). */
const struct compute_driver *compute_driver_current(struct ct_error *err);

/* The configured driver's shutdown, if it has one and one was chosen. */
void compute_driver_shutdown(void);

/* The optional operations: 501 when d does not implement them. */
int compute_resize_volume(const struct compute_driver *d, const char *id, long new_size_gb,
			  struct ct_error *err);
int compute_resize_flavor(const struct compute_driver *d, const char *id, const char *flavor_id,
			  long memory_mb, struct ct_error *err);
int compute_attach_storage(const struct compute_driver *d, const char *id, const char *storage_id,
			   struct ct_error *err);
int compute_fence(const struct compute_driver *d, const char *id, struct ct_error *err);
int compute_unfence(const struct compute_driver *d, const char *id, struct ct_error *err);

#endif
