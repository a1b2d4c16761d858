/*
 * password_input.h — how `ctrove manage` gets a password: the first line of a
 * file (--password-file) or of standard input, prompted for without echo when
 * standard input is a terminal — never from argv, where every user of the
 * machine can read it in /proc. Owns nothing; the caller wipes the buffer.
 */
#ifndef CT_CMD_PASSWORD_INPUT_H
#define CT_CMD_PASSWORD_INPUT_H

#include <stddef.h>

#include "common/error.h"

#define PASSWORD_MAX 4096

/* The password into out (size > PASSWORD_MAX); 400 when it is empty, longer
 * than PASSWORD_MAX or the file cannot be read. */
int password_read(const char *path, char *out, size_t size, struct ct_error *err);

#endif
