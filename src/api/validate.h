/*
 * validate.h — request-body checks with Trove's messages. Trove validates bodies
 * with JSON-Schema (Draft 4) and answers 400 "Validation error: <path>
 * <reason>", e.g. "Validation error: version 'name' is a required property";
 * these helpers produce the same text. `path` is the location of the value
 * being checked, written like jsonschema does: version['image_tags'][0].
 * Each returns 0, or -1 with err set (400). Owns nothing.
 */
#ifndef CT_API_VALIDATE_H
#define CT_API_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define VALIDATE_PATH_MAX 256

/* parent['key'] into out (parent "" gives key). */
void validate_path(char *out, const char *parent, const char *key);
void validate_path_index(char *out, const char *parent, size_t index);

int validate_fail(struct ct_error *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int validate_object(const json_t *v, const char *path, struct ct_error *err);
/* Every key of `required` (NULL-terminated) is present. */
int validate_required(const json_t *obj, const char *path, const char *const *required,
		      struct ct_error *err);
/* No key outside `allowed` (NULL-terminated). */
int validate_only(const json_t *obj, const char *path, const char *const *allowed,
		  struct ct_error *err);
/* String of 1..255 characters with at least one ASCII letter or digit. */
int validate_non_empty_string(const json_t *v, const char *path, struct ct_error *err);
int validate_uuid(const json_t *v, const char *path, struct ct_error *err);
int validate_boolean(const json_t *v, const char *path, struct ct_error *err);
/* Array (unique items, at most max_items, 0 = unbounded) of strings whose
 * length is within [min_len, max_len] and that hold a letter or digit. */
int validate_string_array(const json_t *v, const char *path, size_t max_items, size_t min_len,
			  size_t max_len, struct ct_error *err);

/* Python-style repr of a JSON value for messages ('text', 5, True, None ...). */
void validate_repr(const json_t *v, char *out, size_t size);
/* Trove's volume_size schema, oneOf(integer >= 1, string ^0*[1-9]+[0-9]*$), at
 * path: the size (values past a million read as 1000001, for the limit checks
 * to refuse) or a 400 naming path. */
int validate_volume_size(const json_t *size, const char *path, long *out, struct ct_error *err);

#endif
