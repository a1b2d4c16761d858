/*
 * response.c — building responses: Trove fault bodies (spec trove-api.md §2.1),
 * headers and resource links. Owns nothing beyond the response it is given.
 */
#define LOG_MODULE "api"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/request.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"

const char *api_query(const struct api_request *req, const char *key)
{
	for (int i = 0; i < req->nquery; i++)
		if (req->query[i].key && !strcmp(req->query[i].key, key))
			return req->query[i].value ? req->query[i].value : "";
	return NULL;
}

int api_reply(struct api_response *resp, int status, json_t *body)
{
	if (resp->body)
		json_decref(resp->body);
	resp->status = status;
	resp->body = body;
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
	if (resp->body)
		json_decref(resp->body);
	memset(resp, 0, sizeof *resp);
}

/* Length of the valid UTF-8 sequence at s (as jansson checks it), 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* beyond U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
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

void api_link_base(const struct api_request *req, char *out, size_t size)
{
	const char *host = req->host && *req->host ? req->host : "localhost";
	snprintf(out, size, "https://%s", host);
}

json_t *api_links(const struct api_request *req, const char *collection, const char *id)
{
	char base[300], self[1024], bookmark[1024];
	api_link_base(req, base, sizeof base);
	snprintf(self, sizeof self, "%s/v1.0/%s/%s/%s", base, req->project ? req->project : "",
		 collection, id);
	snprintf(bookmark, sizeof bookmark, "%s/%s/%s", base, collection, id);
	return json_pack("[{s:s,s:s},{s:s,s:s}]", "href", self, "rel", "self", "href", bookmark,
			 "rel", "bookmark");
}
