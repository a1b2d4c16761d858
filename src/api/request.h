/*
 * request.h — one API request and its response, independent of the HTTP library.
 *
 * server.c fills a struct api_request from libmicrohttpd and sends the struct
 * api_response back; the fuzzer and unit tests fill them directly. Everything a
 * request points to is borrowed from its creator and lives until the response
 * is sent; the response owns its body: a jansson value (json_decref'd by
 * api_response_clear()) or, for the hot read paths, JSON text already written
 * with common/json_writer.h (free'd by api_response_clear()).
 */
#ifndef CT_API_REQUEST_H
#define CT_API_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/json_writer.h"

#define API_MAX_QUERY	16
#define API_MAX_PARAMS	4
#define API_MAX_HEADERS 4

struct api_kv {
	const char *key;
	const char *value;
};

/* Who is calling, as established by the auth step. */
struct api_identity {
	char user_id[65];
	char project_id[65];
	char roles[256]; /* comma-separated role names */
	bool is_admin;
	long long issued_us; /* when the token was issued (microseconds since the epoch) */
};

struct api_request {
	const char *method;
	const char *path; /* without the query string, percent-decoded */
	const char *host; /* Host header, may be NULL */
	const char *content_type;
	const char *auth_token;
	const char *subject_token; /* X-Subject-Token (identity API) */
	const char *accept;
	const struct sockaddr *peer; /* the client's address; NULL when unknown */
	const char *body;	     /* NULL when none was sent */
	size_t body_len;
	bool body_too_large;
	struct api_kv query[API_MAX_QUERY];
	int nquery;

	/* Filled by the dispatcher. */
	char request_id[48];
	json_t *json; /* parsed body, NULL when none; owned by the dispatcher */
	struct api_identity who;
	const char *project;		    /* the {project} segment of /v1.0/{project}/... */
	const char *params[API_MAX_PARAMS]; /* the '*' segments of the route */
	int nparams;
	char path_buf[1024]; /* segments of path, NUL-separated */
	int route_index;     /* the routes_table() row served, or -1 - enum api_metrics_other */
};

struct api_response {
	int status;
	json_t *body; /* owned; NULL = empty body (unless text is set) */
	char *text;   /* owned; the body already written as JSON; wins over body */
	size_t text_len;
	const char *content_type; /* static text; NULL = application/json */
	struct {
		const char *name;
		char value[256];
	} headers[API_MAX_HEADERS];
	int nheaders;
};

/* Value of query parameter `key`, or NULL. */
const char *api_query(const struct api_request *req, const char *key);

/* Set the response to status + body (stolen). Returns 0. */
int api_reply(struct api_response *resp, int status, json_t *body);
/* Set the response to status + the text of w (finished here). Returns 0, or
 * -1 with a 500 in err when the writer ran out of memory. */
int api_reply_written(struct api_response *resp, int status, struct json_writer *w,
		      struct ct_error *err);
void api_add_header(struct api_response *resp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void api_response_clear(struct api_response *resp);

/* Copy text into out, replacing every byte that is not part of valid UTF-8
 * with '?', so a message quoting the URL or a header can always be a JSON
 * string (jansson refuses invalid UTF-8, leaving an error without a body). */
void api_utf8_clean(const char *text, char *out, size_t size);

/* Turn err into Trove's fault body on resp (logs 500s with an error id). */
void api_reply_error(struct api_response *resp, const struct ct_error *err);

/* "https://<host>" (or public_endpoint) for resource links, into out. */
void api_link_base(const struct api_request *req, char *out, size_t size);
/* Trove's self+bookmark links for <collection>/<id>; new reference. */
json_t *api_links(const struct api_request *req, const char *collection, const char *id);
/* The same links written as "links": [...] into an open object of w. */
void api_write_links(struct json_writer *w, const struct api_request *req, const char *collection,
		     const char *id);

#endif
