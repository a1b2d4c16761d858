/*
 * instance_configuration.c — see instance_configuration.h. Owns the
 * attach/detach checks and the effective-values view; may not talk to guests.
 */
#define LOG_MODULE "api"
#include "api/instance_configuration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/instance_status.h"
#include "api/validate.h"
#include "common/log.h"
#include "db/configurations.h"
#include "db/flavors.h"
#include "guest/datastore_hooks.h"
#include "taskmanager/api.h"

static const char *project_scope(const struct api_request *req)
{
	return req->who.is_admin ? NULL : req->project;
}

static const char *rest_status(const struct instance *in)
{
	struct instance_state s = {.task_id = in->task_id,
				   .server_status = in->server_status,
				   .service_status_id = in->service_status};
	return instance_status(&s);
}

/* Trove's check before an attach or detach (§5.5): server ACTIVE, task NONE. */
static int check_can_assign(const struct instance *in, struct ct_error *err)
{
	if (strcmp(in->server_status, "ACTIVE") || in->task_id != TASK_NONE)
		return ct_fail(err, 400,
			       "The operation you have requested cannot be executed because the "
			       "instance status is currently: %s.",
			       rest_status(in));
	return 0;
}

static int cast_apply(const char *instance_id, json_t *changed, struct ct_error *err)
{
	json_t *args = json_pack("{s:s,s:o}", "instance_id", instance_id, "changed", changed);
	int rc = taskmanager_cast("apply_configuration", args, err);
	json_decref(args);
	return rc;
}

static json_t *names_of(const char *config_id, struct ct_error *err)
{
	struct config_group g;
	struct config_value *values = NULL;
	size_t n = 0;
	if (config_group_load(config_id, NULL, &g, &values, &n, err))
		return NULL;
	json_t *names = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(names, json_string(values[i].key));
	free(values);
	return names;
}

static int attach(struct api_request *req, const struct instance *in, const char *config_id,
		  struct ct_error *err)
{
	char current[37];
	if (instance_configuration_id(in->id, current, err))
		return -1;
	if (current[0])
		return ct_fail(err, 400,
			       "Instance %s already has a Configuration Group attached: %s.",
			       in->id, current);
	if (check_can_assign(in, err))
		return -1;
	struct config_group g;
	if (config_group_load(config_id, project_scope(req), &g, NULL, NULL, err))
		return -1;
	if (strcmp(g.datastore_version_id, in->datastore_version_id))
		return ct_fail(err, 400,
			       "Datastore Version on Configuration %s does not match the "
			       "Datastore Version on the instance %s.",
			       g.datastore_version_id, in->datastore_version_id);
	json_t *changed = names_of(g.id, err);
	if (!changed)
		return -1;
	if (instance_set_configuration(in->id, g.id, err) ||
	    instance_set_task(in->id, TASK_UPDATING, err) || cast_apply(in->id, changed, err)) {
		struct ct_error ignored;
		instance_set_configuration(in->id, NULL, &ignored);
		instance_set_task(in->id, in->task_id, &ignored);
		return -1;
	}
	log_info("configuration group %s attached", g.id);
	return 0;
}

static int detach(const struct instance *in, struct ct_error *err)
{
	char current[37];
	if (instance_configuration_id(in->id, current, err))
		return -1;
	if (!current[0])
		return 0; /* Trove: nothing attached, nothing to do */
	if (check_can_assign(in, err))
		return -1;
	json_t *changed = names_of(current, err);
	if (!changed)
		return -1;
	if (instance_set_configuration(in->id, NULL, err) ||
	    instance_set_task(in->id, TASK_UPDATING, err) || cast_apply(in->id, changed, err)) {
		struct ct_error ignored;
		instance_set_configuration(in->id, current, &ignored);
		instance_set_task(in->id, in->task_id, &ignored);
		return -1;
	}
	log_info("configuration group %s detached", current);
	return 0;
}

int instance_configuration_change(struct api_request *req, const struct instance *in,
				  const json_t *value, struct ct_error *err)
{
	if (json_is_null(value))
		return detach(in, err);
	if (validate_uuid(value, "instance['configuration']", err))
		return -1;
	return attach(req, in, json_string_value(value), err);
}

int instance_configuration_for_create(const struct api_request *req, const json_t *ref,
				      const struct ds_version *v, char config_id[37],
				      json_t **overrides, struct ct_error *err)
{
	if (!json_is_string(ref))
		return validate_fail(err, "instance['configuration']", "is not of type 'string'");
	const char *text = json_string_value(ref);
	const char *slash = strrchr(text, '/');
	const char *id = slash ? slash + 1 : text;
	struct config_group g;
	if (config_group_load(id, project_scope(req), &g, NULL, NULL, err))
		return -1;
	if (strcmp(g.datastore_version_id, v->id))
		return ct_fail(err, 400,
			       "Datastore Version on Configuration %s does not match the "
			       "Datastore Version on the instance %s.",
			       g.datastore_version_id, v->id);
	*overrides = config_group_typed(g.id, v->id, err);
	if (!*overrides)
		return -1;
	snprintf(config_id, 37, "%s", g.id);
	return 0;
}

/* The [mysqld]-style settings of a rendered base config as {name: "value"}. */
static void add_rendered(json_t *out, const char *text)
{
	bool server = true;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512];
		if (len < sizeof buf) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			char *t = buf;
			while (*t == ' ' || *t == '\t')
				t++;
			if (*t == '[')
				server = !strncmp(t, "[mysqld]", 8);
			else if (server && *t && *t != '#' && *t != '!' && *t != ';') {
				char *eq = strchr(t, '=');
				char *name_end = eq ? eq : t + strlen(t);
				while (name_end > t &&
				       (name_end[-1] == ' ' || name_end[-1] == '\t'))
					name_end--;
				*name_end = '\0';
				const char *value = eq ? eq + 1 : "";
				while (*value == ' ' || *value == '\t')
					value++;
				for (char *c = t; *c; c++)
					if (*c == '-')
						*c = '_';
				if (*t)
					json_object_set_new(out, t, json_string(value));
			}
		}
		line += len + (nl ? 1 : 0);
	}
}

API_HANDLER(instance_configuration_show)
{
	struct instance in;
	if (instance_load(req->params[0], project_scope(req), &in, err))
		return -1;
	const struct datastore_hooks *hooks = datastore_hooks_find(in.manager, err);
	if (!hooks)
		return -1;
	json_t *values = json_object();
	struct flavor f;
	struct ct_error ignored;
	if (hooks->render_config && !flavor_get(in.flavor_id, &f, &ignored)) {
		char *text = malloc(16384);
		if (text && !hooks->render_config(in.id, f.ram, text, 16384, &ignored))
			add_rendered(values, text);
		free(text);
	}
	char config_id[37];
	if (instance_configuration_id(in.id, config_id, err)) {
		json_decref(values);
		return -1;
	}
	if (config_id[0]) {
		json_t *group = config_group_typed(config_id, in.datastore_version_id, err);
		if (!group) {
			json_decref(values);
			return -1;
		}
		json_object_update(values, group);
		json_decref(group);
	}
	return api_reply(resp, 200, json_pack("{s:{s:o}}", "instance", "configuration", values));
}
