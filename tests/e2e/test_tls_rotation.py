"""Server certificates expire and are renewed by the control plane without a
restart (issue 17). This module's ctrove issues certificates valid for
LIFETIME seconds and renews them only RENEW_LATE seconds after they expired
([ssl] instance_cert_renew_before < 0), so a test can see both: a verifying
client refuses the expired certificate, then connects again once the
taskmanager has rotated it (MariaDB FLUSH SSL, PostgreSQL pg_reload_conf) —
to the same server process."""
import subprocess
import time

import pytest

from conftest import Cloud, serve
from tlslib import PASSWORD, mariadb_tls, not_after, psql_tls, tls_dir

LIFETIME = 25
RENEW_LATE = 12


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    srv = Cloud(tmp_path_factory.mktemp("cloud"), broker)
    srv.conf.write_text(srv.conf.read_text() + (
        "[ssl]\n"
        f"instance_cert_lifetime = {LIFETIME}\n"
        f"instance_cert_renew_before = {-RENEW_LATE}\n"
        "instance_cert_check_interval = 1\n"))
    yield from serve(srv)


@pytest.fixture(scope="module")
def instances(cloud):
    cloud.register("postgresql", "15")
    for name, ds, version in (("rm", "mariadb", "10.11"), ("rp", "postgresql", "15")):
        cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
                  "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore", ds,
                  "--datastore-version", version)
    found = {}
    for name in ("rm", "rp"):
        inst = cloud.wait_status(name, "ACTIVE", operating="HEALTHY")
        found[name] = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]
    yield found
    for name, inst in found.items():
        cloud.cli("database", "instance", "delete", name)
    for inst in found.values():
        assert cloud.wait_deleted(inst["id"], timeout=60)


def server_pid(cloud, name):
    pattern = "mariadbd" if name == "rm" else "postgres -D"
    out = subprocess.run(["pgrep", "-o", "-f", f"{pattern}.*{cloud.run_root}"],
                         capture_output=True, text=True)
    pids = out.stdout.split()
    return int(pids[0]) if pids else None


def verify_reason(name, ip, ca):
    protocol, port = ("mysql", 3306) if name == "rm" else ("postgres", 5432)
    out = subprocess.run(["openssl", "s_client", "-starttls", protocol, "-connect",
                          f"{ip}:{port}", "-CAfile", str(ca), "-verify_return_error"],
                         input="", capture_output=True, text=True, timeout=30)
    return out.stdout + out.stderr


def connect(name, ip, ca):
    return mariadb_tls(ip, ca) if name == "rm" else psql_tls(ip, ca)


def test_expired_is_refused_then_renewed_without_restart(cloud, instances):
    ca = cloud.local / "ca" / "ca.pem"
    certs = {n: tls_dir(cloud, i["id"]) / "server.crt" for n, i in instances.items()}
    ips = {n: i["ip"][0] for n, i in instances.items()}
    expiry = {n: not_after(c) for n, c in certs.items()}
    pids = {n: server_pid(cloud, n) for n in instances}
    assert all(pids.values()), pids
    # Valid now (unless the machine was too slow to get here in LIFETIME s).
    for n in instances:
        if time.time() < expiry[n] - 2:
            out = connect(n, ips[n], ca)
            assert out.returncode == 0, out.stderr

    # Expired: a verifying client refuses the server.
    time.sleep(max(0, max(expiry.values()) + 1.5 - time.time()))
    for n in instances:
        assert not_after(certs[n]) == expiry[n], "renewed before the test could look"
        out = connect(n, ips[n], ca)
        assert out.returncode != 0
        # psql says only "certificate verify failed": ask OpenSSL why.
        assert "certificate has expired" in verify_reason(n, ips[n], ca)

    # Renewed by the taskmanager's check: the same client connects again, to
    # the same server process.
    deadline = time.time() + RENEW_LATE + 30
    pending = set(instances)
    while pending and time.time() < deadline:
        for n in list(pending):
            if connect(n, ips[n], ca).returncode == 0:
                pending.discard(n)
        time.sleep(0.3)
    assert not pending, f"{pending} not renewed: {cloud.log.read_text()[-3000:]}"
    for n in instances:
        assert not_after(certs[n]) > expiry[n]
        assert server_pid(cloud, n) == pids[n]
    log = cloud.log.read_text()
    assert log.count("server certificate renewed") >= 2
