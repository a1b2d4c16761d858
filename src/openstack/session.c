/*
 * session.c — the Keystone v3 password session (session.h): authenticate,
 * keep the token and catalog, refresh them, and send JSON requests with the
 * token to the catalog's endpoints.
 *
 * Owns the session's state under one mutex (re-authentication happens under
 * it, so many threads finding an expired token authenticate once). May not log
 * a password, a token or a body; request lines are logged at DEBUG by method
 * and URL, which hold no secret.
 */
#define LOG_MODULE "openstack"
#include "openstack/session.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "openstack/http.h"

#define REFRESH_MARGIN 60 /* seconds before expiry a token is replaced */
#define FIELD_MAX      256

struct os_session {
	pthread_mutex_t lock;
	char auth_url[1024]; /* .../v3 */
	char username[FIELD_MAX], password[FIELD_MAX], project_name[FIELD_MAX];
	char user_domain[FIELD_MAX], project_domain[FIELD_MAX];
	char region[FIELD_MAX], interface[32];
	long timeout;
	/* Under lock. */
	char token[OS_TOKEN_MAX]; /* "" = none yet or invalidated */
	time_t expires;
	char project_id[FIELD_MAX];
	json_t *catalog;
};

static int copy_field(char *dst, size_t cap, const char *src, const char *fallback,
		      const char *name, struct ct_error *err)
{
	const char *v = src && *src ? src : fallback;
	if (strlen(v) >= cap)
		return ct_fail(err, 500, "[service_credentials] %s is too long.", name);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static bool parse_expiry(const char *text, time_t *out)
{
	struct tm tm = {0};
	const char *rest = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return false;
	*out = timegm(&tm);
	return true;
}

static json_t *auth_body(const struct os_session *s)
{
	return json_pack("{s:{s:{s:[s],s:{s:{s:s,s:{s:s},s:s}}},s:{s:{s:s,s:{s:s}}}}}", "auth",
			 "identity", "methods", "password", "password", "user", "name", s->username,
			 "domain", "name", s->user_domain, "password", s->password, "scope",
			 "project", "name", s->project_name, "domain", "name", s->project_domain);
}

/* Under s->lock. */
static int authenticate(struct os_session *s, struct ct_error *err)
{
	json_t *req = auth_body(s);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text)
		return ct_fail(err, 500, "out of memory");
	char url[1100];
	snprintf(url, sizeof url, "%s/auth/tokens", s->auth_url);
	struct os_http_reply r;
	int rc = os_http_do("Keystone", "POST", url, NULL, text, s->timeout, &r, err);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc)
		return -1;
	json_t *body = r.body ? json_loads(r.body, 0, NULL) : NULL;
	if (r.status == 401 || r.status == 403 || r.status == 404) {
		long status = r.status;
		os_http_reply_clear(&r);
		json_decref(body);
		return ct_fail(err, 401,
			       "Keystone at %s refused the service credentials of user %s on "
			       "project %s (HTTP %ld).",
			       s->auth_url, s->username, s->project_name, status);
	}
	json_t *token = json_object_get(body, "token");
	time_t expires;
	if (r.status != 201 || !*r.subject_token || !json_is_object(token) ||
	    !parse_expiry(json_string_value(json_object_get(token, "expires_at")), &expires)) {
		long status = r.status;
		os_http_reply_clear(&r);
		json_decref(body);
		return ct_fail(err, 502, "Keystone at %s gave no usable token (HTTP %ld).",
			       s->auth_url, status);
	}
	const char *project =
		json_string_value(json_object_get(json_object_get(token, "project"), "id"));
	snprintf(s->token, sizeof s->token, "%s", r.subject_token);
	snprintf(s->project_id, sizeof s->project_id, "%s", project ? project : "");
	s->expires = expires;
	json_decref(s->catalog);
	s->catalog = json_incref(json_object_get(token, "catalog"));
	if (!s->catalog)
		s->catalog = json_array();
	os_http_reply_clear(&r);
	json_decref(body);
	log_debug("authenticated user %s on project %s at %s", s->username, s->project_name,
		  s->auth_url);
	return 0;
}

/* Under s->lock: a token valid for REFRESH_MARGIN more seconds. */
static int fresh(struct os_session *s, struct ct_error *err)
{
	if (*s->token && time(NULL) + REFRESH_MARGIN < s->expires)
		return 0;
	return authenticate(s, err);
}

struct os_session *os_session_new(const struct os_credentials *c, struct ct_error *err)
{
	if (!c->auth_url ||
	    (strncmp(c->auth_url, "http://", 7) && strncmp(c->auth_url, "https://", 8))) {
		ct_fail(err, 500, "[service_credentials] auth_url must be an http(s) URL.");
		return NULL;
	}
	if (!c->username || !*c->username || !c->password || !c->project_name ||
	    !*c->project_name) {
		ct_fail(err, 500,
			"[service_credentials] needs username, password and project_name.");
		return NULL;
	}
	if (c->timeout < 1) {
		ct_fail(err, 500, "The OpenStack request timeout must be positive.");
		return NULL;
	}
	struct os_session *s = calloc(1, sizeof *s);
	if (!s) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->timeout = c->timeout;
	size_t n = strlen(c->auth_url);
	while (n && c->auth_url[n - 1] == '/')
		n--;
	/* Trove's auth_url may name Keystone's root or its /v3. */
	bool has_v3 = n >= 3 && !strncmp(c->auth_url + n - 3, "/v3", 3);
	if (n + 4 >= sizeof s->auth_url) {
		ct_fail(err, 500, "[service_credentials] auth_url is too long.");
		os_session_free(s);
		return NULL;
	}
	snprintf(s->auth_url, sizeof s->auth_url, "%.*s%s", (int)n, c->auth_url,
		 has_v3 ? "" : "/v3");
	if (copy_field(s->username, FIELD_MAX, c->username, "", "username", err) ||
	    copy_field(s->password, FIELD_MAX, c->password, "", "password", err) ||
	    copy_field(s->project_name, FIELD_MAX, c->project_name, "", "project_name", err) ||
	    copy_field(s->user_domain, FIELD_MAX, c->user_domain_name, "Default",
		       "user_domain_name", err) ||
	    copy_field(s->project_domain, FIELD_MAX, c->project_domain_name, "Default",
		       "project_domain_name", err) ||
	    copy_field(s->region, FIELD_MAX, c->region_name, "", "region_name", err) ||
	    copy_field(s->interface, sizeof s->interface, c->interface, "public", "interface",
		       err)) {
		os_session_free(s);
		return NULL;
	}
	if (strcmp(s->interface, "public") && strcmp(s->interface, "internal") &&
	    strcmp(s->interface, "admin")) {
		ct_fail(err, 500,
			"[service_credentials] interface must be public, internal or admin.");
		os_session_free(s);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	int rc = authenticate(s, err);
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		os_session_free(s);
		return NULL;
	}
	return s;
}

void os_session_free(struct os_session *s)
{
	if (!s)
		return;
	json_decref(s->catalog);
	pthread_mutex_destroy(&s->lock);
	explicit_bzero(s, sizeof *s);
	free(s);
}

int os_session_token(struct os_session *s, char *buf, size_t len, struct ct_error *err)
{
	pthread_mutex_lock(&s->lock);
	int rc = fresh(s, err);
	if (!rc && strlen(s->token) >= len)
		rc = ct_fail(err, 500, "The Keystone token does not fit its buffer.");
	if (!rc)
		memcpy(buf, s->token, strlen(s->token) + 1);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int os_session_project_id(struct os_session *s, char *buf, size_t len, struct ct_error *err)
{
	pthread_mutex_lock(&s->lock);
	int rc = fresh(s, err);
	if (!rc)
		snprintf(buf, len, "%s", s->project_id);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void os_session_invalidate(struct os_session *s)
{
	pthread_mutex_lock(&s->lock);
	explicit_bzero(s->token, sizeof s->token);
	pthread_mutex_unlock(&s->lock);
}

int os_session_endpoint(struct os_session *s, const char *service_type, char *buf, size_t len,
			struct ct_error *err)
{
	pthread_mutex_lock(&s->lock);
	int rc = fresh(s, err);
	if (!rc)
		rc = os_catalog_endpoint(s->catalog, service_type, s->interface, s->region, buf,
					 len, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The token and the full URL of one request, under the lock. */
static int prepare(struct os_session *s, const char *service_type, const char *path, char *token,
		   char *url, size_t url_len, struct ct_error *err)
{
	pthread_mutex_lock(&s->lock);
	int rc = fresh(s, err);
	char base[1024] = "";
	bool absolute = !strncmp(path, "http://", 7) || !strncmp(path, "https://", 8);
	if (!rc && !absolute)
		rc = os_catalog_endpoint(s->catalog, service_type, s->interface, s->region, base,
					 sizeof base, err);
	if (!rc)
		memcpy(token, s->token, strlen(s->token) + 1);
	pthread_mutex_unlock(&s->lock);
	if (rc)
		return -1;
	int n = absolute ? snprintf(url, url_len, "%s", path)
			 : snprintf(url, url_len, "%s%s%s", base, *path == '/' ? "" : "/", path);
	if (n < 0 || (size_t)n >= url_len) {
		explicit_bzero(token, OS_TOKEN_MAX);
		return ct_fail(err, 500, "The %s request URL is too long.", service_type);
	}
	return 0;
}

/* The header list: the caller's, then X-Auth-Token. */
static const char **with_token(const char *const *headers, char *line)
{
	size_t n = 0;
	while (headers && headers[n])
		n++;
	const char **all = calloc(n + 2, sizeof *all);
	if (!all)
		return NULL;
	for (size_t i = 0; i < n; i++)
		all[i] = headers[i];
	all[n] = line;
	return all;
}

int os_request(struct os_session *s, const char *service_type, const char *method, const char *path,
	       const json_t *body, const char *const *headers, long *status, json_t **reply,
	       struct ct_error *err)
{
	*reply = NULL;
	*status = 0;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !text)
		return ct_fail(err, 500, "out of memory");
	static const char prefix[] = "X-Auth-Token: ";
	char *line = malloc(sizeof prefix + OS_TOKEN_MAX);
	char url[4096];
	int rc = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!line) {
			ct_fail(err, 500, "out of memory");
			break;
		}
		memcpy(line, prefix, sizeof prefix - 1);
		char *token = line + sizeof prefix - 1;
		if (prepare(s, service_type, path, token, url, sizeof url, err))
			break;
		const char **all = with_token(headers, line);
		if (!all) {
			ct_fail(err, 500, "out of memory");
			break;
		}
		struct os_http_reply r;
		rc = os_http_do(service_type, method, url, all, text, s->timeout, &r, err);
		free(all);
		if (rc)
			break;
		log_debug("%s %.*s -> %ld", method, (int)strcspn(url, "?"), url, r.status);
		if (r.status == 401 && attempt == 0) {
			/* Revoked or expired early: authenticate again, once. */
			os_http_reply_clear(&r);
			os_session_invalidate(s);
			rc = -1;
			continue;
		}
		*status = r.status;
		if (r.body_len) {
			*reply = json_loadb(r.body, r.body_len, 0, NULL);
			if (!*reply) /* some errors come as text or HTML */
				*reply = json_pack("{s:s%}", "message", r.body,
						   r.body_len > 512 ? (size_t)512 : r.body_len);
		}
		os_http_reply_clear(&r);
		break;
	}
	if (line) {
		explicit_bzero(line, sizeof prefix + OS_TOKEN_MAX);
		free(line);
	}
	if (text) /* bodies may carry credentials (a guest's user data) */
		explicit_bzero(text, strlen(text));
	free(text);
	return rc;
}
