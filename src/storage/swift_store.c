/*
 * swift_store.c — the Swift backup store (swift_store.h): writers that stream
 * hidden segments and publish a static large object manifest, readers, stat,
 * delete and the store's description for a guest agent.
 *
 * Publishing is atomic and write-once: an object exists once its manifest does,
 * and the manifest PUT carries If-None-Match: * (Swift 2.30 answers 412 when
 * the name exists, also for SLO manifests — verified). Segments are named
 * <dirs>/.<base>_<writer id>_%08d: hidden (no store name has a component
 * starting with '.'), and unique per writer, so two writers of one new name
 * never overwrite each other's segments. The SHA-256 store.c computed travels
 * as a Content-Type parameter (ctrove-sha256=<hex>), so it does not count
 * against the metadata limits the caller gets (Swift's 4096 bytes).
 * Owns its objects and their segments; may not log a token or a key.
 */
#define LOG_MODULE "storage"
#include "storage/swift_store.h"

#include <jansson.h>
#include <nettle/md5.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "storage/backend.h"
#include "storage/swift_http.h"
#include "storage/swift_internal.h"

#define SHA_PARAM "ctrove-sha256="

struct segment {
	char etag[33];
	uint64_t size;
};

struct swift_writer {
	struct swift_store *st;
	struct swift_stream *up; /* the segment being sent, or NULL */
	struct md5_ctx md5;
	uint64_t seg_bytes;
	struct segment *segs; /* finished segments */
	size_t nsegs, cap;
	struct swift_auth auth; /* one token for the whole object */
	char name[STORE_NAME_MAX + 1];
	char seg_prefix[STORE_NAME_MAX + 64]; /* <container>/<dirs>/.<base>_<id>_ */
};

struct swift_reader {
	struct swift_stream *down; /* NULL when there are no bytes to read */
};

static int not_found(const char *name, struct ct_error *err)
{
	return ct_fail(err, 404, "Backup file in %s was not found in the object storage.", name);
}

/* Swift answered, but not what the operation needs: 404 stays 404, Swift's own
 * trouble (5xx) is 503 like Swift unreachable, anything else 500. Only a 4xx's
 * reason is shown (a 5xx body can be a server's traceback). */
static int answer_fail(const struct swift_auth *auth, const char *what, const char *name,
		       const struct swift_response *resp, struct ct_error *err)
{
	char reason[160] = "";
	if (resp->status / 100 == 4)
		swift_http_reason(resp, reason, sizeof reason);
	log_error("swift: %s of %s at %s answered %ld %s", what, name, auth->storage_url,
		  resp->status, reason);
	int status = resp->status == 404 ? 404 : resp->status / 100 == 5 ? 503 : 500;
	return ct_fail(err, status, "Swift at %s answered %ld to the %s of backup object '%s'%s%s.",
		       auth->storage_url, resp->status, what, name, *reason ? ": " : "", reason);
}

static void segment_name(const struct swift_writer *w, size_t index, char *out, size_t len)
{
	/* Room for the prefix and 16 digits is reserved by every caller. */
	if ((size_t)snprintf(out, len, "%s%08zu", w->seg_prefix, index % 100000000000000000u) >=
	    len)
		out[0] = '\0';
}

static void delete_segments(struct swift_writer *w)
{
	char seg[sizeof w->seg_prefix + 16];
	for (size_t i = 0; i < w->nsegs; i++) {
		segment_name(w, i, seg, sizeof seg);
		struct swift_response resp;
		struct ct_error err = {0};
		if (swift_call(w->st, &w->auth, "DELETE", seg, NULL, NULL, NULL, 0, 0, &resp,
			       &err)) {
			log_warning("swift: segment %s of an aborted object stays: %s", seg,
				    err.message);
			continue;
		}
		if (resp.status != 204 && resp.status != 404)
			log_warning("swift: segment %s of an aborted object stays (%ld)", seg,
				    resp.status);
		swift_response_clear(&resp);
	}
	w->nsegs = 0;
}

static void writer_free(struct swift_writer *w)
{
	swift_stream_free(w->up);
	free(w->segs);
	explicit_bzero(&w->auth, sizeof w->auth);
	free(w);
}

static void *swift_open_write(void *impl, const char *name, struct ct_error *err)
{
	struct swift_store *st = impl;
	struct swift_writer *w = calloc(1, sizeof *w);
	if (!w) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	w->st = st;
	snprintf(w->name, sizeof w->name, "%s", name);
	if (swift_auth_get(st, &w->auth, err))
		goto fail;
	struct swift_response resp;
	if (swift_call(st, &w->auth, "HEAD", name, NULL, NULL, NULL, 0, 0, &resp, err))
		goto fail;
	if (resp.status != 404) {
		if (resp.status >= 200 && resp.status < 300)
			ct_fail(err, 409, "Backup object '%s' already exists.", name);
		else
			answer_fail(&w->auth, "check", name, &resp, err);
		swift_response_clear(&resp);
		goto fail;
	}
	swift_response_clear(&resp);
	/* The container: created when missing (201), kept when there (202). */
	char container[STORE_COMPONENT_MAX + 1];
	snprintf(container, sizeof container, "%.*s", (int)strcspn(name, "/"), name);
	if (swift_call(st, &w->auth, "PUT", container, NULL, NULL, "", 0, 0, &resp, err))
		goto fail;
	if (resp.status != 201 && resp.status != 202) {
		answer_fail(&w->auth, "container creation", name, &resp, err);
		swift_response_clear(&resp);
		goto fail;
	}
	swift_response_clear(&resp);
	unsigned char id[8];
	if (ids_random(id, sizeof id)) {
		ct_fail(err, 500, "Backup store: no random bytes for a writer id.");
		goto fail;
	}
	const char *base = strrchr(name, '/') + 1; /* names hold a '/' (store_check_name) */
	snprintf(w->seg_prefix, sizeof w->seg_prefix, "%.*s.%s_%02x%02x%02x%02x%02x%02x%02x%02x_",
		 (int)(base - name), name, base, id[0], id[1], id[2], id[3], id[4], id[5], id[6],
		 id[7]);
	return w;
fail:
	writer_free(w);
	return NULL;
}

static void md5_hex(struct md5_ctx *md5, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[MD5_DIGEST_SIZE];
	md5_digest(md5, sizeof digest, digest);
	for (size_t i = 0; i < sizeof digest; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[32] = '\0';
}

static int segment_start(struct swift_writer *w, struct ct_error *err)
{
	if (w->nsegs == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		struct segment *grown = realloc(w->segs, cap * sizeof *grown);
		if (!grown)
			return ct_fail(err, 500, "out of memory");
		w->segs = grown;
		w->cap = cap;
	}
	char seg[sizeof w->seg_prefix + 16];
	segment_name(w, w->nsegs, seg, sizeof seg);
	char url[STORE_ACCESS_URL_MAX + 3 * sizeof seg + 2];
	if (swift_url(&w->auth, seg, NULL, url, sizeof url, err))
		return -1;
	struct curl_slist *h = swift_auth_headers(&w->auth, err);
	if (!h)
		return -1;
	struct curl_slist *all = h;
	all = all ? ctcurl.slist_append(all, "Transfer-Encoding: chunked") : NULL;
	all = all ? ctcurl.slist_append(all, "Expect:") : NULL;
	all = all ? ctcurl.slist_append(all, "Content-Type: application/octet-stream") : NULL;
	if (!all) {
		ctcurl.slist_free_all(h);
		return ct_fail(err, 500, "out of memory");
	}
	w->up = swift_stream_upload(url, all, w->st->timeout, err);
	swift_headers_free(all);
	if (!w->up)
		return -1;
	md5_init(&w->md5);
	w->seg_bytes = 0;
	return 0;
}

/* The segment is complete: Swift stored exactly the bytes sent (its ETag is
 * their MD5) or the object fails. */
static int segment_end(struct swift_writer *w, struct ct_error *err)
{
	struct swift_response resp;
	int rc = swift_stream_end(w->up, &resp, err);
	swift_stream_free(w->up);
	w->up = NULL;
	if (rc)
		return -1;
	char md5[33];
	md5_hex(&w->md5, md5);
	if (resp.status != 201) {
		answer_fail(&w->auth, "segment upload", w->name, &resp, err);
		swift_response_clear(&resp);
		return -1;
	}
	rc = 0;
	if (strcmp(resp.etag, md5))
		rc = ct_fail(err, 500,
			     "Swift stored a segment of backup object '%s' with MD5 %s, not %s.",
			     w->name, resp.etag, md5);
	swift_response_clear(&resp);
	if (rc)
		return -1;
	struct segment *s = &w->segs[w->nsegs++];
	memcpy(s->etag, md5, sizeof s->etag);
	s->size = w->seg_bytes;
	return 0;
}

static int swift_write(void *impl, const void *buf, size_t len, struct ct_error *err)
{
	struct swift_writer *w = impl;
	const unsigned char *p = buf;
	while (len) {
		if (!w->up && segment_start(w, err))
			return -1;
		uint64_t room = w->st->segment_size - w->seg_bytes;
		size_t take = len < room ? len : (size_t)room;
		md5_update(&w->md5, take, p);
		if (swift_stream_send(w->up, p, take, err))
			return -1;
		w->seg_bytes += take;
		p += take;
		len -= take;
		if (w->seg_bytes == w->st->segment_size && segment_end(w, err))
			return -1;
	}
	return 0;
}

/* Headers that publish an object: write-once, the checksum, the metadata. */
static struct curl_slist *publish_headers(const struct store_object_info *info,
					  struct ct_error *err)
{
	struct curl_slist *h = NULL;
	char line[STORE_META_KEY_MAX + STORE_META_VALUE_MAX + 32];
	h = ctcurl.slist_append(h, "If-None-Match: *");
	snprintf(line, sizeof line, "Content-Type: application/octet-stream; " SHA_PARAM "%s",
		 info->sha256);
	h = h ? ctcurl.slist_append(h, line) : NULL;
	for (unsigned i = 0; h && i < info->meta.count; i++) {
		int n = snprintf(line, sizeof line, "X-Object-Meta-%s: %s", info->meta.item[i].key,
				 info->meta.item[i].value);
		for (int k = 14; k < n && line[k] != ':'; k++)
			if (line[k] == '_')
				line[k] = '-';
		h = ctcurl.slist_append(h, line);
	}
	if (!h)
		ct_fail(err, 500, "out of memory");
	return h;
}

static char *manifest_json(const struct swift_writer *w, struct ct_error *err)
{
	json_t *list = json_array();
	char seg[sizeof w->seg_prefix + 16];
	for (size_t i = 0; list && i < w->nsegs; i++) {
		segment_name(w, i, seg, sizeof seg);
		char path[sizeof seg + 1];
		snprintf(path, sizeof path, "/%s", seg);
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "path", path, "etag",
							  w->segs[i].etag, "size_bytes",
							  (json_int_t)w->segs[i].size))) {
			json_decref(list);
			list = NULL;
		}
	}
	char *text = list ? json_dumps(list, JSON_COMPACT) : NULL;
	json_decref(list);
	if (!text)
		ct_fail(err, 500, "out of memory");
	return text;
}

static int swift_finish(void *impl, const struct store_object_info *info, struct ct_error *err)
{
	struct swift_writer *w = impl;
	char *body = NULL;
	struct curl_slist *h = NULL;
	struct swift_response resp = {0};
	if (w->up && segment_end(w, err))
		goto fail;
	h = publish_headers(info, err);
	if (!h)
		goto fail;
	/* An empty object has no segment (Swift refuses empty SLO segments): a
	 * plain zero-byte object, published as atomically. */
	const char *query = NULL;
	if (w->nsegs) {
		body = manifest_json(w, err);
		if (!body)
			goto fail;
		query = "multipart-manifest=put";
	}
	if (swift_call(w->st, &w->auth, "PUT", w->name, query, h, body ? body : "",
		       body ? strlen(body) : 0, 0, &resp, err))
		goto fail;
	if (resp.status == 412) {
		ct_fail(err, 409, "Backup object '%s' already exists.", w->name);
		goto fail;
	}
	if (resp.status != 201) {
		answer_fail(&w->auth, "publication", w->name, &resp, err);
		goto fail;
	}
	swift_response_clear(&resp);
	ctcurl.slist_free_all(h);
	free(body);
	writer_free(w);
	return 0;
fail:
	swift_response_clear(&resp);
	ctcurl.slist_free_all(h);
	free(body);
	swift_stream_free(w->up);
	w->up = NULL;
	delete_segments(w);
	writer_free(w);
	return -1;
}

static void swift_abort(void *impl)
{
	struct swift_writer *w = impl;
	/* Dropping the connection mid-body: Swift keeps nothing of that segment. */
	swift_stream_free(w->up);
	w->up = NULL;
	delete_segments(w);
	writer_free(w);
}

/* The record of an object from its HEAD (or GET) answer. */
static int info_from(const char *name, const struct swift_response *resp,
		     struct store_object_info *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	const char *sha = strstr(resp->content_type, SHA_PARAM);
	if (!sha || strspn(sha + strlen(SHA_PARAM), "0123456789abcdef") != STORE_SHA256_HEX_LEN) {
		log_error("swift: %s has no SHA-256 recorded (Content-Type %s)", name,
			  resp->content_type);
		return ct_fail(
			err, 500,
			"Backup object '%s' is not a ctrove backup object: it has no SHA-256 "
			"recorded.",
			name);
	}
	memcpy(out->sha256, sha + strlen(SHA_PARAM), STORE_SHA256_HEX_LEN);
	out->size = resp->content_length;
	out->created = (int64_t)resp->timestamp;
	out->meta = resp->meta;
	return 0;
}

static int swift_stat(void *impl, const char *name, struct store_object_info *out,
		      struct ct_error *err)
{
	struct swift_store *st = impl;
	struct swift_auth auth;
	struct swift_response resp;
	int rc = -1;
	if (swift_auth_get(st, &auth, err))
		goto out;
	if (swift_call(st, &auth, "HEAD", name, NULL, NULL, NULL, 0, 0, &resp, err))
		goto out;
	if (resp.status == 404)
		rc = not_found(name, err);
	else if (resp.status != 200)
		rc = answer_fail(&auth, "stat", name, &resp, err);
	else
		rc = info_from(name, &resp, out, err);
	swift_response_clear(&resp);
out:
	explicit_bzero(&auth, sizeof auth);
	return rc;
}

static void *swift_open_read(void *impl, const char *name, uint64_t offset,
			     struct store_object_info *info, struct ct_error *err)
{
	struct swift_store *st = impl;
	struct swift_reader *r = calloc(1, sizeof *r);
	struct swift_auth auth;
	struct curl_slist *h = NULL;
	if (!r) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	if (swift_stat(st, name, info, err) || swift_auth_get(st, &auth, err))
		goto fail;
	if (offset >= info->size) /* nothing to read: store.c checks the range */
		return r;
	char url[STORE_ACCESS_URL_MAX + 3 * STORE_NAME_MAX + 2];
	if (swift_url(&auth, name, NULL, url, sizeof url, err))
		goto fail;
	h = swift_auth_headers(&auth, err);
	if (!h)
		goto fail;
	if (offset) {
		char range[64];
		snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)offset);
		struct curl_slist *more = ctcurl.slist_append(h, range);
		if (!more) {
			ct_fail(err, 500, "out of memory");
			goto fail;
		}
		h = more;
	}
	r->down = swift_stream_download(url, h, st->timeout, err);
	if (!r->down)
		goto fail;
	swift_headers_free(h);
	explicit_bzero(&auth, sizeof auth);
	return r;
fail:
	swift_headers_free(h);
	explicit_bzero(&auth, sizeof auth);
	free(r);
	return NULL;
}

static ssize_t swift_read(void *impl, void *buf, size_t len, struct ct_error *err)
{
	struct swift_reader *r = impl;
	if (!r->down)
		return 0;
	return swift_stream_recv(r->down, buf, len, err);
}

static void swift_close(void *impl)
{
	struct swift_reader *r = impl;
	swift_stream_free(r->down);
	free(r);
}

static int swift_remove(void *impl, const char *name, struct ct_error *err)
{
	struct swift_store *st = impl;
	struct swift_auth auth;
	struct swift_response resp = {0};
	struct curl_slist *h = NULL;
	int rc = -1;
	if (swift_auth_get(st, &auth, err))
		goto out;
	if (swift_call(st, &auth, "HEAD", name, NULL, NULL, NULL, 0, 0, &resp, err))
		goto out;
	if (resp.status == 404) {
		rc = not_found(name, err);
		goto out;
	}
	if (resp.status != 200) {
		rc = answer_fail(&auth, "stat", name, &resp, err);
		goto out;
	}
	bool slo = resp.slo;
	swift_response_clear(&resp);
	if (!slo) {
		if (swift_call(st, &auth, "DELETE", name, NULL, NULL, NULL, 0, 0, &resp, err))
			goto out;
		if (resp.status == 404)
			rc = not_found(name, err);
		else if (resp.status != 204)
			rc = answer_fail(&auth, "deletion", name, &resp, err);
		else
			rc = 0;
		goto out;
	}
	/* The manifest and every segment it names, in one bulk request. */
	h = ctcurl.slist_append(NULL, "Accept: application/json");
	if (!h) {
		ct_fail(err, 500, "out of memory");
		goto out;
	}
	if (swift_call(st, &auth, "DELETE", name, "multipart-manifest=delete", h, NULL, 0, 65536,
		       &resp, err))
		goto out;
	json_t *doc = resp.status == 200 ? json_loads(resp.body ? resp.body : "", 0, NULL) : NULL;
	const char *status = json_string_value(json_object_get(doc, "Response Status"));
	json_int_t missing = json_integer_value(json_object_get(doc, "Number Not Found"));
	json_int_t deleted = json_integer_value(json_object_get(doc, "Number Deleted"));
	if (status && !strncmp(status, "200", 3) && deleted > 0) {
		rc = 0;
		if (missing)
			log_warning("swift: %s was deleted; %lld of its segments were already gone",
				    name, (long long)missing);
	} else if (status && !strncmp(status, "200", 3) && missing) {
		rc = not_found(name, err);
	} else {
		rc = answer_fail(&auth, "deletion", name, &resp, err);
		if (status)
			log_error("swift: deletion of %s: %s", name, status);
	}
	json_decref(doc);
out:
	swift_response_clear(&resp);
	ctcurl.slist_free_all(h);
	explicit_bzero(&auth, sizeof auth);
	return rc;
}

static int swift_describe(void *impl, struct store_access *out, struct ct_error *err)
{
	struct swift_store *st = impl;
	struct swift_auth auth;
	if (swift_auth_fresh(st, &auth, err))
		return -1;
	memset(out, 0, sizeof *out);
	snprintf(out->kind, sizeof out->kind, "swift");
	snprintf(out->storage_url, sizeof out->storage_url, "%s", auth.storage_url);
	snprintf(out->auth_token, sizeof out->auth_token, "%s", auth.token);
	out->segment_max_size = st->segment_size;
	out->timeout = st->timeout;
	out->list_page_size = st->list_page;
	explicit_bzero(&auth, sizeof auth);
	return 0;
}

static void swift_free(void *impl)
{
	swift_store_release(impl);
}

static const struct store_backend_ops swift_ops = {
	.kind = "swift",
	.open_write = swift_open_write,
	.write = swift_write,
	.finish = swift_finish,
	.abort = swift_abort,
	.open_read = swift_open_read,
	.read = swift_read,
	.close = swift_close,
	.stat = swift_stat,
	.list = swift_list,
	.remove = swift_remove,
	.describe = swift_describe,
	.free = swift_free,
};

struct backup_store *swift_store_new(struct ct_error *err)
{
	struct swift_store *st = swift_store_configured(err);
	return st ? backup_store_wrap(&swift_ops, st, err) : NULL;
}

struct backup_store *swift_store_new_access(const struct store_access *access, struct ct_error *err)
{
	struct swift_store *st = swift_store_from_access(access, err);
	return st ? backup_store_wrap(&swift_ops, st, err) : NULL;
}
