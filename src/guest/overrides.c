/*
 * overrides.c — see overrides.h. Owns the override file syntax; may not
 * touch files or servers.
 */
#include "guest/overrides.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 128)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

static bool string_ok(const char *s)
{
	if (strlen(s) > 1024)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("'\"`\\#;", *p))
			return false;
	return true;
}

int overrides_check(const json_t *overrides, bool allow_null, struct ct_error *err)
{
	if (!json_is_object(overrides))
		return ct_fail(err, 400, "overrides must be an object.");
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)overrides, key, v) {
		if (!name_ok(key))
			return ct_fail(err, 400, "'%.64s' is not a configuration parameter name.",
				       key);
		if (json_is_null(v) && allow_null)
			continue;
		if (json_is_string(v) ? !string_ok(json_string_value(v))
				      : !json_is_number(v) && !json_is_boolean(v))
			return ct_fail(err, 400,
				       "The value of %s may not be written into the configuration.",
				       key);
	}
	return 0;
}

static int put(char **buf, size_t *len, size_t *cap, const char *text)
{
	size_t n = strlen(text);
	if (*len + n + 1 > *cap) {
		size_t want = (*cap ? *cap * 2 : 1024) + n;
		char *grown = realloc(*buf, want);
		if (!grown)
			return -1;
		*buf = grown;
		*cap = want;
	}
	memcpy(*buf + *len, text, n + 1);
	*len += n;
	return 0;
}

char *overrides_render(const json_t *overrides, enum overrides_syntax syntax, struct ct_error *err)
{
	if (overrides_check(overrides, false, err))
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = put(
		&buf, &len, &cap,
		syntax == OVERRIDES_MYCNF
			? "# The instance's configuration group (ctrove); rewritten on change.\n"
			  "[mysqld]\n"
			: "# The instance's configuration group (ctrove); rewritten on change.\n");
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)overrides, key, v) {
		char line[1400];
		bool my = syntax == OVERRIDES_MYCNF;
		if (json_is_boolean(v))
			snprintf(line, sizeof line, "%s = %s\n", key,
				 json_is_true(v) ? (my ? "ON" : "on") : (my ? "OFF" : "off"));
		else if (json_is_integer(v))
			snprintf(line, sizeof line, "%s = %lld\n", key,
				 (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(line, sizeof line, "%s = %.17g\n", key, json_real_value(v));
		else
			snprintf(line, sizeof line, my ? "%s = \"%s\"\n" : "%s = '%s'\n", key,
				 json_string_value(v));
		rc = rc || put(&buf, &len, &cap, line);
	}
	if (rc) {
		free(buf);
		ct_fail(err, 500, "Out of memory.");
		return NULL;
	}
	return buf;
}

bool overrides_size_bytes(const char *text, long long *out)
{
	errno = 0;
	char *end;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || v < 0)
		return false;
	long long mult = 1;
	if (*end == 'K' || *end == 'k')
		mult = 1024;
	else if (*end == 'M' || *end == 'm')
		mult = 1024LL * 1024;
	else if (*end == 'G' || *end == 'g')
		mult = 1024LL * 1024 * 1024;
	else if (*end)
		return false;
	if (mult > 1 && end[1])
		return false;
	*out = v * mult;
	return true;
}
