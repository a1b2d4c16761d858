/*
 * identity_routes.h — the admin parts of the embedded Keystone v3 API, each
 * given the path below /identity/v3 as segments (seg[0] is "projects",
 * "users", "roles" or "role_assignments"). identity.c's dispatcher calls them;
 * each authorizes its caller itself (identity_common.h).
 */
#ifndef CT_API_IDENTITY_ROUTES_H
#define CT_API_IDENTITY_ROUTES_H

#include "api/request.h"

/* identity_projects.c: /projects[/{id}[/users/{user}/roles[/{role}]]] */
int identity_projects_route(struct api_request *req, struct api_response *resp, char **seg, int n);
/* identity_users.c: /users[/{id}[/projects]] */
int identity_users_route(struct api_request *req, struct api_response *resp, char **seg, int n);
/* identity_roles.c: /roles[/{id}], /role_assignments */
int identity_roles_route(struct api_request *req, struct api_response *resp, char **seg, int n);
int identity_assignments_route(struct api_request *req, struct api_response *resp, char **seg,
			       int n);
/* identity_roles.c: /projects/{project}/users/{user}/roles[/{role}] */
int identity_grants_route(struct api_request *req, struct api_response *resp,
			  const char *project_id, const char *user_id, const char *role_id);
/* identity_projects.c: the Keystone view of a project (new reference). */
struct identity_project;
json_t *identity_project_view(const struct api_request *req, const struct identity_project *p);

#endif
