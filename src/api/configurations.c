/*
 * configurations.c — configuration groups: GET/POST /configurations,
 * GET/PUT/PATCH/DELETE /configurations/{id}, GET /configurations/{id}/instances
 * (spec trove-api.md §6.5, §7.6). Values are checked against the group's
 * datastore version's rules (config_values.c); a change of values is cast to
 * the taskmanager once per attached instance, which brings each one in line.
 * May not talk to guests.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config_values.h"
#include "api/datastore_choice.h"
#include "api/handlers.h"
#include "api/validate.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/configurations.h"
#include "db/datastores.h"
#include "db/instances.h"
#include "db/parameters.h"
#include "taskmanager/api.h"

#define CONFIG_PAGE_MAX 20

static const char *project_scope(const struct api_request *req)
{
	return req->who.is_admin ? NULL : req->project;
}

/* Stored text as a JSON string; bytes that are not UTF-8 become '?' (rows
 * written by other tools may hold them, and jansson refuses them). */
static json_t *text_value(const char *text)
{
	char clean[1024];
	api_utf8_clean(text, clean, sizeof clean);
	return json_string(clean);
}

static json_t *time_value(const char *db_time)
{
	char out[CT_TIME_LEN];
	timefmt_db_to_trove(db_time, out);
	return json_string(out);
}

static json_t *typed_values(const struct config_value *values, size_t n,
			    const struct ds_parameter *rules, size_t n_rules)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++) {
		const struct ds_parameter *rule = config_rule_find(rules, n_rules, values[i].key);
		char key[sizeof values[i].key], text[sizeof values[i].value];
		api_utf8_clean(values[i].key, key, sizeof key);
		api_utf8_clean(values[i].value, text, sizeof text);
		json_object_set_new(
			o, key,
			config_key_is_secret(key)
				? json_string("***")
				: config_value_typed(rule ? rule->data_type : NULL, text));
	}
	return o;
}

/* The list item of §6.5 (no values, no version number). */
static json_t *group_summary(const struct config_group *g, const struct ds_version *v)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", text_value(g->id), "name",
			 text_value(g->name), "description",
			 g->has_description ? text_value(g->description) : json_null(), "created",
			 time_value(g->created), "updated", time_value(g->updated),
			 "datastore_version_id", text_value(g->datastore_version_id),
			 "datastore_name", text_value(v ? v->datastore_name : ""),
			 "datastore_version_name", text_value(v ? v->name : ""));
}

static int reply_detail(struct api_response *resp, int status, const char *id, const char *project,
			struct ct_error *err)
{
	struct config_group g;
	struct config_value *values = NULL;
	size_t n = 0;
	if (config_group_load(id, project, &g, &values, &n, err))
		return -1;
	struct ds_version v;
	struct ds_parameter *rules = NULL;
	size_t n_rules = 0;
	long count = config_group_instance_count(g.id, err);
	if (count < 0 || dsv_by_id(g.datastore_version_id, 404, &v, err) ||
	    param_list(g.datastore_version_id, &rules, &n_rules, err)) {
		free(values);
		return -1;
	}
	json_t *o = group_summary(&g, &v);
	json_object_set_new(o, "values", typed_values(values, n, rules, n_rules));
	json_object_set_new(o, "instance_count", json_integer(count));
	json_object_set_new(o, "datastore_version_number", text_value(v.version));
	free(values);
	free(rules);
	return api_reply(resp, status, json_pack("{s:o}", "configuration", o));
}

static int page_limit(const struct api_request *req, long *limit, struct ct_error *err)
{
	const char *text = api_query(req, "limit");
	*limit = CONFIG_PAGE_MAX;
	if (!text)
		return 0;
	char *end;
	long v = strtol(text, &end, 10);
	if (!*text || *end || v <= 0)
		return ct_fail(err, 400, "limit must be a positive integer.");
	if (v < *limit)
		*limit = v;
	return 0;
}

static json_t *next_links(const struct api_request *req, long limit, const char *last_id)
{
	char base[300], href[1400];
	api_link_base(req, base, sizeof base);
	if (api_query(req, "limit"))
		snprintf(href, sizeof href, "%s%s?limit=%ld&marker=%s", base, req->path, limit,
			 last_id);
	else
		snprintf(href, sizeof href, "%s%s?marker=%s", base, req->path, last_id);
	return json_pack("[{s:s,s:s}]", "rel", "next", "href", href);
}

API_HANDLER(configurations_index)
{
	long limit;
	if (page_limit(req, &limit, err))
		return -1;
	struct config_group *groups = NULL;
	size_t n = 0;
	bool more = false;
	if (config_group_page(project_scope(req), api_query(req, "marker"), limit, &groups, &n,
			      &more, err))
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		struct ds_version v;
		struct ct_error ignored;
		bool known = !dsv_by_id(groups[i].datastore_version_id, 404, &v, &ignored);
		json_array_append_new(list, group_summary(&groups[i], known ? &v : NULL));
	}
	json_t *body = json_pack("{s:o}", "configurations", list);
	if (more && n > 0)
		json_object_set_new(body, "links", next_links(req, limit, groups[n - 1].id));
	free(groups);
	return api_reply(resp, 200, body);
}

API_HANDLER(configurations_show)
{
	return reply_detail(resp, 200, req->params[0], project_scope(req), err);
}

API_HANDLER(configurations_instances)
{
	struct config_group g;
	long limit;
	if (page_limit(req, &limit, err) ||
	    config_group_load(req->params[0], project_scope(req), &g, NULL, NULL, err))
		return -1;
	struct config_instance *items = NULL;
	size_t n = 0;
	bool more = false;
	if (config_group_instances(g.id, api_query(req, "marker"), limit, &items, &n, &more, err))
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:o,s:o}", "id", text_value(items[i].id),
						      "name", text_value(items[i].name)));
	json_t *body = json_pack("{s:o}", "instances", list);
	if (more && n > 0)
		json_object_set_new(body, "links", next_links(req, limit, items[n - 1].id));
	free(items);
	return api_reply(resp, 200, body);
}

/* The version named by the request's datastore object, or the defaults. */
static int resolve_version(const json_t *datastore, struct ds_version *v, struct ct_error *err)
{
	const char *type = NULL, *version = NULL;
	if (datastore) {
		static const char *const keys[] = {"type", "version", "version_number", NULL};
		if (validate_object(datastore, "configuration['datastore']", err) ||
		    validate_only(datastore, "configuration['datastore']", keys, err))
			return -1;
		const json_t *t = json_object_get(datastore, "type");
		const json_t *ver = json_object_get(datastore, "version");
		if ((t &&
		     validate_non_empty_string(t, "configuration['datastore']['type']", err)) ||
		    (ver &&
		     validate_non_empty_string(ver, "configuration['datastore']['version']", err)))
			return -1;
		type = json_string_value(t);
		version = json_string_value(ver);
	}
	return datastore_choose_version(type, version, v, err);
}

/* values checked against v's rules into *out. */
static int check_values(const json_t *values, const struct ds_version *v, struct config_value **out,
			size_t *n, struct ct_error *err)
{
	struct ds_parameter *rules = NULL;
	size_t n_rules = 0;
	if (param_list(v->id, &rules, &n_rules, err))
		return -1;
	int rc = config_values_check(values, rules, n_rules, v->datastore_name, v->name, out, n,
				     err);
	free(rules);
	return rc;
}

/* The shapes of name, description and values (their contents are checked
 * against the rules later). */
static int check_name_description(const json_t *body, struct ct_error *err)
{
	const json_t *name = json_object_get(body, "name");
	const json_t *description = json_object_get(body, "description");
	const json_t *values = json_object_get(body, "values");
	if (values && !json_is_object(values))
		return validate_fail(err, "configuration['values']", "is not of type 'object'");
	if (name && validate_non_empty_string(name, "configuration['name']", err))
		return -1;
	if (name && strlen(json_string_value(name)) > 64)
		return ct_fail(err, 400, "Configuration group name is longer than 64 characters.");
	if (description && !json_is_null(description)) {
		if (!json_is_string(description))
			return validate_fail(err, "configuration['description']",
					     "is not of type 'string', 'null'");
		if (strlen(json_string_value(description)) > 256)
			return ct_fail(err, 400,
				       "Configuration group description is longer than 256 "
				       "characters.");
	}
	return 0;
}

API_HANDLER(configurations_create)
{
	static const char *const top[] = {"configuration", NULL};
	static const char *const required[] = {"name", "values", NULL};
	if (validate_object(req->json, "", err) || validate_required(req->json, "", top, err))
		return -1;
	const json_t *body = json_object_get(req->json, "configuration");
	if (validate_object(body, "configuration", err) ||
	    validate_required(body, "configuration", required, err) ||
	    check_name_description(body, err))
		return -1;
	struct ds_version v;
	struct config_value *values = NULL;
	size_t n = 0;
	if (resolve_version(json_object_get(body, "datastore"), &v, err) ||
	    check_values(json_object_get(body, "values"), &v, &values, &n, err))
		return -1;
	struct config_group g = {0};
	ids_uuid(g.id);
	snprintf(g.name, sizeof g.name, "%s", json_string_value(json_object_get(body, "name")));
	const char *description = json_string_value(json_object_get(body, "description"));
	g.has_description = description != NULL;
	snprintf(g.description, sizeof g.description, "%s", description ? description : "");
	snprintf(g.tenant_id, sizeof g.tenant_id, "%s", req->project);
	snprintf(g.datastore_version_id, sizeof g.datastore_version_id, "%s", v.id);
	timefmt_db_now(g.created);
	snprintf(g.updated, sizeof g.updated, "%s", g.created);
	int rc = config_group_insert(&g, values, n, err);
	free(values);
	if (rc)
		return -1;
	log_info("configuration group %s created (%s %s, %zu values)", g.id, v.datastore_name,
		 v.name, n);
	return reply_detail(resp, 200, g.id, NULL, err);
}

/* Names whose value differs between a and b (set in one, changed, or gone). */
static json_t *changed_names(const struct config_value *a, size_t na, const struct config_value *b,
			     size_t nb)
{
	json_t *names = json_array();
	for (size_t i = 0; i < na; i++) {
		bool same = false;
		for (size_t k = 0; k < nb && !same; k++)
			same = !strcmp(a[i].key, b[k].key) && !strcmp(a[i].value, b[k].value);
		if (!same)
			json_array_append_new(names, json_string(a[i].key));
	}
	for (size_t k = 0; k < nb; k++) {
		bool seen = false;
		for (size_t i = 0; i < na && !seen; i++)
			seen = !strcmp(a[i].key, b[k].key);
		if (!seen)
			json_array_append_new(names, json_string(b[k].key));
	}
	return names;
}

/* Every attached instance follows; one that cannot be told gets a fault. */
static void cast_to_instances(const char *config_id, const json_t *changed)
{
	if (json_array_size(changed) == 0)
		return;
	struct config_instance *items = NULL;
	size_t n = 0;
	bool more = false;
	struct ct_error err = {0};
	if (config_group_instances(config_id, NULL, 0, &items, &n, &more, &err)) {
		log_error("cannot list the instances of %s: %s", config_id, err.message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *args =
			json_pack("{s:s,s:O}", "instance_id", items[i].id, "changed", changed);
		if (taskmanager_cast("apply_configuration", args, &err)) {
			struct ct_error ignored;
			log_error("configuration change not sent to %s: %s", items[i].id,
				  err.message);
			instance_add_fault(items[i].id, err.message, "", &ignored);
		}
		json_decref(args);
	}
	free(items);
}

static int update(struct api_request *req, bool replace, struct ct_error *err)
{
	static const char *const top[] = {"configuration", NULL};
	static const char *const put_keys[] = {"values", "name", "description", NULL};
	static const char *const patch_keys[] = {"values", NULL};
	if (validate_object(req->json, "", err) || validate_required(req->json, "", top, err))
		return -1;
	const json_t *body = json_object_get(req->json, "configuration");
	if (validate_object(body, "configuration", err) ||
	    validate_only(body, "configuration", replace ? put_keys : patch_keys, err) ||
	    (!replace && validate_required(body, "configuration", patch_keys, err)) ||
	    check_name_description(body, err))
		return -1;
	struct config_group g;
	struct config_value *old = NULL;
	size_t n_old = 0;
	if (config_group_load(req->params[0], project_scope(req), &g, &old, &n_old, err))
		return -1;
	struct ds_version v;
	struct config_value *values = NULL;
	size_t n = 0;
	const json_t *given = json_object_get(body, "values");
	if (dsv_by_id(g.datastore_version_id, 404, &v, err) ||
	    (given && check_values(given, &v, &values, &n, err))) {
		free(old);
		return -1;
	}
	const json_t *description = json_object_get(body, "description");
	int rc = config_group_update(g.id, json_string_value(json_object_get(body, "name")),
				     description != NULL, json_string_value(description),
				     replace && given, values, n, err);
	json_t *changed = NULL;
	if (!rc && given) {
		struct config_value *now = NULL;
		size_t n_now = 0;
		struct config_group same;
		rc = config_group_load(g.id, NULL, &same, &now, &n_now, err);
		if (!rc)
			changed = changed_names(now, n_now, old, n_old);
		free(now);
	}
	free(old);
	free(values);
	if (rc) {
		json_decref(changed);
		return -1;
	}
	log_info("configuration group %s %s", g.id, replace ? "replaced" : "edited");
	if (changed)
		cast_to_instances(g.id, changed);
	json_decref(changed);
	return 0;
}

API_HANDLER(configurations_update)
{
	if (update(req, true, err))
		return -1;
	return api_reply(resp, 202, NULL);
}

API_HANDLER(configurations_edit)
{
	if (update(req, false, err))
		return -1;
	return api_reply(resp, 200, NULL);
}

API_HANDLER(configurations_delete)
{
	struct config_group g;
	if (config_group_load(req->params[0], project_scope(req), &g, NULL, NULL, err))
		return -1;
	long count = config_group_instance_count(g.id, err);
	if (count < 0)
		return -1;
	if (count > 0)
		return ct_fail(err, 400,
			       "A configuration group cannot be deleted if it is associated with "
			       "one or more non-terminated instances. Detach the configuration "
			       "group from all non-terminated instances and please try again.");
	if (config_group_delete(g.id, err))
		return -1;
	log_info("configuration group %s deleted", g.id);
	return api_reply(resp, 202, NULL);
}
