/*
 * object_store.c — see object_store.h. Serves GET of a container (a JSON
 * listing by prefix) and GET/HEAD of an object, with Swift's names and
 * headers (X-Object-Meta-Lines is what `log tail` reads). Only the container
 * [DEFAULT] guest_log_container_name is there, and in it only what lies under
 * an instance of the token's project (<instance id>/...): a project never
 * reads another's logs, and nobody reads backups through here. Read-only:
 * every other method is 405. Owns nothing beyond one request; may not write
 * the store nor read rows but through src/db/.
 */
#define LOG_MODULE "api"
#include "api/object_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "common/config.h"
#include "common/json_writer.h"
#include "db/instances.h"
#include "storage/store.h"

/* The largest object served: a log part is at most guest_log_limit bytes. */
#define OBJECT_MAX (64u << 20)

static void reply_plain(struct api_response *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	size_t len = strlen(text);
	resp->text = malloc(len + 1);
	if (resp->text) {
		memcpy(resp->text, text, len + 1);
		resp->text_len = len;
	}
}

/* The instance id that starts path (up to its first '/') is one the caller
 * may read: an instance of their project (any, for an admin). */
static bool readable(const struct api_request *req, const char *path)
{
	char id[64];
	size_t len = strcspn(path, "/");
	if (len == 0 || len >= sizeof id || path[len] != '/')
		return false;
	memcpy(id, path, len);
	id[len] = '\0';
	struct instance in;
	struct ct_error err = {0};
	return instance_load(id, req->who.is_admin ? NULL : req->who.project_id, &in, &err) == 0;
}

static void last_modified(int64_t created, char *out, size_t size)
{
	time_t t = (time_t)created;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%S.000000", &tm);
}

struct listing {
	struct json_writer *w;
	size_t skip; /* bytes of "<container>/" */
	const char *marker;
};

static int list_entry(const struct store_entry *e, void *arg, struct ct_error *err)
{
	struct listing *l = arg;
	const char *name = e->name + l->skip;
	if (l->marker && strcmp(name, l->marker) <= 0)
		return 0;
	char when[40];
	last_modified(e->created, when, sizeof when);
	json_writer_object_begin(l->w);
	json_writer_key_string(l->w, "name", name);
	json_writer_key_int(l->w, "bytes", (long long)e->size);
	json_writer_key_string(l->w, "last_modified", when);
	json_writer_key_string(l->w, "content_type", "text/plain");
	json_writer_object_end(l->w);
	(void)err;
	return 0;
}

static void list_container(struct api_request *req, struct api_response *resp,
			   struct backup_store *store, const char *container)
{
	const char *prefix = api_query(req, "prefix");
	struct json_writer w;
	json_writer_init(&w);
	json_writer_array_begin(&w);
	struct ct_error err = {0};
	/* Without a prefix naming one of the caller's instances nothing is shown. */
	if (prefix && readable(req, prefix)) {
		char full[STORE_NAME_MAX + 2];
		snprintf(full, sizeof full, "%s/%s", container, prefix);
		struct listing l = {&w, strlen(container) + 1, api_query(req, "marker")};
		if (strlen(full) > STORE_NAME_MAX ||
		    store_list(store, full, list_entry, &l, &err)) {
			json_writer_discard(&w);
			reply_plain(resp, err.status == 400 || !err.status ? 400 : 500,
				    "Bad prefix");
			return;
		}
	}
	json_writer_array_end(&w);
	if (api_reply_written(resp, 200, &w, &err))
		reply_plain(resp, 500, "Internal Server Error");
}

static void get_object(struct api_request *req, struct api_response *resp,
		       struct backup_store *store, const char *name)
{
	struct ct_error err = {0};
	struct store_reader *r = store_open_read(store, name, NULL, &err);
	if (!r) {
		reply_plain(resp, err.status == 404 || err.status == 400 ? 404 : 500,
			    err.status == 404 || err.status == 400 ? "Not Found"
								   : "Internal Server Error");
		return;
	}
	const struct store_object_info *info = store_reader_info(r);
	char *buf = info->size < OBJECT_MAX ? malloc((size_t)info->size + 1) : NULL;
	size_t got = 0;
	ssize_t n = buf ? 1 : -1;
	while (buf && n > 0) {
		n = store_read(r, buf + got, (size_t)info->size + 1 - got, &err);
		if (n > 0)
			got += (size_t)n;
	}
	if (n < 0) {
		store_close(r);
		free(buf);
		reply_plain(resp, 500, "Internal Server Error");
		return;
	}
	const char *lines = store_meta_get(&info->meta, "lines");
	if (lines)
		api_add_header(resp, "X-Object-Meta-Lines", "%s", lines);
	char when[40];
	last_modified(info->created, when, sizeof when);
	api_add_header(resp, "X-Timestamp", "%lld", (long long)info->created);
	store_close(r);
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	resp->text = buf;
	resp->text_len = got;
	(void)req;
}

void object_store_dispatch(struct api_request *req, struct api_response *resp, char **segments,
			   int nsegments)
{
	struct ct_error err = {0};
	if (!req->auth_token || !*req->auth_token ||
	    auth_validate(req->auth_token, &req->who, &err)) {
		/* Keystone could not say (503): the guest should retry, not give up. */
		if (err.status == 503)
			reply_plain(resp, 503, "Service Unavailable");
		else
			reply_plain(resp, 401, "Unauthorized");
		return;
	}
	/* /object-store/v1/AUTH_<project>/<container>[/<object path>] */
	if (nsegments < 4 || strcmp(segments[1], "v1") || strncmp(segments[2], "AUTH_", 5)) {
		reply_plain(resp, 404, "Not Found");
		return;
	}
	if (!req->who.is_admin && strcmp(segments[2] + 5, req->who.project_id)) {
		reply_plain(resp, 403, "Forbidden");
		return;
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		reply_plain(resp, 405, "Method Not Allowed");
		return;
	}
	const char *container = segments[3];
	if (strcmp(container, cfg_str(CFG_GUEST_LOG_CONTAINER))) {
		reply_plain(resp, 404, "Not Found");
		return;
	}
	char name[STORE_NAME_MAX + 2];
	size_t used = (size_t)snprintf(name, sizeof name, "%s", container);
	for (int i = 4; i < nsegments && used < sizeof name; i++)
		used += (size_t)snprintf(name + used, sizeof name - used, "/%s", segments[i]);
	if (used > STORE_NAME_MAX) {
		reply_plain(resp, 404, "Not Found");
		return;
	}
	if (nsegments > 4 && !readable(req, name + strlen(container) + 1)) {
		reply_plain(resp, 404, "Not Found");
		return;
	}
	struct backup_store *store = backup_store_new(&err);
	if (!store) {
		reply_plain(resp, 503, "Service Unavailable");
		return;
	}
	if (nsegments == 4)
		list_container(req, resp, store, container);
	else
		get_object(req, resp, store, name);
	backup_store_free(store);
}
