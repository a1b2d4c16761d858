/*
 * instance_request.c — see instance_request.h.
 */
#include "api/instance_request.h"
#include "api/instance_failover.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "common/dbnames.h"
#include "common/ids.h"

bool instance_request_is_cidr(const char *text)
{
	char addr[32];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	if (len < 7 || len > 15)
		return false;
	memcpy(addr, text, len);
	addr[len] = '\0';
	int dots = 0;
	for (size_t i = 0; i < len; i++) {
		if (addr[i] == '.')
			dots++;
		else if (addr[i] < '0' || addr[i] > '9')
			return false;
	}
	struct in_addr a;
	if (dots != 3 || inet_pton(AF_INET, addr, &a) != 1)
		return false;
	if (!slash)
		return true;
	const char *p = slash + 1;
	if (!*p || strlen(p) > 2 || (p[0] == '0' && p[1]))
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	return atoi(p) <= 32;
}

static int check_optional_string(const json_t *obj, const char *parent, const char *key,
				 const char **out, bool null_ok, struct ct_error *err)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || (null_ok && json_is_null(v)))
		return 0;
	char path[VALIDATE_PATH_MAX];
	validate_path(path, parent, key);
	if (validate_non_empty_string(v, path, err))
		return -1;
	*out = json_string_value(v);
	return 0;
}

static int parse_flavor(const json_t *ref, struct instance_request *out, struct ct_error *err)
{
	if (!ref)
		return 0;
	if (json_is_integer(ref)) {
		snprintf(out->flavor_id, sizeof out->flavor_id, "%lld",
			 (long long)json_integer_value(ref));
		return 0;
	}
	/* flavorref is oneOf(non_empty_string, integer): one message for both. */
	struct ct_error ignored;
	if (validate_non_empty_string(ref, "instance['flavorRef']", &ignored)) {
		char repr[128];
		validate_repr(ref, repr, sizeof repr);
		return validate_fail(err, "instance['flavorRef']",
				     "%s is not valid under any of the given schemas", repr);
	}
	const char *s = json_string_value(ref);
	const char *slash = strrchr(s, '/');
	snprintf(out->flavor_id, sizeof out->flavor_id, "%s", slash ? slash + 1 : s);
	return 0;
}

/* volume_size: integer >= 1, or a string of digits ^0*[1-9]+[0-9]*$ up to 40. */
static int parse_volume(const json_t *volume, struct instance_request *out, struct ct_error *err)
{
	if (!volume)
		return 0;
	static const char *const required[] = {"size", NULL};
	if (validate_object(volume, "instance['volume']", err) ||
	    validate_required(volume, "instance['volume']", required, err))
		return -1;
	long value;
	if (validate_volume_size(json_object_get(volume, "size"), "instance['volume']['size']",
				 &value, err))
		return -1;
	out->volume_size = value;
	const char *type;
	if (check_optional_string(volume, "instance['volume']", "type", &type, true, err))
		return -1;
	out->volume_type = type;
	return 0;
}

static int parse_named_list(const json_t *list, const char *path, const char *const *required,
			    struct ct_error *err)
{
	if (!json_is_array(list)) {
		char repr[128];
		validate_repr(list, repr, sizeof repr);
		return validate_fail(err, path, "%s is not of type 'array'", repr);
	}
	size_t i;
	const json_t *item;
	json_array_foreach (list, i, item) {
		char item_path[VALIDATE_PATH_MAX], field[VALIDATE_PATH_MAX];
		validate_path_index(item_path, path, i);
		if (validate_object(item, item_path, err) ||
		    validate_required(item, item_path, required, err))
			return -1;
		const char *key;
		json_t *value;
		json_object_foreach ((json_t *)item, key, value) {
			if (!strcmp(key, "databases") || !strcmp(key, "host"))
				continue;
			validate_path(field, item_path, key);
			if (validate_non_empty_string(value, field, err))
				return -1;
		}
	}
	return 0;
}

static int parse_users(const json_t *users, struct ct_error *err)
{
	static const char *const required[] = {"name", "password", NULL};
	if (parse_named_list(users, "instance['users']", required, err))
		return -1;
	size_t i;
	const json_t *user;
	json_array_foreach (users, i, user) {
		char path[VALIDATE_PATH_MAX], field[VALIDATE_PATH_MAX];
		validate_path_index(path, "instance['users']", i);
		const json_t *host = json_object_get(user, "host");
		validate_path(field, path, "host");
		if (host && !json_is_string(host)) {
			char repr[128];
			validate_repr(host, repr, sizeof repr);
			return validate_fail(err, field, "%s is not of type 'string'", repr);
		}
		const json_t *dbs = json_object_get(user, "databases");
		if (!dbs)
			continue;
		static const char *const name_only[] = {"name", NULL};
		validate_path(field, path, "databases");
		if (parse_named_list(dbs, field, name_only, err))
			return -1;
	}
	return 0;
}

static int parse_access(const json_t *access, struct ct_error *err)
{
	static const char *const allowed[] = {"is_public", "allowed_cidrs", NULL};
	if (validate_object(access, "instance['access']", err) ||
	    validate_only(access, "instance['access']", allowed, err))
		return -1;
	const json_t *pub = json_object_get(access, "is_public");
	if (pub && validate_boolean(pub, "instance['access']['is_public']", err))
		return -1;
	const json_t *cidrs = json_object_get(access, "allowed_cidrs");
	if (!cidrs)
		return 0;
	const char *path = "instance['access']['allowed_cidrs']";
	if (validate_string_array(cidrs, path, 0, 1, 18, err))
		return -1;
	size_t i;
	const json_t *c;
	json_array_foreach (cidrs, i, c) {
		if (!instance_request_is_cidr(json_string_value(c))) {
			char item[VALIDATE_PATH_MAX], repr[128];
			validate_path_index(item, path, i);
			validate_repr(c, repr, sizeof repr);
			return validate_fail(err, item, "%s is not a valid CIDR", repr);
		}
	}
	return 0;
}

static int parse_nics(const json_t *nics, struct ct_error *err)
{
	const char *path = "instance['nics']";
	if (!json_is_array(nics)) {
		char repr[128];
		validate_repr(nics, repr, sizeof repr);
		return validate_fail(err, path, "%s is not of type 'array'", repr);
	}
	if (json_array_size(nics) > 1) {
		char repr[128];
		validate_repr(nics, repr, sizeof repr);
		return validate_fail(err, path, "%s is too long", repr);
	}
	static const char *const allowed[] = {"net-id", "network_id", "subnet_id", "ip_address",
					      NULL};
	size_t i;
	const json_t *nic;
	json_array_foreach (nics, i, nic) {
		char item[VALIDATE_PATH_MAX], field[VALIDATE_PATH_MAX];
		validate_path_index(item, path, i);
		if (validate_object(nic, item, err) || validate_only(nic, item, allowed, err))
			return -1;
		static const char *const uuids[] = {"net-id", "network_id", "subnet_id", NULL};
		for (const char *const *k = uuids; *k; k++) {
			const json_t *v = json_object_get(nic, *k);
			validate_path(field, item, *k);
			if (v && validate_uuid(v, field, err))
				return -1;
		}
		const json_t *ip = json_object_get(nic, "ip_address");
		if (ip && (!json_is_string(ip) || strchr(json_string_value(ip), '/') ||
			   !instance_request_is_cidr(json_string_value(ip)))) {
			char repr[128];
			validate_path(field, item, "ip_address");
			validate_repr(ip, repr, sizeof repr);
			return validate_fail(err, field, "%s is not a valid IPv4 address", repr);
		}
	}
	return 0;
}

int instance_request_parse(const json_t *body, struct instance_request *out, struct ct_error *err)
{
	static const char *const top[] = {"instance", NULL};
	static const char *const required[] = {"name", NULL};
	memset(out, 0, sizeof *out);
	if (validate_object(body, "", err) || validate_required(body, "", top, err))
		return -1;
	const json_t *inst = json_object_get(body, "instance");
	if (validate_object(inst, "instance", err) ||
	    validate_required(inst, "instance", required, err) ||
	    validate_non_empty_string(json_object_get(inst, "name"), "instance['name']", err))
		return -1;
	out->name = json_string_value(json_object_get(inst, "name"));
	if (parse_flavor(json_object_get(inst, "flavorRef"), out, err) ||
	    parse_volume(json_object_get(inst, "volume"), out, err))
		return -1;

	out->databases = json_object_get(inst, "databases");
	static const char *const name_only[] = {"name", NULL};
	if (out->databases &&
	    parse_named_list(out->databases, "instance['databases']", name_only, err))
		return -1;
	out->users = json_object_get(inst, "users");
	if (out->users && parse_users(out->users, err))
		return -1;

	const json_t *ds = json_object_get(inst, "datastore");
	if (ds) {
		if (validate_object(ds, "instance['datastore']", err) ||
		    check_optional_string(ds, "instance['datastore']", "type", &out->datastore_type,
					  false, err) ||
		    check_optional_string(ds, "instance['datastore']", "version",
					  &out->datastore_version, false, err))
			return -1;
	}
	out->nics = json_object_get(inst, "nics");
	if (out->nics && parse_nics(out->nics, err))
		return -1;
	out->access = json_object_get(inst, "access");
	if (out->access && parse_access(out->access, err))
		return -1;
	if (check_optional_string(inst, "instance", "availability_zone", &out->availability_zone,
				  false, err) ||
	    check_optional_string(inst, "instance", "region_name", &out->region_name, false, err) ||
	    check_optional_string(inst, "instance", "locality", &out->locality, false, err))
		return -1;

	const json_t *replica = json_object_get(inst, "replica_of");
	if (replica) {
		if (validate_uuid(replica, "instance['replica_of']", err))
			return -1;
		out->replica_of = json_string_value(replica);
	}
	const json_t *count = json_object_get(inst, "replica_count");
	out->replica_count = 1;
	if (count) {
		if (!json_is_integer(count) || json_integer_value(count) < 1 ||
		    json_integer_value(count) > 3) {
			char repr[128];
			validate_repr(count, repr, sizeof repr);
			return validate_fail(err, "instance['replica_count']",
					     "%s is not valid under any of the given schemas",
					     repr);
		}
		out->replica_count = (long)json_integer_value(count);
	}
	out->restore_point = json_object_get(inst, "restorePoint");
	if (out->restore_point) {
		static const char *const backup_ref[] = {"backupRef", NULL};
		/* ctrove (PITR, docs/pitr.md): {"instanceRef" | "backupRef", "time"}. */
		const json_t *rp = out->restore_point;
		bool by_instance = json_is_object(rp) && json_object_get(rp, "time") &&
				   json_object_get(rp, "instanceRef");
		if (validate_object(rp, "instance['restorePoint']", err))
			return -1;
		if (by_instance && json_object_get(rp, "backupRef"))
			return validate_fail(err, "instance['restorePoint']",
					     "instanceRef and backupRef cannot both be given");
		if (by_instance
			    ? validate_uuid(json_object_get(rp, "instanceRef"),
					    "instance['restorePoint']['instanceRef']", err)
			    : validate_required(rp, "instance['restorePoint']", backup_ref, err) ||
				      validate_uuid(json_object_get(rp, "backupRef"),
						    "instance['restorePoint']['backupRef']", err))
			return -1;
		const json_t *time = json_object_get(rp, "time");
		if (time && !json_is_string(time))
			return validate_fail(err, "instance['restorePoint']['time']",
					     "must be a string");
	}
	out->configuration = json_object_get(inst, "configuration");
	out->modules = json_object_get(inst, "modules");
	out->failover = json_object_get(inst, "failover");
	struct failover_settings checked;
	if (out->failover && instance_failover_parse(out->failover, NULL, &checked, err))
		return -1;
	return 0;
}

static const char *field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int instance_request_check_names(const struct instance_request *r, const char *manager,
				 struct ct_error *err)
{
	int family = dbnames_family_of(manager);
	if (family < 0)
		return ct_fail(err, 422, "Operation not supported for datastore %.64s.", manager);
	size_t i, j;
	const json_t *db, *user;
	json_array_foreach (r->databases, i, db) {
		const char *name = field(db, "name");
		if (dbnames_check_database(family, name, err))
			return -1;
		if (family == DBNAMES_MYSQL) {
			char cs[64], coll[128];
			if (dbnames_mysql_charset(field(db, "character_set"), field(db, "collate"),
						  cs, sizeof cs, coll, sizeof coll, err))
				return -1;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(name, field(json_array_get(r->databases, j), "name")))
				return ct_fail(err, 400,
					       "Two or more databases share the same name: "
					       "%.64s.",
					       name);
	}
	json_array_foreach (r->users, i, user) {
		const char *name = field(user, "name");
		const char *host = field(user, "host");
		if (dbnames_check_user(family, name, err) ||
		    dbnames_check_password(family, field(user, "password"), err) ||
		    (family == DBNAMES_MYSQL && dbnames_check_host(host, err)))
			return -1;
		for (j = 0; j < i; j++) {
			const json_t *other = json_array_get(r->users, j);
			const char *other_host = field(other, "host");
			if (!strcmp(name, field(other, "name")) &&
			    !strcmp(host ? host : "%", other_host ? other_host : "%"))
				return ct_fail(err, 400,
					       "Two or more users share the same name and host: "
					       "%.64s@%.64s.",
					       name, host ? host : "%");
		}
		size_t k;
		const json_t *access;
		json_array_foreach (json_object_get(user, "databases"), k, access) {
			const char *dbname = field(access, "name");
			bool initial = false;
			json_array_foreach (r->databases, j, db)
				initial = initial || !strcmp(dbname, field(db, "name"));
			if (!initial)
				return ct_fail(
					err, 400,
					"The request indicates that user %.64s should have "
					"access to database %.64s, but database %.64s is not "
					"included in the initial databases list.",
					name, dbname, dbname);
		}
	}
	return 0;
}
