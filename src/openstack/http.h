/*
 * http.h — one HTTP exchange with an OpenStack service over libcurl, for
 * session.c: a request with a text body, the status, the body (bounded) and
 * the one response header Keystone answers a token in.
 *
 * Owns the curl handle of the exchange. May not log (a token is a request
 * header, and the caller decides what is worth a line) and knows no service.
 */
#ifndef CT_OPENSTACK_HTTP_H
#define CT_OPENSTACK_HTTP_H

#include <stddef.h>

#include "common/error.h"

#define OS_HTTP_BODY_MAX (16u << 20) /* a server list of thousands fits */
#define OS_TOKEN_MAX	 8192	     /* Fernet tokens are ~200 bytes; PKIZ were larger */

struct os_http_reply {
	long status;
	char *body; /* malloc'd, NUL-terminated, NULL when empty; os_http_reply_clear */
	size_t body_len;
	char subject_token[OS_TOKEN_MAX]; /* X-Subject-Token, "" when absent */
};

void os_http_reply_clear(struct os_http_reply *r);

/* method url with headers (NULL-terminated "Name: value", may be NULL) and
 * body (may be NULL). -1 only when no HTTP answer came: 504 on a timeout, 502
 * otherwise, naming `service` and the URL without its query. */
int os_http_do(const char *service, const char *method, const char *url, const char *const *headers,
	       const char *body, long timeout, struct os_http_reply *out, struct ct_error *err);

#endif
