/*
 * instance_create.c — POST /instances (spec trove-api.md §7.1, §8.1): check
 * the body, the flavor, the datastore version, the volume and the quota; write
 * the instance row (task BUILDING, service NEW) and cast create_instance to
 * the taskmanager, which builds it. Answers 200 with the instance's detail.
 * A restore is checked by instance_restore.c, replicas by
 * instance_replication.c. Modules answer 501 until their issue lands. If the taskmanager cannot be
 * told, nothing is left behind.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_notify.h"
#include "api/datastore_choice.h"
#include "api/handlers.h"
#include "api/instance_configuration.h"
#include "api/instance_failover.h"
#include "api/instance_pitr.h"
#include "api/instance_replication.h"
#include "api/instance_request.h"
#include "api/instance_restore.h"
#include "api/policy.h"
#include "common/config.h"
#include "common/crash_point.h"
#include "common/dbnames.h"
#include "common/ids.h"
#include "common/log.h"
#include "compute/driver.h"
#include "db/configurations.h"
#include "db/datastores.h"
#include "db/flavors.h"
#include "db/instance_claims.h"
#include "db/instances.h"
#include "guest/api.h"
#include "taskmanager/api.h"
#include "taskmanager/task_claims.h"

/* The request's databases (already checked) as guest models, serialized:
 * create_instance carries them to the taskmanager for prepare, as in Trove. */
static json_t *serialized_databases(const json_t *databases, int family, struct ct_error *err)
{
	size_t n = json_array_size(databases);
	struct guest_database *dbs = calloc(n ? n : 1, sizeof *dbs);
	if (!dbs) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	size_t i;
	const json_t *db;
	json_array_foreach (databases, i, db) {
		const char *cs = json_string_value(json_object_get(db, "character_set"));
		const char *coll = json_string_value(json_object_get(db, "collate"));
		char cs_buf[64], coll_buf[128];
		if (family == DBNAMES_MYSQL &&
		    !dbnames_mysql_charset(cs, coll, cs_buf, sizeof cs_buf, coll_buf,
					   sizeof coll_buf, NULL)) {
			cs = cs_buf;
			coll = coll_buf;
		}
		if (guest_database_set(&dbs[i], json_string_value(json_object_get(db, "name")), cs,
				       coll, err)) {
			free(dbs);
			return NULL;
		}
	}
	json_t *out = guest_databases_to_json(dbs, n);
	free(dbs);
	if (!out)
		ct_fail(err, 500, "out of memory");
	return out;
}

/* The request's users (already checked) as serialized guest users. */
static json_t *serialized_users(const json_t *users, struct ct_error *err)
{
	size_t n = json_array_size(users);
	struct guest_user *list = calloc(n ? n : 1, sizeof *list);
	if (!list) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	json_t *out = NULL;
	size_t i;
	const json_t *u;
	json_array_foreach (users, i, u) {
		const char *host = json_string_value(json_object_get(u, "host"));
		if (guest_user_set(&list[i], json_string_value(json_object_get(u, "name")),
				   host ? host : "%",
				   json_string_value(json_object_get(u, "password")), err))
			goto done;
		size_t j;
		const json_t *db;
		json_array_foreach (json_object_get(u, "databases"), j, db) {
			if (guest_user_add_database(
				    &list[i], json_string_value(json_object_get(db, "name")), err))
				goto done;
		}
	}
	out = guest_users_to_json(list, n);
	if (!out)
		ct_fail(err, 500, "out of memory");
done:
	guest_users_free(list, n);
	return out;
}

static int resolve_version(const struct instance_request *r, struct ds_version *v,
			   struct ct_error *err)
{
	return datastore_choose_version(r->datastore_type, r->datastore_version, v, err);
}

static int check_flavor(const struct instance_request *r, const struct ds_version *v,
			struct flavor *f, struct ct_error *err)
{
	if (!r->flavor_id[0])
		return ct_fail(err, 400, "Resource None cannot be found.");
	if (flavor_get(r->flavor_id, f, err))
		return ct_fail(err, 400, "Resource %.255s cannot be found.", r->flavor_id);
	char(*allowed)[256] = NULL;
	size_t n = 0;
	if (dsv_flavor_ids(v->id, &allowed, &n, err))
		return -1;
	bool ok = n == 0;
	for (size_t i = 0; i < n && !ok; i++)
		ok = !strcmp(allowed[i], f->id);
	free(allowed);
	if (!ok)
		return ct_fail(err, 400,
			       "Flavor %.255s is not supported for datastore version %.255s (%s).",
			       f->id, v->name, v->id);
	return 0;
}

static int refuse_unimplemented(const struct instance_request *r, struct ct_error *err)
{
	if (!r->replica_of && r->replica_count > 1)
		return ct_fail(err, 400,
			       "Cannot create multiple instances unless they are replicas.");
	if (r->replica_of && r->failover)
		return ct_fail(err, 400,
			       "A replica cannot have failover settings: set them on its source.");
	if (r->modules && json_array_size(r->modules) > 0)
		return ct_fail(err, 501, "Modules are not implemented in ctrove yet.");
	if (r->volume_type) {
		const struct compute_driver *driver = compute_driver_current(err);
		if (!driver)
			return -1;
		if (!driver->volume_types)
			return ct_fail(err, 400,
				       "Volume type %.255s is not supported by the %s "
				       "compute driver.",
				       r->volume_type, driver->name);
	}
	return 0;
}

static json_t *flavor_dict(const struct flavor *f)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "id", f->id, "name", f->name, "ram",
			 (json_int_t)f->ram, "vcpus", (json_int_t)f->vcpus, "disk",
			 (json_int_t)f->disk, "OS-FLV-EXT-DATA:ephemeral",
			 (json_int_t)f->ephemeral);
}

/* What the request carries besides the instance needs its own rule, as in
 * Trove's create. */
static int authorize_parts(const struct api_request *req, const struct instance_request *r,
			   struct ct_error *err)
{
	if (r->configuration && !json_is_null(r->configuration) &&
	    policy_enforce(req, "instance:update", err))
		return -1;
	if (r->modules && !json_is_null(r->modules) &&
	    policy_enforce(req, "instance:module_apply", err))
		return -1;
	if (r->users && policy_enforce(req, "instance:extension:user:create", err))
		return -1;
	if (r->databases && policy_enforce(req, "instance:extension:database:create", err))
		return -1;
	return 0;
}

API_HANDLER(instances_create)
{
	struct instance_request r;
	struct ds_version v;
	struct flavor f;
	if (instance_request_parse(req->json, &r, err) || authorize_parts(req, &r, err) ||
	    refuse_unimplemented(&r, err))
		return -1;
	if (r.replica_of)
		return instance_replicas_create(req, resp, &r, err);
	if (resolve_version(&r, &v, err) || check_flavor(&r, &v, &f, err))
		return -1;
	if (r.volume_size <= 0)
		return ct_fail(err, 400, "Volume size was not specified.");
	long max = cfg_int(CFG_MAX_VOLUME_SIZE);
	if (r.volume_size > max)
		return ct_fail(err, 413,
			       "Volume 'size' cannot exceed maximum of %ld GB, %ld cannot be "
			       "accepted.",
			       max, r.volume_size);
	if (instance_request_check_names(&r, v.manager, err))
		return -1;
	char backup_id[37] = "";
	struct pitr_target pitr = {0};
	bool point_in_time = r.restore_point && instance_pitr_requested(r.restore_point);
	if (point_in_time) {
		if (instance_pitr_check(r.restore_point, req->who.is_admin ? NULL : req->project,
					&v, r.volume_size, &pitr, err))
			return -1;
		snprintf(backup_id, sizeof backup_id, "%s", pitr.backup_id);
	} else if (r.restore_point &&
		   instance_restore_check(r.restore_point, req->who.is_admin ? NULL : req->project,
					  &v, r.volume_size, backup_id, err))
		return -1;
	if (strlen(r.name) > 255)
		return ct_fail(err, 400, "Instance name %.40s... is longer than 255 characters.",
			       r.name);

	char config_id[37] = "";
	json_t *overrides = NULL;
	if (r.configuration && !json_is_null(r.configuration) &&
	    instance_configuration_for_create(req, r.configuration, &v, config_id, &overrides, err))
		return -1;
	json_t *databases = serialized_databases(r.databases, dbnames_family_of(v.manager), err);
	json_t *users = databases ? serialized_users(r.users, err) : NULL;
	if (!users) {
		json_decref(databases);
		json_decref(overrides);
		return -1;
	}

	struct instance in;
	memset(&in, 0, sizeof in);
	ids_uuid(in.id);
	snprintf(in.name, sizeof in.name, "%s", r.name);
	snprintf(in.tenant_id, sizeof in.tenant_id, "%s", req->project);
	snprintf(in.flavor_id, sizeof in.flavor_id, "%s", f.id);
	in.volume_size = r.volume_size;
	snprintf(in.datastore_version_id, sizeof in.datastore_version_id, "%s", v.id);
	char key[33];
	if (guest_new_key(key, in.encrypted_key, sizeof in.encrypted_key, err)) {
		json_decref(databases);
		json_decref(users);
		json_decref(overrides);
		return -1;
	}
	json_t *access = r.access ? json_deep_copy(r.access) : json_pack("{s:b}", "is_public", 0);
	char *access_text = json_dumps(access, JSON_COMPACT);
	snprintf(in.access, sizeof in.access, "%s", access_text ? access_text : "{}");
	free(access_text);
	bool inserted = !instance_insert(&in, f.ram, err);
	if (!inserted || (config_id[0] && instance_set_configuration(in.id, config_id, err)) ||
	    (r.failover && instance_failover_create(in.id, r.failover, err))) {
		struct ct_error ignored;
		if (inserted)
			instance_mark_deleted(in.id, f.ram, &ignored);
		json_decref(access);
		json_decref(databases);
		json_decref(users);
		json_decref(overrides);
		return -1;
	}
	log_set_context(req->request_id, in.id);

	json_t *args = json_pack(
		"{s:s,s:s,s:o,s:n,s:o,s:o,s:s,s:s,s:I,s:s?,s:s?,s:n,s:O?,s:n,s:n,s:n,s:s?,s:[],"
		"s:s?,s:o,s:s}",
		"instance_id", in.id, "name", in.name, "flavor", flavor_dict(&f), "image_id",
		"databases", databases, "users", users, "datastore_manager", v.manager, "packages",
		v.packages, "volume_size", (json_int_t)r.volume_size, "backup_id",
		backup_id[0] ? backup_id : NULL, "availability_zone", r.availability_zone,
		"root_password", "nics", r.nics, "overrides", "slave_of_id", "cluster_config",
		"volume_type", r.volume_type, "modules", "locality", r.locality, "access", access,
		"ds_version", v.version);
	if (args && overrides)
		json_object_set(args, "overrides", overrides);
	if (args && point_in_time)
		json_object_set_new(args, "ctrove_restore_point",
				    json_pack("{s:s,s:I}", "instance_id", pitr.source_id, "time",
					      (json_int_t)pitr.time));
	json_decref(overrides);
	api_notify_start(req, "instance_create",
			 json_pack("{s:s,s:s,s:s,s:s,s:n,s:s?,s:s,s:s,s:I,s:s?,s:O?}",
				   "instance_id", in.id, "name", in.name, "flavor_id", f.id,
				   "datastore", v.datastore_name, "image_id", "availability_zone",
				   r.availability_zone, "region_name", cfg_str(CFG_REGION_NAME),
				   "datastore_version", v.name, "volume_size",
				   (json_int_t)r.volume_size, "backup_id",
				   backup_id[0] ? backup_id : NULL, "nics", r.nics));
	/* Queued with its arguments before the cast: if this process dies before
	 * the cast, or a taskmanager before it finishes, a restarted one resumes
	 * the build from here (docs/crash_recovery.md). */
	int rc = args ? task_claims_queue_build(in.id, key, args, err) : -1;
	explicit_bzero(key, sizeof key);
	if (!rc)
		CT_CRASH_POINT("create.row_inserted");
	rc = rc ? -1 : taskmanager_cast("create_instance", args, err);
	json_decref(args);
	if (!rc)
		CT_CRASH_POINT("create.cast_sent");
	if (rc) {
		/* The taskmanager never heard of it: take the row and the quota back. */
		struct ct_error ignored;
		instance_mark_deleted(in.id, f.ram, &ignored);
		claim_forget_instance(in.id, &ignored);
		if (!err->status || err->status == 500)
			ct_fail(err, 503, "The taskmanager cannot be reached; try again later.");
		return -1;
	}
	log_info("instance %s (%s %s, flavor %s, %ld GB) accepted", in.id, v.datastore_name, v.name,
		 f.id, r.volume_size);
	return instance_reply_detail(req, resp, in.id, 200, err);
}
