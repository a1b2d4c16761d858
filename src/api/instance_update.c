/*
 * instance_update.c — changing an instance: DELETE /instances/{id},
 * PUT/PATCH /instances/{id} (name, access) and POST /instances/{id}/action
 * (restart, reset_status) — spec trove-api.md §5.5, §7.1, §8.2. The work is
 * the taskmanager's; these handlers check, record the task and cast.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_notify.h"
#include "api/handlers.h"
#include "api/instance_checks.h"
#include "api/instance_configuration.h"
#include "api/instance_failover.h"
#include "api/instance_replication.h"
#include "api/instance_request.h"
#include "api/instance_resize.h"
#include "api/instance_status.h"
#include "api/policy.h"
#include "api/validate.h"
#include "common/crash_point.h"
#include "common/log.h"
#include "db/backups.h"
#include "db/instances.h"
#include "taskmanager/api.h"

static int cast_instance(const char *method, const char *id, struct ct_error *err)
{
	json_t *args = json_pack("{s:s}", "instance_id", id);
	int rc = taskmanager_cast(method, args, err);
	json_decref(args);
	return rc;
}

/* The REST status of a loaded instance (server status as the compute knows it). */
static const char *rest_status(const struct instance *in)
{
	struct instance_state s = {.task_id = in->task_id,
				   .server_status = in->server_status,
				   .service_status_id = in->service_status};
	return instance_status(&s);
}

/* Trove's validate_can_perform_action (§5.5). */
static int check_can_act(const struct instance *in, struct ct_error *err)
{
	return instance_check_can_act(in, err);
}

int instance_can_act(const struct instance *in, struct ct_error *err)
{
	return check_can_act(in, err);
}

static const char *project_scope(const struct api_request *req)
{
	/* Admins may act on any project's instance, as Trove's lookups allow. */
	return req->who.is_admin ? NULL : req->project;
}

API_HANDLER(instances_delete)
{
	struct instance in;
	if (instance_load(req->params[0], project_scope(req), &in, err))
		return -1;
	if (!strcmp(rest_status(&in), "BUILD"))
		return ct_fail(err, 422, "Instance %s is not ready. (Status is BUILD).", in.id);
	if (instance_check_no_replicas(&in, err) || instance_set_task(in.id, TASK_DELETING, err))
		return -1;
	api_notify_start(req, "instance_delete", json_pack("{s:s}", "instance_id", in.id));
	CT_CRASH_POINT("delete.deleting_set");
	if (cast_instance("delete_instance", in.id, err)) {
		struct ct_error ignored;
		instance_set_task(in.id, in.task_id, &ignored);
		return -1;
	}
	return api_reply(resp, 202, NULL);
}

API_HANDLER(instances_update)
{
	bool put = !strcmp(req->method, "PUT");
	static const char *const top[] = {"instance", NULL};
	static const char *const put_keys[] = {"name",	 "replica_of", "configuration",
					       "access", "failover",   "datastore_version",
					       NULL};
	static const char *const patch_keys[] = {
		"name",	    "replica_of",	 "slave_of", "configuration",
		"failover", "datastore_version", NULL};
	if (validate_object(req->json, "", err) || validate_required(req->json, "", top, err))
		return -1;
	json_t *body = json_object_get(req->json, "instance");
	if (validate_object(body, "instance", err) ||
	    validate_only(body, "instance", put ? put_keys : patch_keys, err))
		return -1;
	const json_t *name = json_object_get(body, "name");
	if (name && validate_non_empty_string(name, "instance['name']", err))
		return -1;
	if (json_object_size(body) - (name ? 1 : 0) > 1)
		return ct_fail(err, 400,
			       "Only one attribute (except 'name') is allowed to update.");
	const json_t *access = json_object_get(body, "access");
	if (access) {
		json_t *wrapped =
			json_pack("{s:{s:s,s:O}}", "instance", "name", "x", "access", access);
		struct instance_request r;
		int rc = instance_request_parse(wrapped, &r, err);
		json_decref(wrapped);
		if (rc)
			return -1;
	}
	struct instance in;
	if (instance_load(req->params[0], project_scope(req), &in, err))
		return -1;
	if (json_object_get(body, "replica_of") || json_object_get(body, "slave_of")) {
		if (name && instance_set_name(in.id, json_string_value(name), err))
			return -1;
		return instance_detach_replica(&in, err) ? -1 : api_reply(resp, 202, NULL);
	}
	const json_t *configuration = json_object_get(body, "configuration");
	if (json_object_get(body, "datastore_version"))
		return ct_fail(err, 501, "Datastore upgrades are not implemented in ctrove yet.");
	if (name && (strlen(json_string_value(name)) > 255 ||
		     instance_set_name(in.id, json_string_value(name), err)))
		return err->status
			       ? -1
			       : ct_fail(err, 400, "Instance name is longer than 255 characters.");
	if (configuration && instance_configuration_change(req, &in, configuration, err))
		return -1;
	const json_t *failover = json_object_get(body, "failover");
	if (failover && instance_failover_change(&in, failover, err))
		return -1;
	if (access) {
		if (strcmp(rest_status(&in), "ACTIVE"))
			return ct_fail(
				err, 400,
				"The operation you have requested cannot be executed because "
				"the instance status is currently: %s.",
				rest_status(&in));
		char *text = json_dumps(access, JSON_COMPACT);
		int rc = !text || instance_set_access(in.id, text, err) ||
			 instance_set_task(in.id, TASK_UPDATING, err);
		free(text);
		if (rc)
			return err->status ? -1 : ct_fail(err, 500, "out of memory");
		json_t *args = json_pack("{s:s,s:O}", "instance_id", in.id, "access", access);
		rc = taskmanager_cast("update_access", args, err);
		json_decref(args);
		if (rc) {
			struct ct_error ignored;
			instance_set_task(in.id, TASK_NONE, &ignored);
			return -1;
		}
	}
	return api_reply(resp, 202, NULL);
}

static int action_restart(struct api_request *req, struct instance *in, struct ct_error *err)
{
	if (check_can_act(in, err) || instance_set_task(in->id, TASK_REBOOTING, err) ||
	    instance_set_service_status(in->id, SERVICE_RESTARTING, err))
		return -1;
	api_notify_start(req, "instance_restart", json_pack("{s:s}", "instance_id", in->id));
	if (cast_instance("restart", in->id, err)) {
		struct ct_error ignored;
		instance_set_task(in->id, TASK_NONE, &ignored);
		instance_set_service_status(in->id, in->service_status, &ignored);
		return -1;
	}
	return 0;
}

static int action_reset_status(struct api_request *req, struct instance *in, struct ct_error *err)
{
	(void)req;
	if (instance_set_task(in->id, TASK_NONE, err) ||
	    instance_set_service_status(in->id, SERVICE_UNKNOWN, err) ||
	    backup_fail_running(in->id, 0, err) < 0)
		return -1;
	log_info("status of %s reset by an admin", in->id);
	return 0;
}

/* Each action is authorised by its own policy rule, as in Trove (resize's
 * depends on what is resized). */
static const struct {
	const char *name;
	const char *rule;
	int (*run)(struct api_request *req, struct instance *in, struct ct_error *err);
} actions[] = {
	{"restart", "instance:restart", action_restart},
	{"reset_status", "instance:reset_status", action_reset_status},
	{"resize", "instance:resize_flavor", instance_action_resize},
	{"promote_to_replica_source", "instance:promote_to_replica_source",
	 instance_action_promote},
	{"eject_replica_source", "instance:eject_replica_source", instance_action_eject},
};

static const char *action_rule(const struct api_request *req, size_t i)
{
	const json_t *args = json_object_get(req->json, actions[i].name);
	if (!strcmp(actions[i].name, "resize") && json_object_get(args, "volume"))
		return "instance:resize_volume";
	return actions[i].rule;
}

API_HANDLER(instances_action)
{
	if (validate_object(req->json, "", err))
		return -1;
	if (json_object_size(req->json) != 1)
		return ct_fail(err, 400, "Exactly one action is expected, got %zu.",
			       json_object_size(req->json));
	const char *name = json_object_iter_key(json_object_iter(req->json));
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
		if (strcmp(actions[i].name, name))
			continue;
		char path[VALIDATE_PATH_MAX];
		validate_path(path, "", name);
		if (validate_object(json_object_get(req->json, name), path, err))
			return -1;
		struct instance in;
		if (instance_load(req->params[0], project_scope(req), &in, err) ||
		    policy_enforce(req, action_rule(req, i), err) || actions[i].run(req, &in, err))
			return -1;
		return api_reply(resp, 202, NULL);
	}
	return ct_fail(err, 400, "Invalid instance action: %.60s", name);
}
