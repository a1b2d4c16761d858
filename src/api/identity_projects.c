/*
 * identity_projects.c — Keystone v3 /projects of the embedded identity: list,
 * show, create, update and delete (what `openstack project ...` calls).
 * Admin only, except that a user may read the project of their own token.
 * Deleting or disabling a project voids its tokens at once; a project that
 * still owns instances is not deleted (409). Rows come from
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

json_t *identity_project_view(const struct api_request *req, const struct identity_project *p)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:[],s:{},s:o}", "id", p->id, "name",
			 p->name, "domain_id", IDENTITY_DOMAIN_ID, "description", p->description,
			 "enabled", p->enabled, "is_domain", 0, "parent_id", IDENTITY_DOMAIN_ID,
			 "tags", "options", "links", keystone_self_link(req, "projects", p->id));
}

/* A domain_id filter or field names the one domain, or nothing matches. */
static bool our_domain(const char *domain_id)
{
	return !domain_id || !strcmp(domain_id, IDENTITY_DOMAIN_ID);
}

/* ?enabled=true|false as Keystone reads it; NULL matches both. */
static bool enabled_matches(const char *filter, bool enabled)
{
	if (!filter)
		return true;
	bool wanted = strcmp(filter, "0") && strcasecmp(filter, "false") && strcmp(filter, "");
	return wanted == enabled;
}

static int list(struct api_request *req, struct api_response *resp)
{
	if (!keystone_admin(req, resp, "identity:list_projects"))
		return 0;
	struct ct_error err = {0};
	struct identity_project *projects;
	size_t count;
	if (identity_projects_list(api_query(req, "name"), &projects, &count, &err))
		return keystone_fail(resp, &err);
	const char *enabled = api_query(req, "enabled");
	json_t *items = json_array();
	for (size_t i = 0; i < count; i++)
		if (our_domain(api_query(req, "domain_id")) &&
		    enabled_matches(enabled, projects[i].enabled))
			json_array_append_new(items, identity_project_view(req, &projects[i]));
	free(projects);
	return api_reply(resp, 200, keystone_collection(req, "projects", items));
}

static int show(struct api_request *req, struct api_response *resp, const char *id)
{
	struct api_identity caller;
	if (keystone_authorize(req, resp, "identity:get_project", KEYSTONE_OWN_PROJECT, id,
			       &caller))
		return 0;
	struct ct_error err = {0};
	struct identity_project p;
	if (identity_project_get(id, &p, &err))
		return keystone_fail(resp, &err);
	return keystone_reply_member(resp, 200, "project", identity_project_view(req, &p));
}

/* name, description, enabled from body into p; -1 with the 400 reply set. */
static int read_fields(json_t *body, struct identity_project *p, bool name_required,
		       struct api_response *resp)
{
	bool present;
	if (keystone_string(body, "name", 1, 64, false, p->name, sizeof p->name, &present, resp))
		return -1;
	if (name_required && !present)
		return keystone_required(resp, "name");
	if (keystone_string(body, "description", 0, IDENTITY_DESCRIPTION_MAX - 1, true,
			    p->description, sizeof p->description, &present, resp) ||
	    keystone_bool(body, "enabled", &p->enabled, resp))
		return -1;
	const char *domain = json_string_value(json_object_get(body, "domain_id"));
	const char *parent = json_string_value(json_object_get(body, "parent_id"));
	if (!our_domain(domain))
		return keystone_unknown_domain(resp);
	if ((parent && strcmp(parent, IDENTITY_DOMAIN_ID)) ||
	    json_is_true(json_object_get(body, "is_domain"))) {
		keystone_error(resp, 400,
			       "The embedded identity has no project hierarchy: parent_id and "
			       "is_domain are not supported.");
		return -1;
	}
	return 0;
}

static int create(struct api_request *req, struct api_response *resp)
{
	json_t *body = keystone_admin_body(req, resp, "identity:create_project", "project");
	struct identity_project p = {.enabled = true};
	if (!body || read_fields(body, &p, true, resp))
		return 0;
	struct ct_error err = {0};
	if (identity_project_create(&p, &err))
		return keystone_fail(resp, &err);
	log_info("created project %s (%s)", p.id, p.name);
	return keystone_reply_member(resp, 201, "project", identity_project_view(req, &p));
}

static int update(struct api_request *req, struct api_response *resp, const char *id)
{
	json_t *body = keystone_admin_body(req, resp, "identity:update_project", "project");
	if (!body)
		return 0;
	struct ct_error err = {0};
	struct identity_project p;
	if (identity_project_get(id, &p, &err))
		return keystone_fail(resp, &err);
	if (read_fields(body, &p, false, resp))
		return 0;
	if (identity_project_update(&p, &err))
		return keystone_fail(resp, &err);
	token_revocation_forget(p.id);
	log_info("updated project %s (%s)", p.id, p.name);
	return keystone_reply_member(resp, 200, "project", identity_project_view(req, &p));
}

static int remove_project(struct api_request *req, struct api_response *resp, const char *id)
{
	return keystone_delete(req, resp, id, "identity:delete_project", "project",
			       identity_project_delete, token_revocation_forget);
}

int identity_projects_route(struct api_request *req, struct api_response *resp, char **seg, int n)
{
	static const struct keystone_handlers handlers = {.list = list,
							  .create = create,
							  .show = show,
							  .update = update,
							  .remove = remove_project};
	if ((n == 5 || n == 6) && !strcmp(seg[2], "users") && !strcmp(seg[4], "roles"))
		return identity_grants_route(req, resp, seg[1], seg[3], n == 6 ? seg[5] : NULL);
	return keystone_route(req, resp, seg, n, &handlers);
}
