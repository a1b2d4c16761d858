/*
 * swift_http.h — the HTTP exchanges of the Swift store over libcurl: one-shot
 * requests (HEAD, small PUT/GET, DELETE) and streams that move an object's
 * bytes one caller chunk at a time, never holding a segment in memory.
 *
 * Owns curl handles and the parsing of Swift's response headers; knows nothing
 * of objects, segments or manifests (swift_store.c). A transport failure is a
 * 503 naming the URL — never the token, which is only ever a request header.
 */
#ifndef CT_STORAGE_SWIFT_HTTP_H
#define CT_STORAGE_SWIFT_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/curl_library.h"
#include "common/error.h"
#include "storage/store.h"

/* What swift_store.c reads from a response; fixed-size, owned by the caller. */
struct swift_response {
	long status;
	char etag[72]; /* without quotes */
	uint64_t content_length;
	bool has_length;
	bool slo;	  /* X-Static-Large-Object: True */
	double timestamp; /* X-Timestamp */
	char content_type[256];
	struct store_meta meta; /* X-Object-Meta-* as keys, '-' back to '_' */
	bool meta_overflow;	/* more or other metadata than a store_meta holds */
	char storage_url[STORE_ACCESS_URL_MAX + 1];  /* tempauth: X-Storage-Url */
	char auth_token[STORE_ACCESS_TOKEN_MAX + 1]; /* tempauth: X-Auth-Token */
	/* The body, up to body_max bytes (the request's); malloc'd, NUL-terminated,
	 * freed by swift_response_clear(). */
	char *body;
	size_t body_len;
	bool body_truncated;
};
void swift_response_clear(struct swift_response *resp);

struct swift_request {
	const char *method;
	const char *url;
	const struct curl_slist *headers; /* borrowed */
	const void *body;		  /* sent as is (Content-Length), may be NULL */
	size_t body_len;
	size_t body_max; /* response bytes to keep; 0 keeps 1 KiB for error messages */
	long timeout;	 /* seconds */
};

/* 0 when Swift answered (any status, in resp), -1 (503) when it could not be
 * reached or did not answer in time. */
int swift_http_do(const struct swift_request *req, struct swift_response *resp,
		  struct ct_error *err);

/* The first line of an error body, for messages (Swift's are short HTML). */
const char *swift_http_reason(const struct swift_response *resp, char *buf, size_t len);

/*
 * A stream: an upload (PUT with chunked encoding, fed by swift_stream_send) or a
 * download (GET, drained by swift_stream_recv). curl multi with pause: the
 * caller's chunk is handed to curl and the call returns once curl has taken all
 * of it (upload) or delivered some bytes (download), so memory stays bounded by
 * one curl buffer.
 */
struct swift_stream;
struct swift_stream *swift_stream_upload(const char *url, const struct curl_slist *headers,
					 long timeout, struct ct_error *err);
int swift_stream_send(struct swift_stream *s, const void *buf, size_t len, struct ct_error *err);
/* Ends the body and waits for the answer (in resp); -1 (503) on transport failure. */
int swift_stream_end(struct swift_stream *s, struct swift_response *resp, struct ct_error *err);

struct swift_stream *swift_stream_download(const char *url, const struct curl_slist *headers,
					   long timeout, struct ct_error *err);
/* > 0 bytes, 0 at the end of the body, -1 on failure (a status other than 200
 * or 206, a broken transfer). */
ssize_t swift_stream_recv(struct swift_stream *s, void *buf, size_t len, struct ct_error *err);
void swift_stream_free(struct swift_stream *s);

/* URL-encodes text (keeping '/' when keep_slash) into out; -1 when it does not fit. */
int swift_url_escape(const char *text, bool keep_slash, char *out, size_t len);

#endif
