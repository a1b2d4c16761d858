/*
 * names.c — which object names and listing prefixes a backup store accepts.
 *
 * One rule for every store, strict enough that a name is safe as a relative
 * path in the local store and valid for Swift and S3 alike: UTF-8 without
 * control characters, "<container>/<object path>", no empty component, no
 * component starting with '.' (so no "." or "..", and never one of the local
 * store's own hidden files), bounded lengths. Pure functions; may not touch
 * any store.
 */
#include <stdbool.h>
#include <string.h>

#include "common/utf8.h"
#include "storage/store.h"

/* Checks text[0..len) as a run of components; the last may be empty (a prefix
 * ending in '/') or partial when partial_last is set. */
static int check_components(const char *what, const char *text, bool partial_last,
			    struct ct_error *err)
{
	size_t len = strlen(text);
	if (!len)
		return ct_fail(err, 400, "The backup object %s may not be empty.", what);
	if (len > STORE_NAME_MAX)
		return ct_fail(err, 400, "The backup object %s is longer than %d bytes.", what,
			       STORE_NAME_MAX);
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return ct_fail(err, 400,
				       "The backup object %s may not contain control characters.",
				       what);
		size_t n = utf8_sequence(s + i);
		if (!n)
			return ct_fail(err, 400, "The backup object %s is not valid UTF-8.", what);
		i += n;
	}
	if (text[0] == '/')
		return ct_fail(err, 400, "The backup object %s '%.100s' may not start with '/'.",
			       what, text);
	const char *slash = strchr(text, '/');
	if (!slash)
		return ct_fail(err, 400,
			       "The backup object %s '%.100s' must be <container>/<object>.", what,
			       text);
	for (const char *c = text; c;) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);
		bool last = !end;
		if (!n && !(last && partial_last))
			return ct_fail(err, 400,
				       "The backup object %s '%.100s' has an empty path component.",
				       what, text);
		if (n && c[0] == '.')
			return ct_fail(
				err, 400,
				"The backup object %s '%.100s' has a component starting with "
				"'.'.",
				what, text);
		if (n > STORE_COMPONENT_MAX)
			return ct_fail(err, 400,
				       "The backup object %s has a component longer than %d bytes.",
				       what, STORE_COMPONENT_MAX);
		c = end ? end + 1 : NULL;
	}
	return 0;
}

int store_check_name(const char *name, struct ct_error *err)
{
	return check_components("name", name ? name : "", false, err);
}

int store_check_prefix(const char *prefix, struct ct_error *err)
{
	return check_components("prefix", prefix ? prefix : "", true, err);
}
