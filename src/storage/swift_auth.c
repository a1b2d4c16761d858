/*
 * swift_auth.c — the Swift store's configuration and tokens: tempauth (v1:
 * GET <auth_url> with X-Auth-User / X-Auth-Key → X-Storage-Url + X-Auth-Token)
 * or Keystone v3 (the [service_credentials] session: its token, and Swift's
 * endpoint from the catalog or swift_url + the project id) for the control
 * plane, a given storage URL and token for a guest agent, and the request
 * helper every Swift operation goes through.
 *
 * Owns struct swift_store's lifetime and its secrets (the key and tokens are
 * wiped when released). May not log a key or a token.
 */
#define LOG_MODULE "storage"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "openstack/service_session.h"
#include "storage/swift_internal.h"

static int url_valid(const char *url)
{
	return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
}

/* The sizes and timeout are checked by the caller (positive). */
static struct swift_store *store_alloc(uint64_t segment, long timeout, long page,
				       struct ct_error *err)
{
	if (curl_library_load(err)) /* before any curl call, slists included */
		return NULL;
	struct swift_store *st = calloc(1, sizeof *st);
	if (!st) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&st->lock, NULL);
	st->segment_size = segment;
	st->timeout = timeout;
	st->list_page = page;
	return st;
}

/* Trove's swift_endpoint_type names (publicURL, ...) as Keystone v3 interfaces. */
static const char *interface_of(const char *endpoint_type)
{
	if (!strcmp(endpoint_type, "internalURL") || !strcmp(endpoint_type, "internal"))
		return "internal";
	if (!strcmp(endpoint_type, "adminURL") || !strcmp(endpoint_type, "admin"))
		return "admin";
	return "public";
}

/* The store the control plane uses when [swift] auth_url is empty: Trove's way,
 * Swift behind Keystone. The service user's own account holds the backups (Trove
 * uses the requesting user's token, which neither a schedule nor a guest working
 * for minutes after the request could rely on). */
static struct swift_store *keystone_store(uint64_t segment, long timeout, long page,
					  struct ct_error *err)
{
	/* The service user, on Swift's own endpoint type and timeout. */
	struct os_credentials c = os_service_credentials();
	c.interface = interface_of(cfg_str(CFG_SWIFT_ENDPOINT_TYPE));
	c.timeout = timeout;
	if (!url_valid(c.auth_url) || !c.username[0] || !c.password[0] || !c.project_name[0]) {
		ct_fail(err, 500,
			"storage_strategy = swift needs [swift] auth_url (tempauth) or, for Swift "
			"through Keystone, [service_credentials] auth_url, username, password "
			"and project_name.");
		return NULL;
	}
	const char *swift_url = cfg_str(CFG_SWIFT_URL);
	if (swift_url[0] && !url_valid(swift_url)) {
		ct_fail(err, 500, "[DEFAULT] swift_url must start with http:// or https://.");
		return NULL;
	}
	struct swift_store *st = store_alloc(segment, timeout, page, err);
	if (!st)
		return NULL;
	if (!(st->keystone = os_session_new(&c, err))) {
		log_error("swift: no Keystone session for %s: %s", c.username, err->message);
		swift_store_release(st);
		return NULL;
	}
	st->can_auth = true;
	snprintf(st->auth_url, sizeof st->auth_url, "%s", c.auth_url);
	snprintf(st->auth_user, sizeof st->auth_user, "%s", c.username);
	return st;
}

struct swift_store *swift_store_configured(struct ct_error *err)
{
	const char *url = cfg_str(CFG_SWIFT_AUTH_URL);
	const char *user = cfg_str(CFG_SWIFT_AUTH_USER);
	const char *key = cfg_str(CFG_SWIFT_AUTH_KEY);
	long segment = cfg_int(CFG_BACKUP_SEGMENT_MAX_SIZE);
	long timeout = cfg_int(CFG_SWIFT_TIMEOUT);
	long page = cfg_int(CFG_SWIFT_LIST_PAGE);
	if (segment < 1 || timeout < 1 || page < 1) {
		ct_fail(err, 500,
			"[DEFAULT] backup_segment_max_size, [swift] timeout and list_page_size "
			"must be positive.");
		return NULL;
	}
	if (!*url && !*user && !*key)
		return keystone_store((uint64_t)segment, timeout, page, err);
	if (!url_valid(url) || !*user || !*key) {
		ct_fail(err, 500,
			"storage_strategy = swift needs [swift] auth_url (http:// or https://), "
			"auth_user and auth_key.");
		return NULL;
	}
	if (strlen(url) >= sizeof((struct swift_store *)0)->auth_url ||
	    strlen(user) >= sizeof((struct swift_store *)0)->auth_user ||
	    strlen(key) >= sizeof((struct swift_store *)0)->auth_key) {
		ct_fail(err, 500, "[swift] auth_url, auth_user or auth_key is too long.");
		return NULL;
	}
	struct swift_store *st = store_alloc((uint64_t)segment, timeout, page, err);
	if (!st)
		return NULL;
	st->can_auth = true;
	snprintf(st->auth_url, sizeof st->auth_url, "%s", url);
	snprintf(st->auth_user, sizeof st->auth_user, "%s", user);
	snprintf(st->auth_key, sizeof st->auth_key, "%s", key);
	return st;
}

struct swift_store *swift_store_from_access(const struct store_access *a, struct ct_error *err)
{
	if (!memchr(a->storage_url, '\0', sizeof a->storage_url) ||
	    !memchr(a->auth_token, '\0', sizeof a->auth_token) || !url_valid(a->storage_url) ||
	    !a->auth_token[0] || strpbrk(a->auth_token, "\r\n")) {
		ct_fail(err, 400,
			"A Swift backup store needs a storage_url (http:// or https://) and an "
			"auth_token.");
		return NULL;
	}
	if (!a->segment_max_size || a->timeout < 1 || a->list_page_size < 1) {
		ct_fail(err, 400,
			"A Swift backup store needs a positive segment_max_size, timeout and "
			"list_page_size.");
		return NULL;
	}
	struct swift_store *st =
		store_alloc(a->segment_max_size, a->timeout, a->list_page_size, err);
	if (!st)
		return NULL;
	snprintf(st->current.storage_url, sizeof st->current.storage_url, "%s", a->storage_url);
	snprintf(st->current.token, sizeof st->current.token, "%s", a->auth_token);
	return st;
}

void swift_store_release(struct swift_store *st)
{
	if (!st)
		return;
	os_session_free(st->keystone);
	pthread_mutex_destroy(&st->lock);
	explicit_bzero(st, sizeof *st);
	free(st);
}

/* Keystone: the session's token (a new one after a 401) and Swift's URL for the
 * session's project; called with st->lock held. */
static int authenticate_keystone(struct swift_store *st, bool renew, struct ct_error *err)
{
	struct swift_auth fresh;
	if (renew)
		os_session_invalidate(st->keystone);
	if (os_session_token(st->keystone, fresh.token, sizeof fresh.token, err))
		return -1;
	const char *swift_url = cfg_str(CFG_SWIFT_URL);
	if (swift_url[0]) {
		char project[128];
		if (os_session_project_id(st->keystone, project, sizeof project, err))
			goto fail;
		if ((size_t)snprintf(fresh.storage_url, sizeof fresh.storage_url, "%s%s", swift_url,
				     project) >= sizeof fresh.storage_url) {
			ct_fail(err, 500, "[DEFAULT] swift_url is too long.");
			goto fail;
		}
	} else if (os_session_endpoint(st->keystone, cfg_str(CFG_SWIFT_SERVICE_TYPE),
				       fresh.storage_url, sizeof fresh.storage_url, err)) {
		goto fail;
	}
	if (!url_valid(fresh.storage_url)) {
		ct_fail(err, 503, "Swift's endpoint in the catalog is not an http(s) URL.");
		goto fail;
	}
	st->current = fresh;
	explicit_bzero(&fresh, sizeof fresh);
	return 0;
fail:
	explicit_bzero(&fresh, sizeof fresh);
	return -1;
}

/* tempauth; called with st->lock held. */
static int authenticate(struct swift_store *st, struct ct_error *err)
{
	char user[sizeof st->auth_user + 16], key[sizeof st->auth_key + 16];
	snprintf(user, sizeof user, "X-Auth-User: %s", st->auth_user);
	snprintf(key, sizeof key, "X-Auth-Key: %s", st->auth_key);
	struct curl_slist *h = ctcurl.slist_append(NULL, user);
	struct curl_slist *all = h ? ctcurl.slist_append(h, key) : NULL;
	explicit_bzero(key, sizeof key);
	if (!all) {
		swift_headers_free(h);
		return ct_fail(err, 500, "out of memory");
	}
	struct swift_request req = {
		.method = "GET", .url = st->auth_url, .headers = all, .timeout = st->timeout};
	struct swift_response resp;
	int rc = swift_http_do(&req, &resp, err);
	swift_headers_free(all);
	if (rc)
		return -1;
	if (resp.status / 100 != 2 || !url_valid(resp.storage_url) || !resp.auth_token[0]) {
		log_error("swift: authentication of %s at %s answered %ld", st->auth_user,
			  st->auth_url, resp.status);
		ct_fail(err, 503, "Swift at %s refused [swift] auth_user '%s' (%ld).", st->auth_url,
			st->auth_user, resp.status);
		swift_response_clear(&resp);
		return -1;
	}
	snprintf(st->current.storage_url, sizeof st->current.storage_url, "%s", resp.storage_url);
	snprintf(st->current.token, sizeof st->current.token, "%s", resp.auth_token);
	swift_response_clear(&resp);
	return 0;
}

static int auth_copy(struct swift_store *st, bool renew, struct swift_auth *out,
		     struct ct_error *err)
{
	pthread_mutex_lock(&st->lock);
	int rc = 0;
	if (st->can_auth && (renew || !st->current.token[0]))
		rc = st->keystone ? authenticate_keystone(st, renew, err) : authenticate(st, err);
	if (!rc)
		*out = st->current;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int swift_auth_get(struct swift_store *st, struct swift_auth *out, struct ct_error *err)
{
	return auth_copy(st, false, out, err);
}

int swift_auth_fresh(struct swift_store *st, struct swift_auth *out, struct ct_error *err)
{
	return auth_copy(st, true, out, err);
}

struct curl_slist *swift_auth_headers(const struct swift_auth *auth, struct ct_error *err)
{
	char line[sizeof auth->token + 16];
	snprintf(line, sizeof line, "X-Auth-Token: %s", auth->token);
	struct curl_slist *h = ctcurl.slist_append(NULL, line);
	explicit_bzero(line, sizeof line);
	if (!h)
		ct_fail(err, 500, "out of memory");
	return h;
}

void swift_headers_free(struct curl_slist *headers)
{
	for (struct curl_slist *h = headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	ctcurl.slist_free_all(headers);
}

int swift_url(const struct swift_auth *auth, const char *path, const char *query, char *out,
	      size_t len, struct ct_error *err)
{
	size_t n = (size_t)snprintf(out, len, "%s/", auth->storage_url);
	if (n >= len || swift_url_escape(path, true, out + n, len - n))
		return ct_fail(err, 400, "Backup object name '%.64s...' is too long for Swift.",
			       path);
	if (query) {
		n = strlen(out);
		if ((size_t)snprintf(out + n, len - n, "?%s", query) >= len - n)
			return ct_fail(err, 400, "Swift request for '%.64s...' is too long.", path);
	}
	return 0;
}

int swift_call(struct swift_store *st, struct swift_auth *auth, const char *method,
	       const char *path, const char *query, const struct curl_slist *extra,
	       const char *body, size_t body_len, size_t body_max, struct swift_response *resp,
	       struct ct_error *err)
{
	for (int attempt = 0;; attempt++) {
		char url[STORE_ACCESS_URL_MAX + 3 * STORE_NAME_MAX + 256];
		if (swift_url(auth, path, query, url, sizeof url, err))
			return -1;
		struct curl_slist *h = swift_auth_headers(auth, err);
		if (!h)
			return -1;
		for (const struct curl_slist *e = extra; e && h; e = e->next) {
			struct curl_slist *more = ctcurl.slist_append(h, e->data);
			if (!more) {
				swift_headers_free(h);
				h = NULL;
			}
			h = more;
		}
		if (!h)
			return ct_fail(err, 500, "out of memory");
		struct swift_request req = {.method = body ? "PUT" : method,
					    .url = url,
					    .headers = h,
					    .body = body,
					    .body_len = body_len,
					    .body_max = body_max,
					    .timeout = st->timeout};
		int rc = swift_http_do(&req, resp, err);
		swift_headers_free(h);
		if (rc)
			return -1;
		if (resp->status != 401 || !st->can_auth || attempt)
			return 0;
		/* An expired token: a new one, once. */
		swift_response_clear(resp);
		if (swift_auth_fresh(st, auth, err))
			return -1;
	}
}
