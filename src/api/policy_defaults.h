/*
 * policy_defaults.h — the rules ctrove enforces when policy.yaml says nothing:
 * Trove 18's rule names and check strings, plus ctrove's own routes (their
 * descriptions start with "ctrove:"). Data only; policy.c loads it and
 * `ctrove --help-policy` prints it. May not evaluate anything.
 */
#ifndef CT_API_POLICY_DEFAULTS_H
#define CT_API_POLICY_DEFAULTS_H

struct policy_default {
	const char *name;
	const char *check;
	const char *description;
};

extern const struct policy_default policy_defaults[];
extern const int policy_default_count;

#endif
