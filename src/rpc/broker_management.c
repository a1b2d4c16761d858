/*
 * broker_management.c — the broker_accounts backend that speaks RabbitMQ's
 * management HTTP API through libcurl: three PUTs on one connection make an
 * account (user, vhost permissions, topic permissions), ~3 ms on loopback; two
 * DELETEs remove it (the user, then any connection still open with it). (rabbitmqctl costs an
 * Erlang boot, ~0.3 s, per call.)
 *
 * The API's URL and login come from [broker_accounts] (defaults: the first
 * transport_url host on port 15672, with its login). Owns only the HTTP calls;
 * never logs a password, a request body or a URL with a login in it.
 */
#define LOG_MODULE "rpc"
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "rpc/broker_accounts.h"
#include "rpc/url.h"

struct mgmt {
	CURL *curl;
	char base[512]; /* ends with '/' */
	char *user, *password;
	char reason[160]; /* the API's error text, for the message */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Keep the start of an error body's "reason" (never a secret: the API
 * echoes no passwords). */
static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct mgmt *m = user;
	size_t len = size * n, have = strlen(m->reason);
	size_t room = sizeof m->reason - 1 - have;
	memcpy(m->reason + have, data, len < room ? len : room);
	m->reason[have + (len < room ? len : room)] = '\0';
	return len;
}

static void mgmt_close(struct mgmt *m)
{
	if (m->curl)
		curl_easy_cleanup(m->curl);
	if (m->password)
		explicit_bzero(m->password, strlen(m->password));
	free(m->user);
	free(m->password);
}

static int mgmt_open(struct mgmt *m, struct ct_error *err)
{
	memset(m, 0, sizeof *m);
	pthread_once(&curl_once, curl_init_once);
	struct rpc_url u;
	if (rpc_url_parse(cfg_str(CFG_TRANSPORT_URL), &u, err))
		return -1;
	const struct rpc_url_host *h = &u.hosts[0];
	const char *user = cfg_str(CFG_BROKER_ADMIN_USER);
	const char *password = cfg_str(CFG_BROKER_ADMIN_PASSWORD);
	m->user = strdup(*user ? user : h->user);
	m->password = strdup(*password ? password : h->password);
	const char *base = cfg_str(CFG_BROKER_MANAGEMENT_URL);
	size_t n;
	if (*base)
		n = (size_t)snprintf(m->base, sizeof m->base, "%s", base);
	else
		n = (size_t)snprintf(
			m->base, sizeof m->base,
			strchr(h->host, ':') ? "http://[%s]:15672/" : "http://%s:15672/", h->host);
	rpc_url_free(&u);
	if (n >= sizeof m->base - 1) {
		mgmt_close(m);
		return ct_fail(err, 500, "[broker_accounts] management_url is too long");
	}
	if (m->base[n - 1] != '/')
		strcat(m->base, "/");
	m->curl = curl_easy_init();
	if (!m->user || !m->password || !m->curl) {
		mgmt_close(m);
		return ct_fail(err, 500, "out of memory");
	}
	return 0;
}

/* One call; path is below <base>api/ and already escaped. 0 for a 2xx answer
 * (and for 404 when gone_is_ok). */
static int mgmt_call(struct mgmt *m, const char *method, const char *path, const char *body,
		     bool gone_is_ok, struct ct_error *err)
{
	char url[1024];
	if ((size_t)snprintf(url, sizeof url, "%sapi/%s", m->base, path) >= sizeof url)
		return ct_fail(err, 500, "management API path too long");
	CURL *c = m->curl;
	curl_easy_reset(c);
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (!headers)
		return ct_fail(err, 500, "out of memory");
	m->reason[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* An https management API on a TLS bus is the same broker: same CA. */
	if (*cfg_str(CFG_RABBIT_SSL_CA_FILE))
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg_str(CFG_RABBIT_SSL_CA_FILE));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg_int(CFG_BROKER_TIMEOUT));
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERNAME, m->user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, m->password);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, m);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK)
		return ct_fail(err, 500,
			       "the broker's management API at %s did not answer %s %s: %s",
			       m->base, method, path, curl_easy_strerror(rc));
	if ((status >= 200 && status < 300) || (gone_is_ok && status == 404))
		return 0;
	return ct_fail(err, 500, "the broker's management API refused %s %s: %ld %.120s", method,
		       path, status, m->reason);
}

/* PUT path with the JSON document j (consumed); the text is wiped after. */
static int mgmt_put(struct mgmt *m, const char *path, json_t *j, struct ct_error *err)
{
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!body)
		return ct_fail(err, 500, "out of memory");
	int rc = mgmt_call(m, "PUT", path, body, false, err);
	explicit_bzero(body, strlen(body));
	free(body);
	return rc;
}

static int mgmt_create(const char *vhost, const struct broker_grant *g, const char *password,
		       struct ct_error *err)
{
	struct mgmt m;
	if (mgmt_open(&m, err))
		return -1;
	char *ev = curl_easy_escape(m.curl, vhost, 0);
	char *eu = curl_easy_escape(m.curl, g->user, 0);
	char user_path[512], perm_path[512], topic_path[512];
	int rc = -1;
	if (!ev || !eu) {
		ct_fail(err, 500, "out of memory");
		goto out;
	}
	snprintf(user_path, sizeof user_path, "users/%s", eu);
	snprintf(perm_path, sizeof perm_path, "permissions/%s/%s", ev, eu);
	snprintf(topic_path, sizeof topic_path, "topic-permissions/%s/%s", ev, eu);
	rc = mgmt_put(&m, user_path, json_pack("{s:s,s:s}", "password", password, "tags", ""),
		      err) ||
	     mgmt_put(&m, perm_path,
		      json_pack("{s:s,s:s,s:s}", "configure", g->configure, "write", g->write,
				"read", g->read),
		      err) ||
	     mgmt_put(&m, topic_path,
		      json_pack("{s:s,s:s,s:s}", "exchange", g->topic_exchange, "write",
				g->topic_write, "read", g->topic_read),
		      err);
	rc = rc ? -1 : 0;
out:
	curl_free(ev);
	curl_free(eu);
	mgmt_close(&m);
	return rc;
}

static int mgmt_remove(const char *vhost, const char *user, struct ct_error *err)
{
	(void)vhost; /* deleting the user deletes its permissions everywhere */
	struct mgmt m;
	if (mgmt_open(&m, err))
		return -1;
	char *eu = curl_easy_escape(m.curl, user, 0);
	char path[512];
	int rc = -1;
	if (!eu)
		ct_fail(err, 500, "out of memory");
	else if ((size_t)snprintf(path, sizeof path, "users/%s", eu) < sizeof path)
		rc = mgmt_call(&m, "DELETE", path, NULL, true, err);
	/* Nothing left of the instance may keep a way onto the bus. RabbitMQ 3.10
	 * closes a deleted user's connections itself (connection tracking; the
	 * e2e test passes without this call); asking costs ~1 ms and does not
	 * depend on it. While RabbitMQ is still closing them the API may answer
	 * 500 (an agent still connected: a VM being deleted): asked again for
	 * 5 s, then only logged. */
	if (rc == 0 &&
	    (size_t)snprintf(path, sizeof path, "connections/username/%s", eu) < sizeof path) {
		for (int attempt = 0;; attempt++) {
			struct ct_error once = {0};
			rc = mgmt_call(&m, "DELETE", path, NULL, true, &once);
			if (rc == 0)
				break;
			if (attempt == 20) {
				/* The user is gone (it cannot log in again) and RabbitMQ
				 * closes its connections: not worth failing a delete. */
				log_warning("closing the connections of deleted user %s: %s", user,
					    once.message);
				rc = 0;
				break;
			}
			struct timespec pause = {0, 250 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
	}
	curl_free(eu);
	mgmt_close(&m);
	return rc;
}

const struct broker_accounts_backend broker_accounts_management = {
	.name = "rabbitmq management API",
	.create = mgmt_create,
	.remove = mgmt_remove,
};
