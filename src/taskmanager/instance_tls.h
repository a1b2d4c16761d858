/*
 * instance_tls.h — instances' server certificates on the control plane: one
 * issued from the CA (pki/) at build time for the instance's address(es) and
 * sent in prepare, its names and expiry recorded (db/instance_certificates.h),
 * and a periodic check on its own thread that renews every certificate due
 * within [ssl] instance_cert_renew_before through the guest's rotate_tls. Owns
 * that thread; the key never outlives the message that carries it.
 */
#ifndef CT_TASKMANAGER_INSTANCE_TLS_H
#define CT_TASKMANAGER_INSTANCE_TLS_H

#include "common/error.h"
#include "guest/models.h"
#include "pki/issue.h"

/* A certificate for the instance at `address` (SANs: the address), recorded
 * for renewal. On success *cert is filled (pki_server_cert_clear() after) and
 * *tls points into it and at the CA, for guest_prepare. */
int instance_tls_issue(const char *instance_id, const char *address, struct pki_server_cert *cert,
		       struct guest_tls *tls, struct ct_error *err);

/* Renew what is due now; the number renewed, or -1. One pass of the thread. */
int instance_tls_renew_due(struct ct_error *err);

/* The renewal thread: every [ssl] instance_cert_check_interval seconds. */
int instance_tls_rotation_start(struct ct_error *err);
void instance_tls_rotation_stop(void);

#endif
