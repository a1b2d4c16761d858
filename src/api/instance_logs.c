/*
 * instance_logs.c — an instance's database logs (trove-api.md §6.8, §7.1:
 * GET and POST /instances/{id}/log): the guest lists its logs and enables,
 * disables, publishes or discards one (guest/api.h); a non-admin sees and
 * touches only the logs [<datastore>] guest_log_exposed_logs names. Publish
 * and discard write to the backup store, which this file describes to the
 * guest (storage/store.h, struct store_access, sealed in the message).
 * Owns the API's log views; may not build guest messages nor read the store.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "common/config.h"
#include "db/instances.h"
#include "guest/api.h"
#include "storage/store.h"

static int exposed_option(const char *manager)
{
	if (!strcmp(manager, "postgresql"))
		return CFG_POSTGRESQL_LOG_EXPOSED;
	return CFG_MARIADB_LOG_EXPOSED;
}

static bool may_touch(const struct api_request *req, const struct instance *in, const char *log)
{
	int option = exposed_option(in->manager);
	return req->who.is_admin || cfg_list_contains(option, "all") ||
	       cfg_list_contains(option, log);
}

static int ready_instance(struct api_request *req, struct instance *in, struct ct_error *err)
{
	if (instance_load(req->params[0], req->who.is_admin ? NULL : req->project, in, err))
		return -1;
	if (in->service_status != SERVICE_RUNNING && in->service_status != SERVICE_HEALTHY)
		return ct_fail(err, 422, "Instance %s is not ready, status: %s.", in->id,
			       service_status_description(in->service_status));
	return 0;
}

API_HANDLER(instance_logs_index)
{
	struct instance in;
	if (ready_instance(req, &in, err))
		return -1;
	const struct guest_ref guest = {in.id, in.encrypted_key};
	json_t *logs;
	if (guest_list_logs(&guest, &logs, err))
		return -1;
	json_t *shown = json_array();
	size_t i;
	json_t *v;
	json_array_foreach (logs, i, v)
		if (may_touch(req, &in, json_string_value(json_object_get(v, "name"))))
			json_array_append(shown, v);
	json_decref(logs);
	return api_reply(resp, 200, json_pack("{s:o}", "logs", shown));
}

/* A flag of the body: absent, a boolean or 0/1 (the client sends ints). */
static int flag(const json_t *body, const char *key, bool *out, struct ct_error *err)
{
	const json_t *v = json_object_get(body, key);
	*out = false;
	if (!v || json_is_false(v) || json_is_null(v))
		return 0;
	if (json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1)) {
		*out = true;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) == 0)
		return 0;
	return ct_fail(err, 400, "Invalid request body: '%s' must be 0, 1 or a boolean.", key);
}

API_HANDLER(instance_logs_action)
{
	const json_t *body = req->json;
	const char *name = json_string_value(json_object_get(body, "name"));
	if (!json_is_object(body) || !name || !*name)
		return ct_fail(err, 400, "Invalid request body: 'name' is a required property.");
	if (strlen(name) >= GUEST_NAME_SIZE || strcspn(name, "/\\") != strlen(name))
		return ct_fail(err, 400, "Invalid request body: 'name' is not a log name.");
	struct guest_log_args args = {.name = name};
	if (flag(body, "enable", &args.enable, err) || flag(body, "disable", &args.disable, err) ||
	    flag(body, "publish", &args.publish, err) || flag(body, "discard", &args.discard, err))
		return -1;
	if (args.enable && args.disable)
		return ct_fail(err, 400, "Cannot enable and disable log '%s'.", name);
	struct instance in;
	if (ready_instance(req, &in, err))
		return -1;
	if (!may_touch(req, &in, name))
		return ct_fail(err, 403,
			       "User does not have admin privileges to act on the '%s' log.", name);
	struct store_access access;
	struct backup_store *store = NULL;
	if (args.publish || args.discard) {
		store = backup_store_new(err);
		if (!store)
			return -1;
		if (backup_store_access(store, &access, err)) {
			backup_store_free(store);
			return -1;
		}
		args.store = &access;
	}
	const struct guest_ref guest = {in.id, in.encrypted_key};
	json_t *log = NULL;
	int rc = guest_act_on_log(&guest, &args, &log, err);
	explicit_bzero(&access, sizeof access);
	backup_store_free(store);
	if (rc)
		return -1;
	return api_reply(resp, 200, json_pack("{s:o}", "log", log));
}
