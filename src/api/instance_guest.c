/*
 * instance_guest.c — databases, users, user access and root of an instance
 * (spec trove-api.md §6.6, §7.2): each handler checks the instance, the names
 * (common/dbnames.h) and the body, then asks the instance's guest agent over
 * RPC through the typed guest client (guest/api.h). Unlike Trove, changes are
 * RPC calls, not casts, so a failure on the guest (a missing user, a refused
 * name) reaches the client as an error instead of vanishing.
 * Owns the API views of databases and users; may not build guest messages.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/instance_replication.h"
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
	/* A replica's users and databases are its source's: reading them is fine. */
	if (strcmp(req->method, "GET") && instance_check_not_replica(in, err))
		return -1;
	return 0;
}

static struct guest_ref guest_of(const struct instance *in)
{
	return (struct guest_ref){in->id, in->encrypted_key};
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

static int page_request(const struct api_request *req, struct guest_page_request *page,
			struct ct_error *err)
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
	*page = (struct guest_page_request){
		.limit = (int)limit, .marker = api_query(req, "marker"), .include_marker = false};
	return 0;
}

/* {"<key>": [...], "links"?} with the guest's next marker ("" = last page). */
static int reply_page(struct api_request *req, struct api_response *resp, const char *key,
		      json_t *items, const char *next)
{
	json_t *body = json_pack("{s:o}", key, items);
	if (body && next[0]) {
		char base[300], href[2048];
		api_link_base(req, base, sizeof base);
		snprintf(href, sizeof href, "%s%s?marker=%s", base, req->path, next);
		json_object_set_new(body, "links",
				    json_pack("[{s:s,s:s}]", "rel", "next", "href", href));
	}
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

/* The API's list of databases: [{"name"}], reserved names left out (after
 * paging, as in Trove) when family >= 0. */
static json_t *databases_view(const struct guest_database *dbs, size_t n, int family)
{
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		if (family >= 0 &&
		    dbnames_reserved_database((enum dbnames_family)family, dbs[i].name))
			continue;
		json_array_append_new(items, json_pack("{s:s}", "name", dbs[i].name));
	}
	return items;
}

API_HANDLER(databases_index)
{
	struct instance in;
	int family;
	struct guest_page_request page;
	if (ready_instance(req, &in, &family, err) || page_request(req, &page, err))
		return -1;
	const struct guest_ref guest = guest_of(&in);
	struct guest_database *dbs;
	size_t n;
	char next[GUEST_MARKER_SIZE];
	if (guest_list_databases(&guest, &page, &dbs, &n, next, err))
		return -1;
	json_t *items = databases_view(dbs, n, family);
	free(dbs);
	return reply_page(req, resp, "databases", items, next);
}

/* {"databases": [{"name", "character_set"?, "collate"?}]} → checked databases
 * (*out malloc'd). */
static int databases_from_body(const json_t *body, int family, struct guest_database **out,
			       size_t *n, struct ct_error *err)
{
	const json_t *list = body_list(body, "databases", err);
	if (!list)
		return -1;
	struct guest_database *dbs = calloc(json_array_size(list), sizeof *dbs);
	if (!dbs)
		return ct_fail(err, 500, "out of memory");
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
		if (guest_database_set(&dbs[i], name, cs, coll, err))
			goto fail;
	}
	*out = dbs;
	*n = json_array_size(list);
	return 0;
fail:
	free(dbs);
	return -1;
}

API_HANDLER(databases_create)
{
	struct instance in;
	int family;
	struct guest_database *dbs;
	size_t n;
	if (ready_instance(req, &in, &family, err) ||
	    databases_from_body(req->json, family, &dbs, &n, err))
		return -1;
	const struct guest_ref guest = guest_of(&in);
	int rc = guest_create_databases(&guest, dbs, n, err);
	free(dbs);
	return rc ? -1 : api_reply(resp, 202, NULL);
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
	const struct guest_ref guest = guest_of(&in);
	if (guest_delete_database(&guest, name, err))
		return -1;
	return api_reply(resp, 202, NULL);
}

static json_t *user_view(const struct guest_user *u)
{
	return json_pack("{s:s,s:s,s:o}", "name", u->name, "host", u->host[0] ? u->host : "%",
			 "databases", databases_view(u->databases, u->n_databases, -1));
}

API_HANDLER(users_index)
{
	struct instance in;
	int family;
	struct guest_page_request page;
	if (ready_instance(req, &in, &family, err) || page_request(req, &page, err))
		return -1;
	const struct guest_ref guest = guest_of(&in);
	struct guest_user *users;
	size_t n;
	char next[GUEST_MARKER_SIZE];
	if (guest_list_users(&guest, &page, &users, &n, next, err))
		return -1;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!dbnames_reserved_user((enum dbnames_family)family, users[i].name))
			json_array_append_new(items, user_view(&users[i]));
	}
	guest_users_free(users, n);
	return reply_page(req, resp, "users", items, next);
}

/* One user of a create body, checked, into out. */
static int user_from_body(const json_t *u, const char *path, int family, struct guest_user *out,
			  struct ct_error *err)
{
	static const char *const required[] = {"name", "password", NULL};
	if (validate_object(u, path, err) || validate_required(u, path, required, err))
		return -1;
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *password = json_string_value(json_object_get(u, "password"));
	const json_t *host_value = json_object_get(u, "host");
	const char *host = json_string_value(host_value);
	if (!name || !password || (host_value && !host))
		return validate_fail(err, path, "name, password and host must be strings");
	if (dbnames_check_user(family, name, err) ||
	    dbnames_check_password(family, password, err) ||
	    (family == DBNAMES_MYSQL && dbnames_check_host(host, err)) ||
	    guest_user_set(out, name, host ? host : "%", password, err))
		return -1;
	size_t i;
	const json_t *db;
	json_array_foreach (json_object_get(u, "databases"), i, db) {
		const char *dbname = json_string_value(json_object_get(db, "name"));
		if (!dbname)
			return validate_fail(err, path, "databases[%zu] needs a name", i);
		if (dbnames_check_database(family, dbname, err) ||
		    guest_user_add_database(out, dbname, err))
			return -1;
	}
	return 0;
}

/* The users of a body, each checked and converted by convert, then one send
 * of them all. */
static int send_users(struct api_request *req, struct api_response *resp,
		      int (*convert)(const json_t *u, const char *path, int family,
				     struct guest_user *out, struct ct_error *err),
		      int (*send)(const struct guest_ref *g, const struct guest_user *users,
				  size_t n, struct ct_error *err),
		      struct ct_error *err)
{
	struct instance in;
	int family;
	if (ready_instance(req, &in, &family, err))
		return -1;
	const json_t *list = body_list(req->json, "users", err);
	if (!list)
		return -1;
	size_t n = json_array_size(list);
	struct guest_user *users = calloc(n, sizeof *users);
	if (!users)
		return ct_fail(err, 500, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char path[VALIDATE_PATH_MAX];
		validate_path_index(path, "users", i);
		rc = convert(json_array_get(list, i), path, family, &users[i], err);
	}
	const struct guest_ref guest = guest_of(&in);
	if (!rc)
		rc = send(&guest, users, n, err);
	guest_users_free(users, n);
	return rc ? -1 : api_reply(resp, 202, NULL);
}

API_HANDLER(users_create)
{
	return send_users(req, resp, user_from_body, guest_create_users, err);
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
	const struct guest_ref guest = guest_of(&in);
	struct guest_user u = {0};
	if (guest_get_user(&guest, name, host, &u, err))
		return -1;
	json_t *view = user_view(&u);
	guest_user_clear(&u);
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
	const struct guest_ref guest = guest_of(&in);
	if (guest_update_attributes(&guest, name, host, new_name, new_host, new_password, err))
		return -1;
	return api_reply(resp, 202, NULL);
}

/* One user of a password change body: {name, host?, password}, checked. */
static int password_change(const json_t *u, const char *path, int family, struct guest_user *out,
			   struct ct_error *err)
{
	(void)path; /* Trove's message names the list, not the item */
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *password = json_string_value(json_object_get(u, "password"));
	const char *host = json_string_value(json_object_get(u, "host"));
	if (!name || !password)
		return validate_fail(err, "users", "each needs name and password");
	if (dbnames_check_user(family, name, err) ||
	    dbnames_check_password(family, password, err) ||
	    (host && family == DBNAMES_MYSQL && dbnames_check_host(host, err)))
		return -1;
	return guest_user_set(out, name, host ? host : "%", password, err);
}

API_HANDLER(users_update_all)
{
	return send_users(req, resp, password_change, guest_change_passwords, err);
}

API_HANDLER(users_delete)
{
	struct instance in;
	int family;
	char name[256], host[256];
	if (ready_instance(req, &in, &family, err) ||
	    user_from_url(req, family, name, sizeof name, host, sizeof host, err))
		return -1;
	const struct guest_ref guest = guest_of(&in);
	if (guest_delete_user(&guest, name, host, err))
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
	const struct guest_ref guest = guest_of(&in);
	struct guest_database *dbs;
	size_t n;
	if (guest_list_access(&guest, name, host, &dbs, &n, err))
		return -1;
	json_t *items = databases_view(dbs, n, -1);
	free(dbs);
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
	struct guest_database *dbs;
	size_t n;
	if (databases_from_body(req->json, family, &dbs, &n, err))
		return -1;
	const struct guest_ref guest = guest_of(&in);
	int rc = guest_grant_access(&guest, name, host, dbs, n, err);
	free(dbs);
	return rc ? -1 : api_reply(resp, 202, NULL);
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
	const struct guest_ref guest = guest_of(&in);
	if (guest_revoke_access(&guest, name, host, req->params[2], err))
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
	const struct guest_ref guest = guest_of(&in);
	struct guest_user root = {0};
	if (password ? guest_enable_root_with_password(&guest, password, &root, err)
		     : guest_enable_root(&guest, &root, err))
		return -1;
	if (root_history_record(in.id, req->who.user_id, err)) {
		guest_user_clear(&root);
		return -1;
	}
	json_t *body =
		json_pack("{s:{s:s,s:s}}", "user", "name", root.name, "password", root.password);
	guest_user_clear(&root);
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
	const struct guest_ref guest = guest_of(&in);
	if (guest_disable_root(&guest, err))
		return -1;
	return api_reply(resp, 204, NULL);
}
