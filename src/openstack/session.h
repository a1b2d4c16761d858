/*
 * session.h — a Keystone v3 password session over libcurl, usable from any
 * thread: the token and the service catalog of one service user, refreshed
 * before the token expires, and one-call JSON requests to any service in that
 * catalog. Everything in ctrove that talks to an OpenStack service goes
 * through it (the nova compute driver, the keystone auth strategy's service
 * token, Swift's Keystone auth).
 *
 * Owns the session's copies of the credentials, its token and catalog, and
 * the curl handles of its requests. May not know any service's resources, and
 * never logs a password, a token or a request body.
 */
#ifndef CT_OPENSTACK_SESSION_H
#define CT_OPENSTACK_SESSION_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

struct os_credentials {	      /* borrowed for os_session_new */
	const char *auth_url; /* http(s)://host:5000/v3 */
	const char *username, *password, *project_name;
	const char *user_domain_name, *project_domain_name; /* "" = Default */
	const char *region_name;			    /* "" = any */
	const char *interface; /* public | internal | admin; "" = public */
	long timeout;	       /* seconds per request */
};

struct os_session;

/* Copies c and authenticates once, so bad credentials are an error here (401
 * naming the user and project; 502/504 naming Keystone when it is away). */
struct os_session *os_session_new(const struct os_credentials *c, struct ct_error *err);
/* Wipes the password and token. NULL is fine. */
void os_session_free(struct os_session *s);
/* The current token copied into buf (re-authenticates when it expires within
 * 60 s or after os_session_invalidate). */
int os_session_token(struct os_session *s, char *buf, size_t len, struct ct_error *err);
/* The project the session's token is scoped to (Keystone's id) into buf. */
int os_session_project_id(struct os_session *s, char *buf, size_t len, struct ct_error *err);
void os_session_invalidate(struct os_session *s);
/* The catalog endpoint of service_type ("compute", "image", "volumev3",
 * "network", "object-store", "identity", ...) for the region and interface. */
int os_session_endpoint(struct os_session *s, const char *service_type, char *buf, size_t len,
			struct ct_error *err);

/* One JSON request. path is absolute (http...) or relative to service_type's
 * endpoint; body may be NULL; headers is a NULL-terminated list of "Name: value"
 * (may be NULL). *status gets the HTTP status, *reply the parsed JSON body or
 * NULL (caller json_decref). A 401 re-authenticates once and retries. -1 with
 * err (502/504 naming the service) only when no HTTP answer came. */
int os_request(struct os_session *s, const char *service_type, const char *method, const char *path,
	       const json_t *body, const char *const *headers, long *status, json_t **reply,
	       struct ct_error *err);

/* Pure parts, for the unit tests and for callers. */

/* The URL of service_type in a Keystone v3 catalog (token.catalog): the first
 * endpoint with that interface ("" = public) in region ("" = any), without a
 * trailing '/'. 404 naming the service, interface and region when none. */
int os_catalog_endpoint(const json_t *catalog, const char *service_type, const char *interface,
			const char *region, char *buf, size_t len, struct ct_error *err);
/* The human message of an OpenStack error body ({"itemNotFound": {"message":
 * ...}}, {"NeutronError": {"message": ...}}, {"error": {"message": ...}},
 * {"badRequest": ...}, ...) into buf; "" when it has none. */
void os_reply_message(const json_t *reply, char *buf, size_t len);

#endif
