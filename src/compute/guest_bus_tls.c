/*
 * guest_bus_tls.c — see guest_bus_tls.h.
 */
#include "compute/guest_bus_tls.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "rpc/tls_socket.h"
#include "rpc/url.h"

#define CA_MAX (1024 * 1024) /* a CA bundle, not a data file */

static int copy_ca(const char *from, const char *to, struct ct_error *err)
{
	FILE *in = fopen(from, "rbe");
	if (!in)
		return ct_fail(err, 500, "cannot read [oslo_messaging_rabbit] ssl_ca_file %s",
			       from);
	char *buf = malloc(CA_MAX);
	size_t n = buf ? fread(buf, 1, CA_MAX, in) : 0;
	bool whole = buf && feof(in) && !ferror(in);
	fclose(in);
	if (!whole) {
		free(buf);
		return ct_fail(err, 500, "ssl_ca_file %s is unreadable or over 1 MiB", from);
	}
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", to);
	/* 0644 whatever the umask: a CA certificate is public, and the agent
	 * (in a guest image: any user) must read it. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && fchmod(fd, 0644) == 0 && write(fd, buf, n) == (ssize_t)n;
	ok = fd >= 0 && close(fd) == 0 && ok;
	free(buf);
	if (!ok || rename(tmp, to)) {
		unlink(tmp);
		return ct_fail(err, 500, "cannot write %s", to);
	}
	return 0;
}

int guest_bus_tls_ca_file(const char *guest_url, const char **ca_file, struct ct_error *err)
{
	struct rpc_url u;
	*ca_file = NULL;
	if (rpc_url_parse(guest_url, &u, err))
		return -1;
	bool tls = rpc_tls_wanted(u.tls, cfg_bool(CFG_RABBIT_SSL), rpc_url_option(&u, "ssl"));
	rpc_url_free(&u);
	if (!tls)
		return 0;
	const char *ca = cfg_str(CFG_RABBIT_SSL_CA_FILE);
	if (!*ca)
		return ct_fail(err, 500,
			       "the bus uses TLS but [oslo_messaging_rabbit] ssl_ca_file is unset");
	*ca_file = ca;
	return 0;
}

int guest_bus_tls_write(FILE *f, const char *guest_url, const char *dir, struct ct_error *err)
{
	const char *ca;
	if (guest_bus_tls_ca_file(guest_url, &ca, err))
		return -1;
	if (!ca)
		return 0;
	char copy[PATH_MAX];
	if ((size_t)snprintf(copy, sizeof copy, "%s/bus-ca.pem", dir) >= sizeof copy)
		return ct_fail(err, 500, "path too long");
	if (copy_ca(ca, copy, err))
		return -1;
	fprintf(f, "\n[oslo_messaging_rabbit]\nssl = true\nssl_ca_file = %s\n", copy);
	return 0;
}
