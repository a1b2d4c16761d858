/*
 * fuzz_api.c — libFuzzer target for the whole API pipeline: api_dispatch() on
 * a real SQLite control-plane database holding a datastore, versions,
 * configuration parameters, a flavor and embedded-identity users.
 *
 * Input layout:
 *   byte 0    bits 0-2  method (GET POST PUT PATCH DELETE HEAD GET POST)
 *             bits 3-4  caller: admin, member, no token, member of another project
 *             bit  5    raw path (as given) instead of /v1.0/<project>/<path>
 *             bit  6    Content-Type text/plain instead of application/json
 *             bit  7    body_too_large (as the HTTP front sets it)
 *   bytes 1.. up to the first NUL: the path, "?k=v&k2" split off as the query;
 *             "@V", "@W", "@D", "@P", "@I" expand to the active version id, the
 *             inactive version id, the datastore id, the caller's project and
 *             the instances of the member's project (one ACTIVE, one in ERROR
 *             with a fault; names and fault with bytes that are not UTF-8).
 *   the rest: the body (none when there is no NUL).
 *
 * Beyond the sanitizers, the target aborts on three API-level bugs: a 500
 * (an internal error reached from outside), a response without a body other
 * than 202/204 (a json_pack that failed, e.g. on invalid UTF-8) and a body
 * written by common/json_writer.h that does not parse as JSON. Set
 * CTROVE_FUZZ_LENIENT=1 to only report them.
 *
 * State: a request that changed the database (2xx on anything but GET/HEAD)
 * is followed by a restore from a template file, so inputs stay independent.
 */
#define LOG_MODULE "fuzz"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/dispatch.h"
#include "api/login_guard.h"
#include "api/ratelimit.h"
#include "api/token_revocation.h"
#include "common/config.h"
#include "common/log.h"
#include "db/configurations.h"
#include "db/datastores.h"
#include "db/flavors.h"
#include "db/identity.h"
#include "db/instances.h"
#include "db/parameters.h"
#include "db/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char db_file[128];
static char template_file[128];
static char db_url[160];
static bool lenient;

struct caller {
	char token[1024];
	char project[65];
};
static struct caller admin, member, outsider;
static char active_version[37], inactive_version[37], datastore_id[37];

static const char parameters[] =
	"{\"configuration-parameters\": ["
	"{\"name\": \"max_connections\", \"restart_required\": false, \"type\": \"integer\","
	" \"min\": 1, \"max\": 100000},"
	"{\"name\": \"max_binlog_cache_size\", \"restart_required\": false, \"type\": \"integer\","
	" \"min\": 4096, \"max\": 18446744073709551615},"
	"{\"name\": \"autocommit\", \"restart_required\": false, \"type\": \"boolean\"},"
	"{\"name\": \"long_query_time\", \"restart_required\": false, \"type\": \"float\"},"
	"{\"name\": \"sql_mode\", \"restart_required\": true, \"type\": \"string\"}]}";

static void die(const char *what, const struct ct_error *err)
{
	fprintf(stderr, "fuzz_api: %s: %s\n", what, err ? err->message : "failed");
	exit(1);
}

static void cleanup(void)
{
	db_shutdown();
	auth_shutdown();
	ratelimit_shutdown();
	login_guard_shutdown();
	cfg_free();
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		die("copy", NULL);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("copy", NULL);
	close(in);
	close(out);
}

/* Put the database back as LLVMFuzzerInitialize left it. */
static void restore_db(void)
{
	struct ct_error err = {0};
	db_shutdown(); /* closes every connection; the WAL is checkpointed away */
	char path[200];
	snprintf(path, sizeof path, "%s-wal", db_file);
	unlink(path);
	snprintf(path, sizeof path, "%s-shm", db_file);
	unlink(path);
	copy_file(template_file, db_file);
	if (db_configure(db_url, &err))
		die("db_configure", &err);
	token_revocation_clear(); /* what it read of the changed rows */
}

static void add_version(const char *name, bool active, char id[37])
{
	struct ct_error err = {0};
	struct ds_version v;
	memset(&v, 0, sizeof v);
	snprintf(v.datastore_id, sizeof v.datastore_id, "%s", datastore_id);
	snprintf(v.name, sizeof v.name, "%s", name);
	snprintf(v.version, sizeof v.version, "%s", name);
	snprintf(v.manager, sizeof v.manager, "mariadb");
	snprintf(v.image_id, sizeof v.image_id, "0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b");
	snprintf(v.packages, sizeof v.packages, "mariadb-server,mariadb-client");
	snprintf(v.image_tags, sizeof v.image_tags, "trove,mariadb");
	v.active = active;
	if (dsv_create(&v, &err))
		die("dsv_create", &err);
	memcpy(id, v.id, 37);
}

static void make_caller(const char *user, const char *project_name, const char *role,
			struct caller *c)
{
	struct ct_error err = {0};
	struct identity_entity p, u, r;
	if (identity_ensure_project(project_name, &p, &err) ||
	    identity_set_user(user, "fuzz-password", &u, &err) ||
	    identity_ensure_role(role, &r, &err) || identity_assign(u.id, p.id, r.id, &err))
		die("identity", &err);
	snprintf(c->project, sizeof c->project, "%s", p.id);
	if (auth_issue(u.id, p.id, role, time(NULL) + 30 * 86400, c->token, sizeof c->token))
		die("auth_issue", NULL);
}

#define FUZZ_INSTANCE "0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b"
/* A configuration group of the member's project, attached to the failed
 * instance (seeds name it: tests/fuzz/corpus/configuration-*). */
#define FUZZ_CONFIG "5c0f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

/* Rows as the taskmanager and conductor would leave them, with hostile bytes
 * in what users and guests supply. */
static void add_instance(const char *id, const char *name, int task, const char *fault)
{
	struct ct_error err = {0};
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO instances (id, created, updated, name, task_id, flavor_id, "
		"volume_size,"
		" tenant_id, server_status, deleted, datastore_version_id, region_id, access)"
		" VALUES (?1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', ?2, ?3, 'd2', 1, ?4,"
		" 'ACTIVE', 0, ?5, 'RegionOne', '{\"is_public\": false, \"allowed_cidrs\": []}')",
		&err);
	if (!st)
		die("insert instance", &err);
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, name);
	sqlite3_bind_int(st, 3, task);
	db_bind_text(st, 4, member.project);
	db_bind_text(st, 5, active_version);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("insert instance", NULL);
	db_stmt_done(st);
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "INSERT INTO service_statuses (id, instance_id, status_id, status_description,"
		 " updated_at) VALUES ('s-%.36s', '%.36s', 33, 'healthy', '2100-01-01 00:00:00');"
		 "INSERT INTO ctrove_addresses (address, instance_id, allocated)"
		 " VALUES ('127.0.9.%d', '%.36s', '2026-01-01 00:00:00');"
		 "INSERT INTO ctrove_volume_usage (instance_id, used_gb, total_gb, updated_at)"
		 " VALUES ('%.36s', 0.25, 1.0, '2100-01-01 00:00:00');",
		 id, id, task, id, id);
	if (db_exec(sql, &err))
		die("insert instance rows", &err);
	if (fault && instance_add_fault(id, fault, "", &err))
		die("instance_add_fault", &err);
}

static void build_fixture(void)
{
	struct ct_error err = {0};
	if (db_sync(&err))
		die("db_sync", &err);
	struct datastore d;
	if (ds_ensure("mariadb", &d, &err))
		die("ds_ensure", &err);
	snprintf(datastore_id, sizeof datastore_id, "%s", d.id);
	add_version("11.4", true, active_version);
	add_version("10.6", false, inactive_version);
	if (ds_set_default(d.id, active_version, &err))
		die("ds_set_default", &err);
	json_t *rules = json_load_rules(parameters, sizeof parameters - 1, &err);
	if (!rules || param_load_rules(active_version, rules, &err) < 0)
		die("parameters", &err);
	json_decref(rules);
	struct datastore empty;
	if (ds_ensure("postgresql", &empty, &err))
		die("ds_ensure", &err);
	struct flavor f = {.id = "d2", .name = "d2", .ram = 1024, .vcpus = 1, .disk = 5};
	if (flavor_save(&f, &err))
		die("flavor_save", &err);
	make_caller("admin", "admin", "admin", &admin);
	make_caller("alice", "fuzz", "member", &member);
	make_caller("bob", "elsewhere", "member", &outsider);
	add_instance(FUZZ_INSTANCE, "ok\xff\x01\"\\name", 1, NULL);
	add_instance("1f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b", "failed\xc3", 91,
		     "guest said \xe2\x82 \x1b[31m no");
	struct config_group g = {.id = FUZZ_CONFIG, .name = "group\xff", .has_description = true};
	snprintf(g.tenant_id, sizeof g.tenant_id, "%s", member.project);
	snprintf(g.datastore_version_id, sizeof g.datastore_version_id, "%s", active_version);
	snprintf(g.created, sizeof g.created, "2026-01-01 00:00:00");
	snprintf(g.updated, sizeof g.updated, "2026-01-01 00:00:00");
	const struct config_value values[] = {{"max_connections", "150"}};
	if (config_group_insert(&g, values, 1, &err) ||
	    instance_set_configuration("1f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b", FUZZ_CONFIG, &err))
		die("configuration group", &err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct ct_error err = {0};
	lenient = getenv("CTROVE_FUZZ_LENIENT") != NULL;
	log_open("/dev/null", false);
	cfg_reset();
	/* No rate limits: every input reaches its route (login_guard has its unit
	 * test). Cheap password hashes. */
	static const enum cfg_id rates[] = {CFG_HTTP_GET_RATE,
					    CFG_HTTP_POST_RATE,
					    CFG_HTTP_PUT_RATE,
					    CFG_HTTP_DELETE_RATE,
					    CFG_HTTP_MGMT_POST_RATE,
					    CFG_LOGIN_FAILURES_PER_USER,
					    CFG_LOGIN_FAILURES_PER_SOURCE};
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
		if (cfg_set(rates[i], "0", &err))
			die("cfg_set", &err);
	if (cfg_set(CFG_PASSWORD_HASH_ROUNDS, "1", &err))
		die("cfg_set", &err);
	/* No message bus: what would be cast answers 503 at once, and nothing
	 * leaves this process (another broker may listen on 5672). */
	if (cfg_set(CFG_TRANSPORT_URL, "", &err))
		die("cfg_set", &err);

	snprintf(dir, sizeof dir, "/tmp/ctrove-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	atexit(cleanup);
	snprintf(db_file, sizeof db_file, "%s/x.sqlite", dir);
	snprintf(template_file, sizeof template_file, "%s/template.sqlite", dir);
	snprintf(db_url, sizeof db_url, "sqlite:///%s", db_file);
	if (db_configure(db_url, &err))
		die("db_configure", &err);
	static const unsigned char key[32] = "fuzz-signing-key-0123456789abcde";
	auth_set_key(key, sizeof key);
	build_fixture();
	db_shutdown();
	copy_file(db_file, template_file);
	if (db_configure(db_url, &err))
		die("db_configure", &err);
	return 0;
}

/* Append text to out, expanding the @ macros; false when it does not fit. */
static bool expand(const char *in, size_t len, const struct caller *c, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		const char *macro = NULL;
		if (in[i] == '@' && i + 1 < len) {
			switch (in[i + 1]) {
			case 'V': macro = active_version; break;
			case 'W': macro = inactive_version; break;
			case 'D': macro = datastore_id; break;
			case 'P': macro = c ? c->project : admin.project; break;
			case 'I': macro = FUZZ_INSTANCE; break;
			default: break;
			}
		}
		if (macro) {
			size_t m = strlen(macro);
			if (o + m >= size)
				return false;
			memcpy(out + o, macro, m);
			o += m;
			i++;
			continue;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = in[i];
	}
	out[o] = '\0';
	return true;
}

/* Split "a=b&c&d=" in place into req->query. */
static void parse_query(char *q, struct api_request *req)
{
	while (q && *q && req->nquery < API_MAX_QUERY) {
		char *amp = strchr(q, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(q, '=');
		if (eq)
			*eq = '\0';
		req->query[req->nquery].key = q;
		req->query[req->nquery].value = eq ? eq + 1 : NULL;
		req->nquery++;
		q = amp ? amp + 1 : NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[8] = {"GET",	 "POST", "PUT", "PATCH",
					       "DELETE", "HEAD", "GET", "POST"};
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const char *method = methods[sel & 7];
	const struct caller *who = NULL;
	switch ((sel >> 3) & 3) {
	case 0: who = &admin; break;
	case 1: who = &member; break;
	case 2: who = NULL; break;
	default: who = &outsider; break;
	}
	bool raw = sel & 0x20;

	const char *rest = (const char *)data + 1;
	size_t rest_len = size - 1;
	const char *nul = memchr(rest, '\0', rest_len);
	size_t path_len = nul ? (size_t)(nul - rest) : rest_len;
	const char *body = nul ? nul + 1 : NULL;
	size_t body_len = nul ? rest_len - path_len - 1 : 0;

	char suffix[1200], path[1400];
	if (!expand(rest, path_len, who, suffix, sizeof suffix))
		return 0;
	char *q = strchr(suffix, '?');
	if (q)
		*q++ = '\0';
	if (raw)
		snprintf(path, sizeof path, "%s", suffix);
	else
		snprintf(path, sizeof path, "/v1.0/%s/%s", who ? who->project : admin.project,
			 suffix);

	struct api_request req;
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = path;
	req.host = "fuzz.example:8779";
	req.auth_token = who ? who->token : NULL;
	req.subject_token = member.token;
	req.content_type = (sel & 0x40) ? "text/plain" : "application/json";
	req.body = body;
	req.body_len = body_len;
	req.body_too_large = sel & 0x80;
	parse_query(q, &req);

	struct api_response resp;
	api_dispatch(&req, &resp);

	/* Trove's PATCH /configurations/{id} answers 200 with no body. */
	bool empty_ok = resp.status == 202 || resp.status == 204 ||
			(resp.status == 200 && !strcmp(method, "PATCH") &&
			 strstr(path, "/configurations/"));
	bool missing_body = !resp.body && !resp.text && !empty_ok;
	/* The CA route answers PEM, /metrics and the object store plain text. */
	bool json_typed = !resp.content_type || strstr(resp.content_type, "json") != NULL;
	for (int i = 0; i < resp.nheaders; i++)
		if (!strcasecmp(resp.headers[i].name, "Content-Type"))
			json_typed = strstr(resp.headers[i].value, "json") != NULL;
	if (resp.text && json_typed) { /* written without jansson: must still parse */
		json_error_t parse_error;
		json_t *parsed = json_loadb(resp.text, resp.text_len, 0, &parse_error);
		if (!parsed) {
			fprintf(stderr, "fuzz_api: %s %s wrote invalid JSON: %s\n", method, path,
				parse_error.text);
			abort();
		}
		json_decref(parsed);
	}
	if (resp.status == 500 || missing_body) {
		fprintf(stderr, "fuzz_api: %s %s -> %d %s\n", method, path, resp.status,
			missing_body ? "(no body: a json_pack failed)" : "(internal error)");
		if (!lenient)
			abort();
	}
	bool changed = strcmp(method, "GET") && strcmp(method, "HEAD") && resp.status >= 200 &&
		       resp.status < 300;
	api_response_clear(&resp);
	if (changed)
		restore_db();
	return 0;
}
