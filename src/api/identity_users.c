/*
 * identity_users.c — Keystone v3 /users of the embedded identity: list, show,
 * create, update (name, password, enabled, description, email, default
 * project) and delete, and /users/{id}/projects (what `openstack user ...`
 * calls). Admin only, except that users may read themselves. A new password,
 * disabling or deleting a user voids the user's tokens at once. Passwords are
 * handed to db/identity_admin.h to hash and wiped here; never logged.
 */
#define LOG_MODULE "identity"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "api/identity_common.h"
#include "api/identity_routes.h"
#include "api/token_revocation.h"
#include "common/log.h"
#include "db/identity.h"
#include "db/identity_admin.h"

#define PASSWORD_MAX 4096 /* Keystone's [identity] max_password_length */

static json_t *user_view(const struct api_request *req, const struct identity_user *u)
{
	json_t *v = json_pack("{s:s,s:s,s:s,s:b,s:n,s:{},s:o}", "id", u->id, "name", u->name,
			      "domain_id", IDENTITY_DOMAIN_ID, "enabled", u->enabled,
			      "password_expires_at", "options", "links",
			      keystone_self_link(req, "users", u->id));
	if (u->default_project_id[0])
		json_object_set_new(v, "default_project_id", json_string(u->default_project_id));
	if (u->description[0])
		json_object_set_new(v, "description", json_string(u->description));
	if (u->email[0])
		json_object_set_new(v, "email", json_string(u->email));
	return v;
}

static int list(struct api_request *req, struct api_response *resp)
{
	if (!keystone_admin(req, resp, "identity:list_users"))
		return 0;
	struct ct_error err = {0};
	struct identity_user *users;
	size_t count;
	if (identity_users_list(api_query(req, "name"), &users, &count, &err))
		return keystone_fail(resp, &err);
	const char *domain = api_query(req, "domain_id");
	json_t *items = json_array();
	for (size_t i = 0; i < count && (!domain || !strcmp(domain, IDENTITY_DOMAIN_ID)); i++)
		json_array_append_new(items, user_view(req, &users[i]));
	free(users);
	return api_reply(resp, 200, keystone_collection(req, "users", items));
}

static int show(struct api_request *req, struct api_response *resp, const char *id)
{
	struct api_identity caller;
	if (keystone_authorize(req, resp, "identity:get_user", KEYSTONE_OWN_USER, id, &caller))
		return 0;
	struct ct_error err = {0};
	struct identity_user u;
	if (identity_user_get(id, &u, &err))
		return keystone_fail(resp, &err);
	return keystone_reply_member(resp, 200, "user", user_view(req, &u));
}

/* The fields of body into u and password (NULL when none was given); -1 with
 * the 400/404 reply set. */
static int read_fields(json_t *body, struct identity_user *u, bool creating, char *password,
		       const char **password_given, struct api_response *resp)
{
	bool present;
	*password_given = NULL;
	if (keystone_string(body, "name", 1, 255, false, u->name, sizeof u->name, &present, resp))
		return -1;
	if (creating && !present)
		return keystone_required(resp, "name");
	if (present && !u->name[strspn(u->name, " \t\r\n\v\f")]) {
		keystone_error(resp, 400, "Invalid input for field 'name': the name is blank.");
		return -1;
	}
	if (keystone_string(body, "password", 1, PASSWORD_MAX, true, password, PASSWORD_MAX + 1,
			    &present, resp))
		return -1;
	if (present && password[0])
		*password_given = password;
	if (keystone_string(body, "description", 0, IDENTITY_DESCRIPTION_MAX - 1, true,
			    u->description, sizeof u->description, &present, resp) ||
	    keystone_string(body, "email", 0, 255, true, u->email, sizeof u->email, &present,
			    resp) ||
	    keystone_string(body, "default_project_id", 0, 64, true, u->default_project_id,
			    sizeof u->default_project_id, &present, resp) ||
	    keystone_bool(body, "enabled", &u->enabled, resp))
		return -1;
	const char *domain = json_string_value(json_object_get(body, "domain_id"));
	if (domain && strcmp(domain, IDENTITY_DOMAIN_ID))
		return keystone_unknown_domain(resp);
	struct identity_project p;
	struct ct_error err = {0};
	if (present && u->default_project_id[0] &&
	    identity_project_get(u->default_project_id, &p, &err)) {
		keystone_fail(resp, &err);
		return -1;
	}
	return 0;
}

static int create(struct api_request *req, struct api_response *resp)
{
	json_t *body = keystone_admin_body(req, resp, "identity:create_user", "user");
	if (!body)
		return 0;
	struct identity_user u = {.enabled = true};
	char password[PASSWORD_MAX + 1] = "";
	const char *given;
	struct ct_error err = {0};
	int failed = read_fields(body, &u, true, password, &given, resp) ||
		     identity_user_create(&u, given, &err);
	OPENSSL_cleanse(password, sizeof password);
	if (failed)
		return err.status ? keystone_fail(resp, &err) : 0;
	log_info("created user %s (%s)", u.id, u.name);
	return keystone_reply_member(resp, 201, "user", user_view(req, &u));
}

static int update(struct api_request *req, struct api_response *resp, const char *id)
{
	json_t *body = keystone_admin_body(req, resp, "identity:update_user", "user");
	if (!body)
		return 0;
	struct ct_error err = {0};
	struct identity_user u;
	if (identity_user_get(id, &u, &err))
		return keystone_fail(resp, &err);
	char password[PASSWORD_MAX + 1] = "";
	const char *given;
	int failed = read_fields(body, &u, false, password, &given, resp) ||
		     identity_user_update(&u, given, &err);
	OPENSSL_cleanse(password, sizeof password);
	if (failed)
		return err.status ? keystone_fail(resp, &err) : 0;
	token_revocation_forget(u.id);
	log_info("updated user %s (%s)%s", u.id, u.name,
		 given ? ": new password, earlier tokens revoked" : "");
	return keystone_reply_member(resp, 200, "user", user_view(req, &u));
}

static int remove_user(struct api_request *req, struct api_response *resp, const char *id)
{
	return keystone_delete(req, resp, id, "identity:delete_user", "user", identity_user_delete,
			       token_revocation_forget);
}

/* The projects where the user holds any role. */
static int user_projects(struct api_request *req, struct api_response *resp, const char *id)
{
	struct api_identity caller;
	if (keystone_authorize(req, resp, "identity:list_user_projects", KEYSTONE_OWN_USER, id,
			       &caller))
		return 0;
	struct ct_error err = {0};
	struct identity_user u;
	struct identity_assignment *list;
	size_t count;
	if (identity_user_get(id, &u, &err) ||
	    identity_assignments_list(id, NULL, NULL, &list, &count, &err))
		return keystone_fail(resp, &err);
	json_t *items = json_array();
	for (size_t i = 0; i < count; i++) {
		if (i > 0 && !strcmp(list[i].project_id, list[i - 1].project_id))
			continue; /* one row per role; ordered by project */
		struct identity_project p;
		if (!identity_project_get(list[i].project_id, &p, &err))
			json_array_append_new(items, identity_project_view(req, &p));
	}
	free(list);
	return api_reply(resp, 200, keystone_collection(req, "projects", items));
}

int identity_users_route(struct api_request *req, struct api_response *resp, char **seg, int n)
{
	static const struct keystone_handlers handlers = {.list = list,
							  .create = create,
							  .show = show,
							  .update = update,
							  .remove = remove_user};
	if (n == 3 && !strcmp(seg[2], "projects") && !strcmp(req->method, "GET"))
		return user_projects(req, resp, seg[1]);
	return keystone_route(req, resp, seg, n, &handlers);
}
