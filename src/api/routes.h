/*
 * routes.h — the Trove v1.0 route table, declared as data (routes.c).
 *
 * A pattern is the path below /v1.0/{project}/ with '*' for one variable
 * segment. The access rule is checked before the handler runs:
 *   ACCESS_PROJECT     any authenticated caller of the project (admin_or_owner)
 *   ACCESS_ADMIN_CTX   admin context, else 401 "User does not have admin privileges."
 *   ACCESS_ADMIN_RULE  policy rule:admin, else 403 "Policy doesn't allow <rule> ..."
 */
#ifndef CT_API_ROUTES_H
#define CT_API_ROUTES_H

#include <stdio.h>

#include <stdbool.h>

#include "api/handlers.h"

enum api_access { ACCESS_PROJECT, ACCESS_ADMIN_CTX, ACCESS_ADMIN_RULE };

/* Whether a handler waits on a guest agent. A route served by calling the
 * guest (databases, users, root: instance_guest.c) is WAIT_GUEST, and the HTTP
 * front serves it on api/wait_pool.h, so that a hung guest holds no HTTP
 * thread; tests/unit/test_routes.c checks the rows against instance_guest.c. */
enum api_wait { WAIT_NONE, WAIT_GUEST };

struct api_route {
	const char *method;
	const char *pattern;
	api_handler handler;
	enum api_access access;
	const char *rule; /* policy rule name, for messages and docs */
	enum api_wait wait;
};

/* Match method + segments; fills req->params. NULL when nothing matches. */
const struct api_route *routes_match(struct api_request *req, const char *method, char **segments,
				     int nsegments);
/* Whether the route of method and a whole request path (/v1.0/<project>/...)
 * is WAIT_GUEST; false for paths no route serves. */
bool routes_wait_on_guest(const char *method, const char *path);
/* The table, for docs and tests. */
const struct api_route *routes_table(int *count);
/* The table as Markdown (docs/api.md, `ctrove --help-routes`). */
void routes_print(FILE *out);

#endif
