/*
 * pki_internal.h — what ca.c and issue.c share: the loaded CA's objects and the
 * OpenSSL steps both kinds of certificate take (x509_util.c). Not for use
 * outside src/pki/.
 */
#ifndef CT_PKI_INTERNAL_H
#define CT_PKI_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The CA of pki_ca_init(); NULL before it. Borrowed. */
X509 *pki_ca_x509(void);
EVP_PKEY *pki_ca_pkey(void);

EVP_PKEY *pki_new_p256_key(void);

/* Version 3, a random positive 127-bit serial, the validity window and the
 * public key; the subject is a CN. Backdates notBefore a little so a peer whose
 * clock is a bit behind still accepts a certificate made just now. */
int pki_cert_frame(X509 *cert, EVP_PKEY *key, const char *common_name, long lifetime_seconds);

/* One extension in OpenSSL's config syntax ("critical,CA:TRUE"), with issuer
 * (NULL = self-signed) so that authorityKeyIdentifier resolves. */
int pki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

/* PEM text, malloc'd; NULL when out of memory. */
char *pki_pem_cert(X509 *cert);
char *pki_pem_key(EVP_PKEY *key);

#endif
