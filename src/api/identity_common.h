/*
 * identity_common.h — what every part of the embedded Keystone v3 API shares:
 * Keystone's error body ({"error": {"code", "title", "message"}}), the
 * caller's token and Keystone's 401/403 for admin calls, request bodies and
 * their fields with Keystone's validation wording, self links, and the
 * skeleton every admin collection shares (its routes, its DELETE). Used by
 * identity.c (tokens), identity_projects.c, identity_users.c and
 * identity_roles.c. May not read or write rows.
 */
#ifndef CT_API_IDENTITY_COMMON_H
#define CT_API_IDENTITY_COMMON_H

#include <jansson.h>
#include <stdbool.h>

#include "api/request.h"

/* The reply is set; both return 0 so a handler can `return keystone_error(...)`. */
int keystone_error(struct api_response *resp, int status, const char *message);
int keystone_fail(struct api_response *resp, const struct ct_error *err);

/* The caller of an admin call: 0 with *caller set when the token is valid and
 * the caller an admin (or allow_self says the target is the caller's own).
 * Otherwise the 401 or "You are not authorized to perform the requested
 * action: <action>." 403 reply is set and -1 returned. */
enum keystone_self { KEYSTONE_ADMIN_ONLY, KEYSTONE_OWN_USER, KEYSTONE_OWN_PROJECT };
int keystone_authorize(struct api_request *req, struct api_response *resp, const char *action,
		       enum keystone_self allow_self, const char *target_id,
		       struct api_identity *caller);
/* keystone_authorize for an admin-only call that needs no caller: true when
 * allowed, otherwise the 401/403 reply is set. */
bool keystone_admin(struct api_request *req, struct api_response *resp, const char *action);

/* The object under `member` of the JSON body (borrowed from req->json, which
 * this parses); NULL with a 400/413 reply set when there is none. */
json_t *keystone_body(struct api_request *req, struct api_response *resp, const char *member);
/* keystone_admin, then keystone_body: the body of an admin call that writes. */
json_t *keystone_admin_body(struct api_request *req, struct api_response *resp, const char *action,
			    const char *member);

/* Read one optional field of obj into out. -1 with a 400 reply set when it has
 * the wrong type or length (max_chars characters, and it must fit out);
 * *present says whether it was given (JSON null counts as given and empty
 * when nullable). */
int keystone_string(json_t *obj, const char *field, int min_chars, int max_chars, bool nullable,
		    char *out, size_t size, bool *present, struct api_response *resp);
int keystone_bool(json_t *obj, const char *field, bool *out, struct api_response *resp);
/* Keystone's 400 for a required field that is missing; returns -1. */
int keystone_required(struct api_response *resp, const char *field);
/* The 404 for a domain other than the one there is; returns -1. */
int keystone_unknown_domain(struct api_response *resp);

/* <public base>/identity/v3/<path> */
void keystone_url(const struct api_request *req, const char *path, const char *id, char *out,
		  size_t size);
/* {"self": <url of collection/id>} */
json_t *keystone_self_link(const struct api_request *req, const char *collection, const char *id);
/* {"<collection>": items (stolen), "links": {"self", "previous", "next"}} */
json_t *keystone_collection(const struct api_request *req, const char *collection, json_t *items);
/* Reply {"<member>": view (stolen)} with status. */
int keystone_reply_member(struct api_response *resp, int status, const char *member, json_t *view);

/* The handlers of one admin collection; NULL where Keystone has no such call. */
struct keystone_handlers {
	int (*list)(struct api_request *req, struct api_response *resp);
	int (*create)(struct api_request *req, struct api_response *resp);
	int (*show)(struct api_request *req, struct api_response *resp, const char *id);
	int (*update)(struct api_request *req, struct api_response *resp, const char *id);
	int (*remove)(struct api_request *req, struct api_response *resp, const char *id);
};
/* /<collection> (GET list, POST create) and /<collection>/{id} (GET or HEAD
 * show, PATCH update, DELETE remove): the handler, else Keystone's 405; any
 * deeper path 404. */
int keystone_route(struct api_request *req, struct api_response *resp, char **seg, int n,
		   const struct keystone_handlers *h);

/* DELETE of one row: the admin check for `action`, remove(id), then forget(id)
 * voids the tokens the row carried, a log line naming `noun`, 204. */
int keystone_delete(struct api_request *req, struct api_response *resp, const char *id,
		    const char *action, const char *noun,
		    int (*remove)(const char *id, struct ct_error *err),
		    void (*forget)(const char *id));

#endif
