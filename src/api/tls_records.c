/*
 * tls_records.c — see tls_records.h. Why the send-buffer test: GnuTLS's
 * uncork with GNUTLS_RECORD_WAIT retries a short write at once, so on a full
 * socket it would spin a worker thread until a slow (or hostile) client reads.
 * Why the push after it: on a TLS connection libmicrohttpd leaves the socket's
 * TCP_CORK on and pushes each answer with TCP_NODELAY when its last send
 * returns; the record written later would wait for the kernel's 200 ms cork
 * timeout. Setting TCP_NODELAY again pushes it and leaves the socket in the
 * state libmicrohttpd believes it is in.
 */
#define LOG_MODULE "api"
#include "api/tls_records.h"

#include <gnutls/gnutls.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "common/log.h"

/* TLS 1.3 adds 22 bytes a record; the head of an answer is under 1 KiB. */
#define HEAD_AND_RECORD_BYTES 2048

static gnutls_session_t session_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return info ? (gnutls_session_t)info->tls_session : NULL;
}

bool tls_records_cork(struct MHD_Connection *conn, size_t answer_bytes)
{
	gnutls_session_t session = session_of(conn);
	const union MHD_ConnectionInfo *fd =
		session ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
	if (!fd)
		return false;
	int unacknowledged = 0, send_buffer = 0;
	socklen_t len = sizeof send_buffer;
	if (ioctl(fd->connect_fd, SIOCOUTQ, &unacknowledged) != 0 || unacknowledged != 0)
		return false;
	if (getsockopt(fd->connect_fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, &len) != 0 ||
	    send_buffer <= 0 || (size_t)send_buffer / 2 < answer_bytes + HEAD_AND_RECORD_BYTES)
		return false;
	gnutls_record_cork(session);
	return true;
}

void tls_records_uncork(struct MHD_Connection *conn)
{
	gnutls_session_t session = session_of(conn);
	if (!session)
		return;
	int rc = gnutls_record_uncork(session, GNUTLS_RECORD_WAIT);
	if (rc < 0) { /* the client went away; libmicrohttpd closes the connection */
		log_debug("http: an answer could not be sent: %s", gnutls_strerror(rc));
		return;
	}
	const union MHD_ConnectionInfo *fd =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int on = 1;
	if (fd)
		(void)setsockopt(fd->connect_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}
