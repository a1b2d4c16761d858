/*
 * identity.c — the embedded Keystone v3 subset at /identity (spec trove-api.md
 * §11): version discovery, password and token authentication with project
 * scope, token validation, and the dispatch of the admin calls (projects,
 * users, roles, role assignments: identity_routes.h). Errors use Keystone's
 * body shape, not Trove's. Tokens come from auth.c; users and projects from
 * db/identity.c. Password logins pass login_guard.c first. Never logs a
 * password or a token.
 */
#define LOG_MODULE "identity"
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "api/client_address.h"
#include "api/handlers.h"
#include "api/identity_common.h"
#include "api/identity_routes.h"
#include "api/login_guard.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/identity.h"

static json_t *version_doc(const struct api_request *req)
{
	char base[300], self[400];
	auth_public_base(req, base, sizeof base);
	snprintf(self, sizeof self, "%s/identity/v3/", base);
	return json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:[{s:s,s:s}]}", "id", "v3.14", "status",
			 "stable", "updated", "2020-04-07T00:00:00Z", "links", "rel", "self",
			 "href", self, "media-types", "base", "application/json", "type",
			 "application/vnd.openstack.identity-v3+json");
}

static json_t *domain_ref(void)
{
	return json_pack("{s:s,s:s}", "id", IDENTITY_DOMAIN_ID, "name", IDENTITY_DOMAIN_NAME);
}

static json_t *endpoint(const char *interface, const char *url)
{
	char id[33];
	ids_hex32(id);
	const char *region = cfg_str(CFG_REGION_NAME);
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", id, "interface", interface, "region_id",
			 region, "region", region, "url", url);
}

static json_t *catalog(const struct api_request *req, const char *project_id)
{
	char base[300], db_url[512], id_url[400], obj_url[512];
	auth_public_base(req, base, sizeof base);
	snprintf(db_url, sizeof db_url, "%s/v1.0/%s", base, project_id);
	snprintf(id_url, sizeof id_url, "%s/identity/v3/", base);
	/* The published database logs, read-only (api/object_store.h). */
	snprintf(obj_url, sizeof obj_url, "%s/object-store/v1/AUTH_%s", base, project_id);
	json_t *db_eps = json_array(), *id_eps = json_array(), *obj_eps = json_array();
	static const char *const interfaces[] = {"public", "internal", "admin"};
	for (int i = 0; i < 3; i++) {
		json_array_append_new(db_eps, endpoint(interfaces[i], db_url));
		json_array_append_new(id_eps, endpoint(interfaces[i], id_url));
		json_array_append_new(obj_eps, endpoint(interfaces[i], obj_url));
	}
	return json_pack("[{s:s,s:s,s:s,s:o},{s:s,s:s,s:s,s:o},{s:s,s:s,s:s,s:o}]", "type",
			 "database", "name", "trove", "id", "5ca1ab1e000000000000000000000001",
			 "endpoints", db_eps, "type", "identity", "name", "keystone", "id",
			 "5ca1ab1e000000000000000000000002", "endpoints", id_eps, "type",
			 "object-store", "name", "swift", "id", "5ca1ab1e000000000000000000000003",
			 "endpoints", obj_eps);
}

static json_t *token_body(const struct api_request *req, const char *method,
			  const struct identity_entity *user, const struct identity_entity *project,
			  json_t *roles, time_t issued, time_t expires)
{
	char issued_text[CT_TIME_LEN], expires_text[CT_TIME_LEN];
	char audit[24];
	unsigned char audit_raw[16];
	timefmt_keystone(issued, issued_text);
	timefmt_keystone(expires, expires_text);
	if (ids_random(audit_raw, sizeof audit_raw))
		memset(audit_raw, 0, sizeof audit_raw);
	ids_base64url(audit_raw, sizeof audit_raw, audit);
	return json_pack("{s:{s:[s],s:{s:s,s:s,s:o,s:n},s:o,s:[s],s:s,s:s,s:{s:s,s:s,s:o},"
			 "s:b,s:o}}",
			 "token", "methods", method, "user", "id", user->id, "name", user->name,
			 "domain", domain_ref(), "password_expires_at", "roles", roles, "audit_ids",
			 audit, "expires_at", expires_text, "issued_at", issued_text, "project",
			 "id", project->id, "name", project->name, "domain", domain_ref(),
			 "is_domain", 0, "catalog", catalog(req, project->id));
}

/* A name+domain or id reference; the domain, when given, must be ours. */
static int resolve_ref(json_t *ref, const char **id, const char **name)
{
	*id = json_string_value(json_object_get(ref, "id"));
	*name = json_string_value(json_object_get(ref, "name"));
	json_t *domain = json_object_get(ref, "domain");
	if (domain) {
		const char *did = json_string_value(json_object_get(domain, "id"));
		const char *dname = json_string_value(json_object_get(domain, "name"));
		if ((did && strcmp(did, IDENTITY_DOMAIN_ID)) ||
		    (dname && strcmp(dname, IDENTITY_DOMAIN_NAME)))
			return -1;
	}
	return (*id || *name) ? 0 : -1;
}

static int issue_token(struct api_request *req, struct api_response *resp)
{
	struct ct_error err = {0};
	json_t *auth = json_object_get(req->json, "auth");
	json_t *ident = json_object_get(auth, "identity");
	json_t *methods = json_object_get(ident, "methods");
	const char *method = json_string_value(json_array_get(methods, 0));
	if (!method)
		return keystone_error(resp, 400, "Expecting to find identity in auth.");

	struct identity_entity user = {0}, project = {0};
	time_t rescoped_expiry = 0;
	if (!strcmp(method, "password")) {
		json_t *u = json_object_get(json_object_get(ident, "password"), "user");
		const char *uid, *uname;
		const char *password = json_string_value(json_object_get(u, "password"));
		if (resolve_ref(u, &uid, &uname) || !password)
			return keystone_error(resp, 401,
					      "The request you have made requires authentication.");
		char source[INET6_ADDRSTRLEN];
		api_client_address(req, source, sizeof source);
		const char *who = uid ? uid : uname;
		int retry_after;
		if (login_guard_enter(who, source, &retry_after)) {
			keystone_error(resp, 429,
				       "Too many failed logins for this user or from this address; "
				       "try again later.");
			api_add_header(resp, "Retry-After", "%d", retry_after);
			return 0;
		}
		if (identity_authenticate(uid, uname, password, &user, &err))
			return keystone_fail(resp, &err);
		login_guard_succeeded(who, source);
	} else if (!strcmp(method, "token")) {
		const char *given =
			json_string_value(json_object_get(json_object_get(ident, "token"), "id"));
		struct api_identity who;
		if (!given || auth_validate(given, &who, &err) ||
		    identity_user_by_id(who.user_id, &user, &err))
			return keystone_error(resp, 401,
					      "The request you have made requires authentication.");
		/* A rescoped token lives no longer than the one it came from. */
		rescoped_expiry = auth_token_expiry(given);
	} else {
		return keystone_error(resp, 401, "Unsupported authentication method.");
	}

	json_t *scope = json_object_get(json_object_get(auth, "scope"), "project");
	const char *pid, *pname;
	if (!scope || resolve_ref(scope, &pid, &pname))
		return keystone_error(resp, 400,
				      "ctrove's identity service issues project-scoped tokens "
				      "only: give auth.scope.project.");
	if (identity_project(pid, pname, &project, &err))
		return keystone_error(resp, 401,
				      "The request you have made requires authentication.");
	json_t *roles = NULL;
	char role_names[256];
	if (identity_roles(user.id, project.id, &roles, role_names, sizeof role_names, &err))
		return keystone_fail(resp, &err);

	time_t now = time(NULL);
	time_t expires = now + cfg_int(CFG_TOKEN_EXPIRATION);
	if (rescoped_expiry && rescoped_expiry < expires)
		expires = rescoped_expiry;
	char token[1024];
	if (auth_issue(user.id, project.id, role_names, expires, token, sizeof token)) {
		json_decref(roles);
		struct ct_error e = {500, "cannot sign a token"};
		return keystone_fail(resp, &e);
	}
	log_info("issued token for user %s on project %s", user.id, project.id);
	api_reply(resp, 201, token_body(req, method, &user, &project, roles, now, expires));
	api_add_header(resp, "X-Subject-Token", "%s", token);
	return 0;
}

static int validate_token(struct api_request *req, struct api_response *resp)
{
	struct ct_error err = {0};
	struct api_identity caller, subject;
	if (!req->auth_token || auth_validate(req->auth_token, &caller, &err))
		return keystone_error(resp, 401,
				      "The request you have made requires authentication.");
	if (!req->subject_token || auth_validate(req->subject_token, &subject, &err))
		return keystone_error(resp, 404, "Could not find token.");
	struct identity_entity user = {0}, project = {0};
	json_t *roles = NULL;
	char role_names[256];
	if (identity_user_by_id(subject.user_id, &user, &err) ||
	    identity_project(subject.project_id, NULL, &project, &err) ||
	    identity_roles(user.id, project.id, &roles, role_names, sizeof role_names, &err))
		return keystone_error(resp, 404, "Could not find token.");
	time_t expires = auth_token_expiry(req->subject_token);
	api_reply(resp, 200,
		  token_body(req, "password", &user, &project, roles, time(NULL), expires));
	api_add_header(resp, "X-Subject-Token", "%s", req->subject_token);
	return 0;
}

int identity_dispatch(struct api_request *req, struct api_response *resp, char **seg, int n)
{
	/* Segments: identity [v3 [auth tokens | projects ... | users ... | roles ... |
	 * role_assignments]]. */
	const char *m = req->method;
	if (n == 1 && !strcmp(m, "GET"))
		return api_reply(resp, 300,
				 json_pack("{s:{s:[o]}}", "versions", "values", version_doc(req)));
	if (n < 2 || strcmp(seg[1], "v3"))
		return keystone_error(resp, 404, "The resource could not be found.");
	if (n == 2 && !strcmp(m, "GET"))
		return api_reply(resp, 200, json_pack("{s:o}", "version", version_doc(req)));
	if (n == 4 && !strcmp(seg[2], "auth") && !strcmp(seg[3], "tokens")) {
		if (!strcmp(m, "POST")) {
			if (req->body_too_large)
				return keystone_error(resp, 400, "Request is too large.");
			if (req->body && req->body_len) {
				json_error_t jerr;
				req->json = json_loadb(req->body, req->body_len, 0, &jerr);
			}
			if (!json_is_object(req->json))
				return keystone_error(resp, 400,
						      "Expecting to find auth in request body.");
			return issue_token(req, resp);
		}
		if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
			return validate_token(req, resp);
	}
	if (n >= 3 && !strcmp(seg[2], "projects"))
		return identity_projects_route(req, resp, seg + 2, n - 2);
	if (n >= 3 && !strcmp(seg[2], "users"))
		return identity_users_route(req, resp, seg + 2, n - 2);
	if (n >= 3 && !strcmp(seg[2], "roles"))
		return identity_roles_route(req, resp, seg + 2, n - 2);
	if (n >= 3 && !strcmp(seg[2], "role_assignments"))
		return identity_assignments_route(req, resp, seg + 2, n - 2);
	return keystone_error(resp, 404, "The resource could not be found.");
}
