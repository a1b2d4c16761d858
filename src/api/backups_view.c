/*
 * backups_view.c — see backups_view.h.
 */
#include "api/backups_view.h"

#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"

static json_t *text(const char *s)
{
	char clean[2100];
	api_utf8_clean(s, clean, sizeof clean);
	return json_string(clean);
}

static json_t *text_or_null(const char *s)
{
	return s && *s ? text(s) : json_null();
}

static json_t *time_value(const char *db_time)
{
	char out[CT_TIME_LEN];
	timefmt_db_to_trove(db_time, out);
	return json_string(out);
}

json_t *backup_view(const struct backup_row *b)
{
	json_t *o = json_pack(
		"{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", text(b->id), "name",
		text(b->name), "description",
		b->has_description ? text(b->description) : json_null(), "locationRef",
		text_or_null(b->location), "instance_id", text_or_null(b->instance_id), "created",
		time_value(b->created), "updated", time_value(b->updated), "size",
		b->has_size ? json_real(b->size) : json_null(), "status", text(b->state),
		"parent_id", text_or_null(b->parent_id), "project_id", text(b->tenant_id));
	if (o && b->datastore_version_id[0])
		json_object_set_new(o, "datastore",
				    json_pack("{s:o,s:o,s:o}", "type", text(b->datastore_name),
					      "version", text(b->datastore_version_name),
					      "version_id", text(b->datastore_version_id)));
	return o;
}

json_t *backup_strategy_view(const struct backup_strategy *s)
{
	return json_pack("{s:o,s:o,s:o,s:o}", "project_id", text(s->tenant_id), "instance_id",
			 text(s->instance_id), "backend", text(s->backend), "swift_container",
			 text(s->swift_container));
}

/* Percent-encode a query value into out (RFC 3986 unreserved kept). */
static void url_quote(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < size; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

/* The request's URL with marker=<next> and the other query parameters kept. */
static json_t *next_link(const struct api_request *req, long next)
{
	char href[2048], value[512];
	api_link_base(req, href, sizeof href);
	size_t len = strlen(href);
	len += (size_t)snprintf(href + len, sizeof href - len, "%s?", req->path);
	for (int i = 0; i < req->nquery && len < sizeof href; i++) {
		if (!strcmp(req->query[i].key, "marker"))
			continue;
		url_quote(req->query[i].key, value, sizeof value);
		len += (size_t)snprintf(href + len, sizeof href - len, "%s=", value);
		if (len >= sizeof href)
			break;
		url_quote(req->query[i].value ? req->query[i].value : "", value, sizeof value);
		len += (size_t)snprintf(href + len, sizeof href - len, "%s&", value);
	}
	if (len < sizeof href)
		snprintf(href + len, sizeof href - len, "marker=%ld", next);
	return json_pack("[{s:s,s:s}]", "rel", "next", "href", href);
}

json_t *backup_list_view(const struct api_request *req, const struct backup_row *rows, size_t n,
			 long offset, long limit)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, backup_view(&rows[i]));
	json_t *body = json_pack("{s:o}", "backups", list);
	if (body && limit > 0 && (long)n >= limit)
		json_object_set_new(body, "links", next_link(req, offset + limit));
	return body;
}
