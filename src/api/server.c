/*
 * server.c — see server.h. HTTPS is libmicrohttpd's own TLS (GnuTLS) on the
 * same daemon; api/https.c loads and checks the certificate.
 */
#define LOG_MODULE "api"
#include "api/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/dispatch.h"
#include "api/https.h"
#include "api/routes.h"
#include "api/tls_records.h"
#include "api/wait_pool.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"

/* The request headers ctrove serves, in bytes (names, values, ": " and CRLF);
 * above it the answer is Trove's JSON fault, 431. 8 KiB, as nginx's and
 * Apache's default header limits; an OpenStack client sends about 1 KiB.
 * libmicrohttpd (0.9.75) answers a head that overflows a connection's memory
 * pool itself, with a compiled-in HTML page and no option or callback to
 * replace it; so the pool is twice the limit, and only a head of more than
 * about 15 KiB still gets that page. The pool is zeroed for every request on a
 * kept-alive connection, so it stays at 16 KiB: at 32 KiB the zeroing alone
 * cost 25k instructions a request (18 % of GET /datastores, callgrind). */
#define MAX_HEADER_BYTES 8192
#define CONNECTION_POOL	 (2 * MAX_HEADER_BYTES)

/* GnuTLS priorities: TLS 1.2 and 1.3 only, GnuTLS's default ciphers. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static struct MHD_Daemon *daemon_handle;
static struct https_files tls; /* kept while the daemon runs */

/* A request served on the wait pool while its connection is suspended. */
struct waiting {
	struct wait_job job; /* first: the pool hands this back */
	struct MHD_Connection *conn;
	struct api_request req;
	struct api_response resp;
};

struct http_ctx {
	char *body;
	size_t len;
	size_t cap;
	bool too_large;
	struct waiting *waiting; /* answered by the pool, to be sent */
	bool corked;		 /* the answer goes out as one TLS record (tls_records.h) */
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	(void)kind;
	struct api_request *req = cls;
	if (req->nquery < API_MAX_QUERY) {
		req->query[req->nquery].key = key;
		req->query[req->nquery].value = value;
		req->nquery++;
	}
	return MHD_YES;
}

static int append_body(struct http_ctx *ctx, const char *data, size_t size)
{
	size_t limit = (size_t)cfg_int(CFG_MAX_BODY);
	if (ctx->too_large || ctx->len + size > limit) {
		ctx->too_large = true;
		return 0;
	}
	if (ctx->len + size + 1 > ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap : 1024;
		while (cap < ctx->len + size + 1)
			cap *= 2;
		char *n = realloc(ctx->body, cap);
		if (!n)
			return -1;
		ctx->body = n;
		ctx->cap = cap;
	}
	memcpy(ctx->body + ctx->len, data, size);
	ctx->len += size;
	ctx->body[ctx->len] = '\0';
	return 0;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_ctx *ctx,
				     struct api_response *resp, const char *request_id)
{
	char *text = NULL;
	size_t len = 0;
	if (resp->text) {
		text = resp->text; /* handed over to libmicrohttpd */
		len = resp->text_len;
		resp->text = NULL;
	} else if (resp->body) {
		text = json_writer_dump(resp->body, &len);
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text ? text : (void *)"",
								 text ? MHD_RESPMEM_MUST_FREE
								      : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	bool typed = resp->content_type != NULL; /* a handler serving other than JSON says so */
	for (int i = 0; i < resp->nheaders; i++)
		typed |= !strcasecmp(resp->headers[i].name, "Content-Type");
	if (resp->content_type)
		MHD_add_response_header(r, "Content-Type", resp->content_type);
	else if (!typed)
		MHD_add_response_header(r, "Content-Type", "application/json");
	char rid[64];
	snprintf(rid, sizeof rid, "req-%s", request_id);
	MHD_add_response_header(r, "X-Openstack-Request-Id", rid);
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	if (tls.cert_pem && ctx) /* no ctx: a refusal before the request was taken */
		ctx->corked = tls_records_cork(conn, len);
	enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Everything req points to lives in the connection (kept while it is
 * suspended) or in ctx. */
static void fill_request(struct api_request *req, struct MHD_Connection *conn, const char *method,
			 const char *url, const struct http_ctx *ctx)
{
	memset(req, 0, sizeof *req);
	req->method = method;
	req->path = url;
	req->host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	req->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	req->auth_token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token");
	/* Prometheus sends its credentials as a bearer token (docs/metrics.md). */
	const char *authorization =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	if (!req->auth_token && authorization && !strncasecmp(authorization, "Bearer ", 7))
		req->auth_token = authorization + 7;
	req->subject_token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Subject-Token");
	req->accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	const union MHD_ConnectionInfo *peer =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	req->peer = peer ? peer->client_addr : NULL;
	req->body = ctx->len ? ctx->body : NULL;
	req->body_len = ctx->len;
	req->body_too_large = ctx->too_large;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, req);
}

/* On a pool thread: the answer, then the connection back to its HTTP
 * thread, which calls on_request again to send it. */
static void serve_waiting(struct wait_job *job)
{
	struct waiting *w = (struct waiting *)job;
	api_dispatch(&w->req, &w->resp);
	MHD_resume_connection(w->conn);
}

static enum MHD_Result add_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
					const char *value)
{
	(void)kind;
	size_t *bytes = cls;
	*bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* Answers a request whose headers are over MAX_HEADER_BYTES with Trove's
 * fault body (webob's HTTPRequestHeaderFieldsTooLarge, named the way Trove
 * names webob's errors); false when they are within it. */
static bool refused_for_header_size(struct MHD_Connection *conn, const char *method,
				    const char *url, enum MHD_Result *result)
{
	size_t bytes = 0;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_bytes, &bytes);
	if (bytes <= MAX_HEADER_BYTES)
		return false;
	char request_id[CT_UUID_LEN + 1];
	ids_uuid(request_id);
	log_set_context(request_id, NULL);
	log_warning("%s %.200s: %zu bytes of request headers, over the limit of %d: 431", method,
		    url, bytes, MAX_HEADER_BYTES);
	log_clear_context();
	struct ct_error err = {0};
	ct_fail(&err, 431, "The request header fields were too large");
	struct api_response resp = {0};
	api_reply_error(&resp, &err);
	*result = send_response(conn, NULL, &resp, request_id);
	api_response_clear(&resp);
	return true;
}

/* The wait pool's share key: the project segment of /v1.0/{project}/... A
 * request whose token is not for that project is refused at once, so naming
 * another project holds its share for no time at all. */
static void share_key_of(const char *url, char key[WAIT_SHARE_KEY_MAX])
{
	const char *p = strstr(url, "/v1.0/");
	size_t n = 0;
	if (p) {
		p += strlen("/v1.0/");
		n = strcspn(p, "/?");
	}
	if (n >= WAIT_SHARE_KEY_MAX)
		n = WAIT_SHARE_KEY_MAX - 1;
	memcpy(key, p ? p : "", n);
	key[n] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct http_ctx *ctx = *con_cls;
	if (!ctx) { /* first call: the headers are in, the body is not */
		enum MHD_Result refused;
		if (refused_for_header_size(conn, method, url, &refused))
			return refused;
		ctx = calloc(1, sizeof *ctx);
		if (!ctx)
			return MHD_NO;
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (append_body(ctx, upload_data, *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (ctx->waiting) { /* resumed: the pool has answered */
		struct waiting *w = ctx->waiting;
		ctx->waiting = NULL;
		enum MHD_Result ok = send_response(conn, ctx, &w->resp, w->req.request_id);
		api_response_clear(&w->resp);
		free(w);
		return ok;
	}
	if (routes_wait_on_guest(method, url)) {
		struct waiting *w = calloc(1, sizeof *w);
		if (w) {
			fill_request(&w->req, conn, method, url, ctx);
			w->conn = conn;
			w->job.run = serve_waiting;
			share_key_of(url, w->job.share_key);
			ctx->waiting = w;
			/* Suspended first: the pool may answer at once. */
			MHD_suspend_connection(conn);
			if (!wait_pool_submit(&w->job))
				serve_waiting(&w->job); /* stopping: here, then */
			return MHD_YES;
		}
	}

	struct api_request req;
	struct api_response resp;
	fill_request(&req, conn, method, url, ctx);
	api_dispatch(&req, &resp);
	enum MHD_Result ok = send_response(conn, ctx, &resp, req.request_id);
	api_response_clear(&resp);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)code;
	struct http_ctx *ctx = *con_cls;
	if (ctx) {
		if (ctx->corked)
			tls_records_uncork(conn);
		if (ctx->waiting) {
			api_response_clear(&ctx->waiting->resp);
			free(ctx->waiting);
		}
		free(ctx->body);
		free(ctx);
		*con_cls = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warning("http: %s", line);
}

int api_server_start(struct ct_error *err)
{
	char port[16];
	snprintf(port, sizeof port, "%ld", cfg_int(CFG_BIND_PORT));
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(cfg_str(CFG_BIND_HOST), port, &hints, &ai) || !ai)
		return ct_fail(err, 400, "bind_host %s / bind_port %s is not a numeric address",
			       cfg_str(CFG_BIND_HOST), port);
	if (https_load(&tls, err)) {
		freeaddrinfo(ai);
		return -1;
	}
	if (tls.cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		freeaddrinfo(ai);
		https_free(&tls);
		return ct_fail(err, 500,
			       "[ssl] cert_file is set but this libmicrohttpd was built without "
			       "TLS (GnuTLS): install Debian's libmicrohttpd12, or unset cert_file "
			       "on a loopback bind_host");
	}
	if (!tls.cert_pem && https_check_plain_bind(ai->ai_addr, err)) {
		freeaddrinfo(ai);
		return -1;
	}
	/* One HTTP thread per CPU by default (Trove's trove_api_workers): more
	 * only preempt each other — 8 on 2 CPUs doubled p99. Requests that wait
	 * on a guest go to the wait pool instead of holding one of these. */
	long workers = cfg_int(CFG_API_WORKERS);
	if (workers <= 0)
		workers = sysconf(_SC_NPROCESSORS_ONLN);
	if (workers <= 0)
		workers = 2;
	long waiters = cfg_int(CFG_API_GUEST_THREADS);
	if (wait_pool_start(waiters > 0 ? (int)waiters : 16,
			    (int)cfg_int(CFG_API_GUEST_THREADS_PER_PROJECT), err)) {
		freeaddrinfo(ai);
		https_free(&tls);
		return -1;
	}
	/* poll(), not epoll: libmicrohttpd 0.9.75's edge-triggered epoll stops
	 * reading after a short read, so a partial request whose FIN came in the
	 * same segment was never seen closed and held its connection for the
	 * whole connection timeout (a client could fill the server that way with
	 * no state of its own; found by `make soak`). poll() is level-triggered. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The same daemon either way: HTTPS changes only the socket layer, so
	 * keep-alive, the pool size and the pipeline are as for HTTP. */
	struct MHD_OptionItem tls_options[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, tls.cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, tls.key_pem},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
		{MHD_OPTION_END, 0, NULL},
	};
	if (tls.cert_pem)
		flags |= MHD_USE_TLS;
	else
		tls_options[0].option = MHD_OPTION_END;
	daemon_handle = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
		NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)workers, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_POOL, MHD_OPTION_ARRAY, tls_options, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!daemon_handle) {
		wait_pool_stop();
		https_free(&tls);
		return ct_fail(err, 500, "cannot listen on %s:%s", cfg_str(CFG_BIND_HOST), port);
	}
	log_info("API listening on %s://%s:%s with %ld worker threads",
		 tls.cert_pem ? "https" : "http", cfg_str(CFG_BIND_HOST), port, workers);
	return 0;
}

void api_server_stop(void)
{
	if (daemon_handle) {
		/* Every suspended connection is answered and resumed before the
		 * daemon goes: the pool finishes its queue first. */
		wait_pool_stop();
		MHD_stop_daemon(daemon_handle);
		daemon_handle = NULL;
		https_free(&tls);
	}
}
