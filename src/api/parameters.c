/*
 * parameters.c — configuration parameters of a datastore version: the public
 * read routes and the admin /mgmt/datastores/versions/{id}/parameters CRUD
 * (spec trove-api.md §6.5, §7.3, §7.9; trove-internals.md §8.2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "db/datastores.h"
#include "db/parameters.h"

/* A bound stored as text, as a JSON number (real beyond 64 bits). */
static json_t *bound_value(const char *text)
{
	errno = 0;
	char *end;
	long long v = strtoll(text, &end, 10);
	if (!errno && !*end)
		return json_integer(v);
	return json_real(strtod(text, NULL));
}

static bool bound_present(const char *text)
{
	/* The public view omits min/max when null or 0. */
	return text[0] && strcmp(text, "0");
}

static json_t *param_view(const struct ds_parameter *p, bool mgmt)
{
	json_t *o = json_pack("{s:s,s:s,s:b,s:s}", "name", p->name, "datastore_version_id",
			      p->version_id, "restart_required", p->restart_required, "type",
			      p->data_type);
	if (mgmt) {
		json_object_set_new(o, "max_size",
				    p->max_size[0] ? bound_value(p->max_size) : json_null());
		json_object_set_new(o, "min_size",
				    p->min_size[0] ? bound_value(p->min_size) : json_null());
		return o;
	}
	if (bound_present(p->max_size))
		json_object_set_new(o, "max", bound_value(p->max_size));
	if (bound_present(p->min_size))
		json_object_set_new(o, "min", bound_value(p->min_size));
	return o;
}

static int reply_list(struct api_response *resp, const char *version_id, bool mgmt,
		      struct ct_error *err)
{
	struct ds_parameter *params;
	size_t count;
	if (param_list(version_id, &params, &count, err))
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(list, param_view(&params[i], mgmt));
	free(params);
	return api_reply(resp, 200, json_pack("{s:o}", "configuration-parameters", list));
}

static int reply_one(struct api_response *resp, const char *version_id, const char *name, bool mgmt,
		     struct ct_error *err)
{
	struct ds_parameter p;
	if (param_get(version_id, name, &p, err))
		return -1;
	return api_reply(resp, 200, param_view(&p, mgmt));
}

/* The version named in /datastores/{ds}/versions/{v}; it must be active. */
static int active_version(struct api_request *req, struct ds_version *v, struct ct_error *err)
{
	struct datastore d;
	if (ds_find(req->params[0], &d, err) || dsv_find(&d, req->params[1], v, err))
		return -1;
	if (!v->active)
		return ct_fail(err, 400, "Datastore version '%.255s' is not active.", v->name);
	return 0;
}

API_HANDLER(parameters_index)
{
	struct ds_version v;
	if (active_version(req, &v, err))
		return -1;
	return reply_list(resp, v.id, false, err);
}

API_HANDLER(parameters_show)
{
	struct ds_version v;
	if (active_version(req, &v, err))
		return -1;
	return reply_one(resp, v.id, req->params[2], false, err);
}

API_HANDLER(parameters_index_by_version)
{
	struct ds_version v;
	if (dsv_by_id(req->params[0], 400, &v, err))
		return -1;
	return reply_list(resp, v.id, false, err);
}

API_HANDLER(parameters_show_by_version)
{
	struct ds_version v;
	if (dsv_by_id(req->params[0], 400, &v, err))
		return -1;
	return reply_one(resp, v.id, req->params[1], false, err);
}

API_HANDLER(mgmt_parameters_index)
{
	struct ds_version v;
	if (dsv_by_id(req->params[0], 400, &v, err))
		return -1;
	return reply_list(resp, v.id, true, err);
}

API_HANDLER(mgmt_parameters_show)
{
	struct ds_version v;
	if (dsv_by_id(req->params[0], 400, &v, err))
		return -1;
	return reply_one(resp, v.id, req->params[1], true, err);
}

/* Parse {"configuration-parameter": {...}} into p; name from the body. */
static int parse_body(const json_t *json, const char *version_id, struct ds_parameter *p,
		      struct ct_error *err)
{
	static const char *const top[] = {"configuration-parameter", NULL};
	static const char *const required[] = {"name", "restart_required", "data_type", NULL};
	static const char *const allowed[] = {"name",	  "restart_required", "data_type",
					      "max_size", "min_size",	      NULL};
	const char *path = "configuration-parameter";
	if (validate_object(json, "", err) || validate_required(json, "", top, err) ||
	    validate_only(json, "", top, err))
		return -1;
	const json_t *body = json_object_get(json, path);
	if (validate_object(body, path, err) || validate_required(body, path, required, err) ||
	    validate_only(body, path, allowed, err))
		return -1;
	char p_path[VALIDATE_PATH_MAX];
	validate_path(p_path, path, "name");
	const json_t *name = json_object_get(body, "name");
	if (validate_non_empty_string(name, p_path, err))
		return -1;
	if (strlen(json_string_value(name)) > 128)
		return validate_fail(err, p_path, "is longer than 128 characters");
	const json_t *restart = json_object_get(body, "restart_required");
	validate_path(p_path, path, "restart_required");
	if (!json_is_integer(restart) ||
	    (json_integer_value(restart) != 0 && json_integer_value(restart) != 1)) {
		char repr[128];
		validate_repr(restart, repr, sizeof repr);
		return validate_fail(err, p_path, "%s is not one of [0, 1]", repr);
	}
	/* Reuse the rules-file checks for type and bounds. */
	json_t *rule = json_pack("{s:O,s:b,s:O}", "name", name, "restart_required",
				 json_integer_value(restart) == 1, "type",
				 json_object_get(body, "data_type"));
	if (!rule)
		return ct_fail(err, 400, "Validation error: %s['data_type'] is required", path);
	if (json_object_get(body, "max_size"))
		json_object_set(rule, "max", json_object_get(body, "max_size"));
	if (json_object_get(body, "min_size"))
		json_object_set(rule, "min", json_object_get(body, "min_size"));
	int rc = param_from_rule(rule, version_id, p, err);
	json_decref(rule);
	if (rc)
		return -1;
	if (!strcmp(p->data_type, "integer")) {
		if (!p->max_size[0] || !p->min_size[0])
			return ct_fail(err, 400,
				       "max_size and min_size are required for integer "
				       "parameters.");
		if (strtold(p->max_size, NULL) < strtold(p->min_size, NULL))
			return ct_fail(err, 400, "max_size must not be less than min_size.");
	}
	return 0;
}

API_HANDLER(mgmt_parameters_create)
{
	struct ds_version v;
	struct ds_parameter p, existing;
	struct ct_error lookup;
	if (dsv_by_id(req->params[0], 400, &v, err) || parse_body(req->json, v.id, &p, err))
		return -1;
	if (!param_get(v.id, p.name, &existing, &lookup))
		return ct_fail(err, 400, "Parameter %s already exists for datastore version %s.",
			       p.name, v.id);
	if (param_upsert(&p, err))
		return -1;
	return api_reply(resp, 200, param_view(&p, true));
}

API_HANDLER(mgmt_parameters_update)
{
	struct ds_version v;
	struct ds_parameter p, existing;
	if (dsv_by_id(req->params[0], 400, &v, err) ||
	    param_get(v.id, req->params[1], &existing, err) || parse_body(req->json, v.id, &p, err))
		return -1;
	if (strcmp(p.name, existing.name))
		return ct_fail(err, 400, "The parameter name cannot be changed (%s).",
			       existing.name);
	if (param_upsert(&p, err))
		return -1;
	return api_reply(resp, 200, param_view(&p, true));
}

API_HANDLER(mgmt_parameters_delete)
{
	struct ds_version v;
	if (dsv_by_id(req->params[0], 400, &v, err) || param_delete(v.id, req->params[1], err))
		return -1;
	return api_reply(resp, 204, NULL);
}
