/*
 * text_buffer.c — see text_buffer.h.
 */
#include "common/text_buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_buffer_init(struct text_buffer *b, size_t cap)
{
	b->len = 0;
	b->cap = cap < 64 ? 64 : cap;
	b->data = malloc(b->cap);
	b->failed = b->data == NULL;
	if (b->data)
		b->data[0] = '\0';
}

/* Room for n more bytes and a NUL. */
static bool reserve(struct text_buffer *b, size_t n)
{
	if (b->failed)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap;
	while (b->len + n + 1 > cap)
		cap *= 2;
	char *bigger = realloc(b->data, cap);
	if (!bigger) {
		b->failed = true;
		return false;
	}
	b->data = bigger;
	b->cap = cap;
	return true;
}

void text_buffer_append(struct text_buffer *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void text_buffer_puts(struct text_buffer *b, const char *s)
{
	text_buffer_append(b, s, strlen(s));
}

void text_buffer_printf(struct text_buffer *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *text_buffer_take(struct text_buffer *b, size_t *len)
{
	char *out = b->failed ? NULL : b->data;
	if (!out)
		free(b->data);
	*len = out ? b->len : 0;
	b->data = NULL;
	b->len = b->cap = 0;
	return out;
}

void text_buffer_free(struct text_buffer *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
