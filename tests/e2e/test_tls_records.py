"""HTTPS answers as single TLS records (issue 17, api/tls_records.c).

libmicrohttpd writes an answer's head and body with two TLS sends; ctrove corks
the session so a small answer leaves as one record, and pushes it at once (the
socket stays TCP-corked on a TLS connection, so a late record would otherwise
wait for the kernel's 200 ms cork timeout). Checked on the wire: a raw socket
feeds an ssl.MemoryBIO, and the TLS record headers are counted before
decryption."""
import socket
import ssl
import statistics
import time

import pytest

from api_certs import CA
from conftest import Server, free_port

APPLICATION_DATA = 23


@pytest.fixture(scope="module")
def https_api(tmp_path_factory):
    where = tmp_path_factory.mktemp("tlsrec")
    ca = CA(where, "records test CA")
    srv = Server(where, extra=(
        "[DEFAULT]\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"))
    srv.use_https(*ca.issue("api"), str(ca.path))
    srv.bootstrap()
    srv.start()
    try:
        yield srv, str(ca.path)
    finally:
        srv.stop()


class RecordCountingClient:
    """One kept-alive HTTPS connection whose TLS records are counted."""

    def __init__(self, port, cafile):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        context = ssl.create_default_context(cafile=cafile)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="127.0.0.1")
        self.raw = b""  # received bytes not yet split into records
        self.records = 0
        self._handshake()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _receive(self):
        data = self.sock.recv(65536)
        assert data, "the server closed the connection"
        self.raw += data
        while len(self.raw) >= 5:
            length = int.from_bytes(self.raw[3:5], "big")
            if len(self.raw) < 5 + length:
                break
            if self.raw[0] == APPLICATION_DATA:
                self.records += 1
            self.raw = self.raw[5 + length:]
        self.incoming.write(data)

    def _handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                self._receive()

    def get(self, path, token):
        """(status line, body, application-data records it took)."""
        self.tls.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"X-Auth-Token: {token}\r\n\r\n").encode())
        self._flush()
        before, text = self.records, b""
        while True:
            try:
                while True:  # one record per read: drain what has come in
                    text += self.tls.read(65536)
            except ssl.SSLWantReadError:
                pass
            head, sep, body = text.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    return head.split(b"\r\n")[0].decode(), body, self.records - before
            self._receive()

    def close(self):
        self.sock.close()


def test_small_answers_leave_as_one_record(https_api):
    srv, cafile = https_api
    token, project = srv.token()
    client = RecordCountingClient(srv.port, cafile)
    try:
        # The first answer may share its reads with the server's session
        # tickets; the next ones are alone on the connection.
        client.get(f"/v1.0/{project}/flavors", token)
        for path in (f"/v1.0/{project}/flavors", f"/v1.0/{project}/datastores",
                     f"/v1.0/{project}/instances", "/v1.0/no/such/route"):
            status, body, records = client.get(path, token)
            assert body, path
            assert records == 1, (path, status, records)
    finally:
        client.close()


def test_kept_alive_answers_are_not_held_back(https_api):
    """Without the push an answer under one packet (libmicrohttpd keeps the
    socket corked for those) waited 200 ms in the kernel's cork."""
    srv, cafile = https_api
    token, project = srv.token()
    client = RecordCountingClient(srv.port, cafile)
    try:
        client.get(f"/v1.0/{project}/instances", token)
        took = []
        for _ in range(9):
            start = time.monotonic()
            status, body, _ = client.get(f"/v1.0/{project}/instances", token)
            assert len(body) < 1000, body  # the small case: no instance here
            took.append(time.monotonic() - start)
            assert status.endswith("200 OK"), status
        assert statistics.median(took) < 0.15, took
    finally:
        client.close()
