/*
 * instance_tls.c — see instance_tls.h.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/instance_tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "db/instance_certificates.h"
#include "db/instances.h"
#include "guest/api.h"
#include "pki/ca.h"
#include "taskmanager/periodic.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* sans: comma-separated, as the row keeps them. */
static int issue_for(const char *instance_id, const char *sans, struct pki_server_cert *cert,
		     struct guest_tls *tls, struct ct_error *err)
{
	char copy[INSTANCE_CERT_SANS_MAX];
	const char *names[PKI_MAX_SANS];
	size_t n = 0;
	snprintf(copy, sizeof copy, "%s", sans);
	char *save = NULL;
	for (char *s = strtok_r(copy, ",", &save); s && n < PKI_MAX_SANS;
	     s = strtok_r(NULL, ",", &save))
		names[n++] = s;
	const char *ca = pki_ca_cert_pem();
	if (!ca)
		return ct_fail(err, 500, "the CA is not loaded");
	double t0 = now_ms();
	if (pki_issue_server_cert(names, n, cfg_int(CFG_SSL_INSTANCE_CERT_LIFETIME), cert, err))
		return -1;
	log_debug("server certificate for %s issued in %.2f ms", sans, now_ms() - t0);
	if (instance_cert_record(instance_id, sans, (long long)cert->not_after, err)) {
		pki_server_cert_clear(cert);
		return -1;
	}
	*tls = (struct guest_tls){cert->cert_pem, cert->key_pem, ca};
	return 0;
}

int instance_tls_issue(const char *instance_id, const char *address, struct pki_server_cert *cert,
		       struct guest_tls *tls, struct ct_error *err)
{
	if (!address[0] || strchr(address, ','))
		return ct_fail(err, 500, "the instance has no address for its certificate");
	return issue_for(instance_id, address, cert, tls, err);
}

static int renew_one(const struct instance_cert_row *row, struct ct_error *err)
{
	struct instance in;
	if (instance_load(row->instance_id, NULL, &in, err))
		return -1;
	struct pki_server_cert cert;
	struct guest_tls tls;
	long long was = row->not_after;
	if (issue_for(row->instance_id, row->sans, &cert, &tls, err))
		return -1;
	const struct guest_ref guest = {in.id, in.encrypted_key};
	int rc = guest_rotate_tls(&guest, &tls, err);
	if (rc) /* the guest keeps the old one: try again at the next check */
		instance_cert_record(row->instance_id, row->sans, was, NULL);
	else
		log_info("server certificate renewed (valid until %lld)",
			 (long long)cert.not_after);
	pki_server_cert_clear(&cert);
	return rc;
}

int instance_tls_renew_due(struct ct_error *err)
{
	struct instance_cert_row *rows = NULL;
	size_t n = 0;
	long long deadline = (long long)time(NULL) + cfg_int(CFG_SSL_INSTANCE_CERT_RENEW_BEFORE);
	if (instance_certs_due(deadline, &rows, &n, err))
		return -1;
	int renewed = 0;
	for (size_t i = 0; i < n; i++) {
		struct ct_error one = {0};
		log_set_context(NULL, rows[i].instance_id);
		if (renew_one(&rows[i], &one))
			log_warning("server certificate not renewed: %s", one.message);
		else
			renewed++;
		log_clear_context();
	}
	free(rows);
	return renewed;
}

static void renew_due(void)
{
	struct ct_error err = {0};
	if (instance_tls_renew_due(&err) < 0)
		log_error("certificate renewal check failed: %s", err.message);
}

static long check_interval_ms(void)
{
	long seconds = cfg_int(CFG_SSL_INSTANCE_CERT_CHECK_INTERVAL);
	return 1000 * (seconds < 1 ? 1 : seconds);
}

static struct periodic renewer =
	PERIODIC("certificate renewal", renew_due, check_interval_ms, true);

int instance_tls_rotation_start(struct ct_error *err)
{
	return periodic_start(&renewer, err);
}

void instance_tls_rotation_stop(void)
{
	periodic_stop(&renewer);
}
