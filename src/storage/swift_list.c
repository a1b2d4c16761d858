/*
 * swift_list.c — listing the Swift store: container GETs in JSON, page by page
 * with markers ([swift] list_page_size names a request; Swift answers at most
 * its container_listing_limit, 10000 by default), in Swift's byte
 * order of names, which is store.h's.
 *
 * Hidden names (a component starting with '.': the segments of writers) are
 * not objects and are skipped; a missing container lists nothing. Reads only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/swift_internal.h"

#define PAGE_BODY_MAX (32u * 1024 * 1024) /* 10000 entries of long names */

static bool hidden(const char *name)
{
	if (name[0] == '.')
		return true;
	return strstr(name, "/.") != NULL;
}

/* "2026-12-06T23:16:40.438050" (UTC) → Unix seconds. */
static int64_t parse_modified(const char *text)
{
	struct tm tm = {0};
	if (!text || sscanf(text, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* One page after marker; *count gets the entries Swift returned, *last the last name. */
static int list_page(struct swift_store *st, struct swift_auth *auth, const char *container,
		     const char *prefix, char *marker, size_t marker_len, size_t *count,
		     store_list_fn fn, void *arg, struct ct_error *err)
{
	char eprefix[3 * STORE_NAME_MAX + 1], emarker[3 * 1024 + 1];
	char query[sizeof eprefix + sizeof emarker + 64];
	if (swift_url_escape(prefix, false, eprefix, sizeof eprefix) ||
	    swift_url_escape(marker, false, emarker, sizeof emarker))
		return ct_fail(err, 400, "Backup prefix '%.64s' is too long for Swift.", prefix);
	snprintf(query, sizeof query, "format=json&limit=%ld&prefix=%s&marker=%s", st->list_page,
		 eprefix, emarker);
	struct swift_response resp;
	if (swift_call(st, auth, "GET", container, query, NULL, NULL, 0, PAGE_BODY_MAX, &resp, err))
		return -1;
	*count = 0;
	if (resp.status == 404 || resp.status == 204) {
		swift_response_clear(&resp);
		return 0;
	}
	if (resp.status != 200 || resp.body_truncated) {
		char reason[160];
		int rc = ct_fail(err, 500,
				 "Swift answered %ld to the listing of container '%s'%s%s.",
				 resp.status, container,
				 *swift_http_reason(&resp, reason, sizeof reason) ? ": " : "",
				 swift_http_reason(&resp, reason, sizeof reason));
		swift_response_clear(&resp);
		return rc;
	}
	json_t *doc = json_loads(resp.body ? resp.body : "", 0, NULL);
	swift_response_clear(&resp);
	if (!json_is_array(doc)) {
		json_decref(doc);
		return ct_fail(err, 500, "Swift's listing of container '%s' is not a JSON array.",
			       container);
	}
	int rc = 0;
	size_t i;
	json_t *item;
	char full[STORE_NAME_MAX + 1 + 1024];
	json_array_foreach (doc, i, item) {
		const char *name = json_string_value(json_object_get(item, "name"));
		if (!name)
			continue;
		snprintf(marker, marker_len, "%s", name);
		(*count)++;
		if (hidden(name))
			continue;
		snprintf(full, sizeof full, "%s/%s", container, name);
		struct store_entry entry = {
			.name = full,
			.size = (uint64_t)json_integer_value(json_object_get(item, "bytes")),
			.created = parse_modified(
				json_string_value(json_object_get(item, "last_modified"))),
		};
		if (fn(&entry, arg, err)) {
			rc = -1;
			break;
		}
	}
	json_decref(doc);
	return rc;
}

int swift_list(void *impl, const char *prefix, store_list_fn fn, void *arg, struct ct_error *err)
{
	struct swift_store *st = impl;
	struct swift_auth auth;
	if (swift_auth_get(st, &auth, err))
		return -1;
	char container[STORE_COMPONENT_MAX + 1];
	size_t clen = strcspn(prefix, "/");
	snprintf(container, sizeof container, "%.*s", (int)clen, prefix);
	const char *object_prefix = prefix[clen] ? prefix + clen + 1 : "";
	char marker[1024] = "";
	int rc = 0;
	for (;;) {
		size_t count = 0;
		rc = list_page(st, &auth, container, object_prefix, marker, sizeof marker, &count,
			       fn, arg, err);
		if (rc || !count)
			break;
	}
	explicit_bzero(&auth, sizeof auth);
	return rc;
}
