/*
 * policy_file.h — read an operator's policy file in oslo.policy's shape: one
 * YAML mapping of rule name to check string (JSON, being YAML, works too).
 * Parsed with libyaml; anchors and aliases, nested values, duplicate names
 * and oversized files are refused with the file and line. Owns nothing past
 * the call; may not parse check strings (policy_check.h) or keep rules
 * (policy.c).
 */
#ifndef CT_API_POLICY_FILE_H
#define CT_API_POLICY_FILE_H

#include "common/error.h"

#define POLICY_FILE_MAX_BYTES (1024 * 1024)
#define POLICY_FILE_MAX_RULES 4096

/* Called for each rule in file order; a -1 from it stops the read (its err
 * stands). */
typedef int (*policy_file_rule)(void *ctx, const char *name, const char *check, int line,
				struct ct_error *err);

/* 0 after every rule was handed to each; -1 with a 400 "<path>:<line>: ..." for
 * a file that is not such a mapping, or with 404 when the file does not exist. */
int policy_file_read(const char *path, policy_file_rule each, void *ctx, struct ct_error *err);

#endif
