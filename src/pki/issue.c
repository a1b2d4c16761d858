/*
 * issue.c — see issue.h.
 */
#include "pki/issue.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"

#define SAN_TEXT_MAX 2048

static bool is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* RFC 1123 host names, optionally with one leading "*." label. */
static bool is_dns_name(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (!len || len > 253)
		return false;
	if (!strncmp(s, "*.", 2))
		s += 2;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (c == '.') {
			if (!label || p[-1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[strlen(s) - 1] != '-';
}

static int san_text(const char *const *sans, size_t n, char *out, size_t size, struct ct_error *err)
{
	if (!n || n > PKI_MAX_SANS)
		return ct_fail(err, 400, "a server certificate needs 1 to %d names", PKI_MAX_SANS);
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		const char *kind = is_ip(sans[i]) ? "IP" : is_dns_name(sans[i]) ? "DNS" : NULL;
		if (!kind)
			return ct_fail(err, 400, "'%s' is neither an IP address nor a DNS name",
				       sans[i]);
		int w = snprintf(out + used, size - used, "%s%s:%s", i ? "," : "", kind, sans[i]);
		if (w < 0 || (size_t)w >= size - used)
			return ct_fail(err, 400, "the certificate's names are too long");
		used += (size_t)w;
	}
	return 0;
}

int pki_issue_server_cert(const char *const *sans, size_t n_sans, long lifetime_seconds,
			  struct pki_server_cert *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	char san[SAN_TEXT_MAX];
	if (san_text(sans, n_sans, san, sizeof san, err))
		return -1;
	if (lifetime_seconds < 1)
		return ct_fail(err, 400, "a certificate's lifetime must be at least one second");
	X509 *ca = pki_ca_x509();
	EVP_PKEY *ca_key = pki_ca_pkey();
	if (!ca || !ca_key)
		return ct_fail(err, 500, "the CA is not loaded");
	EVP_PKEY *key = pki_new_p256_key();
	X509 *cert = X509_new();
	int rc = 0;
	if (!key || !cert || pki_cert_frame(cert, key, sans[0], lifetime_seconds) ||
	    !X509_set_issuer_name(cert, X509_get_subject_name(ca)) ||
	    pki_add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    pki_add_ext(cert, ca, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
	    pki_add_ext(cert, ca, NID_ext_key_usage, "serverAuth") ||
	    pki_add_ext(cert, ca, NID_subject_key_identifier, "hash") ||
	    pki_add_ext(cert, ca, NID_authority_key_identifier, "keyid:always") ||
	    pki_add_ext(cert, ca, NID_subject_alt_name, san) ||
	    !X509_sign(cert, ca_key, EVP_sha256())) {
		rc = ct_fail(err, 500, "cannot issue the server certificate (OpenSSL)");
	} else {
		out->cert_pem = pki_pem_cert(cert);
		out->key_pem = pki_pem_key(key);
		if (!out->cert_pem || !out->key_pem ||
		    pki_cert_not_after(out->cert_pem, &out->not_after, err)) {
			pki_server_cert_clear(out);
			rc = ct_fail(err, 500, "out of memory");
		}
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

void pki_server_cert_clear(struct pki_server_cert *cert)
{
	if (cert->key_pem)
		OPENSSL_clear_free(cert->key_pem, strlen(cert->key_pem));
	free(cert->cert_pem);
	memset(cert, 0, sizeof *cert);
}

int pki_cert_not_after(const char *cert_pem, time_t *out, struct ct_error *err)
{
	BIO *in = BIO_new_mem_buf(cert_pem, -1);
	X509 *cert = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
	BIO_free(in);
	struct tm tm;
	int ok = cert && ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1;
	X509_free(cert);
	if (!ok)
		return ct_fail(err, 400, "not a PEM certificate");
	*out = timegm(&tm);
	return 0;
}
