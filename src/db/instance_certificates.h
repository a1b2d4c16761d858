/*
 * instance_certificates.h — the rows of ctrove_instance_certificates: which
 * names an instance's server certificate carries and when it expires, so the
 * taskmanager can renew it in time. Holds no certificate or key (the guest
 * keeps those); may not issue anything (src/pki/ does).
 */
#ifndef CT_DB_INSTANCE_CERTIFICATES_H
#define CT_DB_INSTANCE_CERTIFICATES_H

#include <stddef.h>

#include "common/error.h"

#define INSTANCE_CERT_SANS_MAX 512

struct instance_cert_row {
	char instance_id[37];
	char sans[INSTANCE_CERT_SANS_MAX]; /* comma-separated */
	long long not_after;		   /* seconds since the epoch */
};

/* Insert or replace the instance's row. */
int instance_cert_record(const char *instance_id, const char *sans, long long not_after,
			 struct ct_error *err);
/* Rows of instances not deleted whose certificate expires before `deadline`
 * (malloc'd; the caller frees). */
int instance_certs_due(long long deadline, struct instance_cert_row **out, size_t *count,
		       struct ct_error *err);
/* The instance's row: 1 found, 0 none, -1 failed. */
int instance_cert_find(const char *instance_id, struct instance_cert_row *out,
		       struct ct_error *err);

#endif
