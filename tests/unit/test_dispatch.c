/*
 * test_dispatch.c — api/dispatch.h end to end without HTTP: requests are
 * filled in directly and api_dispatch() runs the whole pipeline (token,
 * project, media type, size, JSON, rate limit, route, access rule, handler) on
 * a scratch SQLite database. Checks status codes, fault bodies and headers
 * exactly as Trove's middleware and controllers produce them.
 */
#include "scratch_db.h"

#include <time.h>

#include "api/auth.h"
#include "api/dispatch.h"
#include "api/ratelimit.h"
#include "api/routes.h"
#include "api/token_revocation.h"
#include "common/config.h"
#include "common/log.h"
#include "db/store.h"

#define PROJECT	      "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define OTHER_PROJECT "ffffffffffffffffffffffffffffffff"
#define RL_PROJECT    "0123456789abcdef0123456789abcdef"
#define IMAGE	      "0f3a6b1e-8c3d-4e5f-9a0b-1c2d3e4f5a6b"

static char dir[64];
static char admin_token[1024];
static char member_token[1024];
static char other_token[1024];

static int setup(void **state)
{
	(void)state;
	static const unsigned char key[32] = "unit-test-signing-key-0123456789";
	struct ct_error err = {0};
	log_min_level = LOG_LEVEL_WARNING;
	scratch_db_create(dir, "dispatch");
	/* Tokens are only valid for users and projects that exist. */
	assert_int_equal(db_exec("INSERT INTO ctrove_projects (id, name) VALUES"
				 " ('" PROJECT "', 'p'), ('" OTHER_PROJECT "', 'other'),"
				 " ('" RL_PROJECT "', 'rl');"
				 "INSERT INTO ctrove_users (id, name, password_hash) VALUES"
				 " ('admin-user', 'admin', ''), ('member-user', 'member', ''),"
				 " ('other-user', 'other', ''), ('rl-user', 'rl', '');",
				 &err),
			 0);
	auth_set_key(key, sizeof key);
	time_t expires = time(NULL) + 3600;
	assert_int_equal(auth_issue("admin-user", PROJECT, "admin,member", expires, admin_token,
				    sizeof admin_token),
			 0);
	assert_int_equal(auth_issue("member-user", PROJECT, "member", expires, member_token,
				    sizeof member_token),
			 0);
	assert_int_equal(auth_issue("other-user", OTHER_PROJECT, "member", expires, other_token,
				    sizeof other_token),
			 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_shutdown();
	auth_shutdown();
	ratelimit_shutdown();
	token_revocation_clear();
	cfg_free();
	scratch_remove(dir);
	return 0;
}

struct call {
	const char *method;
	const char *path; /* below /v1.0/<PROJECT>/ unless it starts with '/' */
	const char *token;
	const char *body;
	const char *content_type; /* default application/json when body is set */
	const char *host;
};

/* Dispatch one request; the caller clears resp. */
static void run(const struct call *c, struct api_response *resp)
{
	char path[2048];
	if (c->path[0] == '/')
		snprintf(path, sizeof path, "%s", c->path);
	else
		snprintf(path, sizeof path, "/v1.0/%s/%s", PROJECT, c->path);
	struct api_request req;
	memset(&req, 0, sizeof req);
	req.method = c->method;
	req.path = path;
	req.host = c->host;
	req.auth_token = c->token;
	req.body = c->body;
	req.body_len = c->body ? strlen(c->body) : 0;
	req.content_type =
		c->content_type ? c->content_type : (c->body ? "application/json" : NULL);
	api_dispatch(&req, resp);
	assert_null(req.json); /* the dispatcher released the parsed body */
	/* A body written as text is read back, so every check sees a value (and
	 * the writer's text must parse). */
	if (resp->text) {
		assert_null(resp->body);
		json_error_t e;
		resp->body = json_loadb(resp->text, resp->text_len, 0, &e);
		if (!resp->body)
			fail_msg("%s %s wrote invalid JSON: %s", c->method, path, e.text);
		free(resp->text);
		resp->text = NULL;
	}
}

static const char *header(const struct api_response *resp, const char *name)
{
	for (int i = 0; i < resp->nheaders; i++)
		if (!strcmp(resp->headers[i].name, name))
			return resp->headers[i].value;
	return NULL;
}

/* The body as compact JSON with sorted keys, for exact comparisons. */
static void assert_body(const struct api_response *resp, const char *expected)
{
	json_t *want = json_must(expected);
	if (!resp->body || !json_equal(resp->body, want)) {
		char *got = resp->body ? json_dumps(resp->body, JSON_SORT_KEYS) : NULL;
		char *exp = json_dumps(want, JSON_SORT_KEYS);
		fail_msg("status %d body %s, want %s", resp->status, got ? got : "(none)", exp);
	}
	json_decref(want);
}

/* Trove's fault body {"<name>": {"code": n, "message": m}}. */
static void assert_fault(const struct api_response *resp, int status, const char *name,
			 const char *message)
{
	assert_int_equal(resp->status, status);
	json_t *fault = json_object_get(resp->body, name);
	if (!fault) {
		char *got = resp->body ? json_dumps(resp->body, 0) : NULL;
		fail_msg("no '%s' in %s", name, got ? got : "(none)");
	}
	assert_int_equal(json_integer_value(json_object_get(fault, "code")), status);
	if (message)
		assert_string_equal(json_string_value(json_object_get(fault, "message")), message);
}

static void expect_status(const struct call *c, int status)
{
	struct api_response resp;
	run(c, &resp);
	if (resp.status != status) {
		char *got = resp.body ? json_dumps(resp.body, 0) : NULL;
		fail_msg("%s %s: status %d (%s), want %d", c->method, c->path, resp.status,
			 got ? got : "", status);
	}
	api_response_clear(&resp);
}

static size_t count_versions(void)
{
	struct api_response resp;
	run(&(struct call){"GET", "mgmt/datastore-versions", admin_token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 200);
	size_t n = json_array_size(json_object_get(resp.body, "versions"));
	api_response_clear(&resp);
	return n;
}

static void test_missing_token(void **state)
{
	(void)state;
	static const char unauthorized[] =
		"{\"error\": {\"code\": 401, \"title\": \"Unauthorized\", \"message\": \"The "
		"request you have made requires authentication.\"}}";
	struct api_response resp;
	run(&(struct call){"GET", "datastores", NULL, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 401);
	assert_body(&resp, unauthorized);
	assert_string_equal(header(&resp, "WWW-Authenticate"),
			    "Keystone uri=\"http://localhost/identity/v3\"");
	api_response_clear(&resp);

	/* Empty and forged tokens alike; the URI follows the Host header. */
	run(&(struct call){"GET", "datastores", "", NULL, NULL, "db.example:8779"}, &resp);
	assert_int_equal(resp.status, 401);
	assert_string_equal(header(&resp, "WWW-Authenticate"),
			    "Keystone uri=\"http://db.example:8779/identity/v3\"");
	api_response_clear(&resp);
	run(&(struct call){"POST", "instances", "forged.token", "{}", NULL, NULL}, &resp);
	assert_int_equal(resp.status, 401);
	assert_body(&resp, unauthorized);
	api_response_clear(&resp);

	/* www_authenticate_uri wins when set. */
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_WWW_AUTHENTICATE_URI, "https://keystone:5000/v3", &err), 0);
	run(&(struct call){"GET", "datastores", NULL, NULL, NULL, NULL}, &resp);
	assert_string_equal(header(&resp, "WWW-Authenticate"),
			    "Keystone uri=\"https://keystone:5000/v3\"");
	api_response_clear(&resp);
	assert_int_equal(cfg_set(CFG_WWW_AUTHENTICATE_URI, "", &err), 0);

	/* The version document needs no token. */
	run(&(struct call){"GET", "/", NULL, NULL, NULL, "h:1"}, &resp);
	assert_int_equal(resp.status, 200);
	assert_body(&resp, "{\"versions\": [{\"id\": \"v1.0\", \"status\": \"CURRENT\","
			   " \"updated\": \"2012-08-01T00:00:00Z\","
			   " \"links\": [{\"rel\": \"self\", \"href\": \"http://h:1/v1.0/\"}]}]}");
	assert_int_equal(resp.nheaders, 0);
	api_response_clear(&resp);
}

static void test_wrong_project(void **state)
{
	(void)state;
	struct api_response resp;
	run(&(struct call){"GET", "/v1.0/" PROJECT "/datastores", other_token, NULL, NULL, NULL},
	    &resp);
	assert_int_equal(resp.status, 403);
	assert_body(&resp, "{\"code\": \"403 Forbidden\", \"title\": \"Forbidden\", \"message\":"
			   " \"Access was denied to this resource.<br /><br />\\nUser with "
			   "tenant id " OTHER_PROJECT " cannot access this resource.\\n\\n\"}");
	api_response_clear(&resp);
	/* Admins are bound to their project in the URL too. */
	run(&(struct call){"GET", "/v1.0/" OTHER_PROJECT "/datastores", admin_token, NULL, NULL,
			   NULL},
	    &resp);
	assert_int_equal(resp.status, 403);
	api_response_clear(&resp);
	/* /v1.0/<project> with nothing below is refused the same way. */
	run(&(struct call){"GET", "/v1.0/" PROJECT, member_token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 403);
	api_response_clear(&resp);
}

static void test_media_type(void **state)
{
	(void)state;
	struct api_response resp;
	run(&(struct call){"POST", "mgmt/datastore-versions", admin_token, "name=x",
			   "application/x-www-form-urlencoded", NULL},
	    &resp);
	assert_int_equal(resp.status, 415);
	assert_body(&resp, "{\"code\": \"415 Unsupported Media Type\", \"title\": \"Unsupported "
			   "Media Type\", \"message\": \"The request media type "
			   "application/x-www-form-urlencoded is not supported by this "
			   "server.\\n<br /><br />\\n\"}");
	api_response_clear(&resp);

	/* No Content-Type reads as text/plain. */
	struct api_request req;
	memset(&req, 0, sizeof req);
	char path[] = "/v1.0/" PROJECT "/mgmt/datastore-versions";
	req.method = "POST";
	req.path = path;
	req.auth_token = admin_token;
	req.body = "{}";
	req.body_len = 2;
	api_dispatch(&req, &resp);
	assert_int_equal(resp.status, 415);
	assert_non_null(strstr(json_string_value(json_object_get(resp.body, "message")),
			       "media type text/plain is"));
	api_response_clear(&resp);

	static const char *const accepted[] = {"application/json", "Application/JSON",
					       "application/json; charset=UTF-8",
					       "application/json;charset=utf-8"};
	for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
		run(&(struct call){"POST", "mgmt/datastore-versions", admin_token, "{}",
				   accepted[i], NULL},
		    &resp);
		assert_int_equal(resp.status, 400); /* past the media type: a schema error */
		api_response_clear(&resp);
	}
	static const char *const refused[] = {"application/jsonp", "text/json", "",
					      "application/xml"};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		expect_status(&(struct call){"POST", "mgmt/datastore-versions", admin_token, "{}",
					     refused[i], NULL},
			      415);
	/* Without a body the content type does not matter. */
	expect_status(&(struct call){"GET", "datastores", member_token, NULL, "text/html", NULL},
		      200);
}

static void test_malformed_json(void **state)
{
	(void)state;
	static const char *const bodies[] = {"{",     "{\"version\": }", "nul",	      "[1,]",
					     "{} {}", "\"\\ud800\"",	 "{\"a\":1}x"};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct api_response resp;
		run(&(struct call){"POST", "mgmt/datastore-versions", admin_token, bodies[i], NULL,
				   NULL},
		    &resp);
		assert_int_equal(resp.status, 400);
		assert_body(&resp,
			    "{\"code\": \"400 Bad Request\", \"title\": \"Bad Request\","
			    " \"message\": \"Malformed request body<br /><br />\\n\\n\\n\"}");
		api_response_clear(&resp);
	}
	/* A body that is too large is refused before it is parsed. */
	struct api_response resp;
	struct api_request req;
	memset(&req, 0, sizeof req);
	char path[] = "/v1.0/" PROJECT "/mgmt/datastore-versions";
	req.method = "POST";
	req.path = path;
	req.auth_token = admin_token;
	req.content_type = "application/json";
	req.body = "{";
	req.body_len = 1;
	req.body_too_large = true;
	api_dispatch(&req, &resp);
	assert_fault(&resp, 413, "overLimit", "Request is too large.");
	api_response_clear(&resp);
}

static void test_unknown_route(void **state)
{
	(void)state;
	static const char *const paths[] = {
		"nothing-here",
		"datastores/a/b/c/d/e/f",
		"instances/x/users/y/databases/z/extra",
		"mgmt",
		"/v2.0/" PROJECT "/instances",
		"/nothing",
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct api_response resp;
		run(&(struct call){"GET", paths[i], member_token, NULL, NULL, NULL}, &resp);
		assert_fault(&resp, 404, "itemNotFound", "The resource could not be found.");
		api_response_clear(&resp);
	}
	/* A known path with a method it does not have. */
	struct api_response resp;
	run(&(struct call){"PATCH", "datastores", member_token, NULL, NULL, NULL}, &resp);
	assert_fault(&resp, 404, "itemNotFound", NULL);
	api_response_clear(&resp);

	/* Too many segments, and a path longer than the buffer. */
	run(&(struct call){"GET", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", member_token, NULL, NULL,
			   NULL},
	    &resp);
	assert_int_equal(resp.status, 404);
	api_response_clear(&resp);
	char long_path[1500];
	memset(long_path, 'x', sizeof long_path - 1);
	long_path[sizeof long_path - 1] = '\0';
	run(&(struct call){"GET", long_path, member_token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 404);
	api_response_clear(&resp);

	/* Repeated slashes are one separator. */
	expect_status(&(struct call){"GET", "/v1.0//" PROJECT "//datastores/", member_token, NULL,
				     NULL, NULL},
		      200);
}

static void test_admin_context(void **state)
{
	(void)state;
	static const struct call member_calls[] = {
		{"GET", "mgmt/datastore-versions", NULL, NULL, NULL, NULL},
		{"POST", "mgmt/datastore-versions", NULL, "{}", NULL, NULL},
		{"GET", "mgmt/datastore-versions/" IMAGE, NULL, NULL, NULL, NULL},
		{"PATCH", "mgmt/datastore-versions/" IMAGE, NULL, "{}", NULL, NULL},
		{"DELETE", "mgmt/datastore-versions/" IMAGE, NULL, NULL, NULL, NULL},
		{"GET", "mgmt/datastores/versions/" IMAGE "/parameters", NULL, NULL, NULL, NULL},
		{"PUT", "mgmt/quotas/" PROJECT, NULL, "{\"quotas\": {\"instances\": 1}}", NULL,
		 NULL},
		{"GET", "mgmt/instances", NULL, NULL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof member_calls / sizeof member_calls[0]; i++) {
		struct call c = member_calls[i];
		c.token = member_token;
		struct api_response resp;
		run(&c, &resp);
		assert_fault(&resp, 401, "unauthorized", "User does not have admin privileges.");
		assert_non_null(header(&resp, "WWW-Authenticate"));
		api_response_clear(&resp);
	}
	assert_int_equal(count_versions(), 0);
}

static void test_policy_rule(void **state)
{
	(void)state;
	struct api_response resp;
	run(&(struct call){"DELETE", "datastores/x", member_token, NULL, NULL, NULL}, &resp);
	assert_fault(&resp, 403, "forbidden",
		     "Policy doesn't allow datastore:delete to be performed.");
	assert_null(header(&resp, "WWW-Authenticate"));
	api_response_clear(&resp);
	/* An admin reaches the handler: the datastore does not exist. */
	run(&(struct call){"DELETE", "datastores/x", admin_token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 404);
	api_response_clear(&resp);
}

static const char valid_version[] =
	"{\"version\": {\"name\": \"11.4\", \"datastore_name\": \"mariadb\","
	" \"datastore_manager\": \"mariadb\", \"image\": \"" IMAGE "\","
	" \"packages\": [\"mariadb-server\"], \"active\": true, \"default\": true}}";

static void test_version_round_trip(void **state)
{
	(void)state;
	struct api_response resp;
	run(&(struct call){"POST", "mgmt/datastore-versions", admin_token, valid_version, NULL,
			   NULL},
	    &resp);
	assert_int_equal(resp.status, 202);
	assert_null(resp.body); /* the CLI breaks on any body */
	api_response_clear(&resp);

	run(&(struct call){"GET", "mgmt/datastore-versions", admin_token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 200);
	json_t *versions = json_object_get(resp.body, "versions");
	assert_int_equal(json_array_size(versions), 1);
	json_t *v = json_array_get(versions, 0);
	const char *id = json_string_value(json_object_get(v, "id"));
	assert_non_null(id);
	char version_id[64];
	snprintf(version_id, sizeof version_id, "%s", id);
	assert_string_equal(json_string_value(json_object_get(v, "name")), "11.4");
	assert_string_equal(json_string_value(json_object_get(v, "version")), "11.4");
	assert_string_equal(json_string_value(json_object_get(v, "datastore_name")), "mariadb");
	assert_string_equal(json_string_value(json_object_get(v, "datastore_manager")), "mariadb");
	assert_string_equal(json_string_value(json_object_get(v, "image")), IMAGE);
	assert_true(json_is_true(json_object_get(v, "active")));
	assert_true(json_is_true(json_object_get(v, "default")));
	json_t *expected_packages = json_must("[\"mariadb-server\"]");
	assert_true(json_equal(json_object_get(v, "packages"), expected_packages));
	json_decref(expected_packages);
	json_t *expected_tags = json_must("[\"\"]");
	assert_true(json_equal(json_object_get(v, "image_tags"), expected_tags));
	json_decref(expected_tags);
	api_response_clear(&resp);

	/* The same version again is a conflict in Trove's words. */
	run(&(struct call){"POST", "mgmt/datastore-versions", admin_token, valid_version, NULL,
			   NULL},
	    &resp);
	assert_fault(&resp, 400, "badRequest",
		     "The datastore version '11.4(11.4)' already exists.");
	api_response_clear(&resp);

	/* Members see it through the public API. */
	run(&(struct call){"GET", "datastores", member_token, NULL, NULL, "api:8779"}, &resp);
	assert_int_equal(resp.status, 200);
	json_t *stores = json_object_get(resp.body, "datastores");
	assert_int_equal(json_array_size(stores), 1);
	json_t *store = json_array_get(stores, 0);
	assert_string_equal(json_string_value(json_object_get(store, "name")), "mariadb");
	assert_string_equal(json_string_value(json_object_get(store, "default_version")),
			    version_id);
	json_t *pub = json_array_get(json_object_get(store, "versions"), 0);
	assert_string_equal(json_string_value(json_object_get(pub, "id")), version_id);
	assert_null(json_object_get(pub, "image")); /* admin field */
	api_response_clear(&resp);

	/* Show, update, and a parameter round trip on the new version. */
	char path[256];
	snprintf(path, sizeof path, "mgmt/datastore-versions/%s", version_id);
	expect_status(&(struct call){"GET", path, admin_token, NULL, NULL, NULL}, 200);
	expect_status(
		&(struct call){"PATCH", path, admin_token,
			       "{\"image_tags\": [\"trove\", \"mariadb\"], \"active\": false}",
			       NULL, NULL},
		202);
	run(&(struct call){"GET", path, admin_token, NULL, NULL, NULL}, &resp);
	v = json_object_get(resp.body, "version");
	json_t *tags = json_must("[\"trove\", \"mariadb\"]");
	assert_true(json_equal(json_object_get(v, "image_tags"), tags));
	json_decref(tags);
	assert_true(json_is_false(json_object_get(v, "active")));
	api_response_clear(&resp);

	snprintf(path, sizeof path, "mgmt/datastores/versions/%s/parameters", version_id);
	run(&(struct call){"POST", path, admin_token,
			   "{\"configuration-parameter\": {\"name\": \"max_connections\","
			   " \"restart_required\": 0, \"data_type\": \"integer\","
			   " \"max_size\": 100000, \"min_size\": 1}}",
			   NULL, NULL},
	    &resp);
	assert_int_equal(resp.status, 200);
	char expected[512];
	snprintf(expected, sizeof expected,
		 "{\"name\": \"max_connections\", \"datastore_version_id\": \"%s\","
		 " \"restart_required\": false, \"type\": \"integer\","
		 " \"max_size\": 100000, \"min_size\": 1}",
		 version_id);
	assert_body(&resp, expected);
	api_response_clear(&resp);
	/* The public view by version, with min/max. */
	snprintf(path, sizeof path, "datastores/versions/%s/parameters/max_connections",
		 version_id);
	run(&(struct call){"GET", path, member_token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 200);
	snprintf(expected, sizeof expected,
		 "{\"name\": \"max_connections\", \"datastore_version_id\": \"%s\","
		 " \"restart_required\": false, \"type\": \"integer\", \"max\": 100000,"
		 " \"min\": 1}",
		 version_id);
	assert_body(&resp, expected);
	api_response_clear(&resp);
	snprintf(path, sizeof path, "mgmt/datastores/versions/%s/parameters/max_connections",
		 version_id);
	expect_status(&(struct call){"DELETE", path, admin_token, NULL, NULL, NULL}, 204);
	expect_status(&(struct call){"DELETE", path, admin_token, NULL, NULL, NULL}, 400);

	/* Delete the version; the list is empty again. */
	snprintf(path, sizeof path, "mgmt/datastore-versions/%s", version_id);
	expect_status(&(struct call){"DELETE", path, admin_token, NULL, NULL, NULL}, 202);
	expect_status(&(struct call){"GET", path, admin_token, NULL, NULL, NULL}, 400);
	assert_int_equal(count_versions(), 0);
}

static void test_schema_violations(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		const char *message;
	} cases[] = {
		{"[]", "Validation error: [] is not of type 'object'"},
		{"{}", "Validation error: 'version' is a required property"},
		{"{\"version\": {}, \"extra\": 1}",
		 "Validation error: Additional properties are not allowed ('extra' was "
		 "unexpected)"},
		{"{\"version\": \"11.4\"}",
		 "Validation error: version '11.4' is not of type 'object'"},
		{"{\"version\": {\"datastore_name\": \"mariadb\", \"datastore_manager\": "
		 "\"mariadb\","
		 " \"image\": \"" IMAGE "\", \"active\": true}}",
		 "Validation error: version 'name' is a required property"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"image\": \"" IMAGE "\"}}",
		 "Validation error: version 'active' is a required property"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"image\": \"" IMAGE "\", \"active\": true,"
		 " \"colour\": \"red\"}}",
		 "Validation error: version Additional properties are not allowed ('colour' was "
		 "unexpected)"},
		{"{\"version\": {\"name\": \"\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"image\": \"" IMAGE
		 "\", \"active\": true}}",
		 "Validation error: version['name'] '' is too short"},
		{"{\"version\": {\"name\": 11.4, \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"image\": \"" IMAGE
		 "\", \"active\": true}}",
		 "Validation error: version['name'] 11.4 is not of type 'string'"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"image\": \"" IMAGE
		 "\", \"active\": \"yes\"}}",
		 "Validation error: version['active'] 'yes' is not of type 'boolean'"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"image\": \"cirros\", \"active\": true}}",
		 "Validation error: version['image'] 'cirros' does not match "
		 "'^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
		 "([0-9a-fA-F]){12}$'"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"active\": true,"
		 " \"image_tags\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]}}",
		 "Validation error: version['image_tags'] ['a', 'b', 'c', 'd', 'e', 'f'] is too "
		 "long"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"active\": true, \"image_tags\": [\"t\", "
		 "\"t\"]}}",
		 "Validation error: version['image_tags'] ['t', 't'] has non-unique elements"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"active\": true, \"packages\": \"p\","
		 " \"image\": \"" IMAGE "\"}}",
		 "Validation error: version['packages'] 'p' is not of type 'array'"},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"active\": true}}",
		 "Image must be specified."},
		{"{\"version\": {\"name\": \"a\", \"datastore_name\": \"mariadb\","
		 " \"datastore_manager\": \"mariadb\", \"active\": true, \"image_tags\": []}}",
		 "Image must be specified."},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct api_response resp;
		run(&(struct call){"POST", "mgmt/datastore-versions", admin_token, cases[i].body,
				   NULL, NULL},
		    &resp);
		assert_fault(&resp, 400, "badRequest", cases[i].message);
		api_response_clear(&resp);
	}
	assert_int_equal(count_versions(), 0);
	/* Nothing was half-created either: no datastore appears. */
	struct api_response resp;
	run(&(struct call){"GET", "datastores", admin_token, NULL, NULL, NULL}, &resp);
	assert_body(&resp, "{\"datastores\": []}");
	api_response_clear(&resp);
}

static void test_quotas(void **state)
{
	(void)state;
	struct api_response resp;
	run(&(struct call){"PUT", "mgmt/quotas/" OTHER_PROJECT, admin_token,
			   "{\"quotas\": {\"instances\": 3, \"volumes\": -1}}", NULL, NULL},
	    &resp);
	assert_int_equal(resp.status, 200);
	assert_body(&resp, "{\"quotas\": {\"instances\": 3, \"volumes\": -1}}");
	api_response_clear(&resp);

	run(&(struct call){"GET", "mgmt/quotas/" OTHER_PROJECT, admin_token, NULL, NULL, NULL},
	    &resp);
	assert_int_equal(resp.status, 200);
	size_t i;
	json_t *q;
	int checked = 0;
	json_array_foreach (json_object_get(resp.body, "quotas"), i, q) {
		const char *name = json_string_value(json_object_get(q, "resource"));
		long limit = (long)json_integer_value(json_object_get(q, "limit"));
		if (!strcmp(name, "instances") && ++checked)
			assert_int_equal(limit, 3);
		if (!strcmp(name, "volumes") && ++checked)
			assert_int_equal(limit, -1);
		if (!strcmp(name, "backups") && ++checked)
			assert_int_equal(limit, 50);
	}
	assert_int_equal(checked, 3);
	api_response_clear(&resp);

	/* Members read their own project only. */
	expect_status(&(struct call){"GET", "mgmt/quotas/" PROJECT, member_token, NULL, NULL, NULL},
		      200);
	run(&(struct call){"GET", "mgmt/quotas/" OTHER_PROJECT, member_token, NULL, NULL, NULL},
	    &resp);
	assert_fault(&resp, 403, "forbidden",
		     "Operation not allowed for tenant " OTHER_PROJECT ".");
	api_response_clear(&resp);

	/* Bad updates change nothing. */
	static const char *const bad[] = {
		"{\"quotas\": {\"instances\": 5, \"widgets\": 1}}",
		"{\"quotas\": {\"instances\": \"5\"}}",
		"{\"quotas\": {\"instances\": 5, \"ram\": -2}}",
		"{\"quotas\": {\"instances\": 2147483648}}",
		"{\"quotas\": []}",
		"{\"quota\": {}}",
		"[]",
	};
	for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
		run(&(struct call){"PUT", "mgmt/quotas/" OTHER_PROJECT, admin_token, bad[b], NULL,
				   NULL},
		    &resp);
		if (resp.status != 400 && resp.status != 404)
			fail_msg("%s: status %d", bad[b], resp.status);
		api_response_clear(&resp);
	}
	run(&(struct call){"GET", "mgmt/quotas/" OTHER_PROJECT, admin_token, NULL, NULL, NULL},
	    &resp);
	json_array_foreach (json_object_get(resp.body, "quotas"), i, q) {
		if (!strcmp(json_string_value(json_object_get(q, "resource")), "instances"))
			assert_int_equal(json_integer_value(json_object_get(q, "limit")), 3);
	}
	api_response_clear(&resp);

	/* /limits lists the absolute limits first, then the rates. */
	run(&(struct call){"GET", "limits", member_token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 200);
	json_t *limits = json_object_get(resp.body, "limits");
	assert_int_equal(json_array_size(limits), 6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(limits, 0), "verb")),
			    "ABSOLUTE");
	api_response_clear(&resp);
}

static void test_rate_limit(void **state)
{
	(void)state;
	/* A fresh project: the buckets are per project, whoever the user is. */
	static const char project[] = RL_PROJECT;
	char token[1024], path[256];
	assert_int_equal(
		auth_issue("rl-user", project, "member", time(NULL) + 600, token, sizeof token), 0);
	snprintf(path, sizeof path, "/v1.0/%s/instances/x", project);
	struct ct_error err = {0};
	assert_int_equal(cfg_set(CFG_HTTP_DELETE_RATE, "2", &err), 0);
	struct api_response resp;
	for (int i = 0; i < 2; i++) {
		run(&(struct call){"DELETE", path, token, NULL, NULL, NULL}, &resp);
		assert_int_not_equal(resp.status, 413);
		api_response_clear(&resp);
	}
	run(&(struct call){"DELETE", path, token, NULL, NULL, NULL}, &resp);
	assert_int_equal(resp.status, 413);
	json_t *over = json_object_get(resp.body, "overLimit");
	assert_int_equal(json_integer_value(json_object_get(over, "code")), 413);
	assert_string_equal(json_string_value(json_object_get(over, "message")),
			    "This request was rate-limited.");
	assert_string_equal(json_string_value(json_object_get(over, "details")),
			    "Only 2 DELETE request(s) can be made to * every minute.");
	const char *retry = header(&resp, "Retry-After");
	assert_non_null(retry);
	assert_true(atoi(retry) > 0 && atoi(retry) <= 30);
	assert_string_equal(json_string_value(json_object_get(over, "retryAfter")), retry);
	api_response_clear(&resp);
	/* Other verbs, and other projects, have their own buckets. */
	run(&(struct call){"GET", path, token, NULL, NULL, NULL}, &resp);
	assert_int_not_equal(resp.status, 413);
	api_response_clear(&resp);
	run(&(struct call){"DELETE", "/v1.0/" OTHER_PROJECT "/instances/x", other_token, NULL, NULL,
			   NULL},
	    &resp);
	assert_int_not_equal(resp.status, 413);
	api_response_clear(&resp);
	assert_int_equal(cfg_set(CFG_HTTP_DELETE_RATE, "200", &err), 0);
}

/* Routes not implemented yet answer 501 with Trove's notImplemented body. The
 * route is taken from the table, so the test follows the implementation. */
static void test_not_implemented(void **state)
{
	(void)state;
	int count;
	const struct api_route *routes = routes_table(&count);
	const struct api_route *route = NULL;
	for (int i = 0; i < count && !route; i++)
		if (routes[i].handler == not_implemented && routes[i].access == ACCESS_PROJECT)
			route = &routes[i];
	if (!route)
		skip();
	char path[256];
	size_t o = 0;
	for (const char *p = route->pattern; *p && o + 1 < sizeof path; p++)
		path[o++] = *p == '*' ? 'x' : *p;
	path[o] = '\0';
	struct api_response resp;
	run(&(struct call){route->method, path, member_token,
			   strcmp(route->method, "GET") ? "{}" : NULL, NULL, NULL},
	    &resp);
	char message[512];
	snprintf(message, sizeof message,
		 "This operation (%s /v1.0/%s/%s) is not implemented in ctrove yet.", route->method,
		 PROJECT, path);
	assert_fault(&resp, 501, "notImplemented", message);
	api_response_clear(&resp);
}

static void test_utf8_clean(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain", "plain"},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xac",
		 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xac"},
		{"\xff\xfe", "??"},
		{"a\xc3", "a?"},	      /* cut sequence */
		{"\xc0\xaf", "??"},	      /* overlong */
		{"\xe0\x80\xaf", "???"},      /* overlong */
		{"\xed\xa0\x80", "???"},      /* surrogate */
		{"\xf4\x90\x80\x80", "????"}, /* beyond U+10FFFF */
		{"\xe2\x82", "??"},
		{"\x80x", "?x"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		api_utf8_clean(cases[i].in, out, sizeof out);
		assert_string_equal(out, cases[i].out);
		json_t *j = json_string(out);
		assert_non_null(j);
		json_decref(j);
	}
	/* Never a cut sequence at the end of a small buffer. */
	char small[5];
	api_utf8_clean("ab\xe2\x82\xac", small, sizeof small);
	assert_string_equal(small, "ab");
	api_utf8_clean("abcdef", small, sizeof small);
	assert_string_equal(small, "abcd");
}

/* Invalid UTF-8 from the URL or a header still gets a fault body (found by
 * the fuzzer: json_pack refused the message and the body was empty). */
static void test_invalid_utf8(void **state)
{
	(void)state;
	struct api_response resp;
	run(&(struct call){"GET", "datastores/pg\xff\xfe", member_token, NULL, NULL, NULL}, &resp);
	assert_fault(&resp, 404, "itemNotFound",
		     "Datastore 'pg?"
		     "?' cannot be found.");
	api_response_clear(&resp);
	run(&(struct call){"POST", "instances/\xc3", member_token, NULL, NULL, NULL}, &resp);
	assert_true(resp.status >= 400);
	assert_non_null(resp.body);
	api_response_clear(&resp);
	run(&(struct call){"PUT", "instances/\xe2\x82", member_token, "{}", NULL, NULL}, &resp);
	assert_true(resp.status >= 400);
	assert_non_null(resp.body);
	api_response_clear(&resp);
	run(&(struct call){"POST", "instances", member_token, "{}", "text/\xff", NULL}, &resp);
	assert_int_equal(resp.status, 415);
	assert_non_null(strstr(json_string_value(json_object_get(resp.body, "message")),
			       "media type text/? is"));
	api_response_clear(&resp);
}

static void test_identity_versions(void **state)
{
	(void)state;
	expect_status(&(struct call){"GET", "/identity", NULL, NULL, NULL, NULL}, 300);
	expect_status(&(struct call){"GET", "/identity/v3", NULL, NULL, NULL, NULL}, 200);
	expect_status(&(struct call){"GET", "/identity/v2.0", NULL, NULL, NULL, NULL}, 404);
	expect_status(&(struct call){"POST", "/identity/v3/auth/tokens", NULL, "{", NULL, NULL},
		      400);
	expect_status(&(struct call){"POST", "/identity/v3/auth/tokens", NULL,
				     "{\"auth\": {\"identity\": {\"methods\": [\"password\"],"
				     " \"password\": {\"user\": {\"name\": \"nobody\","
				     " \"domain\": {\"id\": \"default\"}, \"password\": \"x\"}}}}}",
				     NULL, NULL},
		      401);
	/* Keystone-style errors quote the URL too; invalid UTF-8 still has a body. */
	struct api_response bad;
	run(&(struct call){"GET", "/identity/v3/projects/\xff\xfe", admin_token, NULL, NULL, NULL},
	    &bad);
	assert_int_equal(bad.status, 404);
	assert_non_null(json_object_get(bad.body, "error"));
	api_response_clear(&bad);
	/* A token of ours validates against itself (GET auth/tokens). */
	struct api_response resp;
	struct api_request req;
	memset(&req, 0, sizeof req);
	char path[] = "/identity/v3/auth/tokens";
	req.method = "GET";
	req.path = path;
	req.auth_token = admin_token;
	req.subject_token = "not-a-token";
	api_dispatch(&req, &resp);
	assert_int_equal(resp.status, 404);
	api_response_clear(&resp);
}

/* Text answers outside the Trove API: /metrics and the object-store
 * endpoint. Status and content type, and the text itself for /metrics. */
static int raw(const char *method, const char *path, const char *token, char **text)
{
	struct api_request req;
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = path;
	req.auth_token = token;
	struct api_response resp;
	api_dispatch(&req, &resp);
	int status = resp.status;
	assert_non_null(resp.text);
	assert_non_null(resp.content_type);
	assert_non_null(strstr(resp.content_type, "text/plain"));
	if (text) {
		*text = resp.text;
		resp.text = NULL;
	}
	api_response_clear(&resp);
	return status;
}

static void test_metrics_and_object_store_access(void **state)
{
	(void)state;
	assert_int_equal(raw("GET", "/metrics", NULL, NULL), 401);
	assert_int_equal(raw("GET", "/metrics", "forged.token", NULL), 401);
	assert_int_equal(raw("GET", "/metrics", member_token, NULL), 403);
	assert_int_equal(raw("POST", "/metrics", admin_token, NULL), 405);
	char *text = NULL;
	assert_int_equal(raw("GET", "/metrics", admin_token, &text), 200);
	assert_non_null(strstr(text, "# TYPE ctrove_instance_status gauge\n"));
	assert_non_null(strstr(text, "\nctrove_instances "));
	/* The requests above were counted, under their own slot. */
	assert_non_null(strstr(text, "ctrove_api_requests_total{route=\"/metrics\",code=\"4xx\"}"));
	assert_non_null(strstr(text, "# TYPE ctrove_api_request_duration_seconds histogram"));
	assert_non_null(strstr(text, "ctrove_rpc_calls_in_flight 0\n"));
	free(text);

	const char *logs = "/object-store/v1/AUTH_" PROJECT "/database_logs";
	assert_int_equal(raw("GET", logs, NULL, NULL), 401);
	assert_int_equal(raw("GET", "/object-store/v1/AUTH_" OTHER_PROJECT "/database_logs",
			     member_token, NULL),
			 403);
	assert_int_equal(raw("PUT", "/object-store/v1/AUTH_" PROJECT "/database_logs/x/y",
			     member_token, NULL),
			 405);
	assert_int_equal(
		raw("GET", "/object-store/v1/AUTH_" PROJECT "/backups", member_token, NULL), 404);
	/* Names under no instance of the project: nothing to read. */
	assert_int_equal(raw("GET",
			     "/object-store/v1/AUTH_" PROJECT
			     "/database_logs/00000000-0000-0000-0000-000000000000/x",
			     member_token, NULL),
			 404);
	assert_int_equal(raw("HEAD", "/object-store/v1/AUTH_" PROJECT "/database_logs/../etc",
			     member_token, NULL),
			 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_token),
		cmocka_unit_test(test_wrong_project),
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_unknown_route),
		cmocka_unit_test(test_admin_context),
		cmocka_unit_test(test_policy_rule),
		cmocka_unit_test(test_schema_violations),
		cmocka_unit_test(test_version_round_trip),
		cmocka_unit_test(test_quotas),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_not_implemented),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_identity_versions),
		cmocka_unit_test(test_metrics_and_object_store_access),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
