/*
 * x509_util.c — see pki_internal.h. OpenSSL plumbing only: no files, no policy.
 */
#include "pki/pki_internal.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define BACKDATE_SECONDS 300

EVP_PKEY *pki_new_p256_key(void)
{
	return EVP_EC_gen("P-256");
}

static int random_serial(X509 *cert)
{
	unsigned char bytes[16];
	if (RAND_bytes(bytes, sizeof bytes) != 1)
		return -1;
	bytes[0] &= 0x7f; /* positive, and at most 20 octets encoded */
	BIGNUM *bn = BN_bin2bn(bytes, sizeof bytes, NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

int pki_cert_frame(X509 *cert, EVP_PKEY *key, const char *common_name, long lifetime_seconds)
{
	if (!X509_set_version(cert, X509_VERSION_3) || random_serial(cert))
		return -1;
	if (!X509_gmtime_adj(X509_getm_notBefore(cert), -BACKDATE_SECONDS) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), lifetime_seconds))
		return -1;
	X509_NAME *name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)common_name, -1, -1, 0))
		return -1;
	return X509_set_pubkey(cert, key) ? 0 : -1;
}

int pki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static char *bio_text(BIO *bio)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	char *out = len >= 0 ? malloc((size_t)len + 1) : NULL;
	if (out) {
		memcpy(out, data, (size_t)len);
		out[len] = '\0';
	}
	return out;
}

char *pki_pem_cert(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *out = bio && PEM_write_bio_X509(bio, cert) ? bio_text(bio) : NULL;
	BIO_free(bio);
	return out;
}

char *pki_pem_key(EVP_PKEY *key)
{
	/* A memory BIO frees its buffer without cleansing it: overwrite the key's
	 * bytes before it goes. */
	BIO *bio = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		out = bio_text(bio);
		char *data = NULL;
		long len = BIO_get_mem_data(bio, &data);
		if (len > 0)
			OPENSSL_cleanse(data, (size_t)len);
	}
	BIO_free(bio);
	return out;
}
