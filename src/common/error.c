/*
 * error.c — filling struct ct_error (see error.h for the idiom).
 */
#include "common/error.h"

#include <stdio.h>

int ct_failv(struct ct_error *err, int status, const char *fmt, va_list ap)
{
	if (err) {
		err->status = status;
		vsnprintf(err->message, sizeof err->message, fmt, ap);
	}
	return -1;
}

int ct_fail(struct ct_error *err, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ct_failv(err, status, fmt, ap);
	va_end(ap);
	return -1;
}

void ct_error_clear(struct ct_error *err)
{
	err->status = 0;
	err->message[0] = '\0';
}
