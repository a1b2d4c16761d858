/*
 * test_pki.c — src/pki: ctrove's own CA (created once, 0700/0600, reloaded the
 * same, one CA when processes race), the operator's CA (and the mistakes it may
 * hold), server certificates (SANs, chain, lifetime, bad names).
 */
#include "testutil.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/config.h"
#include "pki/ca.h"
#include "pki/issue.h"

static char state_dir[64];

static int setup(void **state)
{
	(void)state;
	cfg_reset();
	scratch_create(state_dir, "pki");
	return 0;
}

static void remove_ca(const char *state_path)
{
	char ca[256];
	snprintf(ca, sizeof ca, "%s/%s", state_path, PKI_CA_DIR);
	scratch_remove(ca);
}

static int teardown(void **state)
{
	(void)state;
	pki_ca_shutdown();
	remove_ca(state_dir);
	scratch_remove(state_dir);
	cfg_free();
	return 0;
}

static X509 *parse_cert(const char *pem)
{
	BIO *in = BIO_new_mem_buf(pem, -1);
	X509 *cert = PEM_read_bio_X509(in, NULL, NULL, NULL);
	BIO_free(in);
	assert_non_null(cert);
	return cert;
}

/* 1 when cert chains to the CA in ca_pem now (or at `at` when not 0). */
static int verifies(const char *cert_pem, const char *ca_pem, time_t at)
{
	X509 *cert = parse_cert(cert_pem), *ca = parse_cert(ca_pem);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, cert, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (at)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	int ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(cert);
	return ok;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

static void test_own_ca_created_once(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_null(pki_ca_cert_pem());
	assert_int_equal(pki_ca_init(state_dir, &err), 0);
	char *first = strdup(pki_ca_cert_pem());
	assert_non_null(strstr(first, "BEGIN CERTIFICATE"));

	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/ca", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof path, "%s/ca/ca.key", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof path, "%s/ca/ca.pem", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	char *published = read_text(path);
	assert_string_equal(published, first);
	assert_null(strstr(published, "PRIVATE KEY"));

	X509 *ca = parse_cert(first);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_true(X509_cmp_time(X509_get0_notAfter(ca),
				  &(time_t){time(NULL) + 9L * 365 * 86400}) > 0);
	X509_free(ca);

	/* A second start (or a second process) finds the same CA. */
	assert_int_equal(pki_ca_init(state_dir, &err), 0);
	assert_string_equal(pki_ca_cert_pem(), first);
	free(published);
	free(first);
}

static void test_own_ca_race(void **state)
{
	(void)state;
	enum { N = 6 };
	pid_t kids[N];
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			struct ct_error err = {0};
			int rc = pki_ca_init(state_dir, &err);
			char out[128];
			snprintf(out, sizeof out, "%s/seen.%d", state_dir, i);
			FILE *f = fopen(out, "w");
			if (!rc && f)
				fputs(pki_ca_cert_pem(), f);
			if (f)
				fclose(f);
			pki_ca_shutdown();
			_exit(rc ? 1 : 0);
		}
	}
	for (int i = 0; i < N; i++) {
		int status = 0;
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	struct ct_error err = {0};
	assert_int_equal(pki_ca_init(state_dir, &err), 0);
	for (int i = 0; i < N; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/seen.%d", state_dir, i);
		char *seen = read_text(path);
		assert_string_equal(seen, pki_ca_cert_pem());
		free(seen);
		unlink(path);
	}
	/* No temporary file is left behind by the losers. */
	char dir[128];
	snprintf(dir, sizeof dir, "%s/ca", state_dir);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int files = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")))
			files++;
	closedir(d);
	assert_int_equal(files, 2);
}

static void test_issue_server_cert(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(pki_ca_init(state_dir, &err), 0);
	const char *sans[] = {"127.10.0.7", "db1.example.com", "::1"};
	struct pki_server_cert c;
	time_t before = time(NULL);
	assert_int_equal(pki_issue_server_cert(sans, 3, 3600, &c, &err), 0);
	assert_non_null(strstr(c.key_pem, "PRIVATE KEY"));
	assert_true(c.not_after >= before + 3600 && c.not_after <= time(NULL) + 3600);
	assert_int_equal(verifies(c.cert_pem, pki_ca_cert_pem(), 0), 1);

	X509 *cert = parse_cert(c.cert_pem);
	assert_int_equal(X509_check_ip_asc(cert, "127.10.0.7", 0), 1);
	assert_int_equal(X509_check_ip_asc(cert, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(cert, "127.10.0.8", 0), 0);
	assert_int_equal(X509_check_host(cert, "db1.example.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(cert, "db2.example.com", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ca(cert), 0);
	time_t parsed = 0;
	assert_int_equal(pki_cert_not_after(c.cert_pem, &parsed, &err), 0);
	assert_int_equal(parsed, c.not_after);
	X509_free(cert);

	/* Each certificate has its own key and serial. */
	struct pki_server_cert d;
	assert_int_equal(pki_issue_server_cert(sans, 1, 3600, &d, &err), 0);
	assert_string_not_equal(c.key_pem, d.key_pem);
	X509 *x = parse_cert(c.cert_pem), *y = parse_cert(d.cert_pem);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(y)),
			     0);
	X509_free(x);
	X509_free(y);
	pki_server_cert_clear(&c);
	pki_server_cert_clear(&d);
	assert_null(c.cert_pem);
	assert_null(c.key_pem);
}

static void test_expiry(void **state)
{
	(void)state;
	struct ct_error err = {0};
	assert_int_equal(pki_ca_init(state_dir, &err), 0);
	const char *sans[] = {"127.0.0.1"};
	struct pki_server_cert c;
	assert_int_equal(pki_issue_server_cert(sans, 1, 60, &c, &err), 0);
	assert_int_equal(verifies(c.cert_pem, pki_ca_cert_pem(), 0), 1);
	assert_int_equal(verifies(c.cert_pem, pki_ca_cert_pem(), time(NULL) + 61), 0);
	pki_server_cert_clear(&c);
}

static void test_bad_requests(void **state)
{
	(void)state;
	struct ct_error err = {0};
	const char *sans[] = {"127.0.0.1"};
	struct pki_server_cert c;
	assert_int_equal(pki_issue_server_cert(sans, 1, 60, &c, &err), -1);
	assert_int_equal(err.status, 500); /* no CA yet */
	assert_int_equal(pki_ca_init(state_dir, &err), 0);
	static const char *const bad[] = {
		"",
		"bad name",
		"a..b",
		"-a.b",
		"a-.b",
		"a/b",
		"127.0.0.1\n",
		"x@y",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ct_error_clear(&err);
		assert_int_equal(pki_issue_server_cert(&bad[i], 1, 60, &c, &err), -1);
		assert_int_equal(err.status, 400);
		assert_null(c.cert_pem);
	}
	assert_int_equal(pki_issue_server_cert(sans, 0, 60, &c, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(pki_issue_server_cert(sans, 1, 0, &c, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(pki_cert_not_after("not a certificate", &(time_t){0}, &err), -1);
	assert_int_equal(err.status, 400);
}

static void test_operator_ca(void **state)
{
	(void)state;
	struct ct_error err = {0};
	/* An operator CA: made here as ctrove's own in another directory. */
	char other[64];
	scratch_create(other, "pki-op");
	assert_int_equal(pki_ca_init(other, &err), 0);
	char *operator_pem = strdup(pki_ca_cert_pem());
	char cert_file[256], key_file[256];
	snprintf(cert_file, sizeof cert_file, "%s/ca/ca.pem", other);
	snprintf(key_file, sizeof key_file, "%s/ca/ca.key", other);

	assert_int_equal(cfg_set(CFG_SSL_CA_CERT_FILE, cert_file, &err), 0);
	assert_int_equal(cfg_set(CFG_SSL_CA_KEY_FILE, key_file, &err), 0);
	assert_int_equal(pki_ca_init(state_dir, &err), 0);
	assert_string_equal(pki_ca_cert_pem(), operator_pem);
	char own[128];
	snprintf(own, sizeof own, "%s/ca", state_dir);
	assert_int_equal(access(own, F_OK), -1); /* no CA of ctrove's own made */
	const char *sans[] = {"127.0.0.1"};
	struct pki_server_cert c;
	assert_int_equal(pki_issue_server_cert(sans, 1, 60, &c, &err), 0);
	assert_int_equal(verifies(c.cert_pem, operator_pem, 0), 1);

	/* A key that is not the certificate's. */
	char wrong_key[512];
	scratch_write(state_dir, "wrong.key", c.key_pem, wrong_key);
	assert_int_equal(cfg_set(CFG_SSL_CA_KEY_FILE, wrong_key, &err), 0);
	assert_int_equal(pki_ca_init(state_dir, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "does not belong"));
	assert_null(pki_ca_cert_pem());

	/* A server certificate is no CA. */
	char leaf[512];
	scratch_write(state_dir, "leaf.pem", c.cert_pem, leaf);
	assert_int_equal(cfg_set(CFG_SSL_CA_CERT_FILE, leaf, &err), 0);
	assert_int_equal(pki_ca_init(state_dir, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "not a CA"));

	/* Half a configuration, a missing file. */
	assert_int_equal(cfg_set(CFG_SSL_CA_KEY_FILE, "", &err), 0);
	assert_int_equal(pki_ca_init(state_dir, &err), -1);
	assert_non_null(strstr(err.message, "ca_key_file is not"));
	assert_int_equal(cfg_set(CFG_SSL_CA_CERT_FILE, "", &err), 0);
	assert_int_equal(cfg_set(CFG_SSL_CA_KEY_FILE, key_file, &err), 0);
	assert_int_equal(pki_ca_init(state_dir, &err), -1);
	assert_non_null(strstr(err.message, "ca_cert_file is not"));
	assert_int_equal(cfg_set(CFG_SSL_CA_CERT_FILE, "/nonexistent/ca.pem", &err), 0);
	assert_int_equal(pki_ca_init(state_dir, &err), -1);
	assert_int_equal(err.status, 400);

	pki_server_cert_clear(&c);
	unlink(wrong_key);
	unlink(leaf);
	free(operator_pem);
	remove_ca(other);
	scratch_remove(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_own_ca_created_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_ca_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_server_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_operator_ca, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
