/*
 * policy.c — the rule set and its enforcement (policy.h). Rules are kept in
 * one array sorted by name and found by binary search; `rule:` references are
 * resolved at evaluation, as oslo.policy does, after a load-time check that
 * no rule reaches itself. Owns the rule set; may not read tokens or the
 * database.
 */
#define LOG_MODULE "policy"
#include "api/policy.h"

#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/policy_check.h"
#include "api/policy_defaults.h"
#include "api/policy_file.h"
#include "common/config.h"
#include "common/log.h"

struct rule {
	char *name;
	struct policy_check *check;
};

struct rule_set {
	struct rule *rules;
	int count, cap;
	char *file; /* the policy file read, NULL = defaults only */
};

static _Atomic(struct rule_set *) current;
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

static void set_free(struct rule_set *set)
{
	if (!set)
		return;
	for (int i = 0; i < set->count; i++) {
		free(set->rules[i].name);
		policy_check_free(set->rules[i].check);
	}
	free(set->rules);
	free(set->file);
	free(set);
}

static struct rule *find_unsorted(struct rule_set *set, const char *name)
{
	for (int i = 0; i < set->count; i++)
		if (!strcmp(set->rules[i].name, name))
			return &set->rules[i];
	return NULL;
}

/* Add or replace name's rule (a file's rule replaces the default). */
static int set_rule(struct rule_set *set, const char *name, const char *text, struct ct_error *err)
{
	struct policy_check *check = policy_check_parse(text, err);
	if (!check)
		return -1;
	struct rule *r = find_unsorted(set, name);
	if (r) {
		policy_check_free(r->check);
		r->check = check;
		return 0;
	}
	if (set->count == set->cap) {
		int cap = set->cap ? set->cap * 2 : 128;
		struct rule *grown = realloc(set->rules, (size_t)cap * sizeof *grown);
		if (!grown) {
			policy_check_free(check);
			return ct_fail(err, 500, "out of memory loading the policy");
		}
		set->rules = grown;
		set->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy) {
		policy_check_free(check);
		return ct_fail(err, 500, "out of memory loading the policy");
	}
	set->rules[set->count++] = (struct rule){copy, check};
	return 0;
}

static int file_rule(void *ctx, const char *name, const char *check, int line, struct ct_error *err)
{
	(void)line;
	return set_rule(ctx, name, check, err);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct rule *)a)->name, ((const struct rule *)b)->name);
}

static const struct rule *find(const struct rule_set *set, const char *name)
{
	struct rule key = {.name = (char *)name};
	return bsearch(&key, set->rules, (size_t)set->count, sizeof key, by_name);
}

static const struct policy_check *lookup(void *ctx, const char *name)
{
	const struct rule *r = find(ctx, name);
	return r ? r->check : NULL;
}

/* Load-time walk of rule: references: cycles and chains deeper than the
 * evaluator follows are refused; references to missing rules are logged. */
struct walk {
	const struct rule_set *set;
	unsigned char *state; /* 0 unseen, 1 on the path, 2 done */
	int depth;
	struct ct_error *err;
	bool failed;
};

static void walk_rule(struct walk *w, int index);

static void walk_ref(void *ctx, const char *name)
{
	struct walk *w = ctx;
	if (w->failed)
		return;
	const struct rule *r = find(w->set, name);
	if (!r) {
		log_warning("rule:%s is referred to but not defined (it never matches)", name);
		return;
	}
	walk_rule(w, (int)(r - w->set->rules));
}

static void walk_rule(struct walk *w, int index)
{
	if (w->state[index] == 2)
		return;
	if (w->state[index] == 1) {
		ct_fail(w->err, 400, "policy rule '%.200s' refers back to itself",
			w->set->rules[index].name);
		w->failed = true;
		return;
	}
	if (w->depth >= POLICY_RULE_MAX_DEPTH) {
		ct_fail(w->err, 400, "policy rules refer to each other more than %d deep",
			POLICY_RULE_MAX_DEPTH);
		w->failed = true;
		return;
	}
	w->state[index] = 1;
	w->depth++;
	policy_check_rule_refs(w->set->rules[index].check, walk_ref, w);
	w->depth--;
	w->state[index] = 2;
}

static int check_references(const struct rule_set *set, struct ct_error *err)
{
	struct walk w = {set, calloc((size_t)set->count + 1, 1), 0, err, false};
	if (!w.state)
		return ct_fail(err, 500, "out of memory loading the policy");
	for (int i = 0; i < set->count && !w.failed; i++)
		walk_rule(&w, i);
	free(w.state);
	return w.failed ? -1 : 0;
}

/* Defaults plus path (NULL = none). */
static struct rule_set *set_build(const char *path, struct ct_error *err)
{
	struct rule_set *set = calloc(1, sizeof *set);
	if (!set) {
		ct_fail(err, 500, "out of memory loading the policy");
		return NULL;
	}
	for (int i = 0; i < policy_default_count; i++)
		if (set_rule(set, policy_defaults[i].name, policy_defaults[i].check, err))
			goto fail;
	if (path) {
		if (policy_file_read(path, file_rule, set, err))
			goto fail;
		set->file = strdup(path);
	}
	qsort(set->rules, (size_t)set->count, sizeof *set->rules, by_name);
	if (check_references(set, err)) {
		if (path) {
			char message[sizeof err->message];
			snprintf(message, sizeof message, "%s", err->message);
			ct_fail(err, 400, "%s: %s", path, message);
		}
		goto fail;
	}
	return set;
fail:
	set_free(set);
	return NULL;
}

static void set_install(struct rule_set *set)
{
	set_free(atomic_exchange(&current, set));
}

int policy_load_file(const char *path, struct ct_error *err)
{
	struct rule_set *set = set_build(path, err);
	if (!set)
		return -1;
	set_install(set);
	return 0;
}

int policy_init(const char *const *config_files, int nconfig, struct ct_error *err)
{
	const char *name = cfg_str(CFG_POLICY_FILE);
	char path[4096] = "";
	if (name[0] == '/') {
		snprintf(path, sizeof path, "%s", name);
	} else if (*name) {
		for (int c = nconfig - 1; c >= 0 && !path[0]; c--) {
			char dir[2048];
			snprintf(dir, sizeof dir, "%s", config_files[c]);
			char candidate[sizeof path];
			if ((size_t)snprintf(candidate, sizeof candidate, "%.2047s/%.1024s",
					     dirname(dir), name) < sizeof candidate &&
			    access(candidate, F_OK) == 0)
				memcpy(path, candidate, sizeof path);
		}
	}
	if (path[0] && access(path, F_OK) != 0) {
		log_info("policy file %s does not exist: using the built-in rules", path);
		path[0] = '\0';
	}
	if (policy_load_file(path[0] ? path : NULL, err))
		return -1;
	if (path[0])
		log_info("policy: built-in rules overridden by %s", path);
	return 0;
}

void policy_shutdown(void)
{
	set_install(NULL);
}

static const struct rule_set *rules(void)
{
	struct rule_set *set = atomic_load(&current);
	if (set)
		return set;
	pthread_mutex_lock(&build_lock);
	set = atomic_load(&current);
	if (!set) {
		struct ct_error err = {0};
		set = set_build(NULL, &err);
		if (!set)
			log_error("cannot build the default policy: %s", err.message);
		else
			atomic_store(&current, set);
	}
	pthread_mutex_unlock(&build_lock);
	return set;
}

bool policy_allows(const struct api_identity *who, const char *project, const char *rule)
{
	const struct rule_set *set = rules();
	if (!set)
		return false;
	const struct rule *r = find(set, rule);
	if (!r)
		r = find(set, "default");
	if (!r)
		return false;
	static const char *const keys[] = {"tenant", "project_id"};
	const char *values[] = {project ? project : "", project ? project : ""};
	struct policy_target target = {keys, values, 2};
	struct policy_creds creds = {who->user_id, who->project_id, who->roles, who->is_admin};
	return policy_check_eval(r->check, &creds, &target, lookup, (void *)set);
}

int policy_enforce(const struct api_request *req, const char *rule, struct ct_error *err)
{
	if (policy_allows(&req->who, req->project ? req->project : req->who.project_id, rule))
		return 0;
	return ct_fail(err, 403, "Policy doesn't allow %s to be performed.", rule);
}

/* A check string as a YAML double-quoted scalar. */
static void print_quoted(FILE *out, const char *text)
{
	fputc('"', out);
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

void policy_print_sample(FILE *out)
{
	fprintf(out,
		"# ctrove's built-in policy, in oslo.policy's YAML shape (generated by\n"
		"# `ctrove --help-policy`). Copy a rule into the file named by\n"
		"# [oslo_policy] policy_file (policy.yaml beside trove.conf), uncomment it and\n"
		"# change its check string; rules not in the file keep these defaults.\n"
		"# docs/policy.md describes the check language.\n");
	for (int i = 0; i < policy_default_count; i++) {
		fprintf(out, "\n# %s\n#", policy_defaults[i].description);
		print_quoted(out, policy_defaults[i].name);
		fputs(": ", out);
		print_quoted(out, policy_defaults[i].check);
		fputc('\n', out);
	}
}
