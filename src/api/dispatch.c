/*
 * dispatch.c — see dispatch.h.
 */
#define LOG_MODULE "api"
#include "api/dispatch.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/auth.h"
#include "api/metrics.h"
#include "api/object_store.h"
#include "api/policy.h"
#include "api/ratelimit.h"
#include "api/request_metrics.h"
#include "api/routes.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"

#define MAX_SEGMENTS 16

/* webob-style bodies that Trove's middleware produces outside the controllers. */
static void reply_webob(struct api_response *resp, int status, const char *code, const char *title,
			const char *message)
{
	char clean[600];
	api_utf8_clean(message, clean, sizeof clean);
	api_reply(resp, status,
		  json_pack("{s:s,s:s,s:s}", "message", clean, "code", code, "title", title));
}

static void reply_unauthorized(struct api_response *resp, const struct api_request *req)
{
	api_reply(resp, 401,
		  json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 401, "title", "Unauthorized",
			    "message", "The request you have made requires authentication."));
	(void)req;
}

/* Every 401 names where to authenticate, as keystonemiddleware does. */
static void add_www_authenticate(struct api_response *resp, const struct api_request *req)
{
	const char *uri = cfg_str(CFG_WWW_AUTHENTICATE_URI);
	if (!*uri && auth_is_keystone())
		uri = cfg_str(CFG_KEYSTONE_AUTH_URL);
	if (*uri) {
		api_add_header(resp, "WWW-Authenticate", "Keystone uri=\"%s\"", uri);
		return;
	}
	char base[300];
	auth_public_base(req, base, sizeof base);
	api_add_header(resp, "WWW-Authenticate", "Keystone uri=\"%s/identity/v3\"", base);
}

/* Split path into NUL-terminated segments inside req->path_buf. */
static int split_path(struct api_request *req, const char *path, char **segments)
{
	size_t len = strlen(path);
	if (len >= sizeof req->path_buf)
		return -1;
	memcpy(req->path_buf, path, len + 1);
	int n = 0;
	char *p = req->path_buf;
	while (*p) {
		while (*p == '/')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == MAX_SEGMENTS)
			return -1;
		segments[n++] = p;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

static bool is_json_type(const char *content_type)
{
	if (!content_type)
		return false;
	static const char json_type[] = "application/json";
	if (strncasecmp(content_type, json_type, sizeof json_type - 1))
		return false;
	char next = content_type[sizeof json_type - 1];
	return next == '\0' || next == ';' || next == ' ';
}

/* Accept: application/vnd.openstack.trove+json;version=X on an unversioned URL
 * asks for API version X; only 1.0 exists. */
static bool accepts_version(const char *accept)
{
	static const char media[] = "application/vnd.openstack.trove+json";
	const char *p = accept ? strcasestr(accept, media) : NULL;
	if (!p)
		return true;
	const char *v = strcasestr(p, "version=");
	if (!v)
		return true;
	v += sizeof "version=" - 1;
	return !strncmp(v, "1.0", 3) && (v[3] == '\0' || v[3] == ';' || v[3] == ',' || v[3] == ' ');
}

static void not_found(struct api_response *resp)
{
	struct ct_error err = {404, "The resource could not be found."};
	api_reply_error(resp, &err);
}

static void check_access_and_run(const struct api_route *route, struct api_request *req,
				 struct api_response *resp)
{
	struct ct_error err = {0};
	if (route->access == ACCESS_ADMIN_CTX && !req->who.is_admin) {
		ct_fail(&err, 401, "User does not have admin privileges.");
		api_reply_error(resp, &err);
		return;
	}
	/* Every other route is the policy's decision (api/policy.h). */
	if (route->access != ACCESS_ADMIN_CTX && policy_enforce(req, route->rule, &err)) {
		api_reply_error(resp, &err);
		return;
	}
	if (route->handler(req, resp, &err)) {
		if (!err.status)
			ct_fail(&err, 500, "handler for %s failed without an error", route->rule);
		api_reply_error(resp, &err);
	}
}

static void dispatch_v1(struct api_request *req, struct api_response *resp, char **segments,
			int nsegments)
{
	struct ct_error err = {0};

	if (!req->auth_token || !*req->auth_token ||
	    auth_validate(req->auth_token, &req->who, &err)) {
		if (err.status == 503)
			/* Keystone could not say: not the caller's fault (keystonemiddleware). */
			api_reply(resp, 503,
				  json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 503, "title",
					    "Service Unavailable", "message", err.message));
		else
			reply_unauthorized(resp, req);
		return;
	}
	log_set_context(req->request_id, req->who.project_id);

	/* /v1.0/<project>/<more>: the project must be the token's. */
	if (nsegments < 3 || strcmp(segments[1], req->who.project_id)) {
		char message[512];
		snprintf(message, sizeof message,
			 "Access was denied to this resource.<br /><br />\nUser with tenant id "
			 "%s cannot access this resource.\n\n",
			 req->who.project_id);
		reply_webob(resp, 403, "403 Forbidden", "Forbidden", message);
		return;
	}
	req->project = segments[1];

	if (req->body && req->body_len > 0) {
		if (!is_json_type(req->content_type)) {
			char message[512];
			snprintf(message, sizeof message,
				 "The request media type %.200s is not supported by this "
				 "server.\n<br /><br />\n",
				 req->content_type ? req->content_type : "text/plain");
			reply_webob(resp, 415, "415 Unsupported Media Type",
				    "Unsupported Media Type", message);
			return;
		}
	}
	if (req->body_too_large) {
		ct_fail(&err, 413, "Request is too large.");
		api_reply_error(resp, &err);
		return;
	}
	if (req->body && req->body_len > 0) {
		json_error_t jerr;
		req->json = json_loadb(req->body, req->body_len, 0, &jerr);
		if (!req->json) {
			reply_webob(resp, 400, "400 Bad Request", "Bad Request",
				    "Malformed request body<br /><br />\n\n\n");
			return;
		}
	}

	int retry_after = 0;
	if (ratelimit_check(req->who.project_id, req->method, segments + 2, nsegments - 2,
			    &retry_after)) {
		char details[128];
		snprintf(details, sizeof details,
			 "Only %ld %s request(s) can be made to * every minute.",
			 ratelimit_value(req->method), req->method);
		char retry[32];
		snprintf(retry, sizeof retry, "%d", retry_after);
		api_reply(resp, 413,
			  json_pack("{s:{s:i,s:s,s:s,s:s}}", "overLimit", "code", 413, "message",
				    "This request was rate-limited.", "details", details,
				    "retryAfter", retry));
		api_add_header(resp, "Retry-After", "%d", retry_after);
		return;
	}

	const struct api_route *route = routes_match(req, req->method, segments + 2, nsegments - 2);
	if (!route) {
		not_found(resp);
		return;
	}
	int count;
	req->route_index = (int)(route - routes_table(&count));
	check_access_and_run(route, req, resp);
}

void api_dispatch(struct api_request *req, struct api_response *resp)
{
	char *segments[MAX_SEGMENTS];
	struct timespec started, ended;
	clock_gettime(CLOCK_MONOTONIC, &started);
	memset(resp, 0, sizeof *resp);
	req->route_index = -1 - API_METRICS_UNROUTED;
	if (!req->request_id[0]) {
		char id[CT_UUID_LEN + 1];
		ids_uuid(id);
		snprintf(req->request_id, sizeof req->request_id, "%s", id);
	}
	log_set_context(req->request_id, NULL);

	int nsegments = split_path(req, req->path ? req->path : "/", segments);
	if (nsegments < 0) {
		not_found(resp);
	} else if (nsegments == 0 && !accepts_version(req->accept)) {
		api_reply(resp, 406,
			  json_pack("{s:{s:i,s:s}}", "notAcceptable", "code", 406, "message",
				    "version not supported"));
	} else if (nsegments == 0) {
		struct ct_error err = {0};
		if (versions_index(req, resp, &err))
			api_reply_error(resp, &err);
	} else if (!strcmp(segments[0], "identity") && auth_is_keystone()) {
		/* Clients authenticate at the real Keystone (its catalog). */
		not_found(resp);
	} else if (!strcmp(segments[0], "identity")) {
		req->route_index = -1 - API_METRICS_IDENTITY;
		identity_dispatch(req, resp, segments, nsegments);
	} else if (nsegments == 1 && !strcmp(segments[0], "metrics")) {
		req->route_index = -1 - API_METRICS_METRICS;
		metrics_dispatch(req, resp);
	} else if (!strcmp(segments[0], "v1.0")) {
		dispatch_v1(req, resp, segments, nsegments);
	} else if (!strcmp(segments[0], "object-store")) {
		req->route_index = -1 - API_METRICS_OBJECT_STORE;
		object_store_dispatch(req, resp, segments, nsegments);
	} else {
		not_found(resp);
	}

	if (resp->status == 401)
		add_www_authenticate(resp, req);
	log_info("%s %s status: %d", req->method, req->path ? req->path : "/", resp->status);
	clock_gettime(CLOCK_MONOTONIC, &ended);
	api_metrics_record(req->route_index, resp->status,
			   (double)(ended.tv_sec - started.tv_sec) +
				   (double)(ended.tv_nsec - started.tv_nsec) / 1e9);
	if (req->json) {
		json_decref(req->json);
		req->json = NULL;
	}
	log_clear_context();
}
