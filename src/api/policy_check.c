/*
 * policy_check.c — parse and evaluate oslo.policy check strings (policy_check.h).
 * Tokens are split on white space, with leading '(' and trailing ')' peeled off
 * each one, as oslo.policy's tokenizer does (so `%(tenant)s` stays whole). The
 * parse is recursive descent over a bounded token array; the tree is one
 * allocation of nodes pointing into a private copy of the text.
 * May not touch requests, files or the configuration.
 */
#include "api/policy_check.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum node_kind { N_TRUE, N_FALSE, N_RULE, N_ROLE, N_GENERIC, N_NOT, N_AND, N_OR };

struct node {
	enum node_kind kind;
	int left, right;   /* child nodes (NOT uses left) */
	const char *key;   /* GENERIC: the credential (or a literal); RULE/ROLE: unused */
	const char *match; /* RULE: rule name; ROLE/GENERIC: the match, maybe %(x)s */
};

struct policy_check {
	int root;
	int count;
	char *text;
	struct node nodes[];
};

enum token_kind { T_WORD, T_LPAREN, T_RPAREN, T_AND, T_OR, T_NOT };

struct token {
	enum token_kind kind;
	char *word;
};

struct parser {
	struct token *tokens;
	int ntokens, pos;
	struct policy_check *check;
	struct ct_error *err;
	bool failed;
};

static int fail(struct parser *p, const char *fmt, const char *what)
{
	if (!p->failed)
		ct_fail(p->err, 400, fmt, what);
	p->failed = true;
	return -1;
}

static int add_node(struct parser *p, enum node_kind kind, int left, int right)
{
	if (p->check->count >= POLICY_CHECK_MAX_NODES)
		return fail(p, "policy check has more than %s checks", "512");
	struct node *n = &p->check->nodes[p->check->count];
	*n = (struct node){.kind = kind, .left = left, .right = right};
	return p->check->count++;
}

static int parse_or(struct parser *p, int depth);

static int parse_word(struct parser *p, char *word)
{
	if (!strcmp(word, "@"))
		return add_node(p, N_TRUE, -1, -1);
	if (!strcmp(word, "!"))
		return add_node(p, N_FALSE, -1, -1);
	char *colon = strchr(word, ':');
	if (!colon || colon == word)
		return fail(p, "policy check '%.200s' is not <kind>:<match>", word);
	*colon = '\0';
	enum node_kind kind = N_GENERIC;
	if (!strcmp(word, "rule"))
		kind = N_RULE;
	else if (!strcmp(word, "role"))
		kind = N_ROLE;
	else if (!strcmp(word, "http") || !strcmp(word, "https"))
		return fail(p, "policy check kind '%s' is not supported", word);
	int n = add_node(p, kind, -1, -1);
	if (n >= 0) {
		p->check->nodes[n].key = word;
		p->check->nodes[n].match = colon + 1;
	}
	return n;
}

static int parse_atom(struct parser *p, int depth)
{
	if (p->pos >= p->ntokens)
		return fail(p, "policy check ends where a check was expected%s", "");
	struct token *t = &p->tokens[p->pos++];
	switch (t->kind) {
	case T_WORD: return parse_word(p, t->word);
	case T_NOT: {
		if (depth >= POLICY_CHECK_MAX_DEPTH)
			return fail(p, "policy check nests deeper than %s levels", "32");
		int inner = parse_atom(p, depth + 1);
		return inner < 0 ? -1 : add_node(p, N_NOT, inner, -1);
	}
	case T_LPAREN: {
		if (depth >= POLICY_CHECK_MAX_DEPTH)
			return fail(p, "policy check nests deeper than %s levels", "32");
		int inner = parse_or(p, depth + 1);
		if (inner < 0)
			return -1;
		if (p->pos >= p->ntokens || p->tokens[p->pos].kind != T_RPAREN)
			return fail(p, "policy check has an unclosed '('%s", "");
		p->pos++;
		return inner;
	}
	case T_RPAREN: return fail(p, "policy check has an unexpected ')'%s", "");
	default: return fail(p, "policy check has an operator where a check was expected%s", "");
	}
}

static int parse_and(struct parser *p, int depth)
{
	int left = parse_atom(p, depth);
	while (left >= 0 && p->pos < p->ntokens && p->tokens[p->pos].kind == T_AND) {
		p->pos++;
		int right = parse_atom(p, depth);
		left = right < 0 ? -1 : add_node(p, N_AND, left, right);
	}
	return left;
}

static int parse_or(struct parser *p, int depth)
{
	int left = parse_and(p, depth);
	while (left >= 0 && p->pos < p->ntokens && p->tokens[p->pos].kind == T_OR) {
		p->pos++;
		int right = parse_and(p, depth);
		left = right < 0 ? -1 : add_node(p, N_OR, left, right);
	}
	return left;
}

static bool push_token(struct parser *p, enum token_kind kind, char *word)
{
	if (p->ntokens >= POLICY_CHECK_MAX_NODES * 2) {
		fail(p, "policy check has more than %s tokens", "1024");
		return false;
	}
	p->tokens[p->ntokens++] = (struct token){kind, word};
	return true;
}

static bool tokenize(struct parser *p, char *text)
{
	char *s = text;
	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		char *e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
		char *next = *e ? e + 1 : e;
		while (s < e && *s == '(') {
			if (!push_token(p, T_LPAREN, NULL))
				return false;
			s++;
		}
		int closing = 0;
		while (e > s && e[-1] == ')') {
			closing++;
			e--;
		}
		if (s < e) {
			*e = '\0';
			enum token_kind kind = T_WORD;
			if (!strcasecmp(s, "and"))
				kind = T_AND;
			else if (!strcasecmp(s, "or"))
				kind = T_OR;
			else if (!strcasecmp(s, "not"))
				kind = T_NOT;
			if (!push_token(p, kind, s))
				return false;
		}
		while (closing-- > 0)
			if (!push_token(p, T_RPAREN, NULL))
				return false;
		s = next;
	}
	return true;
}

struct policy_check *policy_check_parse(const char *text, struct ct_error *err)
{
	size_t len = strnlen(text, POLICY_CHECK_MAX_TEXT + 1);
	if (len > POLICY_CHECK_MAX_TEXT) {
		ct_fail(err, 400, "policy check is longer than %d bytes", POLICY_CHECK_MAX_TEXT);
		return NULL;
	}
	struct policy_check *check =
		calloc(1, sizeof *check + POLICY_CHECK_MAX_NODES * sizeof(struct node));
	struct token *tokens = calloc(POLICY_CHECK_MAX_NODES * 2, sizeof *tokens);
	char *copy = strdup(text);
	if (!check || !tokens || !copy) {
		free(check);
		free(tokens);
		free(copy);
		ct_fail(err, 500, "out of memory parsing a policy check");
		return NULL;
	}
	check->text = copy;
	struct parser p = {.tokens = tokens, .check = check, .err = err};
	if (!tokenize(&p, copy)) {
		free(tokens);
		policy_check_free(check);
		return NULL;
	}
	if (p.ntokens == 0) {
		check->root = add_node(&p, N_TRUE, -1, -1);
	} else {
		check->root = parse_or(&p, 0);
		if (check->root >= 0 && p.pos < p.ntokens)
			check->root =
				fail(&p, "policy check has unexpected text after a check%s", "");
	}
	free(tokens);
	if (check->root < 0) {
		policy_check_free(check);
		return NULL;
	}
	/* Keep only the nodes used: the nodes point into check->text, not into check. */
	struct policy_check *fitted =
		realloc(check, sizeof *check + (size_t)check->count * sizeof(struct node));
	return fitted ? fitted : check;
}

void policy_check_free(struct policy_check *check)
{
	if (!check)
		return;
	free(check->text);
	free(check);
}

/* Python's `match % target` for the %(key)s form; false when a key is missing
 * or a '%' is not part of %(key)s or %% (oslo.policy then matches nothing). */
static bool interpolate(const char *match, const struct policy_target *target, char *out,
			size_t size)
{
	size_t n = 0;
	for (const char *m = match; *m; m++) {
		const char *piece = m;
		size_t piece_len = 1;
		if (*m == '%') {
			if (m[1] == '%') {
				m++;
			} else if (m[1] == '(') {
				const char *close = strchr(m + 2, ')');
				if (!close || close[1] != 's')
					return false;
				size_t key_len = (size_t)(close - (m + 2));
				piece = NULL;
				for (int i = 0; target && i < target->count; i++)
					if (strlen(target->keys[i]) == key_len &&
					    !strncmp(target->keys[i], m + 2, key_len)) {
						piece = target->values[i];
						break;
					}
				if (!piece)
					return false;
				piece_len = strlen(piece);
				m = close + 1;
			} else {
				return false;
			}
		}
		if (n + piece_len >= size)
			return false;
		memcpy(out + n, piece, piece_len);
		n += piece_len;
	}
	out[n] = '\0';
	return true;
}

/* Whether match equals one of the comma-separated roles. */
static bool has_role(const char *roles, const char *match, bool ignore_case)
{
	size_t len = strlen(match);
	for (const char *r = roles ? roles : ""; *r;) {
		const char *comma = strchr(r, ',');
		size_t n = comma ? (size_t)(comma - r) : strlen(r);
		if (n == len && !(ignore_case ? strncasecmp(r, match, n) : strncmp(r, match, n)))
			return true;
		if (!comma)
			break;
		r = comma + 1;
	}
	return false;
}

/* GenericCheck: a literal on the left compares with the match; otherwise the
 * credential named by key, as text (is_admin reads "True"/"False"). */
static bool generic(const char *key, const char *match, const struct policy_creds *creds)
{
	size_t klen = strlen(key);
	if (klen >= 2 && (key[0] == '\'' || key[0] == '"') && key[klen - 1] == key[0])
		return strlen(match) == klen - 2 && !strncmp(key + 1, match, klen - 2);
	if (!strcmp(key, "True") || !strcmp(key, "False"))
		return !strcmp(key, match);
	if (isdigit((unsigned char)key[0]) || key[0] == '-') {
		char *end;
		long long value = strtoll(key, &end, 10);
		char text[32];
		snprintf(text, sizeof text, "%lld", value);
		return !*end && !strcmp(text, match);
	}
	if (!strcmp(key, "is_admin"))
		return !strcmp(match, creds->is_admin ? "True" : "False");
	if (!strcmp(key, "user_id") || !strcmp(key, "user"))
		return creds->user_id && !strcmp(creds->user_id, match);
	if (!strcmp(key, "project_id") || !strcmp(key, "tenant") || !strcmp(key, "project"))
		return creds->project_id && !strcmp(creds->project_id, match);
	if (!strcmp(key, "roles"))
		return has_role(creds->roles, match, false);
	return false;
}

struct eval {
	const struct policy_creds *creds;
	const struct policy_target *target;
	policy_rule_lookup lookup;
	void *ctx;
};

static bool eval_node(const struct policy_check *c, int i, const struct eval *e, int rule_depth);

static bool eval_check(const struct policy_check *c, const struct eval *e, int rule_depth)
{
	return eval_node(c, c->root, e, rule_depth);
}

static bool eval_node(const struct policy_check *c, int i, const struct eval *e, int rule_depth)
{
	const struct node *n = &c->nodes[i];
	char match[512];
	switch (n->kind) {
	case N_TRUE: return true;
	case N_FALSE: return false;
	case N_NOT: return !eval_node(c, n->left, e, rule_depth);
	case N_AND:
		return eval_node(c, n->left, e, rule_depth) &&
		       eval_node(c, n->right, e, rule_depth);
	case N_OR:
		return eval_node(c, n->left, e, rule_depth) ||
		       eval_node(c, n->right, e, rule_depth);
	case N_RULE: {
		if (rule_depth >= POLICY_RULE_MAX_DEPTH || !e->lookup)
			return false;
		const struct policy_check *rule = e->lookup(e->ctx, n->match);
		return rule && eval_check(rule, e, rule_depth + 1);
	}
	case N_ROLE:
		return interpolate(n->match, e->target, match, sizeof match) &&
		       has_role(e->creds->roles, match, true);
	case N_GENERIC:
		return interpolate(n->match, e->target, match, sizeof match) &&
		       generic(n->key, match, e->creds);
	}
	return false;
}

bool policy_check_eval(const struct policy_check *check, const struct policy_creds *creds,
		       const struct policy_target *target, policy_rule_lookup lookup, void *ctx)
{
	struct eval e = {creds, target, lookup, ctx};
	return check && eval_check(check, &e, 0);
}

void policy_check_rule_refs(const struct policy_check *check,
			    void (*each)(void *ctx, const char *name), void *ctx)
{
	for (int i = 0; check && i < check->count; i++)
		if (check->nodes[i].kind == N_RULE)
			each(ctx, check->nodes[i].match);
}
