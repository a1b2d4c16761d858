/*
 * rpc_peer.c — a tiny ctrove RPC peer for the interop tests in tests/rpc (and the RPC
 * latency numbers in docs/rpc.md). Owns nothing but its own process; it is a test
 * tool, not part of ctrove.
 *
 *   rpc_peer [--conf FILE] [--url URL] [--exchange E] [--key K] MODE ...
 *     serve  --topic T [--server S] [--version V]   serve echo, fail, sleep, count,
 *                                                    unimplemented; prints READY
 *     call   --topic T --method M [--args JSON] [--server S] [--timeout S]
 *                                                    prints the result, or
 *                                                    "ERROR <status> <class> <message>"
 *     cast   --topic T --method M [--args JSON] [--server S] [--fanout]
 *     stream --topic T --count N [--interval-ms MS]  casts count{n} for n < N and prints
 *                                                    "ACK n" or "LOST n <why>" for each
 *     bench  --topic T --count N                     N echo calls; prints latency stats
 */
#define LOG_MODULE "rpc_peer"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "rpc/client.h"
#include "rpc/server.h"

static struct rpc_server *server;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
	if (server)
		rpc_server_stop(server);
}

static json_t *do_echo(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	(void)err;
	return json_incref(json_object_get(req->args, "value"));
}

static json_t *do_fail(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	json_t *status = json_object_get(req->args, "status");
	ct_fail(err, status ? (int)json_integer_value(status) : 500, "%s",
		json_string_value(json_object_get(req->args, "message")));
	return NULL;
}

static json_t *do_sleep(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	(void)err;
	double s = json_number_value(json_object_get(req->args, "seconds"));
	if (s > 0) {
		struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
		nanosleep(&ts, NULL);
	}
	return json_real(s);
}

static json_t *do_count(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	(void)err;
	printf("HANDLED %lld\n", (long long)json_integer_value(json_object_get(req->args, "n")));
	fflush(stdout);
	return json_null();
}

static json_t *do_context(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	(void)err;
	return json_incref(req->context);
}

static json_t *do_unimplemented(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	ct_fail(err, 501, "%s is not implemented", req->method);
	return NULL;
}

static const struct rpc_arg echo_args[] = {{"value", RPC_T_ANY, true}, {NULL, 0, false}};
static const struct rpc_arg fail_args[] = {
	{"message", RPC_T_STRING, true},
	{"status", RPC_T_INT, false},
	{NULL, 0, false},
};
static const struct rpc_arg sleep_args[] = {{"seconds", RPC_T_NUMBER, true}, {NULL, 0, false}};
static const struct rpc_arg count_args[] = {{"n", RPC_T_INT, true}, {NULL, 0, false}};

static const struct rpc_method methods[] = {
	{"echo", do_echo, echo_args, false},
	{"fail", do_fail, fail_args, false},
	{"sleep", do_sleep, sleep_args, false},
	{"count", do_count, count_args, false},
	{"context", do_context, NULL, false},
	{"unimplemented", do_unimplemented, NULL, true},
	{NULL, NULL, NULL, false},
};

struct peer_opts {
	const char *mode, *topic, *server, *method, *args, *exchange, *key, *version;
	int timeout, count, interval_ms;
	bool fanout;
};

static json_t *parse_args(const char *text)
{
	if (!text)
		return json_object();
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	if (!json_is_object(v)) {
		fprintf(stderr, "--args must be a JSON object: %s\n", jerr.text);
		exit(2);
	}
	return v;
}

static json_t *test_context(void)
{
	json_t *ctx = json_object();
	char rid[64], id[RPC_ID_LEN + 1];
	rpc_new_id(id);
	snprintf(rid, sizeof rid, "req-%s", id);
	json_object_set_new(ctx, "request_id", json_string(rid));
	json_object_set_new(ctx, "user", json_string("ctrove-peer"));
	json_object_set_new(ctx, "project_id", json_string("p-test"));
	json_object_set_new(ctx, "is_admin", json_false());
	json_object_set_new(ctx, "roles", json_pack("[s]", "member"));
	return ctx;
}

static int serve(const struct peer_opts *p)
{
	struct ct_error err;
	struct rpc_server_opts so = {
		.topic = p->topic,
		.server = p->server,
		.exchange = p->exchange,
		.version = p->version ? p->version : "1.0",
		.methods = methods,
		.key = p->key,
	};
	server = rpc_server_new(NULL, &so, &err);
	if (!server) {
		fprintf(stderr, "rpc_peer: %s\n", err.message);
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (rpc_server_start(server, &err)) {
		fprintf(stderr, "rpc_peer: %s\n", err.message);
		return 1;
	}
	while (rpc_server_wait_ready(server, 200) != 0)
		;
	printf("READY\n");
	fflush(stdout);
	while (!got_signal)
		pause();
	rpc_server_free(server);
	server = NULL;
	return 0;
}

static int call(struct rpc_client *c, const struct peer_opts *p)
{
	struct ct_error err;
	struct rpc_target t = {p->topic, p->server, p->version, p->key, NULL};
	json_t *args = parse_args(p->args);
	json_t *ctx = test_context();
	struct rpc_failure f;
	json_t *r = rpc_call(c, &t, p->method, args, ctx, p->timeout, &f, &err);
	json_decref(args);
	json_decref(ctx);
	if (!r) {
		printf("ERROR %d %s %s\n", err.status, f.cls[0] ? f.cls : "-", err.message);
		return 1;
	}
	char *text = json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT);
	printf("%s\n", text);
	free(text);
	json_decref(r);
	return 0;
}

static int cast(struct rpc_client *c, const struct peer_opts *p)
{
	struct ct_error err;
	struct rpc_target t = {p->topic, p->server, p->version, p->key, NULL};
	json_t *args = parse_args(p->args);
	json_t *ctx = test_context();
	int rc = p->fanout ? rpc_fanout_cast(c, &t, p->method, args, ctx, &err)
			   : rpc_cast(c, &t, p->method, args, ctx, &err);
	json_decref(args);
	json_decref(ctx);
	if (rc) {
		printf("ERROR %d %s\n", err.status, err.message);
		return 1;
	}
	printf("OK\n");
	return 0;
}

static int stream(struct rpc_client *c, const struct peer_opts *p)
{
	struct rpc_target t = {p->topic, p->server, p->version, p->key, NULL};
	json_t *ctx = test_context();
	int lost = 0;
	for (int n = 0; n < p->count; n++) {
		struct ct_error err;
		json_t *args = json_pack("{sI}", "n", (json_int_t)n);
		if (rpc_cast(c, &t, "count", args, ctx, &err) == 0) {
			printf("ACK %d\n", n);
		} else {
			printf("LOST %d %s\n", n, err.message);
			lost++;
		}
		fflush(stdout);
		json_decref(args);
		if (p->interval_ms > 0) {
			struct timespec ts = {p->interval_ms / 1000,
					      (long)(p->interval_ms % 1000) * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	json_decref(ctx);
	printf("DONE %d %d\n", p->count, lost);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int bench(struct rpc_client *c, const struct peer_opts *p)
{
	struct rpc_target t = {p->topic, p->server, p->version, p->key, NULL};
	json_t *args = json_pack("{ss}", "value", "ping");
	int n = p->count > 0 ? p->count : 200;
	double *ms = calloc((size_t)n, sizeof *ms);
	if (!ms)
		return 1;
	for (int i = 0; i < n; i++) {
		struct ct_error err;
		int64_t t0 = 0;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		json_t *r = rpc_call(c, &t, "echo", args, NULL, 10, NULL, &err);
		clock_gettime(CLOCK_MONOTONIC, &b);
		(void)t0;
		if (!r) {
			printf("ERROR %s\n", err.message);
			free(ms);
			json_decref(args);
			return 1;
		}
		json_decref(r);
		ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	}
	double first = ms[0];
	qsort(ms, (size_t)n, sizeof *ms, cmp_double);
	printf("calls %d first %.3f ms median %.3f ms p90 %.3f ms p99 %.3f ms\n", n, first,
	       ms[n / 2], ms[n * 9 / 10], ms[n * 99 / 100]);
	free(ms);
	json_decref(args);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"conf", required_argument, NULL, 'c'},
		{"url", required_argument, NULL, 'u'},
		{"exchange", required_argument, NULL, 'e'},
		{"key", required_argument, NULL, 'k'},
		{"topic", required_argument, NULL, 't'},
		{"server", required_argument, NULL, 's'},
		{"method", required_argument, NULL, 'm'},
		{"args", required_argument, NULL, 'a'},
		{"version", required_argument, NULL, 'v'},
		{"timeout", required_argument, NULL, 'T'},
		{"count", required_argument, NULL, 'n'},
		{"interval-ms", required_argument, NULL, 'i'},
		{"fanout", no_argument, NULL, 'f'},
		{"debug", no_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct peer_opts p = {0};
	struct ct_error err;
	bool debug = false;
	cfg_reset();
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (cfg_load(optarg, &err)) {
				fprintf(stderr, "rpc_peer: %s\n", err.message);
				return 2;
			}
			break;
		case 'u': cfg_set(CFG_TRANSPORT_URL, optarg, NULL); break;
		case 'e': p.exchange = optarg; break;
		case 'k': p.key = optarg; break;
		case 't': p.topic = optarg; break;
		case 's': p.server = optarg; break;
		case 'm': p.method = optarg; break;
		case 'a': p.args = optarg; break;
		case 'v': p.version = optarg; break;
		case 'T': p.timeout = atoi(optarg); break;
		case 'n': p.count = atoi(optarg); break;
		case 'i': p.interval_ms = atoi(optarg); break;
		case 'f': p.fanout = true; break;
		case 'd': debug = true; break;
		default: return 2;
		}
	}
	if (optind >= argc || !p.topic) {
		fprintf(stderr,
			"usage: rpc_peer [options] serve|call|cast|stream|bench --topic T\n");
		return 2;
	}
	log_open(NULL, debug || cfg_bool(CFG_DEBUG));
	p.mode = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(p.mode, "serve"))
		return serve(&p);
	struct rpc_client *c = rpc_client_new(NULL, p.exchange, &err);
	if (!c) {
		fprintf(stderr, "rpc_peer: %s\n", err.message);
		return 1;
	}
	int rc = 2;
	if (!strcmp(p.mode, "call") && p.method)
		rc = call(c, &p);
	else if (!strcmp(p.mode, "cast") && p.method)
		rc = cast(c, &p);
	else if (!strcmp(p.mode, "stream"))
		rc = stream(c, &p);
	else if (!strcmp(p.mode, "bench"))
		rc = bench(c, &p);
	else
		fprintf(stderr, "rpc_peer: unknown mode %s (or --method missing)\n", p.mode);
	rpc_client_free(c);
	cfg_free();
	return rc;
}
