/*
 * identity_roles.c — Keystone v3 /roles (list, show, create, delete), grants of
 * a role to a user on a project (/projects/{p}/users/{u}/roles[/{r}]) and
 * /role_assignments with its user.id, scope.project.id, role.id and
 * include_names filters: what `openstack role list/create/add/remove` and
 * `openstack role assignment list` call. Admin only. Taking a role away voids
 * the holder's tokens at once (they carry role names). Rows come from
 * db/identity_admin.h.
 */
#define LOG_MODULE "identity"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/identity_common.h"
#include "api/identity_routes.h"
#include "api/token_revocation.h"
#include "common/log.h"
#include "db/identity.h"
#include "db/identity_admin.h"

static json_t *role_view(const struct api_request *req, const struct identity_role *r)
{
	json_t *v = json_pack("{s:s,s:s,s:n,s:{},s:o}", "id", r->id, "name", r->name, "domain_id",
			      "options", "links", keystone_self_link(req, "roles", r->id));
	json_object_set_new(v, "description",
			    r->description[0] ? json_string(r->description) : json_null());
	return v;
}

static int list(struct api_request *req, struct api_response *resp)
{
	if (!keystone_admin(req, resp, "identity:list_roles"))
		return 0;
	struct ct_error err = {0};
	struct identity_role *roles;
	size_t count;
	if (identity_roles_list(api_query(req, "name"), &roles, &count, &err))
		return keystone_fail(resp, &err);
	/* Every role is global: a domain_id filter matches none. */
	const char *domain = api_query(req, "domain_id");
	json_t *items = json_array();
	for (size_t i = 0; i < count && !domain; i++)
		json_array_append_new(items, role_view(req, &roles[i]));
	free(roles);
	return api_reply(resp, 200, keystone_collection(req, "roles", items));
}

static int show(struct api_request *req, struct api_response *resp, const char *id)
{
	if (!keystone_admin(req, resp, "identity:get_role"))
		return 0;
	struct ct_error err = {0};
	struct identity_role r;
	if (identity_role_get(id, &r, &err))
		return keystone_fail(resp, &err);
	return keystone_reply_member(resp, 200, "role", role_view(req, &r));
}

static int create(struct api_request *req, struct api_response *resp)
{
	json_t *body = keystone_admin_body(req, resp, "identity:create_role", "role");
	if (!body)
		return 0;
	struct identity_role r = {0};
	bool present;
	if (keystone_string(body, "name", 1, 255, false, r.name, sizeof r.name, &present, resp) ||
	    keystone_string(body, "description", 0, IDENTITY_DESCRIPTION_MAX - 1, true,
			    r.description, sizeof r.description, &present, resp))
		return 0;
	if (!r.name[0]) {
		keystone_required(resp, "name");
		return 0;
	}
	if (json_string_value(json_object_get(body, "domain_id")))
		return keystone_error(resp, 400,
				      "The embedded identity has global roles only: "
				      "domain_id is not supported.");
	struct ct_error err = {0};
	if (identity_role_create(&r, &err))
		return keystone_fail(resp, &err);
	log_info("created role %s (%s)", r.id, r.name);
	return keystone_reply_member(resp, 201, "role", role_view(req, &r));
}

/* Its holders' tokens, whoever they are: every cached token is checked again. */
static void forget_every_holder(const char *role_id)
{
	(void)role_id;
	token_revocation_clear();
}

static int remove_role(struct api_request *req, struct api_response *resp, const char *id)
{
	return keystone_delete(req, resp, id, "identity:delete_role", "role", identity_role_delete,
			       forget_every_holder);
}

int identity_roles_route(struct api_request *req, struct api_response *resp, char **seg, int n)
{
	static const struct keystone_handlers handlers = {
		.list = list, .create = create, .show = show, .remove = remove_role};
	return keystone_route(req, resp, seg, n, &handlers);
}

int identity_grants_route(struct api_request *req, struct api_response *resp,
			  const char *project_id, const char *user_id, const char *role_id)
{
	const char *m = req->method;
	bool check = !strcmp(m, "GET") || !strcmp(m, "HEAD");
	const char *action = !role_id		    ? "identity:list_grants"
			     : !strcmp(m, "PUT")    ? "identity:create_grant"
			     : !strcmp(m, "DELETE") ? "identity:revoke_grant"
						    : "identity:check_grant";
	if (!role_id && !check)
		return keystone_error(resp, 405,
				      "The method is not allowed for the requested URL.");
	if (role_id && !check && strcmp(m, "PUT") && strcmp(m, "DELETE"))
		return keystone_error(resp, 405,
				      "The method is not allowed for the requested URL.");
	if (!keystone_admin(req, resp, action))
		return 0;
	struct ct_error err = {0};
	if (!role_id) { /* the roles of the user on the project */
		struct identity_project p;
		struct identity_user u;
		struct identity_assignment *list;
		size_t count;
		if (identity_project_get(project_id, &p, &err) ||
		    identity_user_get(user_id, &u, &err) ||
		    identity_assignments_list(user_id, project_id, NULL, &list, &count, &err))
			return keystone_fail(resp, &err);
		json_t *items = json_array();
		for (size_t i = 0; i < count; i++)
			json_array_append_new(items, role_view(req, &list[i].role));
		free(list);
		return api_reply(resp, 200, keystone_collection(req, "roles", items));
	}
	if (check) {
		if (identity_grant_check(project_id, user_id, role_id, &err))
			return keystone_fail(resp, &err);
	} else if (!strcmp(m, "PUT")) {
		if (identity_grant(project_id, user_id, role_id, &err))
			return keystone_fail(resp, &err);
		log_info("granted role %.64s to user %.64s on project %.64s", role_id, user_id,
			 project_id);
	} else {
		if (identity_revoke(project_id, user_id, role_id, &err))
			return keystone_fail(resp, &err);
		token_revocation_forget(user_id);
		log_info("revoked role %.64s of user %.64s on project %.64s", role_id, user_id,
			 project_id);
	}
	return api_reply(resp, 204, NULL);
}

static json_t *named(const char *id, const char *name, bool names, bool with_domain)
{
	json_t *v = json_pack("{s:s}", "id", id);
	if (names) {
		json_object_set_new(v, "name", json_string(name));
		if (with_domain)
			json_object_set_new(v, "domain",
					    json_pack("{s:s,s:s}", "id", IDENTITY_DOMAIN_ID, "name",
						      IDENTITY_DOMAIN_NAME));
	}
	return v;
}

static json_t *assignment_view(const struct api_request *req, const struct identity_assignment *a,
			       bool names)
{
	char path[300], url[800];
	snprintf(path, sizeof path, "projects/%s/users/%s/roles/%s", a->project_id, a->user_id,
		 a->role.id);
	keystone_url(req, path, NULL, url, sizeof url);
	return json_pack(
		"{s:o,s:o,s:{s:o},s:{s:s}}", "role", named(a->role.id, a->role.name, names, false),
		"user", named(a->user_id, a->user_name, names, true), "scope", "project",
		named(a->project_id, a->project_name, names, true), "links", "assignment", url);
}

static bool truthy(const char *value)
{
	return value && strcmp(value, "0") && strcasecmp(value, "false");
}

int identity_assignments_route(struct api_request *req, struct api_response *resp, char **seg,
			       int n)
{
	(void)seg;
	if (n != 1 || strcmp(req->method, "GET"))
		return keystone_error(resp, 405,
				      "The method is not allowed for the requested URL.");
	if (!keystone_admin(req, resp, "identity:list_role_assignments"))
		return 0;
	/* Only users on projects exist here: filters for groups, domains or the
	 * system match nothing. */
	bool none = api_query(req, "group.id") || api_query(req, "scope.domain.id") ||
		    api_query(req, "scope.system") ||
		    truthy(api_query(req, "scope.OS-INHERIT:inherited_to"));
	bool names = truthy(api_query(req, "include_names"));
	struct ct_error err = {0};
	struct identity_assignment *list = NULL;
	size_t count = 0;
	if (!none &&
	    identity_assignments_list(api_query(req, "user.id"), api_query(req, "scope.project.id"),
				      api_query(req, "role.id"), &list, &count, &err))
		return keystone_fail(resp, &err);
	json_t *items = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(items, assignment_view(req, &list[i], names));
	free(list);
	return api_reply(resp, 200, keystone_collection(req, "role_assignments", items));
}
