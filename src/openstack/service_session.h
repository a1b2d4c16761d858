/*
 * service_session.h — the control plane's own Keystone session, from
 * [service_credentials] (Trove's service user: it owns instances' servers,
 * volumes, ports and security groups).
 *
 * Owns nothing beyond the call: the caller frees the session. May not read
 * any option outside [service_credentials].
 */
#ifndef CT_OPENSTACK_SERVICE_SESSION_H
#define CT_OPENSTACK_SERVICE_SESSION_H

#include "common/error.h"
#include "openstack/session.h"

/* [service_credentials] as credentials (the strings are the config's). */
struct os_credentials os_service_credentials(void);

/* A session authenticated with [service_credentials]; NULL with err (500 when
 * an option is missing, 401 when Keystone refuses, 502/504 when it is away). */
struct os_session *os_service_session_new(struct ct_error *err);

#endif
