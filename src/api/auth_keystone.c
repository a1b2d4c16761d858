/*
 * auth_keystone.c — token validation against Keystone (auth_keystone.h). The
 * service session (openstack/session.h) is made at start-up, or on the first
 * request when Keystone was away then. The token only ever travels in the
 * X-Subject-Token header to Keystone; the cache keeps its hash, the log
 * neither. May not touch the embedded identity's tables.
 */
#define LOG_MODULE "auth"
#include "api/auth_keystone.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/token_cache.h"
#include "common/config.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "openstack/session.h"

/* Fernet tokens are ~200 bytes; anything near this is not a token. */
#define MAX_TOKEN 4096

static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static struct os_session *session;
static struct token_cache *cache;

static const char unauthorized[] = "The request you have made requires authentication.";
static const char unavailable[] = "The Keystone service is temporarily unavailable.";

static struct os_session *new_session(struct ct_error *err)
{
	struct os_credentials c = {
		.auth_url = cfg_str(CFG_KEYSTONE_AUTH_URL),
		.username = cfg_str(CFG_KEYSTONE_USERNAME),
		.password = cfg_str(CFG_KEYSTONE_PASSWORD),
		.project_name = cfg_str(CFG_KEYSTONE_PROJECT_NAME),
		.user_domain_name = cfg_str(CFG_KEYSTONE_USER_DOMAIN_NAME),
		.project_domain_name = cfg_str(CFG_KEYSTONE_PROJECT_DOMAIN_NAME),
		.region_name = cfg_str(CFG_KEYSTONE_REGION_NAME),
		.interface = "",
		.timeout = cfg_int(CFG_KEYSTONE_HTTP_TIMEOUT) > 0
				   ? cfg_int(CFG_KEYSTONE_HTTP_TIMEOUT)
				   : 10,
	};
	return os_session_new(&c, err);
}

/* The session, made now if it is not yet; NULL with 503 when it cannot be. */
static struct os_session *current_session(struct ct_error *err)
{
	pthread_mutex_lock(&session_lock);
	if (!session) {
		struct ct_error why = {0};
		session = new_session(&why);
		if (!session) {
			log_error("cannot authenticate to Keystone as the service user: %s",
				  why.message);
			ct_fail(err, 503, "%s", unavailable);
		}
	}
	struct os_session *s = session;
	pthread_mutex_unlock(&session_lock);
	return s;
}

int auth_keystone_init(struct ct_error *err)
{
	static const enum cfg_id required[] = {CFG_KEYSTONE_AUTH_URL, CFG_KEYSTONE_USERNAME,
					       CFG_KEYSTONE_PASSWORD};
	static const char *const names[] = {"auth_url", "username", "password"};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!*cfg_str(required[i]))
			return ct_fail(err, 400,
				       "auth_strategy = keystone needs [keystone_authtoken] %s",
				       names[i]);
	if (!(cache = token_cache_new(cfg_int(CFG_KEYSTONE_TOKEN_CACHE_SIZE), err)))
		return -1;
	struct ct_error why = {0};
	pthread_mutex_lock(&session_lock);
	session = new_session(&why);
	pthread_mutex_unlock(&session_lock);
	if (!session && why.status == 401) {
		token_cache_free(cache);
		cache = NULL;
		return ct_fail(err, 400, "%s", why.message);
	}
	if (!session)
		log_warning("Keystone is not reachable yet (%s); tokens get 503 until it is",
			    why.message);
	log_info("validating tokens against Keystone at %s", cfg_str(CFG_KEYSTONE_AUTH_URL));
	return 0;
}

void auth_keystone_shutdown(void)
{
	pthread_mutex_lock(&session_lock);
	os_session_free(session);
	session = NULL;
	pthread_mutex_unlock(&session_lock);
	token_cache_free(cache);
	cache = NULL;
}

/* Only printable ASCII without spaces may go into a header line. */
static bool plausible(const char *token)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)token; *p; p++, n++)
		if (*p <= 0x20 || *p >= 0x7f || n >= MAX_TOKEN)
			return false;
	return n > 0;
}

/* roles[].name joined with ',' (a role that does not fit is left out whole). */
static void join_roles(const json_t *roles, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	size_t i;
	json_t *role;
	json_array_foreach (roles, i, role) {
		const char *name = json_string_value(json_object_get(role, "name"));
		size_t len = name ? strlen(name) : 0;
		if (!len || strchr(name, ',') || used + len + 2 > size)
			continue;
		if (used)
			out[used++] = ',';
		memcpy(out + used, name, len + 1);
		used += len;
	}
}

/* who from a validated token body; false when it is not a project-scoped token. */
static bool read_token(const json_t *reply, struct api_identity *who, time_t *expires)
{
	const json_t *token = json_object_get(reply, "token");
	const char *user = json_string_value(json_object_get(json_object_get(token, "user"), "id"));
	const char *project =
		json_string_value(json_object_get(json_object_get(token, "project"), "id"));
	const char *expires_at = json_string_value(json_object_get(token, "expires_at"));
	const char *issued_at = json_string_value(json_object_get(token, "issued_at"));
	if (!user || !project || !expires_at || !timefmt_db_parse(expires_at, expires) ||
	    strlen(user) >= sizeof who->user_id || strlen(project) >= sizeof who->project_id)
		return false;
	memset(who, 0, sizeof *who);
	memcpy(who->user_id, user, strlen(user) + 1);
	memcpy(who->project_id, project, strlen(project) + 1);
	join_roles(json_object_get(token, "roles"), who->roles, sizeof who->roles);
	time_t issued;
	if (issued_at && timefmt_db_parse(issued_at, &issued))
		who->issued_us = (long long)issued * 1000000LL;
	char roles[sizeof who->roles];
	memcpy(roles, who->roles, sizeof roles);
	char *save = NULL;
	for (char *r = strtok_r(roles, ",", &save); r; r = strtok_r(NULL, ",", &save))
		if (cfg_list_contains(CFG_ADMIN_ROLES, r))
			who->is_admin = true;
	return true;
}

static time_t cache_until(time_t now, time_t expires)
{
	long seconds = cfg_int(CFG_KEYSTONE_TOKEN_CACHE_TIME);
	if (seconds <= 0)
		return now; /* not cached */
	time_t until = now + seconds;
	return expires < until ? expires : until;
}

int auth_keystone_validate(const char *token, struct api_identity *who, struct ct_error *err)
{
	if (!token || !plausible(token))
		return ct_fail(err, 401, "%s", unauthorized);
	time_t now = time(NULL);
	bool valid = false;
	if (cache && token_cache_get(cache, token, now, who, &valid))
		return valid ? 0 : ct_fail(err, 401, "%s", unauthorized);

	struct os_session *s = current_session(err);
	if (!s)
		return -1;
	char url[1200];
	snprintf(url, sizeof url, "%s/auth/tokens?nocatalog", cfg_str(CFG_KEYSTONE_AUTH_URL));
	size_t header_len = sizeof "X-Subject-Token: " + strlen(token);
	char *header = malloc(header_len);
	if (!header)
		return ct_fail(err, 500, "out of memory validating a token");
	snprintf(header, header_len, "X-Subject-Token: %s", token);
	const char *headers[] = {header, NULL};
	long status = 0;
	json_t *reply = NULL;
	struct ct_error why = {0};
	int rc = os_request(s, "identity", "GET", url, NULL, headers, &status, &reply, &why);
	explicit_bzero(header, header_len);
	free(header);
	if (rc) {
		json_decref(reply);
		log_warning("cannot validate a token: %s", why.message);
		return ct_fail(err, 503, "%s", unavailable);
	}
	time_t expires = 0;
	if (status == 200 && read_token(reply, who, &expires) && expires > now) {
		json_decref(reply);
		if (cache)
			token_cache_put(cache, token, who, cache_until(now, expires), now);
		return 0;
	}
	json_decref(reply);
	if (status == 200 || status == 404) {
		/* Refused (not found, expired, revoked, or not project-scoped): refused again
		 * for the same bound, without asking. */
		if (cache)
			token_cache_put(cache, token, NULL, cache_until(now, now + 86400), now);
		return ct_fail(err, 401, "%s", unauthorized);
	}
	log_warning("Keystone answered HTTP %ld to a token validation", status);
	return ct_fail(err, 503, "%s", unavailable);
}
