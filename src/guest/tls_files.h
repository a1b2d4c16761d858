/*
 * tls_files.h — an instance's server certificate on the guest: <run_dir>/tls/
 * (0700) holding server.crt, server.key and ca.crt, each 0600 and owned by the
 * instance's OS user, the only account that needs to read them (its server).
 * Shared by the MariaDB and PostgreSQL managers, which point their servers at
 * these paths and reload them after a rotation. Owns those files; may not touch
 * any server's config or know a datastore.
 */
#ifndef CT_GUEST_TLS_FILES_H
#define CT_GUEST_TLS_FILES_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#include "common/error.h"
#include "guest/datastore.h"

struct guest_tls_paths {
	char dir[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char ca[PATH_MAX];
};

int guest_tls_paths(const struct guest_instance *inst, struct guest_tls_paths *out,
		    struct ct_error *err);
/* Whether all three files are in place (a server is configured for TLS). */
bool guest_tls_present(const struct guest_tls_paths *p);
/* Check tls ({"cert", "key", "ca"}, guest/models.h) and write its files, each
 * replaced atomically; 400 and nothing written when it is malformed. */
int guest_tls_install(const struct guest_instance *inst, const json_t *tls, struct ct_error *err);
/* prepare's ctrove_tls (absent or null = no certificate): checked before
 * anything changes, then installed. */
int guest_tls_prepare_check(const json_t *kwargs, struct ct_error *err);
int guest_tls_prepare_install(const struct guest_instance *inst, const json_t *kwargs,
			      struct ct_error *err);

#endif
