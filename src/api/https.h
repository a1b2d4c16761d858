/*
 * https.h — what the API's HTTP front needs to serve HTTPS: [ssl] cert_file
 * and key_file read and checked (PEM, a matching pair, the dates), and the rule
 * that plain HTTP is served only on a loopback bind_host unless [ssl]
 * allow_plain_http says otherwise.
 *
 * Owns the PEM text it loads (wiped when freed). May not start listeners (the
 * HTTP front does) and never logs key material.
 */
#ifndef CT_API_HTTPS_H
#define CT_API_HTTPS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "common/error.h"

struct https_files {
	char *cert_pem; /* NULL: plain HTTP */
	char *key_pem;
};

/* True when [ssl] cert_file is set: the API speaks HTTPS (the embedded
 * identity's catalog then says https too). */
bool https_enabled(void);

/* Loads and checks the pair into *out (both NULL for plain HTTP), or fails with
 * 400 and a message naming the option at fault. */
int https_load(struct https_files *out, struct ct_error *err);
void https_free(struct https_files *f);

/* 0 when a plain-HTTP listener on addr is allowed: a loopback address, or
 * [ssl] allow_plain_http. */
int https_check_plain_bind(const struct sockaddr *addr, struct ct_error *err);

#endif
