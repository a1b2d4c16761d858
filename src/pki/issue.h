/*
 * issue.h — server certificates signed by the CA of ca.h.
 *
 * Owns the shape of a server certificate: a fresh P-256 key, the given SANs
 * (IP addresses and DNS names), serverAuth, the chosen lifetime. May not touch
 * the CA's files (ca.c) nor decide where a certificate goes (callers).
 */
#ifndef CT_PKI_ISSUE_H
#define CT_PKI_ISSUE_H

#include <stddef.h>
#include <time.h>

#include "common/error.h"

#define PKI_MAX_SANS 8

struct pki_server_cert {
	char *cert_pem; /* the certificate, PEM; malloc'd */
	char *key_pem;	/* its private key, PEM (PKCS#8); malloc'd, cleansed on clear */
	time_t not_after;
};

/* Issue a certificate for sans (each an IPv4/IPv6 address or a DNS name; the
 * first is also the subject's CN) valid from now for lifetime_seconds. 400 for a
 * SAN that is neither, 500 when there is no CA. */
int pki_issue_server_cert(const char *const *sans, size_t n_sans, long lifetime_seconds,
			  struct pki_server_cert *out, struct ct_error *err);

/* Free both texts; the key's bytes are overwritten first. */
void pki_server_cert_clear(struct pki_server_cert *cert);

/* The notAfter of a PEM certificate, as a time_t. */
int pki_cert_not_after(const char *cert_pem, time_t *out, struct ct_error *err);

#endif
