/*
 * policy_check.h — one oslo.policy check string, parsed once and evaluated per
 * request: `@`, `!`, `role:<name>`, `rule:<name>`, `<key>:<match>` where match
 * may hold `%(target key)s` or a literal ('x', True, 42), and `not`, `and`,
 * `or` (that precedence) with parentheses. The empty string allows everyone.
 * Pure logic: owns the parsed trees; may not read files, the configuration or
 * requests (policy.c gives it credentials and targets).
 */
#ifndef CT_API_POLICY_CHECK_H
#define CT_API_POLICY_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Hostile-input bounds: longer text, deeper nesting or more checks is a 400. */
#define POLICY_CHECK_MAX_TEXT  8192
#define POLICY_CHECK_MAX_DEPTH 32
#define POLICY_CHECK_MAX_NODES 512
/* rule:a -> rule:b -> ... deeper than this evaluates to false (and policy.c
 * refuses such a file at load). */
#define POLICY_RULE_MAX_DEPTH 16

struct policy_check;

/* Who is asking (oslo's credentials). roles is comma-separated. */
struct policy_creds {
	const char *user_id;
	const char *project_id;
	const char *roles;
	bool is_admin;
};

/* What is acted on (oslo's target): key/value pairs for %(key)s. */
struct policy_target {
	const char *const *keys;
	const char *const *values;
	int count;
};

/* The named rule for `rule:<name>`, NULL when there is none. */
typedef const struct policy_check *(*policy_rule_lookup)(void *ctx, const char *name);

/* NULL with a 400 naming the problem when text is not a check string. */
struct policy_check *policy_check_parse(const char *text, struct ct_error *err);
void policy_check_free(struct policy_check *check);

bool policy_check_eval(const struct policy_check *check, const struct policy_creds *creds,
		       const struct policy_target *target, policy_rule_lookup lookup, void *ctx);

/* Call each(ctx, name) for every rule:<name> the check refers to. */
void policy_check_rule_refs(const struct policy_check *check,
			    void (*each)(void *ctx, const char *name), void *ctx);

#endif
