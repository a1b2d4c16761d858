/*
 * manage_pki.c — see manage_pki.h.
 */
#define LOG_MODULE "manage"
#include "cmd/manage_pki.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "pki/ca.h"
#include "pki/issue.h"

#define MAX_DAYS 36500

static int ca_ready(struct ct_error *err)
{
	const char *state = cfg_str(CFG_STATE_PATH);
	if (mkdir(state, 0711) && errno != EEXIST)
		return ct_fail(err, 500, "cannot create state_path %s: %s", state, strerror(errno));
	return pki_ca_init(state, err);
}

/* Whole file under a temporary name, renamed into place with its final mode. */
static int write_file(const char *dir, const char *name, const char *text, mode_t mode,
		      struct ct_error *err)
{
	char path[4096], tmp[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name) >= sizeof tmp)
		return ct_fail(err, 400, "the output directory's name is too long");
	int fd = mkstemp(tmp); /* 0600 until fchmod */
	if (fd < 0)
		return ct_fail(err, 400, "cannot write in %s: %s", dir, strerror(errno));
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0 && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path)) {
		int saved = errno;
		unlink(tmp);
		return ct_fail(err, 500, "cannot write %s: %s", path, strerror(saved));
	}
	return 0;
}

int manage_issue_certificate(const char *const *sans, size_t n_sans, const char *days,
			     const char *out_dir, struct ct_error *err)
{
	char *end = NULL;
	long n_days = days ? strtol(days, &end, 10) : 365;
	if ((days && (!*days || *end)) || n_days < 1 || n_days > MAX_DAYS)
		return ct_fail(err, 400, "--days must be a whole number from 1 to %d", MAX_DAYS);
	if (!out_dir || !out_dir[0])
		return ct_fail(err, 400, "--out DIR is required");
	if (mkdir(out_dir, 0755) && errno != EEXIST)
		return ct_fail(err, 400, "cannot create %s: %s", out_dir, strerror(errno));
	if (ca_ready(err))
		return -1;
	struct pki_server_cert cert;
	if (pki_issue_server_cert(sans, n_sans, n_days * 86400, &cert, err))
		return -1;
	int rc = write_file(out_dir, "key.pem", cert.key_pem, 0600, err) ||
				 write_file(out_dir, "cert.pem", cert.cert_pem, 0644, err) ||
				 write_file(out_dir, "ca.pem", pki_ca_cert_pem(), 0644, err)
			 ? -1
			 : 0;
	if (!rc)
		printf("%s/cert.pem and key.pem for %s, valid %ld days; CA in %s/ca.pem\n", out_dir,
		       sans[0], n_days, out_dir);
	pki_server_cert_clear(&cert);
	pki_ca_shutdown();
	return rc;
}

int manage_print_ca_certificate(struct ct_error *err)
{
	if (ca_ready(err))
		return -1;
	fputs(pki_ca_cert_pem(), stdout);
	pki_ca_shutdown();
	return 0;
}
