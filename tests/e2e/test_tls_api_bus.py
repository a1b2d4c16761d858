"""TLS end to end (issue 17, the API and the bus): ctrove all serving HTTPS with
a certificate from a test CA, on the private broker's AMQPS listener; the real
CLI with OS_CACERT creates an instance that goes ACTIVE and answers a guest
call, every broker connection of the control plane and of the guest is TLS;
clients without the CA, or shown an expired certificate, refuse; a broker
certificate from another CA, or a plain AMQP port behind an amqps:// URL, stops
ctrove at start-up with a clear error (never a fall-back to plain AMQP); plain
HTTP on a non-loopback bind refuses to start."""
import base64
import json
import os
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import CTROVE, Cloud, Server, free_port, sanitizer_env, serve
from api_certs import CA

NAME = "tls1"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    where = tmp_path_factory.mktemp("certs")
    os.chmod(where, 0o755)
    api_ca = CA(where, "api test CA")
    other_ca = CA(where, "other test CA")
    return {
        "dir": where,
        "api_ca": api_ca,
        "other_ca": other_ca,
        "api": api_ca.issue("api"),
        "expired": api_ca.issue("api-expired", expired=True),
        "other_broker": other_ca.issue("broker-other"),
    }


@pytest.fixture(scope="module")
def tls_cloud(tmp_path_factory, tls_broker, certs):
    srv = Cloud(tmp_path_factory.mktemp("tlscloud"), tls_broker,
                extra_conf=f"[oslo_messaging_rabbit]\nssl_ca_file = {tls_broker.ca}\n")
    srv.use_https(*certs["api"], str(certs["api_ca"].path))
    yield from serve(srv)


def management(bus, path):
    """GET on the broker's management API with the control plane's account."""
    u = urllib.parse.urlsplit(bus.plain_url)
    req = urllib.request.Request(bus.management.rstrip("/") + "/api/" + path)
    login = f"{urllib.parse.unquote(u.username)}:{urllib.parse.unquote(u.password)}"
    req.add_header("Authorization", "Basic " + base64.b64encode(login.encode()).decode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_cli_over_https_instance_active_and_guest_call(tls_cloud, tls_broker):
    assert tls_cloud.url.startswith("https://")
    proc = tls_cloud.cli("database", "instance", "create", NAME, "--flavor", "d2", "--size",
                         "1", "--databases", "test", "--users", "userA:Passw0rd",
                         "--datastore", "mariadb", "--datastore-version", "10.11",
                         "--is-public", "--allowed-cidr", "127.0.0.1/32", "-f", "json")
    assert json.loads(proc.stdout)["status"] == "BUILD"
    inst = tls_cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    listed = tls_cloud.cli_json("database", "instance", "list")
    assert [(i["Name"], i["Status"]) for i in listed] == [(NAME, "ACTIVE")]
    # A guest call, through the API, over amqps:// to the guest and back.
    tls_cloud.cli("database", "db", "create", inst["id"], "tlsdb")
    names = [d["Name"] for d in tls_cloud.cli_json("database", "db", "list", inst["id"])]
    assert "tlsdb" in names and "test" in names

    # The guest was given the TLS URL and its own readable copy of the CA.
    conf = (tls_cloud.local / "instances" / inst["id"] / "guest.conf").read_text()
    assert "transport_url = amqps://" in conf
    ca_copy = tls_cloud.local / "instances" / inst["id"] / "bus-ca.pem"
    assert f"ssl_ca_file = {ca_copy}" in conf
    assert ca_copy.read_bytes() == Path(tls_broker.ca).read_bytes()
    assert ca_copy.stat().st_mode & 0o777 == 0o644

    # Every connection of this control plane and of this guest is TLS.
    conns = management(tls_broker, "connections")
    pid = f":{tls_cloud.proc.pid}:"
    mine = [c for c in conns
            if pid in str(c.get("client_properties", {}).get("connection_name", ""))]
    guest = [c for c in conns if inst["id"] in c.get("user", "")]
    assert mine, [c.get("client_properties", {}).get("connection_name") for c in conns]
    assert guest, [c.get("user") for c in conns]
    assert all(c["ssl"] for c in mine + guest), [(c["user"], c["ssl"]) for c in mine + guest]

    tls_cloud.cli("database", "instance", "delete", inst["id"])
    assert tls_cloud.wait_deleted(inst["id"], 60)


def test_catalog_says_https(tls_cloud):
    status, _, body = tls_cloud.http("POST", "/identity/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"},
            "password": tls_cloud.passwords["admin"]}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}})
    assert status == 201, body
    urls = [e["url"] for s in body["token"]["catalog"] for e in s["endpoints"]]
    assert urls and all(u.startswith("https://127.0.0.1:") for u in urls), urls


def test_cli_without_the_ca_refuses(tls_cloud, certs):
    env = tls_cloud.env()
    del env["OS_CACERT"]
    proc = subprocess.run(["openstack", "database", "instance", "list"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in proc.stderr or "SSL" in proc.stderr, proc.stderr
    env["OS_CACERT"] = str(certs["other_ca"].path)
    proc = subprocess.run(["openstack", "database", "instance", "list"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in proc.stderr, proc.stderr
    # Plain HTTP to the HTTPS port gets no API answer either.
    with pytest.raises(Exception):
        urllib.request.urlopen(f"http://127.0.0.1:{tls_cloud.port}/", timeout=10).read()


def test_expired_api_certificate_is_refused(tmp_path, certs):
    srv = Server(tmp_path, extra=(
        "[DEFAULT]\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"))
    srv.use_https(*certs["expired"], str(certs["api_ca"].path))
    srv.bootstrap()
    srv.start()
    try:
        proc = srv.cli("datastore", "list", check=False)
        assert proc.returncode != 0
        assert "certificate has expired" in proc.stderr or "CERTIFICATE_VERIFY_FAILED" in \
            proc.stderr, proc.stderr
        context = ssl.create_default_context(cafile=str(certs["api_ca"].path))
        with pytest.raises(urllib.error.URLError, match="certificate has expired"):
            urllib.request.urlopen(srv.url + "/", timeout=10, context=context)
        assert "has expired" in srv.log.read_text()
    finally:
        srv.stop()


def start_fails(root, extra):
    """ctrove all with extra config: (exit code, stderr) of a start-up that must fail."""
    srv = Server(root, command="all", extra=extra)
    srv.bootstrap()
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "all"], capture_output=True,
                          text=True, timeout=60, env=sanitizer_env())
    return proc.returncode, proc.stderr + srv.log.read_text()


def test_broker_from_another_ca_is_refused(tmp_path, tls_broker, certs):
    rc, out = start_fails(tmp_path, (
        "[DEFAULT]\n"
        f"transport_url = {tls_broker}\n"
        "[oslo_messaging_rabbit]\n"
        f"ssl_ca_file = {certs['other_ca'].path}\n"))
    assert rc != 0
    assert "TLS to the message bus at 127.0.0.1" in out and "refused" in out, out
    assert "the broker's certificate failed verification" in out, out
    assert str(certs["other_ca"].path) in out, out
    assert "connected to AMQP server" not in out


def test_amqps_url_to_a_plain_port_never_falls_back(tmp_path, tls_broker):
    plain_port = urllib.parse.urlsplit(tls_broker.plain_url).port
    url = str(tls_broker).rsplit(":", 1)[0] + f":{plain_port}/"
    assert url.startswith("amqps://")
    rc, out = start_fails(tmp_path, (
        "[DEFAULT]\n"
        f"transport_url = {url}\n"
        "[oslo_messaging_rabbit]\n"
        f"ssl_ca_file = {tls_broker.ca}\n"))
    assert rc != 0
    assert "TLS to the message bus" in out and "refused" in out, out
    assert "connected to AMQP server" not in out


def test_tls_bus_without_a_ca_file_is_refused(tmp_path, tls_broker):
    rc, out = start_fails(tmp_path, f"[DEFAULT]\ntransport_url = {tls_broker}\n")
    assert rc != 0
    assert "ssl_ca_file is unset" in out, out


def test_plain_http_on_a_public_bind_refuses_to_start(tmp_path):
    srv = Server(tmp_path, extra=(
        "[DEFAULT]\nbind_host = 0.0.0.0\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"))
    srv.bootstrap()
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "api"], capture_output=True,
                          text=True, timeout=60, env=sanitizer_env())
    assert proc.returncode != 0
    out = proc.stderr + srv.log.read_text()
    assert "is not a loopback address and [ssl] cert_file is unset" in out, out


def test_bad_key_pair_refuses_to_start(tmp_path, certs):
    srv = Server(tmp_path, extra=(
        "[DEFAULT]\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"))
    srv.use_https(certs["api"][0], certs["expired"][1], str(certs["api_ca"].path))
    srv.bootstrap()
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "api"], capture_output=True,
                          text=True, timeout=60, env=sanitizer_env())
    assert proc.returncode != 0
    out = proc.stderr + srv.log.read_text()
    assert "is not the key of cert_file" in out, out
