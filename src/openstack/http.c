/*
 * http.c — one HTTP exchange over libcurl for the OpenStack session (http.h).
 * Owns the curl handle and its header list for the length of one call. May
 * not log: the token travels in the headers it is given.
 */
#include "openstack/http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/curl_library.h"

#define CONNECT_TIMEOUT 10L

void os_http_reply_clear(struct os_http_reply *r)
{
	free(r->body);
	explicit_bzero(r->subject_token, sizeof r->subject_token);
	r->body = NULL;
	r->body_len = 0;
	r->status = 0;
}

struct exchange {
	struct os_http_reply *out;
	bool too_big;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct exchange *x = arg;
	size_t len = size * n;
	if (x->out->body_len + len > OS_HTTP_BODY_MAX) {
		x->too_big = true;
		return 0;
	}
	char *grown = realloc(x->out->body, x->out->body_len + len + 1);
	if (!grown)
		return 0;
	x->out->body = grown;
	memcpy(grown + x->out->body_len, data, len);
	x->out->body_len += len;
	grown[x->out->body_len] = '\0';
	return len;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct exchange *x = arg;
	size_t len = size * n;
	static const char name[] = "X-Subject-Token:";
	if (len > sizeof name - 1 && !strncasecmp(line, name, sizeof name - 1)) {
		const char *v = line + sizeof name - 1;
		size_t vl = len - (sizeof name - 1);
		while (vl && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		if (vl < sizeof x->out->subject_token) {
			memcpy(x->out->subject_token, v, vl);
			x->out->subject_token[vl] = '\0';
		}
	}
	return len;
}

int os_http_do(const char *service, const char *method, const char *url, const char *const *headers,
	       const char *body, long timeout, struct os_http_reply *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	if (curl_library_load(err))
		return -1;
	CURL *c = ctcurl.easy_init();
	if (!c)
		return ct_fail(err, 500, "out of memory");
	struct curl_slist *list = NULL;
	bool oom = false;
	for (size_t i = 0; headers && headers[i] && !oom; i++) {
		struct curl_slist *l = ctcurl.slist_append(list, headers[i]);
		oom = !l;
		list = l ? l : list;
	}
	/* No "Expect: 100-continue" round trip: OpenStack bodies are small. */
	const char *fixed[] = {"Accept: application/json",
			       "Expect:", body ? "Content-Type: application/json" : NULL};
	for (size_t i = 0; i < 3 && fixed[i] && !oom; i++) {
		struct curl_slist *l = ctcurl.slist_append(list, fixed[i]);
		oom = !l;
		list = l ? l : list;
	}
	if (oom) {
		ctcurl.slist_free_all(list);
		ctcurl.easy_cleanup(c);
		return ct_fail(err, 500, "out of memory");
	}
	struct exchange x = {out, false};
	char detail[CURL_ERROR_SIZE] = "";
	ctcurl.easy_setopt(c, CURLOPT_URL, url);
	ctcurl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	ctcurl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	ctcurl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			   timeout < CONNECT_TIMEOUT ? timeout : CONNECT_TIMEOUT);
	ctcurl.easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	ctcurl.easy_setopt(c, CURLOPT_HTTPHEADER, list);
	ctcurl.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	ctcurl.easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	ctcurl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	ctcurl.easy_setopt(c, CURLOPT_WRITEDATA, &x);
	ctcurl.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	ctcurl.easy_setopt(c, CURLOPT_HEADERDATA, &x);
	if (!strcmp(method, "HEAD"))
		ctcurl.easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		ctcurl.easy_setopt(c, CURLOPT_POSTFIELDS, body);
		ctcurl.easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	CURLcode rc = ctcurl.easy_perform(c);
	long status = 0;
	if (rc == CURLE_OK)
		ctcurl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	ctcurl.slist_free_all(list);
	ctcurl.easy_cleanup(c);
	if (rc != CURLE_OK) {
		os_http_reply_clear(out);
		char shown[256];
		snprintf(shown, sizeof shown, "%.*s", (int)strcspn(url, "?"), url);
		if (x.too_big)
			return ct_fail(err, 502, "%s at %s answered more than %u bytes.", service,
				       shown, OS_HTTP_BODY_MAX);
		return ct_fail(err, rc == CURLE_OPERATION_TIMEDOUT ? 504 : 502,
			       "%s at %s did not answer: %s.", service, shown,
			       *detail ? detail : ctcurl.easy_strerror(rc));
	}
	out->status = status;
	return 0;
}
