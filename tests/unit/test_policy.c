/*
 * test_policy.c — api/policy_check.h, api/policy_file.h and api/policy.h: the
 * oslo.policy check language (precedence, parentheses, role/rule/generic
 * checks, %(target)s), Trove's defaults for members and admins, an operator's
 * policy.yaml overriding them, and hostile input (deep nesting, huge strings,
 * cycles, aliases, lists, duplicate names) refused with a clear 400.
 */
#include "testutil.h"

#include "api/policy.h"
#include "api/policy_check.h"
#include "api/policy_defaults.h"
#include "api/policy_file.h"
#include "api/routes.h"
#include "common/config.h"

static char scratch[64];

static int setup(void **state)
{
	(void)state;
	cfg_reset();
	scratch_create(scratch, "policy");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	policy_shutdown();
	scratch_remove(scratch);
	cfg_free();
	return 0;
}

static const char *const target_keys[] = {"tenant", "project_id"};
static const char *const target_values[] = {"p1", "p1"};
static const struct policy_target target = {target_keys, target_values, 2};

static bool eval_text(const char *text, const struct policy_creds *creds)
{
	struct ct_error err = {0};
	struct policy_check *c = policy_check_parse(text, &err);
	assert_non_null(c);
	bool ok = policy_check_eval(c, creds, &target, NULL, NULL);
	policy_check_free(c);
	return ok;
}

static void refused(const char *text, const char *fragment)
{
	struct ct_error err = {0};
	assert_null(policy_check_parse(text, &err));
	assert_int_equal(err.status, 400);
	if (!strstr(err.message, fragment))
		fail_msg("'%s' -> '%s', expected '%s'", text, err.message, fragment);
}

static void test_check_language(void **state)
{
	(void)state;
	struct policy_creds member = {"u1", "p1", "member,reader", false};
	struct policy_creds admin = {"u2", "p2", "Admin", true};
	assert_true(eval_text("", &member));
	assert_true(eval_text("   ", &member));
	assert_true(eval_text("@", &member));
	assert_false(eval_text("!", &member));
	assert_true(eval_text("role:member", &member));
	assert_true(eval_text("role:MEMBER", &member)); /* roles compare case-insensitively */
	assert_false(eval_text("role:admin", &member));
	assert_true(eval_text("role:admin", &admin));
	assert_false(eval_text("role:mem", &member));
	assert_true(eval_text("project_id:%(tenant)s", &member));
	assert_false(eval_text("project_id:%(tenant)s", &admin));
	assert_true(eval_text("tenant:%(project_id)s", &member));
	assert_false(eval_text("project_id:%(missing)s", &member));
	assert_false(eval_text("project_id:%(tenant", &member));
	assert_true(eval_text("user_id:u1", &member));
	assert_true(eval_text("is_admin:True", &admin));
	assert_false(eval_text("is_admin:True", &member));
	assert_true(eval_text("is_admin:False", &member));
	assert_true(eval_text("'p1':%(tenant)s", &member));
	assert_false(eval_text("'p2':%(tenant)s", &member));
	assert_false(eval_text("nonsense:x", &member));
	/* not > and > or, parentheses, peeled parentheses around a check. */
	assert_true(eval_text("role:admin or role:member and not role:other", &member));
	assert_false(eval_text("(role:admin or role:member) and role:other", &member));
	assert_true(eval_text("role:admin or (role:member and project_id:%(tenant)s)", &member));
	assert_true(eval_text("((role:member))", &member));
	assert_false(eval_text("not (role:member)", &member));
	assert_true(eval_text("not not role:member", &member));
	assert_true(eval_text("! or @", &member));
	assert_false(eval_text("! AND @", &member));
	/* An unknown rule: (no lookup) never matches. */
	assert_false(eval_text("rule:admin", &admin));
}

static void test_check_syntax_errors(void **state)
{
	(void)state;
	refused("role:admin or", "ends where a check");
	refused("or role:admin", "operator where a check");
	refused("(role:admin", "unclosed");
	refused("role:admin)", "unexpected text after a check");
	refused(")", "unexpected ')'");
	refused("role:admin role:member", "unexpected text");
	refused("justaword", "is not <kind>:<match>");
	refused(":x", "is not <kind>:<match>");
	refused("http://example.com/check", "not supported");
	refused("not", "ends where a check");
}

static void test_check_hostile(void **state)
{
	(void)state;
	/* Deep nesting is refused, not a stack overflow. */
	size_t depth = 100;
	char *deep = malloc(depth * 2 + 16);
	assert_non_null(deep);
	memset(deep, '(', depth);
	strcpy(deep + depth, "@");
	memset(deep + depth + 1, ')', depth);
	deep[depth * 2 + 1] = '\0';
	refused(deep, "nests deeper");
	free(deep);
	char *wide = malloc(8000);
	assert_non_null(wide);
	memset(wide, '(', 7999);
	wide[7999] = '\0';
	refused(wide, "more than 1024 tokens");
	free(wide);
	char nots[4096] = "";
	for (int i = 0; i < 500; i++)
		strcat(nots, "not ");
	strcat(nots, "@");
	refused(nots, "nests deeper");
	/* A huge string and too many checks. */
	char *huge = malloc(1 << 20);
	assert_non_null(huge);
	memset(huge, 'a', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	huge[0] = 'r';
	huge[1] = ':';
	refused(huge, "longer than");
	free(huge);
	char many[8000] = "@";
	for (int i = 0; i < 700; i++)
		strcat(many, " or @");
	refused(many, "more than");
	/* A long match that %(x)s expands past the buffer never matches. */
	struct policy_creds member = {"u1", "p1", "member", false};
	char longmatch[600] = "role:";
	memset(longmatch + 5, 'x', 590);
	longmatch[595] = '\0';
	assert_false(eval_text(longmatch, &member));
}

static const struct policy_check *self_lookup(void *ctx, const char *name)
{
	(void)name;
	return ctx;
}

static void test_rule_recursion_is_bounded(void **state)
{
	(void)state;
	struct ct_error err = {0};
	struct policy_check *loop = policy_check_parse("rule:loop or @", &err);
	assert_non_null(loop);
	struct policy_creds member = {"u1", "p1", "member", false};
	/* rule:loop refers to itself; evaluation stops at the bound. */
	assert_true(policy_check_eval(loop, &member, &target, self_lookup, loop));
	policy_check_free(loop);
	loop = policy_check_parse("rule:loop", &err);
	assert_false(policy_check_eval(loop, &member, &target, self_lookup, loop));
	policy_check_free(loop);
}

static struct api_identity who(const char *project, const char *roles, bool is_admin)
{
	struct api_identity w = {0};
	snprintf(w.user_id, sizeof w.user_id, "user-of-%s", project);
	snprintf(w.project_id, sizeof w.project_id, "%s", project);
	snprintf(w.roles, sizeof w.roles, "%s", roles);
	w.is_admin = is_admin;
	return w;
}

static void test_trove_defaults(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(policy_load_file(NULL, &err), 0);
	struct api_identity member = who("p1", "member", false);
	struct api_identity admin = who("p1", "admin", true);
	assert_true(policy_allows(&member, "p1", "instance:delete"));
	assert_false(policy_allows(&member, "p2", "instance:delete"));
	assert_true(policy_allows(&admin, "p2", "instance:delete"));
	assert_false(policy_allows(&member, "p1", "instance:reset_status"));
	assert_true(policy_allows(&admin, "p1", "instance:reset_status"));
	assert_false(policy_allows(&member, "p1", "datastore:delete"));
	assert_true(policy_allows(&member, "p2", "datastore:index"));
	assert_false(policy_allows(&member, "p1", "backup:index:all_projects"));
	assert_true(policy_allows(&admin, "p1", "backup:index:all_projects"));
	/* An is_admin context without the admin role passes rule:admin but not
	 * role:admin, as in Trove. */
	struct api_identity ctx_admin = who("p1", "operator", true);
	assert_true(policy_allows(&ctx_admin, "p1", "instance:reset_status"));
	assert_false(policy_allows(&ctx_admin, "p1", "backup:index:all_projects"));
	/* An unknown rule falls back to "default" (admin_or_owner). */
	assert_true(policy_allows(&member, "p1", "no:such:rule"));
	assert_false(policy_allows(&member, "p2", "no:such:rule"));
	struct api_request req = {0};
	req.who = member;
	req.project = "p1";
	assert_int_equal(policy_enforce(&req, "instance:reset_status", &err), -1);
	assert_int_equal(err.status, 403);
	assert_string_equal(err.message,
			    "Policy doesn't allow instance:reset_status to be performed.");
}

static void test_every_route_rule_has_a_default(void **state)
{
	(void)state;
	int count;
	const struct api_route *routes = routes_table(&count);
	for (int i = 0; i < count; i++) {
		if (routes[i].access == ACCESS_ADMIN_CTX)
			continue;
		bool found = false;
		for (int d = 0; d < policy_default_count && !found; d++)
			found = !strcmp(policy_defaults[d].name, routes[i].rule);
		if (!found)
			fail_msg("route %s %s: rule %s has no default", routes[i].method,
				 routes[i].pattern, routes[i].rule);
	}
	for (int d = 0; d < policy_default_count; d++) {
		struct ct_error err = {0};
		struct policy_check *c = policy_check_parse(policy_defaults[d].check, &err);
		assert_non_null(c);
		policy_check_free(c);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_operator_file(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/policy.yaml", scratch);
	write_file(path, "# members may not delete\n"
			 "\"instance:delete\": \"rule:admin\"\n"
			 "'backup:create': role:admin or (role:backup and "
			 "project_id:%(tenant)s)\n"
			 "custom:rule: \"role:auditor\"\n"
			 "\"instance:show\": \"rule:custom:rule or rule:admin_or_owner\"\n"
			 "\"instance:index\":\n");
	struct ct_error err = {0};
	assert_int_equal(policy_load_file(path, &err), 0);
	struct api_identity member = who("p1", "member", false);
	struct api_identity backup = who("p1", "member,backup", false);
	struct api_identity auditor = who("p9", "auditor", false);
	struct api_identity admin = who("p1", "admin", true);
	assert_false(policy_allows(&member, "p1", "instance:delete"));
	assert_true(policy_allows(&admin, "p1", "instance:delete"));
	assert_false(policy_allows(&member, "p1", "backup:create"));
	assert_true(policy_allows(&backup, "p1", "backup:create"));
	assert_false(policy_allows(&backup, "p2", "backup:create"));
	assert_true(policy_allows(&auditor, "p1", "instance:show"));
	assert_true(policy_allows(&auditor, "p1", "instance:index")); /* empty = anyone */
	/* Rules the file does not name keep their defaults. */
	assert_true(policy_allows(&member, "p1", "instance:create"));
	assert_false(policy_allows(&member, "p1", "instance:reset_status"));

	/* A JSON policy file is YAML too. */
	write_file(path, "{\"instance:create\": \"!\"}\n");
	assert_int_equal(policy_load_file(path, &err), 0);
	assert_false(policy_allows(&admin, "p1", "instance:create"));

	/* An empty file, or one of comments only, is the defaults. */
	write_file(path, "# nothing here\n");
	assert_int_equal(policy_load_file(path, &err), 0);
	assert_true(policy_allows(&member, "p1", "instance:create"));
}

static void bad_file(const char *text, const char *fragment)
{
	char path[128];
	snprintf(path, sizeof path, "%s/policy.yaml", scratch);
	write_file(path, text);
	struct ct_error err = {0};
	/* The rules in force stay as they were. */
	struct api_identity member = who("p1", "member", false);
	bool before = policy_allows(&member, "p1", "instance:create");
	assert_int_equal(policy_load_file(path, &err), -1);
	assert_int_equal(err.status, 400);
	if (!strstr(err.message, fragment) || !strstr(err.message, path))
		fail_msg("'%s' -> '%s', expected '%s'", text, err.message, fragment);
	assert_int_equal(policy_allows(&member, "p1", "instance:create"), before);
}

static void test_bad_files(void **state)
{
	(void)state;
	bad_file("\"instance:delete\": \"rule:admin or\"\n", ":1: instance:delete: policy check");
	bad_file("a: '@'\nb: ['role:x']\n",
		 ":2: a rule's value must be a check string, not a list");
	bad_file("a: '@'\nb:\n  c: d\n",
		 ":3: a rule's value must be a check string, not a mapping");
	bad_file("- role:admin\n", ":1: the policy file must be a mapping");
	bad_file("just text\n", ":1: the policy file must be a mapping");
	bad_file("a: '@'\na: '!'\n", ":2: this rule is defined twice");
	bad_file("a: &x '@'\nb: *x\n", ":1: YAML anchors are not allowed");
	bad_file("a: \"unterminated\n", "policy.yaml:");
	bad_file("a: '@'\n---\nb: '@'\n", "only one YAML document");
	bad_file("a: rule:b\nb: rule:c\nc: rule:a\n", "refers back to itself");
	bad_file(
		"\"instance:create\": \"(((((((((((((((((((((((((((((((((((@)))))))))))))))))))))))"
		"))))))))))))\"\n",
		"nests deeper");
	/* Over 1 MiB. */
	char path[128];
	snprintf(path, sizeof path, "%s/policy.yaml", scratch);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 40000; i++)
		fprintf(f, "\"rule:number:%06d\": \"role:member or role:admin\"\n", i);
	fclose(f);
	struct ct_error err = {0};
	assert_int_equal(policy_load_file(path, &err), -1);
	assert_non_null(strstr(err.message, "over 1 MiB"));
	/* Missing: 404 from policy_load_file; policy_init uses the defaults. */
	assert_int_equal(policy_load_file("/nonexistent/policy.yaml", &err), -1);
	assert_int_equal(err.status, 404);
}

static void test_init_finds_file_beside_config(void **state)
{
	(void)state;
	char conf[128], path[128];
	snprintf(conf, sizeof conf, "%s/trove.conf", scratch);
	snprintf(path, sizeof path, "%s/policy.yaml", scratch);
	write_file(conf, "[DEFAULT]\n");
	struct api_identity member = who("p1", "member", false);
	const char *files[] = {conf};
	struct ct_error err = {0};
	/* No policy.yaml: the defaults. */
	assert_int_equal(policy_init(files, 1, &err), 0);
	assert_true(policy_allows(&member, "p1", "instance:delete"));
	write_file(path, "\"instance:delete\": \"rule:admin\"\n");
	assert_int_equal(policy_init(files, 1, &err), 0);
	assert_false(policy_allows(&member, "p1", "instance:delete"));
	/* A broken one stops start-up with its line. */
	write_file(path, "\"instance:delete\": \"rule:admin\"\n\"x\": \"(\"\n");
	assert_int_equal(policy_init(files, 1, &err), -1);
	assert_non_null(strstr(err.message, "policy.yaml:2: x:"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_language, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_syntax_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_recursion_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trove_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_route_rule_has_a_default, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_operator_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_finds_file_beside_config, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
