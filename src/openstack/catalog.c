/*
 * catalog.c — the pure parts of the OpenStack session (session.h): finding a
 * service's URL in a Keystone v3 catalog, and the message of an OpenStack
 * error body. Owns nothing; may not do I/O.
 */
#include <stdio.h>
#include <string.h>

#include "openstack/session.h"

static const char *str_or(const json_t *o, const char *key, const char *fallback)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : fallback;
}

int os_catalog_endpoint(const json_t *catalog, const char *service_type, const char *interface,
			const char *region, char *buf, size_t len, struct ct_error *err)
{
	const char *want_if = interface && *interface ? interface : "public";
	const char *want_region = region ? region : "";
	size_t i, j;
	const json_t *svc, *ep;
	json_array_foreach (catalog, i, svc) {
		if (strcmp(str_or(svc, "type", ""), service_type))
			continue;
		json_array_foreach (json_object_get(svc, "endpoints"), j, ep) {
			if (strcmp(str_or(ep, "interface", ""), want_if))
				continue;
			/* Keystone v3 gives region_id; "region" is its older spelling. */
			const char *r = str_or(ep, "region_id", str_or(ep, "region", ""));
			if (*want_region && strcmp(r, want_region))
				continue;
			const char *url = str_or(ep, "url", "");
			size_t n = strlen(url);
			while (n && url[n - 1] == '/')
				n--;
			if (!n || strncmp(url, "http", 4))
				continue;
			if (n >= len)
				return ct_fail(err, 500, "The %s endpoint URL is too long.",
					       service_type);
			memcpy(buf, url, n);
			buf[n] = '\0';
			return 0;
		}
	}
	return ct_fail(err, 404, "No %s endpoint for service type %s%s%s in the catalog.", want_if,
		       service_type, *want_region ? " in region " : "", want_region);
}

void os_reply_message(const json_t *reply, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (!json_is_object(reply))
		return;
	const char *msg = json_string_value(json_object_get(reply, "message"));
	const char *key;
	const json_t *v;
	if (!msg) {
		json_object_foreach ((json_t *)reply, key, v) {
			msg = json_string_value(json_object_get(v, "message"));
			if (!msg)
				msg = json_string_value(json_object_get(v, "detail"));
			if (msg)
				break;
		}
	}
	if (!msg) /* Cinder/Glance sometimes answer a list of faults or a title */
		msg = json_string_value(json_object_get(reply, "title"));
	if (msg)
		snprintf(buf, len, "%s", msg);
}
