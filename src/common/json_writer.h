/*
 * json_writer.h — writing JSON text straight into one growing buffer.
 *
 * The API's hot responses (instance lists and views) are written with it
 * instead of building a jansson tree, dumping it and freeing it: that round
 * trip was most of a list request's cost. json_writer_value() writes a jansson
 * value the same way, so every response is serialised by this one file.
 *
 * The writer owns its buffer until json_writer_finish() hands it to the caller
 * (free() it). An allocation failure is remembered; every later call is a
 * no-op and finish returns NULL. Strings that are not valid UTF-8 have each
 * bad byte replaced by U+FFFD, so the output is always valid JSON. Keys are
 * written as given: they are literals in our code.
 */
#ifndef CT_COMMON_JSON_WRITER_H
#define CT_COMMON_JSON_WRITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* As deep as jansson's parser goes, so any value it read can be written. */
#define JSON_WRITER_MAX_DEPTH 2048

struct json_writer {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
	int depth;
	bool after_key; /* the next value completes a "key": pair */
	/* bit d: the container at depth d has an element already */
	uint64_t has_items[JSON_WRITER_MAX_DEPTH / 64];
};

void json_writer_init(struct json_writer *w);
/* The text written (NUL-terminated, length in *len), or NULL after a failure. */
char *json_writer_finish(struct json_writer *w, size_t *len);
/* Drop everything written; the writer is reusable after json_writer_init(). */
void json_writer_discard(struct json_writer *w);

void json_writer_object_begin(struct json_writer *w);
void json_writer_object_end(struct json_writer *w);
void json_writer_array_begin(struct json_writer *w);
void json_writer_array_end(struct json_writer *w);
void json_writer_key(struct json_writer *w, const char *key);

void json_writer_string(struct json_writer *w, const char *s); /* NULL writes null */
void json_writer_int(struct json_writer *w, long long v);
/* Shortest form that reads back as the same double, as Python's repr(). */
void json_writer_real(struct json_writer *w, double v);
void json_writer_bool(struct json_writer *w, bool v);
void json_writer_null(struct json_writer *w);
/* A jansson value (any type); NULL writes null. */
void json_writer_value(struct json_writer *w, const json_t *v);
/* Text that is already one valid JSON value (e.g. from another writer). */
void json_writer_raw(struct json_writer *w, const char *text, size_t len);

/* "key": value shorthands. */
void json_writer_key_string(struct json_writer *w, const char *key, const char *s);
void json_writer_key_int(struct json_writer *w, const char *key, long long v);

/* A jansson value as compact JSON text (malloc'd), or NULL. */
char *json_writer_dump(const json_t *v, size_t *len);

#endif
