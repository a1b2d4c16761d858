/*
 * ca_certificate.c — GET /v1.0/{project}/ca_certificate (ctrove extension): the
 * certificate of the CA that signs instances' server certificates, as PEM, so
 * any tenant can verify the database endpoints (`sslrootcert=`, `--ssl-ca=`).
 * Reads only the public half of the CA (pki/ca.h); never its key.
 */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "pki/ca.h"

API_HANDLER(ca_certificate_show)
{
	const char *pem = pki_ca_cert_pem();
	if (!pem)
		return ct_fail(err, 503, "The CA certificate is not available on this API node.");
	size_t len = strlen(pem);
	char *text = malloc(len + 1);
	if (!text)
		return ct_fail(err, 500, "out of memory");
	memcpy(text, pem, len + 1);
	api_reply(resp, 200, NULL);
	resp->text = text;
	resp->text_len = len;
	api_add_header(resp, "Content-Type", "application/x-pem-file");
	return 0;
}
