/*
 * instance_request.h — the body of POST /instances, checked against Trove's
 * schema (spec trove-api.md §8.1) and the datastore's name rules (§8.3), into
 * a plain struct. Pure: no database, no I/O; lookups of flavors and datastore
 * versions are the caller's. Borrowed strings point into the request JSON.
 */
#ifndef CT_API_INSTANCE_REQUEST_H
#define CT_API_INSTANCE_REQUEST_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

struct instance_request {
	const char *name;
	char flavor_id[256];	    /* last path segment of flavorRef; "" if absent */
	long volume_size;	    /* GB; 0 when no volume was given */
	const char *volume_type;    /* NULL or a name */
	const char *datastore_type; /* NULL = default_datastore */
	const char *datastore_version;
	const char *availability_zone;
	const char *region_name;
	const char *locality;
	const json_t *databases; /* [{"name", "character_set"?, "collate"?}] or NULL */
	const json_t *users;	 /* [{"name", "password", "host"?, "databases"?}] or NULL */
	const json_t *nics;	 /* recorded, not used by the local driver */
	const json_t *access;	 /* {"is_public"?, "allowed_cidrs"?} or NULL */
	const char *replica_of;
	long replica_count;
	const json_t *restore_point;
	const json_t *configuration;
	const json_t *modules;
	const json_t *failover; /* ctrove: {"automatic"?, "synchronous"?} or NULL */
};

/* Schema checks; 400 "Validation error: ..." on the first violation. */
int instance_request_parse(const json_t *body, struct instance_request *out, struct ct_error *err);

/* Datastore rules for the databases and users of the request, for a manager
 * (mysql, mariadb, postgresql): names, reserved names, duplicates, and every
 * user database among the initial databases. */
int instance_request_check_names(const struct instance_request *r, const char *manager,
				 struct ct_error *err);

/* A dotted IPv4 CIDR (prefix optional, 0..32). */
bool instance_request_is_cidr(const char *text);

#endif
