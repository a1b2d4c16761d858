/*
 * service.c — the taskmanager as an RPC server (Trove's topic `taskmanager`,
 * version 1.0, casts only, encrypted with taskmanager_rpc_encr_key when secure
 * messaging is on). The dispatch table declares every method of spec
 * trove-internals.md §3.1 with its arguments; methods whose work has not
 * landed yet answer NotImplementedError (501) and change nothing.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/service.h"

#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "taskmanager/backup_tasks.h"
#include "taskmanager/configuration_tasks.h"
#include "taskmanager/failover.h"
#include "taskmanager/replication_tasks.h"
#include "taskmanager/resize_tasks.h"
#include "taskmanager/tasks.h"

static json_t *not_implemented(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	log_warning("taskmanager method %s is not implemented yet", req->method);
	ct_fail(err, 501, "taskmanager method %s is not implemented yet", req->method);
	return NULL;
}

static const char *instance_id_of(const struct rpc_request *req)
{
	return json_string_value(json_object_get(req->args, "instance_id"));
}

static json_t *on_create_instance(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return tasks_create_instance(req->args, err) ? NULL : json_null();
}

static json_t *on_delete_instance(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	const char *id = instance_id_of(req);
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string"), NULL;
	return tasks_delete_instance(id, err) ? NULL : json_null();
}

static json_t *on_restart(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	const char *id = instance_id_of(req);
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string"), NULL;
	return tasks_restart(id, err) ? NULL : json_null();
}

static json_t *on_update_access(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	const char *id = instance_id_of(req);
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string"), NULL;
	return tasks_update_access(id, json_object_get(req->args, "access"), err) ? NULL
										  : json_null();
}

static json_t *on_create_backup(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return tasks_create_backup(req->args, err) ? NULL : json_null();
}

static json_t *on_delete_backup(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	const char *id = json_string_value(json_object_get(req->args, "backup_id"));
	if (!id)
		return ct_fail(err, 400, "backup_id must be a string"), NULL;
	return tasks_delete_backup(id, err) ? NULL : json_null();
}

static json_t *on_resize_volume(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return tasks_resize_volume(req->args, err) ? NULL : json_null();
}

static json_t *on_resize_flavor(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return tasks_resize_flavor(req->args, err) ? NULL : json_null();
}

/* promote_to_replica_source, eject_replica_source, detach_replica. */
static json_t *on_replication(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	const char *id = instance_id_of(req);
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string"), NULL;
	int rc = !strcmp(req->method, "detach_replica") ? tasks_detach_replica(id, err)
		 : !strcmp(req->method, "promote_to_replica_source")
			 ? tasks_promote_to_replica_source(id, err)
			 : tasks_eject_replica_source(id, err);
	return rc ? NULL : json_null();
}

#define ID                                                                                         \
	{                                                                                          \
		"instance_id", RPC_T_STRING | RPC_T_ARRAY, true                                    \
	}
#define END                                                                                        \
	{                                                                                          \
		NULL, 0, false                                                                     \
	}

static const struct rpc_arg create_instance_args[] = {
	ID,
	{"name", RPC_T_STRING | RPC_T_ARRAY, true},
	{"flavor", RPC_T_OBJECT, true},
	{"image_id", RPC_T_STRING | RPC_T_NULL, false},
	{"databases", RPC_T_ARRAY | RPC_T_NULL, false},
	{"users", RPC_T_ARRAY | RPC_T_NULL, false},
	{"datastore_manager", RPC_T_STRING, true},
	{"packages", RPC_T_STRING | RPC_T_ARRAY | RPC_T_NULL, false},
	{"volume_size", RPC_T_INT | RPC_T_NULL, false},
	{"backup_id", RPC_T_STRING | RPC_T_NULL, false},
	{"availability_zone", RPC_T_STRING | RPC_T_NULL, false},
	{"root_password", RPC_T_STRING | RPC_T_ARRAY | RPC_T_NULL, false},
	{"nics", RPC_T_ARRAY | RPC_T_NULL, false},
	{"overrides", RPC_T_OBJECT | RPC_T_NULL, false},
	{"slave_of_id", RPC_T_STRING | RPC_T_NULL, false},
	{"cluster_config", RPC_T_OBJECT | RPC_T_NULL, false},
	{"volume_type", RPC_T_STRING | RPC_T_NULL, false},
	{"modules", RPC_T_ARRAY | RPC_T_NULL, false},
	{"locality", RPC_T_STRING | RPC_T_NULL, false},
	{"access", RPC_T_OBJECT | RPC_T_NULL, false},
	{"ds_version", RPC_T_STRING | RPC_T_NULL, false},
	/* ctrove (PITR): {"instance_id": source, "time": unix seconds}, with backup_id the
	 * base backup the API chose (docs/pitr.md). */
	{"ctrove_restore_point", RPC_T_OBJECT | RPC_T_NULL, false},
	END,
};
static const struct rpc_arg instance_only_args[] = {ID, END};
static const struct rpc_arg resize_volume_args[] = {ID, {"new_size", RPC_T_INT, true}, END};
static const struct rpc_arg resize_flavor_args[] = {
	ID, {"old_flavor", RPC_T_OBJECT, true}, {"new_flavor", RPC_T_OBJECT, true}, END};
static const struct rpc_arg migrate_args[] = {ID, {"host", RPC_T_STRING | RPC_T_NULL, false}, END};
static const struct rpc_arg rebuild_args[] = {ID, {"image_id", RPC_T_STRING, true}, END};
static const struct rpc_arg update_access_args[] = {ID, {"access", RPC_T_OBJECT, true}, END};
static const struct rpc_arg create_backup_args[] = {{"backup_info", RPC_T_OBJECT, true}, ID, END};
static const struct rpc_arg delete_backup_args[] = {{"backup_id", RPC_T_STRING, true}, END};
static const struct rpc_arg upgrade_args[] = {
	ID, {"datastore_version_id", RPC_T_STRING, true}, END};
static const struct rpc_arg cluster_args[] = {{"cluster_id", RPC_T_STRING, true}, END};
static const struct rpc_arg grow_cluster_args[] = {
	{"cluster_id", RPC_T_STRING, true}, {"new_instance_ids", RPC_T_ARRAY, true}, END};
static const struct rpc_arg shrink_cluster_args[] = {
	{"cluster_id", RPC_T_STRING, true}, {"instance_ids", RPC_T_ARRAY, true}, END};
static const struct rpc_arg upgrade_cluster_args[] = {
	{"cluster_id", RPC_T_STRING, true}, {"datastore_version_id", RPC_T_STRING, true}, END};
static const struct rpc_arg reapply_module_args[] = {
	{"module_id", RPC_T_STRING, true},
	{"md5", RPC_T_STRING | RPC_T_NULL, false},
	{"include_clustered", RPC_T_BOOL | RPC_T_NULL, false},
	{"batch_size", RPC_T_INT | RPC_T_NULL, false},
	{"batch_delay", RPC_T_NUMBER | RPC_T_NULL, false},
	{"force", RPC_T_BOOL | RPC_T_NULL, false},
	END,
};

static json_t *on_apply_configuration(void *user, const struct rpc_request *req,
				      struct ct_error *err)
{
	(void)user;
	return tasks_apply_configuration(req->args, err) ? NULL : json_null();
}

static const struct rpc_arg apply_configuration_args[] = {
	{"instance_id", RPC_T_STRING, true}, {"changed", RPC_T_ARRAY, true}, END};

static json_t *on_apply_failover_settings(void *user, const struct rpc_request *req,
					  struct ct_error *err)
{
	(void)user;
	const char *id = instance_id_of(req);
	if (!id)
		return ct_fail(err, 400, "instance_id must be a string"), NULL;
	return tasks_apply_failover_settings(id, err) ? NULL : json_null();
}

static const struct rpc_arg apply_failover_settings_args[] = {{"instance_id", RPC_T_STRING, true},
							      END};

static const struct rpc_method taskmanager_methods[] = {
	{"create_instance", on_create_instance, create_instance_args, false},
	{"delete_instance", on_delete_instance, instance_only_args, false},
	{"resize_volume", on_resize_volume, resize_volume_args, false},
	{"resize_flavor", on_resize_flavor, resize_flavor_args, false},
	{"reboot", not_implemented, instance_only_args, false},
	{"restart", on_restart, instance_only_args, false},
	{"detach_replica", on_replication, instance_only_args, false},
	{"promote_to_replica_source", on_replication, instance_only_args, false},
	{"eject_replica_source", on_replication, instance_only_args, false},
	{"migrate", not_implemented, migrate_args, false},
	{"rebuild", not_implemented, rebuild_args, false},
	{"update_access", on_update_access, update_access_args, false},
	{"create_backup", on_create_backup, create_backup_args, false},
	{"delete_backup", on_delete_backup, delete_backup_args, false},
	{"upgrade", not_implemented, upgrade_args, false},
	{"create_cluster", not_implemented, cluster_args, false},
	{"delete_cluster", not_implemented, cluster_args, false},
	{"grow_cluster", not_implemented, grow_cluster_args, false},
	{"shrink_cluster", not_implemented, shrink_cluster_args, false},
	{"restart_cluster", not_implemented, cluster_args, false},
	{"upgrade_cluster", not_implemented, upgrade_cluster_args, false},
	{"reapply_module", not_implemented, reapply_module_args, false},
	/* ctrove: a configuration group reaches one instance (issue 13). */
	{"apply_configuration", on_apply_configuration, apply_configuration_args, false},
	/* ctrove: a source's failover settings changed (issue 15). */
	{"apply_failover_settings", on_apply_failover_settings, apply_failover_settings_args,
	 false},
	{NULL, NULL, NULL, false},
};

struct rpc_server *taskmanager_service_new(struct ct_error *err)
{
	struct rpc_server_opts opts = {
		.topic = cfg_str(CFG_TASKMANAGER_QUEUE),
		.version = "1.0",
		.methods = taskmanager_methods,
		.key = cfg_bool(CFG_ENABLE_SECURE_RPC) ? cfg_str(CFG_TASKMANAGER_RPC_ENCR_KEY)
						       : NULL,
	};
	return rpc_server_new(NULL, &opts, err);
}
