/*
 * tls_files.c — see tls_files.h. Never logs the key.
 */
#define LOG_MODULE "guest"
#include "guest/tls_files.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "guest/guest_util.h"
#include "guest/models.h"

int guest_tls_paths(const struct guest_instance *inst, struct guest_tls_paths *out,
		    struct ct_error *err)
{
	if ((size_t)snprintf(out->dir, sizeof out->dir, "%s/tls", inst->run_dir) >=
	    sizeof out->dir - 16)
		return ct_fail(err, 500, "Path too long: %s", inst->run_dir);
	snprintf(out->cert, sizeof out->cert, "%.4000s/server.crt", out->dir);
	snprintf(out->key, sizeof out->key, "%.4000s/server.key", out->dir);
	snprintf(out->ca, sizeof out->ca, "%.4000s/ca.crt", out->dir);
	return 0;
}

bool guest_tls_present(const struct guest_tls_paths *p)
{
	return access(p->cert, F_OK) == 0 && access(p->key, F_OK) == 0 && access(p->ca, F_OK) == 0;
}

int guest_tls_install(const struct guest_instance *inst, const json_t *tls, struct ct_error *err)
{
	struct guest_tls t;
	struct guest_tls_paths p;
	struct guest_identity id;
	if (guest_tls_from_json(tls, &t, err) || guest_tls_paths(inst, &p, err) ||
	    guest_identity_resolve(inst->os_user, &id, err) || guest_mkdir(p.dir, 0700, &id, err))
		return -1;
	/* Each file is replaced whole; the server reads them at start or when
	 * its manager tells it to reload, after all three are in place. */
	if (guest_write_file_owned(p.key, t.key_pem, strlen(t.key_pem), 0600, &id, err) ||
	    guest_write_file_owned(p.cert, t.cert_pem, strlen(t.cert_pem), 0600, &id, err) ||
	    guest_write_file_owned(p.ca, t.ca_pem, strlen(t.ca_pem), 0600, &id, err))
		return -1;
	log_info("server certificate written to %s", p.dir);
	return 0;
}

static const json_t *prepare_tls(const json_t *kwargs)
{
	const json_t *tls = json_object_get(kwargs, "ctrove_tls");
	return json_is_null(tls) ? NULL : tls;
}

int guest_tls_prepare_check(const json_t *kwargs, struct ct_error *err)
{
	struct guest_tls t;
	const json_t *tls = prepare_tls(kwargs);
	return tls ? guest_tls_from_json(tls, &t, err) : 0;
}

int guest_tls_prepare_install(const struct guest_instance *inst, const json_t *kwargs,
			      struct ct_error *err)
{
	const json_t *tls = prepare_tls(kwargs);
	return tls ? guest_tls_install(inst, tls, err) : 0;
}
