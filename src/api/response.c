/*
 * response.c — building responses: Trove fault bodies (spec trove-api.md §2.1),
 * headers and resource links. Owns nothing beyond the response it is given.
 */
#define LOG_MODULE "api"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/utf8.h"

const char *api_query(const struct api_request *req, const char *key)
{
	for (int i = 0; i < req->nquery; i++)
		if (req->query[i].key && !strcmp(req->query[i].key, key))
			return req->query[i].value ? req->query[i].value : "";
	return NULL;
}

static void drop_body(struct api_response *resp)
{
	json_decref(resp->body);
	resp->body = NULL;
	free(resp->text);
	resp->text = NULL;
	resp->text_len = 0;
}

int api_reply(struct api_response *resp, int status, json_t *body)
{
	drop_body(resp);
	resp->status = status;
	resp->body = body;
	return 0;
}

int api_reply_written(struct api_response *resp, int status, struct json_writer *w,
		      struct ct_error *err)
{
	size_t len;
	char *text = json_writer_finish(w, &len);
	if (!text)
		return ct_fail(err, 500, "out of memory writing a response");
	drop_body(resp);
	resp->status = status;
	resp->text = text;
	resp->text_len = len;
	return 0;
}

void api_add_header(struct api_response *resp, const char *name, const char *fmt, ...)
{
	if (resp->nheaders >= API_MAX_HEADERS)
		return;
	resp->headers[resp->nheaders].name = name;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(resp->headers[resp->nheaders].value, sizeof resp->headers[resp->nheaders].value,
		  fmt, ap);
	va_end(ap);
	resp->nheaders++;
}

void api_response_clear(struct api_response *resp)
{
	drop_body(resp);
	memset(resp, 0, sizeof *resp);
}

void api_utf8_clean(const char *text, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t o = 0;
	while (*s && o + 1 < size) {
		size_t n = utf8_sequence(s);
		if (!n) {
			out[o++] = '?';
			s++;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
}

static const char *fault_name(int status)
{
	switch (status) {
	case 400: return "badRequest";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "itemNotFound";
	case 406: return "notAcceptable";
	case 409: return "conflict";
	case 413: return "overLimit";
	case 415: return "badMediaType";
	case 422: return "unprocessableEntity";
	case 431: return "requestHeaderFieldsTooLarge";
	case 501: return "notImplemented";
	case 503: return "serviceUnavailable";
	default: return "instanceFault";
	}
}

static const char *default_message(int status)
{
	switch (status) {
	case 400:
		return "The server could not comply with the request since it is either "
		       "malformed or otherwise incorrect.";
	case 403: return "Access was denied to this resource.";
	case 404: return "The resource could not be found.";
	case 422: return "Unable to process the contained request.";
	case 501:
		return "The server has either erred or is incapable of performing the "
		       "requested operation.";
	default: return "";
	}
}

void api_reply_error(struct api_response *resp, const struct ct_error *err)
{
	int status = err->status >= 400 && err->status <= 599 ? err->status : 500;
	char text[CT_ERROR_MESSAGE_MAX + 160];
	const char *message = err->message[0] ? err->message : default_message(status);
	if (status == 500) {
		/* Internal detail stays in the log; the user gets an id to quote. */
		char id[CT_UUID_LEN + 1];
		ids_uuid(id);
		log_error("internal error %s: %s", id, err->message);
		snprintf(text, sizeof text,
			 "Internal Server Error. Please keep this ID to help us figure out "
			 "what went wrong: (%s).",
			 id);
		message = text;
	} else {
		api_utf8_clean(message, text, sizeof text);
		message = text;
	}
	api_reply(
		resp, status,
		json_pack("{s:{s:i,s:s}}", fault_name(status), "code", status, "message", message));
}

/* dst += src, truncating at the end of the buffer (always NUL-terminated). */
static size_t append(char *dst, size_t at, size_t size, const char *src)
{
	if (at >= size)
		return at;
	size_t n = strnlen(src, size - 1 - at);
	memcpy(dst + at, src, n);
	dst[at + n] = '\0';
	return at + n;
}

void api_link_base(const struct api_request *req, char *out, size_t size)
{
	const char *host = req->host && *req->host ? req->host : "localhost";
	append(out, append(out, 0, size, "https://"), size, host);
}

#define LINK_MAX 1024

/* Trove's self and bookmark hrefs; built with copies, not printf: this runs
 * twice per instance of a list. */
static void link_hrefs(const struct api_request *req, const char *collection, const char *id,
		       char self[LINK_MAX], char bookmark[LINK_MAX])
{
	char base[300];
	api_link_base(req, base, sizeof base);
	size_t n = append(self, 0, LINK_MAX, base);
	n = append(self, n, LINK_MAX, "/v1.0/");
	n = append(self, n, LINK_MAX, req->project ? req->project : "");
	n = append(self, n, LINK_MAX, "/");
	n = append(self, n, LINK_MAX, collection);
	n = append(self, n, LINK_MAX, "/");
	append(self, n, LINK_MAX, id);
	n = append(bookmark, 0, LINK_MAX, base);
	n = append(bookmark, n, LINK_MAX, "/");
	n = append(bookmark, n, LINK_MAX, collection);
	n = append(bookmark, n, LINK_MAX, "/");
	append(bookmark, n, LINK_MAX, id);
}

json_t *api_links(const struct api_request *req, const char *collection, const char *id)
{
	char self[LINK_MAX], bookmark[LINK_MAX];
	link_hrefs(req, collection, id, self, bookmark);
	return json_pack("[{s:s,s:s},{s:s,s:s}]", "href", self, "rel", "self", "href", bookmark,
			 "rel", "bookmark");
}

void api_write_links(struct json_writer *w, const struct api_request *req, const char *collection,
		     const char *id)
{
	char self[LINK_MAX], bookmark[LINK_MAX];
	link_hrefs(req, collection, id, self, bookmark);
	json_writer_key(w, "links");
	json_writer_array_begin(w);
	json_writer_object_begin(w);
	json_writer_key_string(w, "href", self);
	json_writer_key_string(w, "rel", "self");
	json_writer_object_end(w);
	json_writer_object_begin(w);
	json_writer_key_string(w, "href", bookmark);
	json_writer_key_string(w, "rel", "bookmark");
	json_writer_object_end(w);
	json_writer_array_end(w);
}
