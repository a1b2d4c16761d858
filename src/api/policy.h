/*
 * policy.h — who may do what: the rule set of oslo.policy's model, Trove's
 * defaults (policy_defaults.h) overridden by the operator's [oslo_policy]
 * policy_file (policy.yaml beside the configuration files; absent = the
 * defaults). Every API authorisation decision asks policy_enforce() with the
 * route's rule name. The rule set is built at start-up and read-only after, so
 * any thread evaluates it without a lock. Owns the rule set.
 * May not look at tokens (auth.h) or the database.
 */
#ifndef CT_API_POLICY_H
#define CT_API_POLICY_H

#include <stdbool.h>
#include <stdio.h>

#include "api/request.h"

/* Defaults plus the policy file found for [oslo_policy] policy_file: an
 * absolute path, or a name looked up beside each of config_files (later files
 * first, like oslo.config's config dirs). A bad file is a 400 naming its line. */
int policy_init(const char *const *config_files, int nconfig, struct ct_error *err);
/* Defaults plus exactly this file (NULL = defaults only); for tests. */
int policy_load_file(const char *path, struct ct_error *err);
void policy_shutdown(void);

/* Whether who may apply rule to project's resources (an unknown rule name
 * falls back to the rule "default", as oslo.policy does). */
bool policy_allows(const struct api_identity *who, const char *project, const char *rule);
/* policy_allows for the request's caller and project; -1 with Trove's 403
 * "Policy doesn't allow <rule> to be performed." when denied. */
int policy_enforce(const struct api_request *req, const char *rule, struct ct_error *err);

/* The defaults as a commented policy.yaml (`ctrove --help-policy`,
 * docs/policy.yaml.sample). */
void policy_print_sample(FILE *out);

#endif
