/*
 * manage_pki.h — `ctrove manage issue_certificate` and `ca_certificate`: a server
 * certificate from the ctrove CA written to a directory (for the API's HTTPS and
 * anything else the operator serves), and the CA certificate on standard output.
 * Owns the files it writes; never prints a key.
 */
#ifndef CT_CMD_MANAGE_PKI_H
#define CT_CMD_MANAGE_PKI_H

#include <stddef.h>

#include "common/error.h"

/* Writes <out_dir>/cert.pem (0644), key.pem (0600) and ca.pem (0644). */
int manage_issue_certificate(const char *const *sans, size_t n_sans, const char *days,
			     const char *out_dir, struct ct_error *err);

int manage_print_ca_certificate(struct ct_error *err);

#endif
