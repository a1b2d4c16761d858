/*
 * config_values.c — see config_values.h. Owns the rules of what a stored
 * configuration value may be; may not read rows or talk to guests.
 */
#include "api/config_values.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct ds_parameter *config_rule_find(const struct ds_parameter *rules, size_t n,
					    const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rules[i].name, key))
			return &rules[i];
	return NULL;
}

static const struct ds_parameter *rule_find_nocase(const struct ds_parameter *rules, size_t n,
						   const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(rules[i].name, key))
			return &rules[i];
	return NULL;
}

int config_key_is_secret(const char *key)
{
	static const char *const words[] = {"password", "secret", "passphrase", "_key", NULL};
	char lower[129];
	size_t i = 0;
	for (; key[i] && i < sizeof lower - 1; i++)
		lower[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
	lower[i] = '\0';
	for (size_t k = 0; words[k]; k++)
		if (strstr(lower, words[k]))
			return 1;
	return 0;
}

/* A bound as a 64-bit integer; 0 when it is absent or beyond 64 bits (no
 * JSON integer can pass such a bound). */
static int bound(const char *text, long long *out)
{
	if (!text[0])
		return 0;
	errno = 0;
	char *end;
	long long v = strtoll(text, &end, 10);
	if (errno || *end)
		return 0;
	*out = v;
	return 1;
}

/*
 * Characters a string value may not hold: anything below a space (line
 * breaks end a config line and start a new setting), DEL, the quotes and the
 * backslash (they would end or escape the quoting the guests write), and '#'
 * and ';' (comments in my.cnf, statement ends in SQL). What is left cannot
 * name another setting, whatever words it spells ('!include', 'include_dir').
 */
static int string_is_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("'\"`\\#;", *p))
			return 0;
	return 1;
}

static int check_one(const struct ds_parameter *rule, const json_t *v, char *out, size_t size,
		     struct ct_error *err)
{
	const char *type = rule->data_type;
	if (!strcmp(type, "integer")) {
		if (!json_is_integer(v) && !json_is_boolean(v))
			return ct_fail(err, 422,
				       "The value provided for the configuration parameter %s is "
				       "not of type integer.",
				       rule->name);
		long long x = json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
		long long lim;
		if (bound(rule->min_size, &lim) && x < lim)
			return ct_fail(err, 422,
				       "The value for the configuration parameter %s is less than "
				       "the minimum allowed: %s",
				       rule->name, rule->min_size);
		if (bound(rule->max_size, &lim) && x > lim)
			return ct_fail(err, 422,
				       "The value for the configuration parameter %s is greater "
				       "than the maximum allowed: %s",
				       rule->name, rule->max_size);
		snprintf(out, size, "%lld", x);
		return 0;
	}
	if (!strcmp(type, "boolean")) {
		if (!json_is_boolean(v))
			return ct_fail(err, 422,
				       "The value provided for the configuration parameter %s is "
				       "not of type boolean.",
				       rule->name);
		snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
		return 0;
	}
	if (!strcmp(type, "float")) {
		if (!json_is_number(v))
			return ct_fail(err, 422,
				       "The value provided for the configuration parameter %s is "
				       "not of type float.",
				       rule->name);
		snprintf(out, size, "%.17g", json_number_value(v));
		return 0;
	}
	if (!json_is_string(v))
		return ct_fail(err, 422,
			       "The value provided for the configuration parameter %s is not of "
			       "type string.",
			       rule->name);
	const char *s = json_string_value(v);
	if (strlen(s) >= size)
		return ct_fail(err, 422,
			       "The value for the configuration parameter %s is longer than %zu "
			       "characters.",
			       rule->name, size - 1);
	if (!string_is_safe(s))
		return ct_fail(err, 422,
			       "The value for the configuration parameter %s may not contain "
			       "quotes, backslashes, '#', ';', line breaks or control characters.",
			       rule->name);
	snprintf(out, size, "%s", s);
	return 0;
}

int config_values_check(const json_t *values, const struct ds_parameter *rules, size_t n,
			const char *ds, const char *version, struct config_value **out,
			size_t *n_out, struct ct_error *err)
{
	if (!json_is_object(values))
		return ct_fail(err, 400,
			       "Validation error: configuration['values'] is not of type 'object'");
	if (n == 0)
		return ct_fail(err, 422,
			       "Configuration groups are not supported for this datastore: %s %s",
			       ds, version);
	size_t count = json_object_size(values);
	struct config_value *arr = calloc(count ? count : 1, sizeof *arr);
	if (!arr)
		return ct_fail(err, 500, "out of memory");
	size_t used = 0;
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)values, key, v) {
		const struct ds_parameter *rule = rule_find_nocase(rules, n, key);
		if (!rule) {
			free(arr);
			return ct_fail(err, 422,
				       "The configuration parameter %.128s is not supported for "
				       "this datastore: %s %s.",
				       key, ds, version);
		}
		/* Two spellings of one name: the later one wins. */
		size_t slot = used;
		for (size_t i = 0; i < used; i++)
			if (!strcmp(arr[i].key, rule->name))
				slot = i;
		if (check_one(rule, v, arr[slot].value, sizeof arr[slot].value, err)) {
			free(arr);
			return -1;
		}
		snprintf(arr[slot].key, sizeof arr[slot].key, "%s", rule->name);
		if (slot == used)
			used++;
	}
	*out = arr;
	*n_out = used;
	return 0;
}
