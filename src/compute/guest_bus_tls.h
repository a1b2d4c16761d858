/*
 * guest_bus_tls.h — how a local guest reaches a TLS message bus: its own copy
 * of the bus's CA certificate beside its guest.conf (readable by the agent
 * whatever the control plane's file modes are) and the
 * [oslo_messaging_rabbit] section naming it. Nothing for a plain bus.
 *
 * Owns <instance dir>/bus-ca.pem; may not touch anything else of the instance
 * nor the control plane's CA file (only read).
 */
#ifndef CT_COMPUTE_GUEST_BUS_TLS_H
#define CT_COMPUTE_GUEST_BUS_TLS_H

#include <stdio.h>

#include "common/error.h"

/* Appends the section to f when guest_url (the guest's own transport URL) or
 * [oslo_messaging_rabbit] ssl asks for TLS, after copying the CA into dir. */
int guest_bus_tls_write(FILE *f, const char *guest_url, const char *dir, struct ct_error *err);
/* The CA certificate file a guest on guest_url needs: *ca_file = NULL on a
 * plain bus, else [oslo_messaging_rabbit] ssl_ca_file (500 when unset). For
 * drivers that ship the CA to the guest themselves (nova's user data). */
int guest_bus_tls_ca_file(const char *guest_url, const char **ca_file, struct ct_error *err);

#endif
