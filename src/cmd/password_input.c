/*
 * password_input.c — see password_input.h.
 */
#include "cmd/password_input.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* One line of in into out without its line end; false when nothing was read. */
static bool read_line(FILE *in, char *out, size_t size, bool *too_long)
{
	*too_long = false;
	if (!fgets(out, (int)size, in))
		return false;
	size_t len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	else if (len == size - 1 && !feof(in))
		*too_long = true;
	if (len > 0 && out[len - 1] == '\r')
		out[--len] = '\0';
	return true;
}

/* From the terminal on standard input, echo off while typing. */
static bool prompt(char *out, size_t size, bool *too_long)
{
	struct termios saved, quiet;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fputs("Password: ", stderr);
		fflush(stderr);
	}
	bool got = read_line(stdin, out, size, too_long);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	return got;
}

int password_read(const char *path, char *out, size_t size, struct ct_error *err)
{
	bool too_long = false, got;
	/* One byte more than the longest password, to see that it is too long. */
	size_t room = size < PASSWORD_MAX + 2 ? size : PASSWORD_MAX + 2;
	if (path) {
		FILE *in = fopen(path, "re");
		if (!in)
			return ct_fail(err, 400, "cannot read the password file %s: %s", path,
				       strerror(errno));
		got = read_line(in, out, room, &too_long);
		fclose(in);
	} else {
		got = isatty(STDIN_FILENO) ? prompt(out, room, &too_long)
					   : read_line(stdin, out, room, &too_long);
	}
	if (!got || !out[0] || too_long || strlen(out) > PASSWORD_MAX) {
		OPENSSL_cleanse(out, size);
		return ct_fail(err, 400,
			       "the password (the first line of %s) must be 1 to %d bytes long",
			       path ? path : "standard input", PASSWORD_MAX);
	}
	return 0;
}
