/*
 * json_writer.c — see json_writer.h. Owns the buffer of each writer until it
 * is finished; touches nothing else.
 */
#include "common/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

void json_writer_init(struct json_writer *w)
{
	memset(w, 0, sizeof *w);
}

void json_writer_discard(struct json_writer *w)
{
	free(w->buf);
	json_writer_init(w);
}

char *json_writer_finish(struct json_writer *w, size_t *len)
{
	if (w->failed || w->depth != 0 || !w->buf) {
		json_writer_discard(w);
		*len = 0;
		return NULL;
	}
	char *out = w->buf;
	*len = w->len;
	w->buf = NULL;
	json_writer_discard(w);
	return out;
}

/* Room for `more` bytes plus the terminating NUL; false once failed. */
static bool reserve(struct json_writer *w, size_t more)
{
	if (w->failed)
		return false;
	if (w->len + more + 1 <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 1024;
	while (cap < w->len + more + 1) {
		if (cap > SIZE_MAX / 2) {
			w->failed = true;
			return false;
		}
		cap *= 2;
	}
	char *n = realloc(w->buf, cap);
	if (!n) {
		w->failed = true;
		return false;
	}
	w->buf = n;
	w->cap = cap;
	return true;
}

static void put(struct json_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void put_char(struct json_writer *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

static bool has_items(const struct json_writer *w)
{
	return w->has_items[w->depth / 64] >> (w->depth % 64) & 1;
}

static void set_has_items(struct json_writer *w, bool on)
{
	uint64_t bit = (uint64_t)1 << (w->depth % 64);
	if (on)
		w->has_items[w->depth / 64] |= bit;
	else
		w->has_items[w->depth / 64] &= ~bit;
}

/* Before any value: the comma that separates it from the previous one. */
static void before_value(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (has_items(w))
			put_char(w, ',');
		set_has_items(w, true);
	}
}

static void open_container(struct json_writer *w, char c)
{
	before_value(w);
	if (w->depth + 1 >= JSON_WRITER_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	put_char(w, c);
	w->depth++;
	set_has_items(w, false);
}

static void close_container(struct json_writer *w, char c)
{
	if (w->depth <= 0 || w->after_key) {
		w->failed = true;
		return;
	}
	w->depth--;
	put_char(w, c);
}

void json_writer_object_begin(struct json_writer *w)
{
	open_container(w, '{');
}

void json_writer_object_end(struct json_writer *w)
{
	close_container(w, '}');
}

void json_writer_array_begin(struct json_writer *w)
{
	open_container(w, '[');
}

void json_writer_array_end(struct json_writer *w)
{
	close_container(w, ']');
}

/* 1: the byte needs a closer look (escape or UTF-8 check). */
static const unsigned char special[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x80 ... 0xff] = 1,
};

#define BYTES(b) (0x0101010101010101ULL * (b))

/* Whether any of 8 bytes is zero (exact: no false answers either way). */
static inline uint64_t has_zero_byte(uint64_t x)
{
	return (x - BYTES(0x01)) & ~x & BYTES(0x80);
}

/* Whether any of 8 bytes is special (below 0x20, '"', '\\', 0x80 and up):
 * plain text is copied 8 bytes at a time. */
static inline bool needs_care(uint64_t x)
{
	uint64_t high = x & BYTES(0x80);
	uint64_t control = (x - BYTES(0x20)) & ~x & BYTES(0x80);
	return (high | control | has_zero_byte(x ^ BYTES('"')) | has_zero_byte(x ^ BYTES('\\'))) !=
	       0;
}

/* The longest text one input byte can become: "\u001f". */
#define ESCAPED_MAX 6

static void put_escaped(struct json_writer *w, const char *text, size_t len)
{
	if (len > (SIZE_MAX - 2) / ESCAPED_MAX) {
		w->failed = true;
		return;
	}
	/* Room for the worst case up front; then no check per byte. */
	if (!reserve(w, len * ESCAPED_MAX + 2))
		return;
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)text;
	const unsigned char *end = s + len;
	char *o = w->buf + w->len;
	*o++ = '"';
	while (s < end) {
		if (end - s >= 8) {
			uint64_t x;
			memcpy(&x, s, 8);
			if (!needs_care(x)) {
				memcpy(o, s, 8);
				o += 8;
				s += 8;
				continue;
			}
		}
		if (!special[*s]) {
			*o++ = (char)*s++;
			continue;
		}
		if (*s >= 0x80) {
			size_t n = utf8_sequence(s);
			if (n && n <= (size_t)(end - s)) {
				memcpy(o, s, n);
				o += n;
				s += n;
			} else {
				memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
				o += 3;
				s++;
			}
			continue;
		}
		*o++ = '\\';
		switch (*s) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hex[*s >> 4];
			o[4] = hex[*s & 15];
			o += 5;
		}
		s++;
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

/* Keys are literals of our code: no escaping needed, one copy. */
void json_writer_key(struct json_writer *w, const char *key)
{
	if (w->after_key) {
		w->failed = true;
		return;
	}
	before_value(w);
	size_t n = strlen(key);
	if (!reserve(w, n + 3))
		return;
	char *o = w->buf + w->len;
	*o++ = '"';
	memcpy(o, key, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
	w->after_key = true;
}

/* A key that came from outside (a jansson object): escaped. */
static void put_key_escaped(struct json_writer *w, const char *key, size_t len)
{
	if (w->after_key) {
		w->failed = true;
		return;
	}
	before_value(w);
	put_escaped(w, key, len);
	put_char(w, ':');
	w->after_key = true;
}

void json_writer_string(struct json_writer *w, const char *s)
{
	if (!s) {
		json_writer_null(w);
		return;
	}
	before_value(w);
	put_escaped(w, s, strlen(s));
}

void json_writer_int(struct json_writer *w, long long v)
{
	char text[24];
	char *p = text + sizeof text;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	before_value(w);
	put(w, p, (size_t)(text + sizeof text - p));
}

void json_writer_real(struct json_writer *w, double v)
{
	if (!isfinite(v)) {
		json_writer_null(w); /* JSON has no NaN or infinity */
		return;
	}
	char text[40];
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(text, sizeof text, "%.*g", precision, v);
		if (strtod(text, NULL) == v)
			break;
	}
	if (!strpbrk(text, ".eE"))
		strcat(text, ".0");
	before_value(w);
	put(w, text, strlen(text));
}

void json_writer_bool(struct json_writer *w, bool v)
{
	before_value(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void json_writer_null(struct json_writer *w)
{
	before_value(w);
	put(w, "null", 4);
}

void json_writer_raw(struct json_writer *w, const char *text, size_t len)
{
	before_value(w);
	put(w, text, len);
}

void json_writer_value(struct json_writer *w, const json_t *v)
{
	const char *key;
	size_t key_len;
	json_t *item;
	size_t i;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		json_writer_object_begin(w);
		json_object_keylen_foreach((json_t *)v, key, key_len, item)
		{
			put_key_escaped(w, key, key_len);
			json_writer_value(w, item);
		}
		json_writer_object_end(w);
		break;
	case JSON_ARRAY:
		json_writer_array_begin(w);
		json_array_foreach (v, i, item)
			json_writer_value(w, item);
		json_writer_array_end(w);
		break;
	case JSON_STRING:
		before_value(w);
		put_escaped(w, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: json_writer_int(w, json_integer_value(v)); break;
	case JSON_REAL: json_writer_real(w, json_real_value(v)); break;
	case JSON_TRUE: json_writer_bool(w, true); break;
	case JSON_FALSE: json_writer_bool(w, false); break;
	case JSON_NULL: json_writer_null(w); break;
	}
}

void json_writer_key_string(struct json_writer *w, const char *key, const char *s)
{
	json_writer_key(w, key);
	json_writer_string(w, s);
}

void json_writer_key_int(struct json_writer *w, const char *key, long long v)
{
	json_writer_key(w, key);
	json_writer_int(w, v);
}

char *json_writer_dump(const json_t *v, size_t *len)
{
	struct json_writer w;
	json_writer_init(&w);
	json_writer_value(&w, v);
	return json_writer_finish(&w, len);
}
