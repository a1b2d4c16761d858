/*
 * instance_guest.c — databases, users, user access and root of an instance
 * (spec trove-api.md §6.6, §7.2): each handler checks the instance, the names
 * (common/dbnames.h) and the body, then asks the instance's guest agent over
 * RPC. Unlike Trove, changes are RPC calls, not casts, so a failure on the
 * guest (a missing user, a refused name) reaches the client as an error
 * instead of vanishing.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "common/config.h"
#include "common/dbnames.h"
#include "db/instances.h"
#include "db/root_history.h"
#include "guest/api.h"

/* Load the instance and check that its guest can serve database and user
 * operations: a datastore we know the name rules of (Trove allows only
 * mysql/mariadb here; ctrove serves postgresql too), and a service that runs. */
static int ready_instance(struct api_request *req, struct instance *in, int *family,
			  struct ct_error *err)
{
	if (instance_load(req->params[0], req->who.is_admin ? NULL : req->project, in, err))
		return -1;
	*family = dbnames_family_of(in->manager);
	if (*family < 0)
		return ct_fail(err, 422, "Operation not supported for datastore %s.", in->manager);
	if (in->service_status != SERVICE_RUNNING && in->service_status != SERVICE_HEALTHY)
		return ct_fail(err, 422, "Instance %s is not ready, status: %s.", in->id,
			       service_status_description(in->service_status));
	return 0;
}

static json_t *call(const struct instance *in, const char *method, json_t *args,
		    struct ct_error *err)
{
	json_t *result =
		guest_call(in->id, in->encrypted_key, method, args, GUEST_TIMEOUT_HIGH, err);
	json_decref(args);
	return result;
}

static int call_done(const struct instance *in, const char *method, json_t *args,
		     struct ct_error *err)
{
	json_t *result = call(in, method, args, err);
	if (!result)
		return -1;
	json_decref(result);
	return 0;
}

/* "name" or "name@host" from the URL (split on the last '@'; no host = "%"). */
static void split_user(const char *text, char *name, size_t name_size, char *host, size_t host_size)
{
	const char *at = strrchr(text, '@');
	if (!at) {
		snprintf(name, name_size, "%s", text);
		snprintf(host, host_size, "%%");
		return;
	}
	snprintf(name, name_size, "%.*s", (int)(at - text), text);
	snprintf(host, host_size, "%s", at[1] ? at + 1 : "%");
}

static int page_args(const struct api_request *req, json_t **args, struct ct_error *err)
{
	const char *limit_text = api_query(req, "limit");
	long limit = 20;
	if (limit_text) {
		char *end;
		limit = strtol(limit_text, &end, 10);
		if (!*limit_text || *end || limit <= 0)
			return ct_fail(err, 400, "limit must be a positive integer.");
		if (limit > 20)
			limit = 20;
	}
	*args = json_pack("{s:I,s:s?,s:b}", "limit", (json_int_t)limit, "marker",
			  api_query(req, "marker"), "include_marker", 0);
	return 0;
}

/* {"<key>": [...], "links"?} from the guest's [[items], next_marker]. */
static int reply_page(struct api_request *req, struct api_response *resp, const char *key,
		      json_t *items, json_t *result)
{
	json_t *body = json_pack("{s:o}", key, items);
	const char *next = json_string_value(json_array_get(result, 1));
	if (next) {
		char base[300], href[2048];
		api_link_base(req, base, sizeof base);
		snprintf(href, sizeof href, "%s%s?marker=%s", base, req->path, next);
		json_object_set_new(body, "links",
				    json_pack("[{s:s,s:s}]", "rel", "next", "href", href));
	}
	json_decref(result);
	return api_reply(resp, 200, body);
}

/* The non-empty array body[key] of a request body {"<key>": [...]}; NULL (400)
 * otherwise. */
static const json_t *body_list(const json_t *body, const char *key, struct ct_error *err)
{
	const char *required[] = {key, NULL};
	if (validate_object(body, "", err) || validate_required(body, "", required, err))
		return NULL;
	const json_t *list = json_object_get(body, key);
	if (!json_is_array(list) || json_array_size(list) == 0) {
		validate_fail(err, key, "must be a non-empty array");
		return NULL;
	}
	return list;
}

static json_t *database_view(const json_t *db)
{
	return json_pack("{s:O}", "name", json_object_get(db, "_name"));
}

/* A listing the guest pages ([[items], next marker]): reserved names are
 * dropped after paging, as in Trove, and each item takes its API shape. */
static int list_from_guest(struct api_request *req, struct api_response *resp, const char *method,
			   const char *key,
			   bool (*reserved)(enum dbnames_family family, const char *name),
			   json_t *(*view)(const json_t *item), struct ct_error *err)
{
	struct instance in;
	int family;
	json_t *args = NULL;
	if (ready_instance(req, &in, &family, err) || page_args(req, &args, err))
		return -1;
	json_t *result = call(&in, method, args, err);
	if (!result)
		return -1;
	json_t *items = json_array();
	size_t i;
	json_t *item;
	json_array_foreach (json_array_get(result, 0), i, item) {
		const char *name = json_string_value(json_object_get(item, "_name"));
		if (name && !reserved((enum dbnames_family)family, name))
			json_array_append_new(items, view(item));
	}
	return reply_page(req, resp, key, items, result);
}

API_HANDLER(databases_index)
{
	return list_from_guest(req, resp, "list_databases", "databases", dbnames_reserved_database,
			       database_view, err);
}

/* {"databases": [{"name", "character_set"?, "collate"?}]} → serialized schemas. */
static json_t *schemas_from_body(const json_t *body, int family, struct ct_error *err)
{
	const json_t *list = body_list(body, "databases", err);
	if (!list)
		return NULL;
	json_t *out = json_array();
	size_t i;
	const json_t *db;
	json_array_foreach (list, i, db) {
		char path[VALIDATE_PATH_MAX];
		validate_path_index(path, "databases", i);
		static const char *const required[] = {"name", NULL};
		if (validate_object(db, path, err) || validate_required(db, path, required, err))
			goto fail;
		const char *name = json_string_value(json_object_get(db, "name"));
		const char *cs = json_string_value(json_object_get(db, "character_set"));
		const char *coll = json_string_value(json_object_get(db, "collate"));
		char cs_buf[64] = "", coll_buf[128] = "";
		if (!name) {
			validate_fail(err, path, "'name' must be a string");
			goto fail;
		}
		if (dbnames_check_database(family, name, err))
			goto fail;
		if (family == DBNAMES_MYSQL) {
			if (dbnames_mysql_charset(cs, coll, cs_buf, sizeof cs_buf, coll_buf,
						  sizeof coll_buf, err))
				goto fail;
			cs = cs_buf;
			coll = coll_buf;
		}
		json_array_append_new(out, json_pack("{s:s,s:s?,s:s?}", "_name", name,
						     "_character_set", cs, "_collate", coll));
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

API_HANDLER(databases_create)
{
	struct instance in;
	int family;
	if (ready_instance(req, &in, &family, err))
		return -1;
	json_t *schemas = schemas_from_body(req->json, family, err);
	if (!schemas)
		return -1;
	if (call_done(&in, "create_database", json_pack("{s:o}", "databases", schemas), err))
		return -1;
	return api_reply(resp, 202, NULL);
}

API_HANDLER(databases_delete)
{
	struct instance in;
	int family;
	if (ready_instance(req, &in, &family, err))
		return -1;
	const char *name = req->params[1];
	if (dbnames_check_database(family, name, err))
		return -1;
	if (call_done(&in, "delete_database",
		      json_pack("{s:{s:s,s:n,s:n}}", "database", "_name", name, "_character_set",
				"_collate"),
		      err))
		return -1;
	return api_reply(resp, 202, NULL);
}

static json_t *user_view(const json_t *u)
{
	json_t *dbs = json_array();
	size_t i;
	json_t *db;
	json_array_foreach (json_object_get(u, "_databases"), i, db)
		json_array_append_new(dbs,
				      json_pack("{s:O}", "name", json_object_get(db, "_name")));
	const char *host = json_string_value(json_object_get(u, "_host"));
	return json_pack("{s:O,s:s,s:o}", "name", json_object_get(u, "_name"), "host",
			 host ? host : "%", "databases", dbs);
}

API_HANDLER(users_index)
{
	return list_from_guest(req, resp, "list_users", "users", dbnames_reserved_user, user_view,
			       err);
}

/* One user of a create body into Trove's serialized form, checked. */
static json_t *serialized_user(const json_t *u, const char *path, int family, struct ct_error *err)
{
	static const char *const required[] = {"name", "password", NULL};
	if (validate_object(u, path, err) || validate_required(u, path, required, err))
		return NULL;
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *password = json_string_value(json_object_get(u, "password"));
	const json_t *host_value = json_object_get(u, "host");
	const char *host = json_string_value(host_value);
	if (!name || !password || (host_value && !host)) {
		validate_fail(err, path, "name, password and host must be strings");
		return NULL;
	}
	if (dbnames_check_user(family, name, err) ||
	    dbnames_check_password(family, password, err) ||
	    (family == DBNAMES_MYSQL && dbnames_check_host(host, err)))
		return NULL;
	json_t *dbs = json_array();
	size_t i;
	const json_t *db;
	json_array_foreach (json_object_get(u, "databases"), i, db) {
		const char *dbname = json_string_value(json_object_get(db, "name"));
		if (!dbname || dbnames_check_database(family, dbname, err)) {
			if (!dbname)
				validate_fail(err, path, "databases[%zu] needs a name", i);
			json_decref(dbs);
			return NULL;
		}
		json_array_append_new(dbs, json_pack("{s:s,s:n,s:n}", "_name", dbname,
						     "_character_set", "_collate"));
	}
	return json_pack("{s:s,s:s,s:s,s:o,s:b}", "_name", name, "_password", password, "_host",
			 host ? host : "%", "_databases", dbs, "_is_root", 0);
}

/* The users of a body, each converted for the guest by convert (NULL with
 * err set on a bad one), then one call of op with {"users": [...]}. */
static int send_users(struct api_request *req, struct api_response *resp, const char *op,
		      json_t *(*convert)(const json_t *u, const char *path, int family,
					 struct ct_error *err),
		      struct ct_error *err)
{
	struct instance in;
	int family;
	if (ready_instance(req, &in, &family, err))
		return -1;
	const json_t *list = body_list(req->json, "users", err);
	if (!list)
		return -1;
	json_t *users = json_array();
	size_t i;
	const json_t *u;
	json_array_foreach (list, i, u) {
		char path[VALIDATE_PATH_MAX];
		validate_path_index(path, "users", i);
		json_t *converted = convert(u, path, family, err);
		if (!converted) {
			json_decref(users);
			return -1;
		}
		json_array_append_new(users, converted);
	}
	if (call_done(&in, op, json_pack("{s:o}", "users", users), err))
		return -1;
	return api_reply(resp, 202, NULL);
}

API_HANDLER(users_create)
{
	return send_users(req, resp, "create_user", serialized_user, err);
}

static int user_from_url(struct api_request *req, int family, char *name, size_t nsize, char *host,
			 size_t hsize, struct ct_error *err)
{
	split_user(req->params[1], name, nsize, host, hsize);
	if (dbnames_check_user(family, name, err) ||
	    (family == DBNAMES_MYSQL && dbnames_check_host(host, err)))
		return -1;
	return 0;
}

API_HANDLER(users_show)
{
	struct instance in;
	int family;
	char name[256], host[256];
	if (ready_instance(req, &in, &family, err) ||
	    user_from_url(req, family, name, sizeof name, host, sizeof host, err))
		return -1;
	json_t *u = call(&in, "get_user",
			 json_pack("{s:s,s:s}", "username", name, "hostname", host), err);
	if (!u)
		return -1;
	if (json_is_null(u)) {
		json_decref(u);
		return ct_fail(err, 404, "User %s cannot be found on the instance.", name);
	}
	json_t *view = user_view(u);
	json_decref(u);
	return api_reply(resp, 200, json_pack("{s:o}", "user", view));
}

API_HANDLER(users_update)
{
	struct instance in;
	int family;
	char name[256], host[256];
	if (ready_instance(req, &in, &family, err) ||
	    user_from_url(req, family, name, sizeof name, host, sizeof host, err))
		return -1;
	static const char *const top[] = {"user", NULL};
	static const char *const allowed[] = {"name", "password", "host", NULL};
	if (validate_object(req->json, "", err) || validate_required(req->json, "", top, err))
		return -1;
	const json_t *attrs = json_object_get(req->json, "user");
	if (validate_object(attrs, "user", err) || validate_only(attrs, "user", allowed, err))
		return -1;
	if (json_object_size(attrs) == 0)
		return ct_fail(err, 400, "Please provide at least one attribute to update.");
	const char *new_name = json_string_value(json_object_get(attrs, "name"));
	const char *new_password = json_string_value(json_object_get(attrs, "password"));
	const char *new_host = json_string_value(json_object_get(attrs, "host"));
	const char *key;
	json_t *value;
	json_object_foreach ((json_t *)attrs, key, value) {
		if (!json_is_string(value))
			return validate_fail(err, "user", "'%s' must be a string", key);
	}
	if ((new_name && dbnames_check_user(family, new_name, err)) ||
	    (new_password && dbnames_check_password(family, new_password, err)) ||
	    (new_host && family == DBNAMES_MYSQL && dbnames_check_host(new_host, err)))
		return -1;
	if (call_done(&in, "update_attributes",
		      json_pack("{s:s,s:s,s:O}", "username", name, "hostname", host, "user_attrs",
				attrs),
		      err))
		return -1;
	return api_reply(resp, 202, NULL);
}

/* One user of a password change body: {name, host, password}, checked. */
static json_t *password_change(const json_t *u, const char *path, int family, struct ct_error *err)
{
	(void)path; /* Trove's message names the list, not the item */
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *password = json_string_value(json_object_get(u, "password"));
	const char *host = json_string_value(json_object_get(u, "host"));
	if (!name || !password) {
		validate_fail(err, "users", "each needs name and password");
		return NULL;
	}
	if (dbnames_check_user(family, name, err) ||
	    dbnames_check_password(family, password, err) ||
	    (host && family == DBNAMES_MYSQL && dbnames_check_host(host, err)))
		return NULL;
	return json_pack("{s:s,s:s,s:s}", "name", name, "host", host ? host : "%", "password",
			 password);
}

API_HANDLER(users_update_all)
{
	return send_users(req, resp, "change_passwords", password_change, err);
}

API_HANDLER(users_delete)
{
	struct instance in;
	int family;
	char name[256], host[256];
	if (ready_instance(req, &in, &family, err) ||
	    user_from_url(req, family, name, sizeof name, host, sizeof host, err))
		return -1;
	if (call_done(&in, "delete_user",
		      json_pack("{s:{s:s,s:s,s:[],s:b}}", "user", "_name", name, "_host", host,
				"_databases", "_is_root", 0),
		      err))
		return -1;
	return api_reply(resp, 202, NULL);
}

API_HANDLER(user_access_index)
{
	struct instance in;
	int family;
	char name[256], host[256];
	if (ready_instance(req, &in, &family, err) ||
	    user_from_url(req, family, name, sizeof name, host, sizeof host, err))
		return -1;
	json_t *result = call(&in, "list_access",
			      json_pack("{s:s,s:s}", "username", name, "hostname", host), err);
	if (!result)
		return -1;
	json_t *items = json_array();
	size_t i;
	json_t *db;
	json_array_foreach (result, i, db)
		json_array_append_new(items,
				      json_pack("{s:O}", "name", json_object_get(db, "_name")));
	json_decref(result);
	return api_reply(resp, 200, json_pack("{s:o}", "databases", items));
}

API_HANDLER(user_access_update)
{
	struct instance in;
	int family;
	char name[256], host[256];
	if (ready_instance(req, &in, &family, err) ||
	    user_from_url(req, family, name, sizeof name, host, sizeof host, err))
		return -1;
	json_t *schemas = schemas_from_body(req->json, family, err);
	if (!schemas)
		return -1;
	json_t *names = json_array();
	size_t i;
	json_t *s;
	json_array_foreach (schemas, i, s)
		json_array_append(names, json_object_get(s, "_name"));
	json_decref(schemas);
	if (call_done(&in, "grant_access",
		      json_pack("{s:s,s:s,s:o}", "username", name, "hostname", host, "databases",
				names),
		      err))
		return -1;
	return api_reply(resp, 202, NULL);
}

API_HANDLER(user_access_delete)
{
	struct instance in;
	int family;
	char name[256], host[256];
	if (ready_instance(req, &in, &family, err) ||
	    user_from_url(req, family, name, sizeof name, host, sizeof host, err) ||
	    dbnames_check_database(family, req->params[2], err))
		return -1;
	if (call_done(&in, "revoke_access",
		      json_pack("{s:s,s:s,s:s}", "username", name, "hostname", host, "database",
				req->params[2]),
		      err))
		return -1;
	return api_reply(resp, 202, NULL);
}

API_HANDLER(root_index)
{
	struct instance in;
	if (instance_load(req->params[0], req->who.is_admin ? NULL : req->project, &in, err))
		return -1;
	bool enabled = false;
	if (root_history_enabled(in.id, &enabled, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:b}", "rootEnabled", enabled));
}

API_HANDLER(root_create)
{
	struct instance in;
	int family;
	if (ready_instance(req, &in, &family, err))
		return -1;
	const char *password = NULL;
	if (req->json) {
		static const char *const allowed[] = {"password", NULL};
		if (validate_object(req->json, "", err) ||
		    validate_only(req->json, "", allowed, err))
			return -1;
		const json_t *p = json_object_get(req->json, "password");
		if (p && validate_non_empty_string(p, "password", err))
			return -1;
		password = json_string_value(p);
		if (password && dbnames_check_password(family, password, err))
			return -1;
	}
	json_t *user = password ? call(&in, "enable_root_with_password",
				       json_pack("{s:s}", "root_password", password), err)
				: call(&in, "enable_root", json_object(), err);
	if (!user)
		return -1;
	if (root_history_record(in.id, req->who.user_id, err)) {
		json_decref(user);
		return -1;
	}
	json_t *body = json_pack("{s:{s:O,s:O}}", "user", "name", json_object_get(user, "_name"),
				 "password", json_object_get(user, "_password"));
	json_decref(user);
	if (!body)
		return ct_fail(err, 500, "the guest returned no root credentials");
	return api_reply(resp, 200, body);
}

API_HANDLER(root_delete)
{
	struct instance in;
	int family;
	if (ready_instance(req, &in, &family, err))
		return -1;
	bool enabled = false;
	if (root_history_enabled(in.id, &enabled, err))
		return -1;
	if (!enabled)
		return ct_fail(err, 404, "Root user has never been enabled on the instance.");
	if (call_done(&in, "disable_root", json_object(), err))
		return -1;
	return api_reply(resp, 204, NULL);
}
