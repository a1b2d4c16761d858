/*
 * https.c — see https.h. Reads the certificate and key with OpenSSL only to
 * check them; libmicrohttpd (GnuTLS) serves them from the PEM text kept here.
 */
#define LOG_MODULE "api"
#include "api/https.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

#define PEM_MAX (1024 * 1024)

bool https_enabled(void)
{
	return *cfg_str(CFG_API_SSL_CERT_FILE) != '\0';
}

static char *read_pem(const char *path, const char *option, struct ct_error *err)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		ct_fail(err, 400, "[ssl] %s %s cannot be read", option, path);
		return NULL;
	}
	char *buf = malloc(PEM_MAX + 1);
	size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
	bool bad = !buf || ferror(f) || n > PEM_MAX || n == 0;
	fclose(f);
	if (bad) {
		if (buf)
			explicit_bzero(buf, n);
		free(buf);
		ct_fail(err, 400, "[ssl] %s %s is empty, unreadable or over 1 MiB", option, path);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The pair parses, matches and is within its dates (an expired certificate
 * would only make every client fail later, one by one). */
static int check_pair(const struct https_files *f, struct ct_error *err)
{
	BIO *cb = BIO_new_mem_buf(f->cert_pem, -1), *kb = BIO_new_mem_buf(f->key_pem, -1);
	X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int rc = 0;
	if (!cert)
		rc = ct_fail(err, 400, "[ssl] cert_file %s holds no PEM certificate",
			     cfg_str(CFG_API_SSL_CERT_FILE));
	else if (!key)
		rc = ct_fail(err, 400,
			     "[ssl] key_file %s holds no PEM private key (or one with a "
			     "passphrase)",
			     cfg_str(CFG_API_SSL_KEY_FILE));
	else if (X509_check_private_key(cert, key) != 1)
		rc = ct_fail(err, 400, "[ssl] key_file %s is not the key of cert_file %s",
			     cfg_str(CFG_API_SSL_KEY_FILE), cfg_str(CFG_API_SSL_CERT_FILE));
	else if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		log_warning("[ssl] cert_file %s has expired: clients will refuse it",
			    cfg_str(CFG_API_SSL_CERT_FILE));
	else if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
		log_warning("[ssl] cert_file %s is not valid yet: clients will refuse it",
			    cfg_str(CFG_API_SSL_CERT_FILE));
	ERR_clear_error();
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

int https_load(struct https_files *out, struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	const char *cert = cfg_str(CFG_API_SSL_CERT_FILE), *key = cfg_str(CFG_API_SSL_KEY_FILE);
	if (!*cert && !*key)
		return 0;
	if (!*cert || !*key)
		return ct_fail(err, 400, "[ssl] cert_file and key_file go together: set both");
	if (!(out->cert_pem = read_pem(cert, "cert_file", err)) ||
	    !(out->key_pem = read_pem(key, "key_file", err)) || check_pair(out, err)) {
		https_free(out);
		return -1;
	}
	return 0;
}

void https_free(struct https_files *f)
{
	if (f->key_pem)
		explicit_bzero(f->key_pem, strlen(f->key_pem));
	free(f->key_pem);
	free(f->cert_pem);
	memset(f, 0, sizeof *f);
}

static bool is_loopback(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

int https_check_plain_bind(const struct sockaddr *addr, struct ct_error *err)
{
	if (is_loopback(addr) || cfg_bool(CFG_API_ALLOW_PLAIN_HTTP))
		return 0;
	return ct_fail(err, 400,
		       "bind_host %s is not a loopback address and [ssl] cert_file is unset: "
		       "passwords and tokens would cross the network in clear text. Set [ssl] "
		       "cert_file and key_file, bind to 127.0.0.1, or set [ssl] "
		       "allow_plain_http = true behind a TLS-terminating proxy",
		       cfg_str(CFG_BIND_HOST));
}
