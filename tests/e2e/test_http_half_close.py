"""A client that sends part of a request and closes its side gets its
connection closed at once, not held for the connection timeout (120 s):
libmicrohttpd 0.9.75's epoll mode missed a FIN that came in the same segment
as the data, so a client could fill the server with connections it no longer
held itself. Found by `make soak` (bench/soak); the server polls with poll()."""
import socket
import time

import pytest


def half_close(server, data, wait=10.0):
    """Send data and the FIN in one segment; seconds until the server closes
    (None when it still holds the connection after `wait`)."""
    with socket.create_connection(("127.0.0.1", server.port), 5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)  # uncorks: data and FIN leave together
        s.settimeout(wait)
        t0 = time.monotonic()
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            return None
        return time.monotonic() - t0


@pytest.mark.parametrize("partial", [
    b"GET /v1.0/p/flav",
    b"GET /v1.0/p/flavors HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ",
    b"POST /v1.0/p/configurations HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"c",
])
def test_partial_request_with_fin_is_closed_at_once(server, partial):
    for _ in range(3):
        took = half_close(server, partial)
        assert took is not None, "the server held a half-closed partial request"
        assert took < 5


def test_whole_request_with_fin_is_still_answered(server):
    with socket.create_connection(("127.0.0.1", server.port), 5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 200 "), head[:100]
