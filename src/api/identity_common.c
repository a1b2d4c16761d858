/*
 * identity_common.c — see identity_common.h.
 */
#define LOG_MODULE "identity"
#include "api/identity_common.h"

#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "common/log.h"

static const char *title_of(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Request Entity Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

int keystone_error(struct api_response *resp, int status, const char *message)
{
	char clean[CT_ERROR_MESSAGE_MAX];
	api_utf8_clean(message, clean, sizeof clean);
	return api_reply(resp, status,
			 json_pack("{s:{s:i,s:s,s:s}}", "error", "code", status, "title",
				   title_of(status), "message", clean));
}

int keystone_fail(struct api_response *resp, const struct ct_error *err)
{
	if (err->status == 500 || !err->status)
		log_error("identity: %s", err->message);
	return keystone_error(resp, err->status ? err->status : 500,
			      err->status == 500 || !err->status
				      ? "An unexpected error prevented the server from fulfilling "
					"your request."
				      : err->message);
}

int keystone_authorize(struct api_request *req, struct api_response *resp, const char *action,
		       enum keystone_self allow_self, const char *target_id,
		       struct api_identity *caller)
{
	struct ct_error err = {0};
	if (!req->auth_token || auth_validate(req->auth_token, caller, &err)) {
		keystone_error(resp, 401, "The request you have made requires authentication.");
		return -1;
	}
	log_set_context(req->request_id, caller->project_id);
	if (caller->is_admin)
		return 0;
	const char *own = allow_self == KEYSTONE_OWN_USER      ? caller->user_id
			  : allow_self == KEYSTONE_OWN_PROJECT ? caller->project_id
							       : NULL;
	if (own && target_id && !strcmp(own, target_id))
		return 0;
	char message[256];
	snprintf(message, sizeof message,
		 "You are not authorized to perform the requested action: %s.", action);
	keystone_error(resp, 403, message);
	return -1;
}

bool keystone_admin(struct api_request *req, struct api_response *resp, const char *action)
{
	struct api_identity caller;
	return keystone_authorize(req, resp, action, KEYSTONE_ADMIN_ONLY, NULL, &caller) == 0;
}

json_t *keystone_body(struct api_request *req, struct api_response *resp, const char *member)
{
	if (req->body_too_large) {
		keystone_error(resp, 413, "Request is too large.");
		return NULL;
	}
	if (!req->json && req->body && req->body_len) {
		json_error_t jerr;
		req->json = json_loadb(req->body, req->body_len, 0, &jerr);
	}
	json_t *obj = json_object_get(req->json, member);
	if (!json_is_object(obj)) {
		char message[256];
		snprintf(message, sizeof message,
			 "Expecting to find %s in request body. The server could not comply with "
			 "the request since it is either malformed or otherwise incorrect. The "
			 "client is assumed to be in error.",
			 member);
		keystone_error(resp, 400, message);
		return NULL;
	}
	return obj;
}

json_t *keystone_admin_body(struct api_request *req, struct api_response *resp, const char *action,
			    const char *member)
{
	return keystone_admin(req, resp, action) ? keystone_body(req, resp, member) : NULL;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int invalid(struct api_response *resp, const char *field, const char *why)
{
	char message[256];
	snprintf(message, sizeof message, "Invalid input for field '%s': %s", field, why);
	keystone_error(resp, 400, message);
	return -1;
}

int keystone_string(json_t *obj, const char *field, int min_chars, int max_chars, bool nullable,
		    char *out, size_t size, bool *present, struct api_response *resp)
{
	json_t *v = json_object_get(obj, field);
	*present = v != NULL;
	if (!v)
		return 0;
	if (json_is_null(v) && nullable) {
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return invalid(resp, field, "the value is not a string.");
	const char *text = json_string_value(v);
	size_t chars = utf8_chars(text);
	char why[96];
	if (json_string_length(v) != strlen(text))
		return invalid(resp, field, "the value may not contain NUL characters.");
	if (chars < (size_t)min_chars) {
		snprintf(why, sizeof why, "the value is too short (at least %d characters).",
			 min_chars);
		return invalid(resp, field, why);
	}
	if (chars > (size_t)max_chars || strlen(text) >= size) {
		snprintf(why, sizeof why, "the value is too long (at most %d characters).",
			 max_chars);
		return invalid(resp, field, why);
	}
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

int keystone_bool(json_t *obj, const char *field, bool *out, struct api_response *resp)
{
	json_t *v = json_object_get(obj, field);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return invalid(resp, field, "the value is not a boolean.");
	*out = json_is_true(v);
	return 0;
}

int keystone_required(struct api_response *resp, const char *field)
{
	char why[96];
	snprintf(why, sizeof why, "'%s' is a required property.", field);
	return invalid(resp, field, why);
}

int keystone_unknown_domain(struct api_response *resp)
{
	keystone_error(resp, 404,
		       "Could not find domain: the embedded identity has only the domain "
		       "'default'.");
	return -1;
}

void keystone_url(const struct api_request *req, const char *path, const char *id, char *out,
		  size_t size)
{
	char base[300], url[800];
	auth_public_base(req, base, sizeof base);
	snprintf(url, sizeof url, "%s/identity/v3/%s%s%s", base, path, id ? "/" : "", id ? id : "");
	api_utf8_clean(url, out, size); /* the Host header may be any bytes */
}

json_t *keystone_self_link(const struct api_request *req, const char *collection, const char *id)
{
	char url[800];
	keystone_url(req, collection, id, url, sizeof url);
	return json_pack("{s:s}", "self", url);
}

json_t *keystone_collection(const struct api_request *req, const char *collection, json_t *items)
{
	char url[800];
	keystone_url(req, collection, NULL, url, sizeof url);
	return json_pack("{s:o,s:{s:s,s:n,s:n}}", collection, items, "links", "self", url,
			 "previous", "next");
}

int keystone_reply_member(struct api_response *resp, int status, const char *member, json_t *view)
{
	return api_reply(resp, status, json_pack("{s:o}", member, view));
}

int keystone_route(struct api_request *req, struct api_response *resp, char **seg, int n,
		   const struct keystone_handlers *h)
{
	const char *m = req->method;
	if (n == 1 && !strcmp(m, "GET") && h->list)
		return h->list(req, resp);
	if (n == 1 && !strcmp(m, "POST") && h->create)
		return h->create(req, resp);
	if (n == 2 && (!strcmp(m, "GET") || !strcmp(m, "HEAD")) && h->show)
		return h->show(req, resp, seg[1]);
	if (n == 2 && !strcmp(m, "PATCH") && h->update)
		return h->update(req, resp, seg[1]);
	if (n == 2 && !strcmp(m, "DELETE") && h->remove)
		return h->remove(req, resp, seg[1]);
	if (n <= 2)
		return keystone_error(resp, 405,
				      "The method is not allowed for the requested URL.");
	return keystone_error(resp, 404, "The resource could not be found.");
}

int keystone_delete(struct api_request *req, struct api_response *resp, const char *id,
		    const char *action, const char *noun,
		    int (*remove)(const char *id, struct ct_error *err),
		    void (*forget)(const char *id))
{
	if (!keystone_admin(req, resp, action))
		return 0;
	struct ct_error err = {0};
	if (remove(id, &err))
		return keystone_fail(resp, &err);
	forget(id);
	log_info("deleted %s %.64s", noun, id);
	return api_reply(resp, 204, NULL);
}
