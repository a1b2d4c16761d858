/*
 * ca.c — see ca.h. Never logs, prints or returns the CA key.
 */
#define LOG_MODULE "pki"
#include "pki/ca.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "pki/pki_internal.h"

#define CA_LIFETIME_SECONDS (3650L * 86400)

static X509 *ca_cert;
static EVP_PKEY *ca_key;
static char *ca_pem;

X509 *pki_ca_x509(void)
{
	return ca_cert;
}

EVP_PKEY *pki_ca_pkey(void)
{
	return ca_key;
}

const char *pki_ca_cert_pem(void)
{
	return ca_pem;
}

void pki_ca_shutdown(void)
{
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	free(ca_pem);
	ca_cert = NULL;
	ca_key = NULL;
	ca_pem = NULL;
}

/* Both halves must belong together and the certificate must be a CA's. */
static int adopt(X509 *cert, EVP_PKEY *key, const char *source, struct ct_error *err)
{
	int rc = 0;
	if (!cert || !key)
		rc = ct_fail(err, 400, "%s: no PEM certificate and private key", source);
	else if (X509_check_private_key(cert, key) != 1)
		rc = ct_fail(err, 400, "%s: the private key does not belong to the certificate",
			     source);
	else if (X509_check_ca(cert) < 1)
		rc = ct_fail(err, 400, "%s: the certificate is not a CA's (basicConstraints)",
			     source);
	else if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		rc = ct_fail(err, 400, "%s: the CA certificate has expired", source);
	else if (!(ca_pem = pki_pem_cert(cert)))
		rc = ct_fail(err, 500, "out of memory");
	if (rc) {
		X509_free(cert);
		EVP_PKEY_free(key);
		return -1;
	}
	ca_cert = cert;
	ca_key = key;
	return 0;
}

static int load_operator_ca(const char *cert_file, const char *key_file, struct ct_error *err)
{
	if (!key_file[0])
		return ct_fail(err, 400, "[ssl] ca_cert_file is set but ca_key_file is not");
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	BIO *in = BIO_new_file(cert_file, "r");
	if (!in)
		return ct_fail(err, 400, "[ssl] ca_cert_file %s: %s", cert_file, strerror(errno));
	cert = PEM_read_bio_X509(in, NULL, NULL, NULL);
	BIO_free(in);
	if (!(in = BIO_new_file(key_file, "r"))) {
		X509_free(cert);
		return ct_fail(err, 400, "[ssl] ca_key_file %s: %s", key_file, strerror(errno));
	}
	key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	BIO_free(in);
	return adopt(cert, key, "[ssl] ca_cert_file/ca_key_file", err);
}

/* 1 = no file; 0 = loaded; -1 = error. */
static int read_own_ca(const char *path, struct ct_error *err)
{
	BIO *in = BIO_new_file(path, "r");
	if (!in) {
		if (errno == ENOENT)
			return 1;
		return ct_fail(err, 500, "cannot read %s: %s", path, strerror(errno));
	}
	EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	X509 *cert = key ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
	BIO_free(in);
	return adopt(cert, key, path, err);
}

static int self_signed(X509 **cert_out, EVP_PKEY **key_out)
{
	char suffix[33], name[64];
	ids_hex32(suffix);
	suffix[8] = '\0'; /* two installations' CAs never share a subject */
	snprintf(name, sizeof name, "ctrove CA %s", suffix);
	EVP_PKEY *key = pki_new_p256_key();
	X509 *cert = X509_new();
	if (!key || !cert || pki_cert_frame(cert, key, name, CA_LIFETIME_SECONDS) ||
	    !X509_set_issuer_name(cert, X509_get_subject_name(cert)) ||
	    pki_add_ext(cert, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    pki_add_ext(cert, NULL, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    pki_add_ext(cert, NULL, NID_subject_key_identifier, "hash") ||
	    pki_add_ext(cert, NULL, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(cert, key, EVP_sha256())) {
		X509_free(cert);
		EVP_PKEY_free(key);
		return -1;
	}
	*cert_out = cert;
	*key_out = key;
	return 0;
}

/* The key and the certificate in one file written under a temporary name and
 * linked into place: a reader sees no CA or a whole one, and of two processes
 * racing, one CA wins and the loser reads it. */
static int create_own_ca(const char *dir, const char *path, struct ct_error *err)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	if (self_signed(&cert, &key))
		return ct_fail(err, 500, "cannot make the CA certificate (OpenSSL)");
	char *key_pem = pki_pem_key(key), *cert_pem = pki_pem_cert(cert);
	X509_free(cert);
	EVP_PKEY_free(key);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s/.ca.key.XXXXXX", dir);
	int fd = key_pem && cert_pem ? mkstemp(tmp) : -1; /* mode 0600 */
	int rc = 0;
	if (!key_pem || !cert_pem) {
		rc = ct_fail(err, 500, "out of memory");
	} else if (fd < 0) {
		rc = ct_fail(err, 500, "cannot create %s: %s", tmp, strerror(errno));
	} else {
		size_t klen = strlen(key_pem), clen = strlen(cert_pem);
		bool written = write(fd, key_pem, klen) == (ssize_t)klen &&
			       write(fd, cert_pem, clen) == (ssize_t)clen && fsync(fd) == 0;
		close(fd);
		if (!written)
			rc = ct_fail(err, 500, "cannot write %s: %s", tmp, strerror(errno));
		else if (link(tmp, path) == 0)
			log_info("created the ctrove CA in %s", dir);
		else if (errno != EEXIST)
			rc = ct_fail(err, 500, "cannot create %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	if (key_pem)
		OPENSSL_clear_free(key_pem, strlen(key_pem));
	free(cert_pem);
	return rc ? -1 : read_own_ca(path, err) ? -1 : 0;
}

/* ca.pem for operators and scripts: the certificate alone, readable by all;
 * rewritten through rename(2) when it is missing or differs. */
static int publish_cert(const char *dir, struct ct_error *err)
{
	char path[4096], tmp[4096];
	snprintf(path, sizeof path, "%s/%s", dir, PKI_CA_CERT_FILE);
	size_t len = strlen(ca_pem);
	char current[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t got = read(fd, current, sizeof current);
		close(fd);
		if (got == (ssize_t)len && !memcmp(current, ca_pem, len))
			return 0;
	}
	snprintf(tmp, sizeof tmp, "%s/.ca.pem.XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0)
		return ct_fail(err, 500, "cannot create %s: %s", tmp, strerror(errno));
	bool ok = write(fd, ca_pem, len) == (ssize_t)len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path)) {
		unlink(tmp);
		return ct_fail(err, 500, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

static int load_own_ca(const char *state_path, struct ct_error *err)
{
	char dir[4000], path[4096];
	if ((size_t)snprintf(dir, sizeof dir, "%s/%s", state_path, PKI_CA_DIR) >= sizeof dir)
		return ct_fail(err, 500, "the state path is too long for the CA");
	snprintf(path, sizeof path, "%s/%s", dir, PKI_CA_KEY_FILE);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return ct_fail(err, 500, "cannot create %s: %s", dir, strerror(errno));
	struct stat st;
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode))
		return ct_fail(err, 500, "%s is not a directory", dir);
	/* An older umask or a copy may have opened it up: the key's directory is
	 * the control plane's alone. */
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700))
		return ct_fail(err, 500, "cannot chmod %s: %s", dir, strerror(errno));
	int rc = read_own_ca(path, err);
	if (rc == 1)
		rc = create_own_ca(dir, path, err);
	return rc ? -1 : publish_cert(dir, err);
}

int pki_ca_init(const char *state_path, struct ct_error *err)
{
	pki_ca_shutdown();
	const char *cert_file = cfg_str(CFG_SSL_CA_CERT_FILE);
	if (cert_file[0])
		return load_operator_ca(cert_file, cfg_str(CFG_SSL_CA_KEY_FILE), err);
	if (cfg_str(CFG_SSL_CA_KEY_FILE)[0])
		return ct_fail(err, 400, "[ssl] ca_key_file is set but ca_cert_file is not");
	return load_own_ca(state_path, err);
}
