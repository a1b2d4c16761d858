/*
 * error.h — the one error idiom of ctrove.
 *
 * A function that can fail returns int (0 = ok, -1 = failed) or a pointer (NULL =
 * failed) and takes a `struct ct_error *err` as its last argument, which it fills
 * on failure with an HTTP-style status and a user-facing message. The status is
 * the one Trove would answer (400, 404, 413, 422, 500, 501 ...), so the API layer
 * turns an error into a fault body without translation. Internal failures use 500
 * and log their detail; the message given to users never carries secrets.
 * Owns nothing; may not log (callers decide what is worth a log line).
 */
#ifndef CT_COMMON_ERROR_H
#define CT_COMMON_ERROR_H

#include <stdarg.h>

#define CT_ERROR_MESSAGE_MAX 1024

struct ct_error {
	int status;			    /* HTTP status Trove would answer */
	char message[CT_ERROR_MESSAGE_MAX]; /* user-facing text, no secrets */
};

/* Fill err (if not NULL) and return -1, so callers can `return ct_fail(...)`. */
int ct_fail(struct ct_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ct_failv(struct ct_error *err, int status, const char *fmt, va_list ap);

/* Reset to "no error". */
void ct_error_clear(struct ct_error *err);

#endif
