/*
 * run.h — running the machine tools of the local compute driver (mkfs, mount,
 * losetup, xfs_growfs, nft ...) without a shell.
 *
 * argv goes straight to execvp(): no command line is ever built from strings, so
 * no instance name, path or CIDR can be interpreted by a shell. The tool's stdin
 * is fed from `input` (or /dev/null), its stdout and stderr are captured, and it
 * is killed when it outlives [local] tool_timeout. Owns nothing; never logs a
 * tool's input (it may be an nft script, never a secret, but callers decide).
 * May not touch the caller's signal dispositions: a caller that ignores SIGCHLD
 * cannot use this module (waitpid would fail, reported as a 500).
 */
#ifndef CT_COMPUTE_RUN_H
#define CT_COMPUTE_RUN_H

#include <stdbool.h>

#include "common/error.h"

#define RUN_OUTPUT_MAX 8192
#define RUN_STDERR_MAX 2048

struct run_result {
	int status;		      /* exit code; 128 + signal when killed */
	bool timed_out;		      /* killed by the timeout */
	char out[RUN_OUTPUT_MAX];     /* stdout, NUL-terminated, truncated */
	char errtext[RUN_STDERR_MAX]; /* stderr, NUL-terminated, truncated */
};

/* Run argv[0] (looked up in PATH) with argv, stdin fed from input (NULL =
 * /dev/null). Returns 0 when the tool ran (whatever its exit code, in
 * res->status), -1 when it could not be started: 501 when the program is not
 * installed, 500 otherwise. */
int run_tool(const char *const argv[], const char *input, struct run_result *res,
	     struct ct_error *err);

/* run_tool() that also fails (500) when the exit code is not 0; the message
 * names the tool and carries the first line of its stderr. */
int run_tool_ok(const char *const argv[], const char *input, struct run_result *res,
		struct ct_error *err);

/* True when `name` is an executable in PATH (or an executable path). */
bool run_have_tool(const char *name);

#endif
