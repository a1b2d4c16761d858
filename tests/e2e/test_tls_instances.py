"""TLS on the database endpoints (issue 17), MariaDB and PostgreSQL, with the
real clients: every instance serves a certificate from the ctrove CA for its
address, verified by `mariadb --ssl-verify-server-cert` and `psql
sslmode=verify-full`; a client trusting another CA refuses the server; a
configuration group with require_secure_transport refuses clients without TLS
(and only on the instances it is attached to); the CA certificate is served to
any tenant (401 without a token) and its key stays the control plane's alone;
the instance's key is its OS user's alone and never reaches a log."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tlslib import (PASSWORD, mariadb_plain, mariadb_tls, psql_plain, psql_tls, read_as,
                    tls_dir)

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "etc" / "validation-rules"


def detail(cloud, name):
    body = cloud.api("GET", "/instances")[2]
    found = [i for i in body["instances"] if i["name"] == name]
    assert found, body
    return cloud.api("GET", f"/instances/{found[0]['id']}")[2]["instance"]


@pytest.fixture(scope="module")
def instances(cloud):
    """A MariaDB and a PostgreSQL instance, built at the same time."""
    cloud.register("postgresql", "15")
    cloud.manage("db_load_datastore_config_parameters", "mariadb", "10.11",
                 str(RULES / "mariadb-10.11.json"))
    cloud.manage("db_load_datastore_config_parameters", "postgresql", "15",
                 str(RULES / "postgresql-15.json"))
    for name, ds, version in (("tm1", "mariadb", "10.11"), ("tp1", "postgresql", "15"),
                              ("tm2", "mariadb", "10.11")):
        cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
                  "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore", ds,
                  "--datastore-version", version)
    for name in ("tm1", "tp1", "tm2"):
        cloud.wait_status(name, "ACTIVE", operating="HEALTHY")
    return {name: detail(cloud, name) for name in ("tm1", "tp1", "tm2")}


@pytest.fixture(scope="module")
def ca_file(cloud, tmp_path_factory):
    """The CA certificate as a tenant downloads it."""
    status, headers, pem = ca_request(cloud, user="demo")
    assert status == 200
    path = tmp_path_factory.mktemp("ca") / "ctrove-ca.pem"
    path.write_bytes(pem)
    return path


@pytest.fixture(scope="module")
def other_ca(cloud, tmp_path_factory):
    """Another CA: the same software, a state directory of its own."""
    root = tmp_path_factory.mktemp("other-ca")
    conf = root / "trove.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {root}/state\n")
    out = subprocess.run([os.environ.get("CTROVE_BIN", str(REPO / "build/src/ctrove")),
                          "--config-file", str(conf), "manage", "ca_certificate"],
                         capture_output=True, text=True, check=True)
    path = root / "other-ca.pem"
    path.write_text(out.stdout)
    return path


def ca_request(cloud, user=None, token=None):
    project = "x"
    if user:
        token, project = cloud.token(user)
    req = urllib.request.Request(f"{cloud.url}/v1.0/{project}/ca_certificate")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# --- the CA -------------------------------------------------------------------------


def test_ca_route_serves_pem_to_a_tenant(cloud):
    status, headers, pem = ca_request(cloud, user="demo")
    assert status == 200
    assert headers["Content-Type"] == "application/x-pem-file"
    on_disk = (cloud.local / "ca" / "ca.pem").read_bytes()
    assert pem == on_disk
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----") and b"PRIVATE" not in pem
    # The same as the operator's command prints.
    assert cloud.manage("ca_certificate").stdout.encode() == pem
    out = subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem,
                         capture_output=True, check=True).stdout.decode()
    assert "CA:TRUE" in out and "prime256v1" in out


def test_ca_route_needs_a_token(cloud):
    status, _, body = ca_request(cloud)
    assert status == 401
    assert b"BEGIN CERTIFICATE" not in body
    status, _, body = ca_request(cloud, token="not-a-token")
    assert status == 401 and b"BEGIN CERTIFICATE" not in body


def test_ca_key_is_the_control_planes_alone(cloud, instances):
    ca_dir = cloud.local / "ca"
    key = ca_dir / "ca.key"
    assert ca_dir.stat().st_mode & 0o777 == 0o700
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.stat().st_uid == 0
    st = tls_dir(cloud, instances["tm1"]["id"]).stat()
    assert st.st_uid != 0
    assert not read_as(st.st_uid, st.st_gid, key)
    assert read_as(st.st_uid, st.st_gid, tls_dir(cloud, instances["tm1"]["id"]) / "server.key")


# --- verified connections ---------------------------------------------------------


def test_mariadb_verifies_the_server(instances, ca_file):
    ip = instances["tm1"]["ip"][0]
    out = mariadb_tls(ip, ca_file)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\t")[1].strip().startswith("TLSv1.")
    # Without TLS too, while nothing requires it.
    assert mariadb_plain(ip).returncode == 0


def test_postgresql_verifies_the_server(instances, ca_file):
    ip = instances["tp1"]["ip"][0]
    out = psql_tls(ip, ca_file)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "t"
    assert psql_plain(ip).returncode == 0


def test_certificate_names_only_its_instance(cloud, instances, ca_file):
    """Each certificate carries its own instance's address alone, so it does not
    pass for another instance's."""
    a, b = instances["tm1"]["ip"][0], instances["tm2"]["ip"][0]
    assert a != b
    cert = tls_dir(cloud, instances["tm1"]["id"]) / "server.crt"
    out = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName,extendedKeyUsage",
                          "-in", str(cert)], capture_output=True, text=True, check=True).stdout
    assert f"IP Address:{a}" in out and b not in out and "TLS Web Server" in out

    def verify(ip):
        return subprocess.run(["openssl", "verify", "-CAfile", str(ca_file), "-verify_ip", ip,
                               "-purpose", "sslserver", str(cert)],
                              capture_output=True, text=True).returncode

    assert verify(a) == 0
    assert verify(b) != 0


def test_wrong_ca_is_refused(instances, other_ca):
    out = mariadb_tls(instances["tm1"]["ip"][0], other_ca)
    assert out.returncode != 0
    assert "certificate" in out.stderr.lower() or "ssl" in out.stderr.lower(), out.stderr
    out = psql_tls(instances["tp1"]["ip"][0], other_ca)
    assert out.returncode != 0
    assert "certificate" in out.stderr.lower(), out.stderr


# --- the certificate on the guest -----------------------------------------------


def test_instance_key_is_its_users_alone(cloud, instances):
    one = tls_dir(cloud, instances["tm1"]["id"])
    other = tls_dir(cloud, instances["tp1"]["id"])
    st = one.stat()
    assert st.st_mode & 0o777 == 0o700
    for name in ("server.crt", "server.key", "ca.crt"):
        f = (one / name).stat()
        assert f.st_mode & 0o777 == 0o600 and f.st_uid == st.st_uid
    assert (one / "ca.crt").read_text() == (cloud.local / "ca" / "ca.pem").read_text()
    # Another instance's server cannot read it, nor this one the other's.
    ost = other.stat()
    assert ost.st_uid not in (0, st.st_uid)
    assert not read_as(ost.st_uid, ost.st_gid, one / "server.key")
    assert not read_as(st.st_uid, st.st_gid, other / "server.key")


def test_keys_never_reach_a_log(cloud, instances):
    text = cloud.log.read_text(errors="replace") + cloud.stderr_text() + cloud.guest_logs()
    for inst in instances.values():
        key = (tls_dir(cloud, inst["id"]) / "server.key").read_text().splitlines()
        body = "".join(line for line in key if not line.startswith("-----"))
        assert body[:40] not in text
    ca_key = (cloud.local / "ca" / "ca.key").read_text().splitlines()
    assert ca_key[1][:40] not in text


# --- require_secure_transport --------------------------------------------------


def attach_group(cloud, name, datastore, version, values, instance):
    made = cloud.cli_json("database", "configuration", "create", name, json.dumps(values),
                          "--datastore", datastore, "--datastore-version", version)
    cloud.cli("database", "configuration", "attach", instance, made["id"])
    cloud.wait_status(instance, "ACTIVE", operating="HEALTHY")
    return made["id"]


def eventually(check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not so after {timeout} s")


def test_mariadb_require_secure_transport(cloud, instances, ca_file):
    ip, other = instances["tm1"]["ip"][0], instances["tm2"]["ip"][0]
    group = attach_group(cloud, "tls-m", "mariadb", "10.11",
                         {"require_secure_transport": True}, "tm1")
    eventually(lambda: mariadb_plain(ip).returncode != 0)
    refused = mariadb_plain(ip)
    # MariaDB 10.11 answers an account error (1045) or the transport one (3159).
    assert "1045" in refused.stderr or "insecure transport" in refused.stderr, refused.stderr
    # Same account, same password, over TLS: the transport was the reason.
    out = mariadb_tls(ip, ca_file)
    assert out.returncode == 0, out.stderr
    # The instance without the group still takes plain connections.
    assert mariadb_plain(other).returncode == 0
    # The admin account stays reachable (socket): the guest still answers.
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", "tm1")} == {"test"}
    cloud.cli("database", "configuration", "detach", "tm1")
    cloud.wait_status("tm1", "ACTIVE", operating="HEALTHY")
    eventually(lambda: mariadb_plain(ip).returncode == 0)
    cloud.cli("database", "configuration", "delete", group)


def test_postgresql_require_secure_transport(cloud, instances, ca_file):
    ip = instances["tp1"]["ip"][0]
    hba = Path(cloud.run_root) / instances["tp1"]["id"] / "pg_hba.conf"
    group = attach_group(cloud, "tls-p", "postgresql", "15",
                         {"require_secure_transport": True, "work_mem": 8192}, "tp1")
    eventually(lambda: psql_plain(ip).returncode != 0)
    assert "no encryption" in psql_plain(ip).stderr, psql_plain(ip).stderr
    assert "hostssl all          all       0.0.0.0/0" in hba.read_text()
    out = psql_tls(ip, ca_file)
    assert out.returncode == 0 and out.stdout.strip() == "t", out.stderr
    # Not a PostgreSQL setting: never written into the server's config.
    conf_d = Path(cloud.run_root) / instances["tp1"]["id"] / "conf.d"
    assert "require_secure_transport" not in "".join(
        p.read_text() for p in conf_d.iterdir())
    assert "work_mem = 8192" in "".join(p.read_text() for p in conf_d.iterdir())
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", "tp1")} == {"test"}
    cloud.cli("database", "configuration", "detach", "tp1")
    cloud.wait_status("tp1", "ACTIVE", operating="HEALTHY")
    eventually(lambda: psql_plain(ip).returncode == 0)
    assert "hostssl" not in hba.read_text()
    cloud.cli("database", "configuration", "delete", group)


def test_cleanup(cloud, instances):
    for name, inst in instances.items():
        cloud.cli("database", "instance", "delete", name)
    for inst in instances.values():
        assert cloud.wait_deleted(inst["id"], timeout=60)
