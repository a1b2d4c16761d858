/*
 * ca.h — the CA that signs instances' (and the API's) server certificates.
 *
 * Owns the CA's certificate and private key for the life of the process: the
 * operator's ([ssl] ca_cert_file + ca_key_file) or ctrove's own, created on
 * first run in <state_path>/ca/ (directory 0700, ca.key 0600 holding the key and
 * the certificate, ca.pem 0644 the certificate alone) and published with
 * link(2), so processes started together end up with one CA. May use common
 * only; never logs or returns the key. docs/tls.md.
 *
 * Threads: after pki_ca_init() the CA is read-only and may be used from any
 * thread until pki_ca_shutdown().
 */
#ifndef CT_PKI_CA_H
#define CT_PKI_CA_H

#include <stdbool.h>

#include "common/error.h"

/* The files of ctrove's own CA under <state_path>. */
#define PKI_CA_DIR	 "ca"
#define PKI_CA_KEY_FILE	 "ca.key"
#define PKI_CA_CERT_FILE "ca.pem"

/* Load the configured CA, else ctrove's own (made on first run). Idempotent:
 * a second call replaces the first CA. */
int pki_ca_init(const char *state_path, struct ct_error *err);

/* The CA certificate in PEM; NULL before pki_ca_init(). Borrowed. */
const char *pki_ca_cert_pem(void);

void pki_ca_shutdown(void);

#endif
