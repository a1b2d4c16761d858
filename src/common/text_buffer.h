/*
 * text_buffer.h — a growing text buffer for responses that are not JSON (the
 * Prometheus text of /metrics). An allocation failure is remembered and every
 * later call is a no-op, so a writer checks once, at the end.
 * Owns its bytes until text_buffer_take(); may not do I/O.
 */
#ifndef CT_COMMON_TEXT_BUFFER_H
#define CT_COMMON_TEXT_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

struct text_buffer {
	char *data;
	size_t len, cap;
	bool failed;
};

/* cap: bytes to allocate at once (the expected size: no growth on the way). */
void text_buffer_init(struct text_buffer *b, size_t cap);
void text_buffer_append(struct text_buffer *b, const char *s, size_t n);
void text_buffer_puts(struct text_buffer *b, const char *s);
void text_buffer_printf(struct text_buffer *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The text (NUL-terminated, malloc'd: the caller frees it), or NULL after a
 * failure; the buffer is empty after either. */
char *text_buffer_take(struct text_buffer *b, size_t *len);
void text_buffer_free(struct text_buffer *b);

#endif
