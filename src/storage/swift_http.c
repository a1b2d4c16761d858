/*
 * swift_http.c — libcurl under the Swift store (swift_http.h): one-shot
 * requests, and streams driven with curl multi and pause so that neither an
 * upload nor a download ever buffers more than one curl chunk.
 *
 * Owns curl handles and the response-header parsing. May not know the store's
 * layout and may not log: the token is a request header only, and errors carry
 * the URL (which holds no secret) for the caller to report.
 */
#include "storage/swift_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERROR_BODY_KEEP 1024
#define CONNECT_TIMEOUT 10L

void swift_response_clear(struct swift_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

static void copy_trimmed(char *out, size_t cap, const char *value, size_t len)
{
	while (len && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
		len--;
	while (len && *value == ' ') {
		value++;
		len--;
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(out, value, len);
	out[len] = '\0';
}

static bool header_is(const char *line, size_t len, const char *name, const char **value,
		      size_t *value_len)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	*value = line + n + 1;
	*value_len = len - n - 1;
	return true;
}

static void parse_meta(struct swift_response *resp, const char *line, size_t len)
{
	static const char prefix[] = "X-Object-Meta-";
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return;
	size_t klen = (size_t)(colon - line) - (sizeof prefix - 1);
	char key[STORE_META_KEY_MAX + 1];
	char value[STORE_META_VALUE_MAX + 1];
	if (!klen || klen > STORE_META_KEY_MAX) {
		resp->meta_overflow = true;
		return;
	}
	for (size_t i = 0; i < klen; i++) {
		char c = line[sizeof prefix - 1 + i];
		key[i] = c == '-' ? '_' : (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	key[klen] = '\0';
	copy_trimmed(value, sizeof value, colon + 1, len - (size_t)(colon + 1 - line));
	struct ct_error ignored = {0};
	if (store_meta_set(&resp->meta, key, value, &ignored))
		resp->meta_overflow = true;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct swift_response *resp = arg;
	size_t len = size * n;
	const char *v;
	size_t vl;
	char buf[64];
	if (len > 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new status line (after 100 Continue): forget the previous headers. */
		char *body = resp->body;
		size_t body_len = resp->body_len;
		memset(resp, 0, offsetof(struct swift_response, body));
		resp->body = body;
		resp->body_len = body_len;
		const char *sp = memchr(line, ' ', len);
		if (sp)
			resp->status = strtol(sp + 1, NULL, 10);
	} else if (header_is(line, len, "Etag", &v, &vl)) {
		copy_trimmed(resp->etag, sizeof resp->etag, v, vl);
		size_t el = strlen(resp->etag);
		if (el >= 2 && resp->etag[0] == '"' && resp->etag[el - 1] == '"') {
			memmove(resp->etag, resp->etag + 1, el - 2);
			resp->etag[el - 2] = '\0';
		}
	} else if (header_is(line, len, "Content-Length", &v, &vl)) {
		copy_trimmed(buf, sizeof buf, v, vl);
		resp->content_length = strtoull(buf, NULL, 10);
		resp->has_length = true;
	} else if (header_is(line, len, "X-Static-Large-Object", &v, &vl)) {
		copy_trimmed(buf, sizeof buf, v, vl);
		resp->slo = !strcasecmp(buf, "true");
	} else if (header_is(line, len, "X-Timestamp", &v, &vl)) {
		copy_trimmed(buf, sizeof buf, v, vl);
		resp->timestamp = strtod(buf, NULL);
	} else if (header_is(line, len, "Content-Type", &v, &vl)) {
		copy_trimmed(resp->content_type, sizeof resp->content_type, v, vl);
	} else if (header_is(line, len, "X-Storage-Url", &v, &vl)) {
		copy_trimmed(resp->storage_url, sizeof resp->storage_url, v, vl);
	} else if (header_is(line, len, "X-Auth-Token", &v, &vl)) {
		copy_trimmed(resp->auth_token, sizeof resp->auth_token, v, vl);
	} else if (len > 14 && !strncasecmp(line, "X-Object-Meta-", 14)) {
		parse_meta(resp, line, len);
	}
	return len;
}

/* Keeps up to max bytes of a body; the rest is counted as truncated. */
static int keep_body(struct swift_response *resp, const char *data, size_t len, size_t max)
{
	size_t room = resp->body_len < max ? max - resp->body_len : 0;
	size_t take = len < room ? len : room;
	if (take < len)
		resp->body_truncated = true;
	if (!take)
		return 0;
	char *grown = realloc(resp->body, resp->body_len + take + 1);
	if (!grown)
		return -1;
	resp->body = grown;
	memcpy(resp->body + resp->body_len, data, take);
	resp->body_len += take;
	resp->body[resp->body_len] = '\0';
	return 0;
}

struct oneshot {
	struct swift_response *resp;
	size_t max;
	const unsigned char *send;
	size_t send_left;
};

static size_t on_oneshot_body(char *data, size_t size, size_t n, void *arg)
{
	struct oneshot *o = arg;
	return keep_body(o->resp, data, size * n, o->max) ? 0 : size * n;
}

static size_t on_oneshot_send(char *out, size_t size, size_t n, void *arg)
{
	struct oneshot *o = arg;
	size_t len = size * n < o->send_left ? size * n : o->send_left;
	memcpy(out, o->send, len);
	o->send += len;
	o->send_left -= len;
	return len;
}

static void set_common(CURL *c, const char *url, const struct curl_slist *headers, long timeout)
{
	ctcurl.easy_setopt(c, CURLOPT_URL, url);
	ctcurl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	ctcurl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	ctcurl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			   timeout < CONNECT_TIMEOUT ? timeout : CONNECT_TIMEOUT);
	ctcurl.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
}

static int transport_fail(const char *url, CURLcode rc, const char *detail, struct ct_error *err)
{
	char shown[256];
	/* The query (multipart-manifest=..., markers) only lengthens the message. */
	snprintf(shown, sizeof shown, "%.*s", (int)strcspn(url, "?"), url);
	return ct_fail(err, 503, "Swift at %s did not answer: %s.", shown,
		       detail && *detail ? detail : ctcurl.easy_strerror(rc));
}

int swift_http_do(const struct swift_request *req, struct swift_response *resp,
		  struct ct_error *err)
{
	memset(resp, 0, sizeof *resp);
	if (curl_library_load(err))
		return -1;
	CURL *c = ctcurl.easy_init();
	if (!c)
		return ct_fail(err, 500, "out of memory");
	struct oneshot o = {resp, req->body_max ? req->body_max : ERROR_BODY_KEEP, req->body,
			    req->body_len};
	char detail[CURL_ERROR_SIZE] = "";
	set_common(c, req->url, req->headers, req->timeout);
	ctcurl.easy_setopt(c, CURLOPT_TIMEOUT, req->timeout);
	ctcurl.easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	ctcurl.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	ctcurl.easy_setopt(c, CURLOPT_HEADERDATA, resp);
	ctcurl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_oneshot_body);
	ctcurl.easy_setopt(c, CURLOPT_WRITEDATA, &o);
	if (!strcmp(req->method, "HEAD")) {
		ctcurl.easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "PUT")) {
		ctcurl.easy_setopt(c, CURLOPT_UPLOAD, 1L);
		ctcurl.easy_setopt(c, CURLOPT_READFUNCTION, on_oneshot_send);
		ctcurl.easy_setopt(c, CURLOPT_READDATA, &o);
		ctcurl.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "GET")) {
		ctcurl.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	CURLcode rc = ctcurl.easy_perform(c);
	ctcurl.easy_cleanup(c);
	if (rc != CURLE_OK) {
		int ret = transport_fail(req->url, rc, detail, err);
		swift_response_clear(resp);
		return ret;
	}
	return 0;
}

const char *swift_http_reason(const struct swift_response *resp, char *buf, size_t len)
{
	const char *body = resp->body ? resp->body : "";
	/* Swift's error bodies are "<html><h1>Title</h1><p>Text</p></html>". */
	size_t o = 0;
	bool in_tag = false;
	for (const char *p = body; *p && o + 1 < len; p++) {
		if (*p == '<') {
			in_tag = true;
			if (o && buf[o - 1] != ' ')
				buf[o++] = ' ';
		} else if (*p == '>') {
			in_tag = false;
		} else if (!in_tag && *p != '\n' && *p != '\r' && (unsigned char)*p >= 0x20 &&
			   (unsigned char)*p < 0x7f) {
			buf[o++] = *p;
		}
	}
	while (o && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	char *start = buf;
	while (*start == ' ')
		start++;
	return start;
}

struct swift_stream {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	bool done;
	bool paused;
	CURLcode result;
	char detail[CURL_ERROR_SIZE];
	char url[1024];
	struct swift_response resp;
	/* upload: the caller's chunk being handed over */
	const unsigned char *feed;
	size_t feed_len;
	bool feed_end;
	/* download: bytes delivered by curl, not yet taken by the caller */
	unsigned char *held;
	size_t held_len, held_off, held_cap;
};

static size_t on_stream_send(char *out, size_t size, size_t n, void *arg)
{
	struct swift_stream *s = arg;
	size_t len = size * n < s->feed_len ? size * n : s->feed_len;
	if (len) {
		memcpy(out, s->feed, len);
		s->feed += len;
		s->feed_len -= len;
		return len;
	}
	if (s->feed_end)
		return 0;
	s->paused = true;
	return CURL_READFUNC_PAUSE;
}

static bool status_ok(long status)
{
	return status >= 200 && status < 300;
}

/* Bytes curl delivers while the caller is not reading are kept up to
 * DOWNLOAD_KEEP, and the transfer is paused beyond that. Pausing is the
 * exception: the caller drains the buffer before curl runs again, and one
 * ctcurl.multi_perform() delivers far less. (A transfer paused at every chunk
 * waits for ctcurl.multi_poll()'s timeout each time: 8 MiB took a minute.) */
#define DOWNLOAD_KEEP (1024 * 1024)

static size_t on_stream_body(char *data, size_t size, size_t n, void *arg)
{
	struct swift_stream *s = arg;
	size_t len = size * n;
	if (!status_ok(s->resp.status))
		return keep_body(&s->resp, data, len, ERROR_BODY_KEEP) ? 0 : len;
	size_t pending = s->held_len - s->held_off;
	if (pending && pending + len > DOWNLOAD_KEEP) {
		s->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (s->held_off) {
		memmove(s->held, s->held + s->held_off, pending);
		s->held_off = 0;
		s->held_len = pending;
	}
	if (pending + len > s->held_cap) {
		size_t cap = pending + len > 65536 ? pending + len : 65536;
		unsigned char *grown = realloc(s->held, cap);
		if (!grown)
			return 0;
		s->held = grown;
		s->held_cap = cap;
	}
	memcpy(s->held + s->held_len, data, len);
	s->held_len += len;
	return len;
}

static struct swift_stream *stream_new(const char *url, const struct curl_slist *headers,
				       long timeout, struct ct_error *err)
{
	if (curl_library_load(err))
		return NULL;
	struct swift_stream *s = calloc(1, sizeof *s);
	if (!s) {
		ct_fail(err, 500, "out of memory");
		return NULL;
	}
	snprintf(s->url, sizeof s->url, "%s", url);
	for (const struct curl_slist *h = headers; h; h = h->next) {
		struct curl_slist *more = ctcurl.slist_append(s->headers, h->data);
		if (!more)
			goto oom;
		s->headers = more;
	}
	s->multi = ctcurl.multi_init();
	s->easy = ctcurl.easy_init();
	if (!s->multi || !s->easy)
		goto oom;
	set_common(s->easy, url, s->headers, timeout);
	/* A stalled peer fails the transfer; a long one does not. */
	ctcurl.easy_setopt(s->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	ctcurl.easy_setopt(s->easy, CURLOPT_LOW_SPEED_TIME, timeout);
	ctcurl.easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->detail);
	ctcurl.easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
	ctcurl.easy_setopt(s->easy, CURLOPT_HEADERDATA, &s->resp);
	ctcurl.easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_stream_body);
	ctcurl.easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	return s;
oom:
	swift_stream_free(s);
	ct_fail(err, 500, "out of memory");
	return NULL;
}

static int stream_start(struct swift_stream *s, struct ct_error *err)
{
	if (ctcurl.multi_add_handle(s->multi, s->easy) != CURLM_OK)
		return ct_fail(err, 500, "out of memory");
	return 0;
}

/* One round of curl's work: transfer what can move now; wait (up to 1 s) for
 * the socket only when nothing moved. */
static void stream_drive(struct swift_stream *s)
{
	int running = 0;
	size_t before = s->held_len + s->feed_len;
	ctcurl.multi_perform(s->multi, &running);
	CURLMsg *msg;
	int left;
	while ((msg = ctcurl.multi_info_read(s->multi, &left)))
		if (msg->msg == CURLMSG_DONE) {
			s->done = true;
			s->result = msg->data.result;
		}
	if (!s->done && !running) {
		/* Finished without a message: treat as done with curl's verdict. */
		s->done = true;
	}
	if (!s->done && s->held_len + s->feed_len == before)
		ctcurl.multi_poll(s->multi, NULL, 0, 1000, NULL);
}

static void stream_resume(struct swift_stream *s)
{
	if (s->paused) {
		s->paused = false;
		ctcurl.easy_pause(s->easy, CURLPAUSE_CONT);
	}
}

static int stream_failed(struct swift_stream *s, struct ct_error *err)
{
	if (s->result == CURLE_PARTIAL_FILE) {
		/* Swift stops an object's body when a segment is missing or no longer
		 * the one its manifest names. */
		char shown[256];
		snprintf(shown, sizeof shown, "%.*s", (int)strcspn(s->url, "?"), s->url);
		return ct_fail(err, 500,
			       "Swift ended %s before all of its bytes (a segment missing or "
			       "changed?).",
			       shown);
	}
	if (s->result != CURLE_OK)
		return transport_fail(s->url, s->result, s->detail, err);
	char reason[160] = "";
	char shown[256];
	snprintf(shown, sizeof shown, "%.*s", (int)strcspn(s->url, "?"), s->url);
	/* A 5xx body can be a server's traceback: only a 4xx's reason is shown. */
	const char *why =
		s->resp.status / 100 == 4 ? swift_http_reason(&s->resp, reason, sizeof reason) : "";
	return ct_fail(err,
		       s->resp.status == 404	   ? 404
		       : s->resp.status / 100 == 5 ? 503
						   : 500,
		       "Swift answered %ld to %s before the transfer ended%s%s.", s->resp.status,
		       shown, *why ? ": " : "", why);
}

struct swift_stream *swift_stream_upload(const char *url, const struct curl_slist *headers,
					 long timeout, struct ct_error *err)
{
	struct swift_stream *s = stream_new(url, headers, timeout, err);
	if (!s)
		return NULL;
	ctcurl.easy_setopt(s->easy, CURLOPT_UPLOAD, 1L);
	ctcurl.easy_setopt(s->easy, CURLOPT_READFUNCTION, on_stream_send);
	ctcurl.easy_setopt(s->easy, CURLOPT_READDATA, s);
	if (stream_start(s, err)) {
		swift_stream_free(s);
		return NULL;
	}
	return s;
}

int swift_stream_send(struct swift_stream *s, const void *buf, size_t len, struct ct_error *err)
{
	s->feed = buf;
	s->feed_len = len;
	stream_resume(s);
	while (s->feed_len && !s->done)
		stream_drive(s);
	s->feed = NULL;
	if (s->feed_len) {
		s->feed_len = 0;
		return stream_failed(s, err);
	}
	return 0;
}

int swift_stream_end(struct swift_stream *s, struct swift_response *resp, struct ct_error *err)
{
	s->feed_end = true;
	stream_resume(s);
	while (!s->done)
		stream_drive(s);
	if (s->result != CURLE_OK)
		return transport_fail(s->url, s->result, s->detail, err);
	*resp = s->resp;
	memset(&s->resp, 0, sizeof s->resp); /* the body moved to resp */
	return 0;
}

struct swift_stream *swift_stream_download(const char *url, const struct curl_slist *headers,
					   long timeout, struct ct_error *err)
{
	struct swift_stream *s = stream_new(url, headers, timeout, err);
	if (!s)
		return NULL;
	if (stream_start(s, err)) {
		swift_stream_free(s);
		return NULL;
	}
	return s;
}

ssize_t swift_stream_recv(struct swift_stream *s, void *buf, size_t len, struct ct_error *err)
{
	for (;;) {
		if (s->held_off < s->held_len) {
			size_t n = s->held_len - s->held_off;
			if (n > len)
				n = len;
			memcpy(buf, s->held + s->held_off, n);
			s->held_off += n;
			return (ssize_t)n;
		}
		if (s->done) {
			if (s->result != CURLE_OK || !status_ok(s->resp.status))
				return stream_failed(s, err);
			return 0;
		}
		s->held_len = s->held_off = 0;
		stream_resume(s);
		while (s->held_off == s->held_len && !s->done)
			stream_drive(s);
	}
}

void swift_stream_free(struct swift_stream *s)
{
	if (!s)
		return;
	if (s->multi && s->easy)
		ctcurl.multi_remove_handle(s->multi, s->easy);
	if (s->easy)
		ctcurl.easy_cleanup(s->easy);
	if (s->multi)
		ctcurl.multi_cleanup(s->multi);
	for (struct curl_slist *h = s->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data)); /* the token */
	ctcurl.slist_free_all(s->headers);
	swift_response_clear(&s->resp);
	free(s->held);
	free(s);
}

int swift_url_escape(const char *text, bool keep_slash, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			     *p == '~' || (keep_slash && *p == '/');
		if (o + (plain ? 1 : 3) >= len)
			return -1;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}
