/*
 * instance_replication.c — see instance_replication.h. Messages are Trove's
 * where Trove has one (trove/instance/models.py, service.py); the others are
 * listed in docs/replication.md.
 */
#define LOG_MODULE "api"
#include "api/instance_replication.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/instance_checks.h"
#include "api/instance_configuration.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/configurations.h"
#include "db/datastores.h"
#include "db/flavors.h"
#include "db/instance_rows.h"
#include "db/replication.h"
#include "guest/api.h"
#include "taskmanager/api.h"

static int refuse_replica_fields(const struct instance_request *r, struct ct_error *err)
{
	if (json_array_size(r->users) || json_array_size(r->databases))
		return ct_fail(err, 400, "Cannot create a replica with users or databases.");
	if (r->flavor_id[0])
		return ct_fail(err, 400, "Cannot specify flavor when creating replicas.");
	if (r->datastore_type || r->datastore_version)
		return ct_fail(err, 400, "Cannot specify datastore when creating replicas.");
	if (r->volume_size > 0)
		return ct_fail(err, 400, "Cannot specify volume when creating replicas.");
	if (r->locality)
		return ct_fail(err, 400, "Cannot specify locality when creating replicas.");
	if (r->restore_point)
		return ct_fail(err, 400, "Cannot specify a backup when creating replicas.");
	if (strlen(r->name) > 250)
		return ct_fail(err, 400, "Instance name %.40s... is longer than 255 characters.",
			       r->name);
	return 0;
}

/* The source: this project's (another project's is 404), not a replica
 * itself (Trove answers that with its Forbidden, 401), able to act. */
static int load_source(const struct api_request *req, const char *id, struct instance *src,
		       struct ct_error *err)
{
	if (instance_load(id, req->project, src, err))
		return -1;
	char its_source[37];
	int is_replica = replication_source_of(src->id, its_source, err);
	if (is_replica < 0)
		return -1;
	if (is_replica)
		return ct_fail(err, 401, "Cannot create a replica of a replica %s.", src->id);
	return instance_check_can_act(src, err);
}

static json_t *flavor_dict(const struct flavor *f)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "id", f->id, "name", f->name, "ram",
			 (json_int_t)f->ram, "vcpus", (json_int_t)f->vcpus, "disk",
			 (json_int_t)f->disk, "OS-FLV-EXT-DATA:ephemeral",
			 (json_int_t)f->ephemeral);
}

static void forget_rows(json_t *ids, long ram)
{
	size_t i;
	json_t *id;
	json_array_foreach (ids, i, id) {
		struct ct_error ignored;
		instance_mark_deleted(json_string_value(id), ram, &ignored);
	}
}

/* One replica's row: the source's flavor, volume size and datastore version,
 * counted in the quota like any instance. */
static int insert_replica(const struct api_request *req, const struct instance_request *r,
			  const struct instance *src, long ram, const char *name,
			  const char *config_id, const char *access, char id[37],
			  struct ct_error *err)
{
	struct instance in;
	memset(&in, 0, sizeof in);
	ids_uuid(in.id);
	snprintf(in.name, sizeof in.name, "%s", name);
	snprintf(in.tenant_id, sizeof in.tenant_id, "%s", req->project);
	snprintf(in.flavor_id, sizeof in.flavor_id, "%s", src->flavor_id);
	in.volume_size = src->volume_size;
	snprintf(in.datastore_version_id, sizeof in.datastore_version_id, "%s",
		 src->datastore_version_id);
	snprintf(in.access, sizeof in.access, "%s", access);
	char key[33];
	(void)r;
	if (guest_new_key(key, in.encrypted_key, sizeof in.encrypted_key, err))
		return -1;
	explicit_bzero(key, sizeof key);
	if (instance_insert(&in, ram, err))
		return -1;
	snprintf(id, 37, "%s", in.id);
	if ((config_id[0] && instance_set_configuration(in.id, config_id, err)) ||
	    replication_set_source(in.id, src->id, err)) {
		struct ct_error ignored;
		instance_mark_deleted(in.id, ram, &ignored);
		return -1;
	}
	return 0;
}

int instance_replicas_create(struct api_request *req, struct api_response *resp,
			     const struct instance_request *r, struct ct_error *err)
{
	struct instance src;
	struct flavor f;
	struct ds_version v;
	if (refuse_replica_fields(r, err) || load_source(req, r->replica_of, &src, err))
		return -1;
	if (flavor_get(src.flavor_id, &f, err) || dsv_by_id(src.datastore_version_id, 500, &v, err))
		return -1;
	char config_id[37] = "";
	json_t *overrides = NULL;
	if (r->configuration && !json_is_null(r->configuration) &&
	    instance_configuration_for_create(req, r->configuration, &v, config_id, &overrides,
					      err))
		return -1;
	json_t *access = r->access ? json_deep_copy(r->access) : json_pack("{s:b}", "is_public", 0);
	char *access_text = access ? json_dumps(access, JSON_COMPACT) : NULL;
	json_t *ids = json_array(), *names = json_array();
	int rc = access_text && ids && names ? 0 : ct_fail(err, 500, "out of memory");
	for (long i = 1; !rc && i <= r->replica_count; i++) {
		char name[300], id[37];
		if (r->replica_count > 1)
			snprintf(name, sizeof name, "%s-%ld", r->name, i);
		else
			snprintf(name, sizeof name, "%s", r->name);
		rc = insert_replica(req, r, &src, f.ram, name, config_id, access_text, id, err);
		if (!rc) {
			json_array_append_new(ids, json_string(id));
			json_array_append_new(names, json_string(name));
		}
	}
	free(access_text);
	json_t *args = NULL;
	if (!rc) {
		log_set_context(req->request_id, src.id);
		args = json_pack("{s:O,s:O,s:o,s:n,s:[],s:[],s:s,s:s,s:I,s:n,s:n,s:n,s:O?,s:n,s:s,"
				 "s:n,s:n,s:[],s:n,s:O,s:s}",
				 "instance_id", ids, "name", names, "flavor", flavor_dict(&f),
				 "image_id", "databases", "users", "datastore_manager", v.manager,
				 "packages", v.packages, "volume_size", (json_int_t)src.volume_size,
				 "backup_id", "availability_zone", "root_password", "nics", r->nics,
				 "overrides", "slave_of_id", src.id, "cluster_config",
				 "volume_type", "modules", "locality", "access", access,
				 "ds_version", v.version);
		if (args && overrides)
			json_object_set(args, "overrides", overrides);
		rc = args ? taskmanager_cast("create_instance", args, err)
			  : ct_fail(err, 500, "out of memory");
		if (rc && (!err->status || err->status == 500))
			ct_fail(err, 503, "The taskmanager cannot be reached; try again later.");
	}
	if (rc)
		forget_rows(ids, f.ram);
	else
		log_info("%zu replica(s) of %s accepted", json_array_size(ids), src.id);
	char last[37] = "";
	if (!rc)
		snprintf(last, sizeof last, "%s",
			 json_string_value(json_array_get(ids, json_array_size(ids) - 1)));
	json_decref(args);
	json_decref(ids);
	json_decref(names);
	json_decref(access);
	json_decref(overrides);
	return rc ? -1 : instance_reply_detail(req, resp, last, 200, err);
}

static int cast_instance(const char *method, const char *id, struct ct_error *err)
{
	json_t *args = json_pack("{s:s}", "instance_id", id);
	int rc = args ? taskmanager_cast(method, args, err) : ct_fail(err, 500, "out of memory");
	json_decref(args);
	return rc;
}

/* Set task on a source and its replicas (ids: the replicas). */
static int set_tasks(const char *source, char (*ids)[37], size_t n, int task, struct ct_error *err)
{
	if (instance_set_task(source, task, err))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (instance_set_task(ids[i], task, err))
			return -1;
	return 0;
}

int instance_action_promote(struct api_request *req, struct instance *in, struct ct_error *err)
{
	(void)req;
	char source[37];
	int is_replica = replication_source_of(in->id, source, err);
	if (is_replica < 0)
		return -1;
	if (!is_replica)
		return ct_fail(err, 400, "Instance %s is not a replica.", in->id);
	struct instance src;
	if (instance_check_can_act(in, err) || instance_load(source, NULL, &src, err) ||
	    instance_check_can_act(&src, err))
		return -1;
	char(*ids)[37] = NULL;
	size_t n = 0;
	if (replication_replicas_of(source, &ids, &n, err))
		return -1;
	int rc = set_tasks(source, ids, n, TASK_PROMOTING, err) ||
		 cast_instance("promote_to_replica_source", in->id, err);
	if (rc) {
		struct ct_error ignored;
		set_tasks(source, ids, n, TASK_NONE, &ignored);
	}
	free(ids);
	return rc ? -1 : 0;
}

struct heartbeat {
	bool seen;
	time_t at;
};

static int read_heartbeat(void *ctx, const struct instance_row *row, struct ct_error *err)
{
	(void)err;
	struct heartbeat *h = ctx;
	h->seen = row->service_updated && timefmt_db_parse(row->service_updated, &h->at);
	return 0;
}

int instance_action_eject(struct api_request *req, struct instance *in, struct ct_error *err)
{
	(void)req;
	char(*ids)[37] = NULL;
	size_t n = 0;
	if (replication_replicas_of(in->id, &ids, &n, err))
		return -1;
	if (n == 0)
		return ct_fail(err, 400, "Instance %s is not a replica source.", in->id);
	struct heartbeat h = {0};
	int rc = instance_rows_one(in->tenant_id, in->id, read_heartbeat, &h, err);
	if (!rc && h.seen && time(NULL) - h.at < cfg_int(CFG_AGENT_HEARTBEAT_EXPIRY))
		rc = ct_fail(err, 400,
			     "Replica Source %s cannot be ejected as it has a current heartbeat",
			     in->id);
	if (!rc) {
		rc = set_tasks(in->id, ids, n, TASK_EJECTING, err) ||
		     cast_instance("eject_replica_source", in->id, err);
		if (rc) {
			struct ct_error ignored;
			set_tasks(in->id, ids, n, TASK_NONE, &ignored);
		}
	}
	free(ids);
	return rc ? -1 : 0;
}

int instance_detach_replica(const struct instance *in, struct ct_error *err)
{
	char source[37];
	int is_replica = replication_source_of(in->id, source, err);
	if (is_replica < 0)
		return -1;
	if (!is_replica)
		return ct_fail(err, 400, "Instance %s is not a replica.", in->id);
	if (instance_check_can_act(in, err) || instance_set_task(in->id, TASK_DETACHING, err))
		return -1;
	if (cast_instance("detach_replica", in->id, err)) {
		struct ct_error ignored;
		instance_set_task(in->id, in->task_id, &ignored);
		return -1;
	}
	return 0;
}

int instance_check_no_replicas(const struct instance *in, struct ct_error *err)
{
	char(*ids)[37] = NULL;
	size_t n = 0;
	if (replication_replicas_of(in->id, &ids, &n, err))
		return -1;
	free(ids);
	if (n)
		return ct_fail(err, 403, "Detach replicas before deleting replica source.");
	return 0;
}

int instance_check_not_replica(const struct instance *in, struct ct_error *err)
{
	char source[37];
	int is_replica = replication_source_of(in->id, source, err);
	if (is_replica < 0)
		return -1;
	if (is_replica)
		return ct_fail(err, 400,
			       "Instance %s is a replica of %s and is read only: change users, "
			       "databases and root on its source.",
			       in->id, source);
	return 0;
}
