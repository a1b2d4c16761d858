/*
 * tls_records.h — one TLS record per API answer where that is safe.
 *
 * libmicrohttpd (0.9.75) hands a response's head and body to GnuTLS in two
 * gnutls_record_send() calls, so every HTTPS answer costs two records: two
 * encryptions and two sendmsg() here, and twice the reads and decryptions at
 * the client. Corking the session around the answer makes them one.
 * Owns only the cork state of a connection's TLS session; may not read or
 * write the socket, nor touch a plain-HTTP connection.
 */
#ifndef CT_API_TLS_RECORDS_H
#define CT_API_TLS_RECORDS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* Before queueing an answer of about answer_bytes (head and body): cork the
 * session when the uncork can never wait on the client — nothing of an
 * earlier answer is unacknowledged and the whole answer fits in half the
 * socket's send buffer, so the kernel takes it in one write whatever the
 * client does. True when corked; false (nothing changed) on plain HTTP. */
bool tls_records_cork(struct MHD_Connection *conn, size_t answer_bytes);

/* After the answer was handed over (libmicrohttpd's completion callback, which
 * runs before the connection is reused or closed): send what the cork holds. */
void tls_records_uncork(struct MHD_Connection *conn);

#endif
