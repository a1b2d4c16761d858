/*
 * validate.c — see validate.h.
 */
#include "api/validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"

void validate_path(char *out, const char *parent, const char *key)
{
	if (!parent || !*parent)
		snprintf(out, VALIDATE_PATH_MAX, "%.120s", key);
	else
		snprintf(out, VALIDATE_PATH_MAX, "%.120s['%.60s']", parent, key);
}

void validate_path_index(char *out, const char *parent, size_t index)
{
	snprintf(out, VALIDATE_PATH_MAX, "%.200s[%zu]", parent, index);
}

int validate_fail(struct ct_error *err, const char *path, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (path && *path)
		return ct_fail(err, 400, "Validation error: %s %s", path, reason);
	return ct_fail(err, 400, "Validation error: %s", reason);
}

/* Append formatted text to out[*used..size), truncating quietly when full. */
__attribute__((format(printf, 4, 5))) static void put(char *out, size_t size, size_t *used,
						      const char *fmt, ...)
{
	if (*used + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

/* Python's repr of v appended to out, as jsonschema prints values. */
static void repr_append(const json_t *v, char *out, size_t size, size_t *used)
{
	if (*used + 1 >= size)
		return;
	if (json_is_object(v)) {
		const char *key;
		json_t *value;
		const char *sep = "";
		put(out, size, used, "{");
		json_object_foreach ((json_t *)v, key, value) {
			put(out, size, used, "%s'%s': ", sep, key);
			repr_append(value, out, size, used);
			sep = ", ";
		}
		put(out, size, used, "}");
	} else if (json_is_array(v)) {
		size_t i;
		json_t *item;
		put(out, size, used, "[");
		json_array_foreach (v, i, item) {
			put(out, size, used, "%s", i ? ", " : "");
			repr_append(item, out, size, used);
		}
		put(out, size, used, "]");
	} else if (json_is_string(v)) {
		put(out, size, used, "'%s'", json_string_value(v));
	} else if (json_is_true(v)) {
		put(out, size, used, "True");
	} else if (json_is_false(v)) {
		put(out, size, used, "False");
	} else if (json_is_null(v)) {
		put(out, size, used, "None");
	} else {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		put(out, size, used, "%s", text ? text : "?");
		free(text);
	}
}

void validate_repr(const json_t *v, char *out, size_t size)
{
	if (!v) {
		snprintf(out, size, "None");
	} else if (json_is_string(v)) {
		snprintf(out, size, "'%.60s%s'", json_string_value(v),
			 json_string_length(v) > 60 ? "..." : "");
	} else if (json_is_true(v)) {
		snprintf(out, size, "True");
	} else if (json_is_false(v)) {
		snprintf(out, size, "False");
	} else if (json_is_null(v)) {
		snprintf(out, size, "None");
	} else {
		/* Numbers, lists and dicts as Python prints them: [1, 'a'], {'k': True}. */
		char text[128];
		size_t used = 0;
		text[0] = '\0';
		repr_append(v, text, sizeof text, &used);
		snprintf(out, size, "%.80s%s", text, used > 80 ? "..." : "");
	}
}

static int type_error(const json_t *v, const char *path, const char *type, struct ct_error *err)
{
	char repr[128];
	validate_repr(v, repr, sizeof repr);
	return validate_fail(err, path, "%s is not of type '%s'", repr, type);
}

int validate_object(const json_t *v, const char *path, struct ct_error *err)
{
	return json_is_object(v) ? 0 : type_error(v, path, "object", err);
}

int validate_required(const json_t *obj, const char *path, const char *const *required,
		      struct ct_error *err)
{
	for (; *required; required++)
		if (!json_object_get(obj, *required))
			return validate_fail(err, path, "'%s' is a required property", *required);
	return 0;
}

int validate_only(const json_t *obj, const char *path, const char *const *allowed,
		  struct ct_error *err)
{
	const char *key;
	json_t *value;
	json_object_foreach ((json_t *)obj, key, value) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, key))
			a++;
		if (!*a)
			return validate_fail(err, path,
					     "Additional properties are not allowed ('%.60s' was "
					     "unexpected)",
					     key);
	}
	return 0;
}

static bool has_alnum(const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s))
			return true;
	return false;
}

/* Characters, not bytes, as jsonschema counts them. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int check_string(const json_t *v, const char *path, size_t min_len, size_t max_len,
			struct ct_error *err)
{
	if (!json_is_string(v))
		return type_error(v, path, "string", err);
	char repr[128];
	validate_repr(v, repr, sizeof repr);
	const char *s = json_string_value(v);
	size_t len = utf8_length(s);
	if (len < min_len)
		return validate_fail(err, path, "%s is too short", repr);
	if (max_len && len > max_len)
		return validate_fail(err, path, "%s is too long", repr);
	if (!has_alnum(s))
		return validate_fail(err, path, "%s does not match '^.*[0-9a-zA-Z]+.*$'", repr);
	return 0;
}

int validate_non_empty_string(const json_t *v, const char *path, struct ct_error *err)
{
	return check_string(v, path, 1, 255, err);
}

int validate_uuid(const json_t *v, const char *path, struct ct_error *err)
{
	if (!json_is_string(v))
		return type_error(v, path, "string", err);
	if (!ids_is_uuid(json_string_value(v))) {
		char repr[128];
		validate_repr(v, repr, sizeof repr);
		return validate_fail(err, path,
				     "%s does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-"
				     "([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'",
				     repr);
	}
	return 0;
}

int validate_boolean(const json_t *v, const char *path, struct ct_error *err)
{
	return json_is_boolean(v) ? 0 : type_error(v, path, "boolean", err);
}

int validate_string_array(const json_t *v, const char *path, size_t max_items, size_t min_len,
			  size_t max_len, struct ct_error *err)
{
	if (!json_is_array(v))
		return type_error(v, path, "array", err);
	char repr[128];
	if (max_items && json_array_size(v) > max_items) {
		validate_repr(v, repr, sizeof repr);
		return validate_fail(err, path, "%s is too long", repr);
	}
	size_t i;
	const json_t *item;
	json_array_foreach (v, i, item) {
		char item_path[VALIDATE_PATH_MAX];
		validate_path_index(item_path, path, i);
		if (check_string(item, item_path, min_len, max_len, err))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (json_equal(item, json_array_get(v, j))) {
				validate_repr(v, repr, sizeof repr);
				return validate_fail(err, path, "%s has non-unique elements", repr);
			}
	}
	return 0;
}

int validate_volume_size(const json_t *size, const char *path, long *out, struct ct_error *err)
{
	long value = -1;
	if (json_is_integer(size) && json_integer_value(size) >= 1) {
		value = json_integer_value(size) > 1000000 ? 1000001
							   : (long)json_integer_value(size);
	} else if (json_is_string(size)) {
		const char *s = json_string_value(size);
		size_t len = strlen(s);
		bool digits = len > 0 && len <= 40;
		for (size_t i = 0; i < len && digits; i++)
			digits = s[i] >= '0' && s[i] <= '9';
		if (digits && strspn(s, "0") < len) {
			const char *first = s + strspn(s, "0");
			value = strlen(first) > 7 ? 1000001 : strtol(first, NULL, 10);
		}
	}
	if (value < 1) {
		char repr[128];
		validate_repr(size, repr, sizeof repr);
		return validate_fail(err, path, "%s is not valid under any of the given schemas",
				     repr);
	}
	*out = value;
	return 0;
}
