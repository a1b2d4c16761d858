"""PostgreSQL instances end to end with the local compute driver (issue 5)."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

NAME = "pg1"


def psql(address, user, password, database, sql):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    return subprocess.run(["psql", "-h", address, "-U", user, "-d", database, "-tA",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=30)


def instance(cloud):
    body = cloud.api("GET", "/instances")[2]
    found = [i for i in body["instances"] if i["name"] == NAME]
    assert found, body
    return cloud.api("GET", f"/instances/{found[0]['id']}")[2]["instance"]


@pytest.fixture(scope="module", autouse=True)
def registered(cloud):
    cloud.register("postgresql", "15")


def test_create_is_active(cloud):
    proc = cloud.cli("database", "instance", "create", NAME, "--flavor", "d2", "--size", "1",
                     "--databases", "test", "--users", "userA:Passw0rd",
                     "--datastore", "postgresql", "--datastore-version", "15", "-f", "json")
    assert json.loads(proc.stdout)["status"] == "BUILD"
    cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    detail = instance(cloud)
    assert detail["datastore"] == {"type": "postgresql", "version": "15", "version_number": "15"}


def test_user_reads_and_writes(cloud):
    ip = instance(cloud)["ip"][0]
    out = psql(ip, "userA", "Passw0rd", "test",
               "CREATE TABLE t (x int); INSERT INTO t VALUES (42); SELECT x FROM t;")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "42"
    assert psql(ip, "userA", "wrong", "test", "SELECT 1").returncode != 0
    # The admin roles are not reachable over the network.
    assert psql(ip, "postgres", "", "postgres", "SELECT 1").returncode != 0
    assert psql(ip, "os_admin", "x", "postgres", "SELECT 1").returncode != 0


def test_databases_users_and_root(cloud):
    cloud.cli("database", "db", "create", NAME, "db2")
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", NAME)} == {"test", "db2"}
    cloud.cli("database", "user", "create", NAME, "userB", "S3cret-x", "--databases", "db2")
    users = {u["Name"] for u in cloud.cli_json("database", "user", "list", NAME)}
    assert users == {"userA", "userB"}
    ip = instance(cloud)["ip"][0]
    assert psql(ip, "userB", "S3cret-x", "db2", "SELECT current_database()").stdout.strip() == "db2"
    cloud.cli("database", "user", "delete", NAME, "userB")
    assert psql(ip, "userB", "S3cret-x", "db2", "SELECT 1").returncode != 0
    cloud.cli("database", "db", "delete", NAME, "db2")
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", NAME)} == {"test"}
    root = cloud.cli_json("database", "root", "enable", NAME)
    assert root["name"] == "root"
    assert psql(ip, "root", root["password"], "postgres", "SELECT 1").returncode == 0
    assert cloud.cli_json("database", "root", "show", NAME)["is_root_enabled"] is True
    cloud.cli("database", "root", "disable", NAME)
    assert psql(ip, "root", root["password"], "postgres", "SELECT 1").returncode != 0


def test_agent_maps_no_database_client(cloud):
    """The agent runs every database session in a worker process, so after all
    the operations above it has never mapped a client library
    (docs/guest-mariadb.md, "Processes and memory")."""
    iid = instance(cloud)["id"]
    pid = int((cloud.local / "instances" / iid / "guestagent.pid").read_text().split()[0])
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "libmariadb" not in maps and "libpq" not in maps


@pytest.mark.parametrize("user, password", [
    ("u\"x", "p"), ("ok", "p'; DROP ROLE \"userA\"; --"), ("ok2", "$$x$$"), ("ok3", "back\\slash"),
])
def test_injection_in_users_and_passwords(cloud, user, password):
    iid = instance(cloud)["id"]
    status, _, body = cloud.api("POST", f"/instances/{iid}/users",
                                {"users": [{"name": user, "password": password}]})
    ip = instance(cloud)["ip"][0]
    if status == 202:
        out = psql(ip, user, password, "postgres", "SELECT 1")
        assert out.returncode != 0 or out.stdout.strip() == "1"
        assert cloud.api("DELETE", f"/instances/{iid}/users/{quote(user, safe='')}")[0] == 202
    else:
        assert status == 400, body
    assert {u["Name"] for u in cloud.cli_json("database", "user", "list", NAME)} == {"userA"}
    assert psql(ip, "userA", "Passw0rd", "test", "SELECT x FROM t").stdout.strip() == "42"


@pytest.mark.parametrize("name", ["a\"b", "x\"; DROP DATABASE test; --", "postgres", "a"])
def test_injection_in_database_names(cloud, name):
    iid = instance(cloud)["id"]
    status, _, body = cloud.api("POST", f"/instances/{iid}/databases",
                                {"databases": [{"name": name}]})
    assert status in (202, 400), body
    if status == 202:
        # Stored literally (PostgreSQL allows quotes in names); delete it again.
        assert name in {d["Name"] for d in cloud.cli_json("database", "db", "list", NAME)}
        assert cloud.api("DELETE", f"/instances/{iid}/databases/{quote(name, safe='')}")[0] == 202
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", NAME)} == {"test"}


def postmaster_pid(cloud):
    out = subprocess.run(["pgrep", "-o", "-f", f"postgres.*{cloud.run_root}"],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def test_restart_and_kill(cloud):
    cloud.cli("database", "instance", "restart", NAME)
    cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    ip = instance(cloud)["ip"][0]
    assert psql(ip, "userA", "Passw0rd", "test", "SELECT x FROM t").stdout.strip() == "42"
    os.kill(postmaster_pid(cloud), signal.SIGKILL)
    cloud.wait_status(NAME, "ACTIVE", operating="SHUTDOWN", timeout=20)
    cloud.cli("database", "instance", "restart", NAME)
    cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    assert psql(ip, "userA", "Passw0rd", "test", "SELECT x FROM t").stdout.strip() == "42"


def test_delete_leaves_nothing_behind(cloud):
    detail = instance(cloud)
    iid, ip = detail["id"], detail["ip"][0]
    cloud.cli("database", "instance", "delete", NAME)
    deadline = time.time() + 30
    while time.time() < deadline and cloud.api("GET", f"/instances/{iid}")[0] != 404:
        time.sleep(0.2)
    assert cloud.api("GET", f"/instances/{iid}")[0] == 404
    assert subprocess.run(["pgrep", "-af", iid], capture_output=True, text=True).stdout == ""
    assert iid not in Path("/proc/self/mounts").read_text()
    assert iid not in subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    # The PITR archive in the backup store outlives the instance (docs/pitr.md).
    assert not [p for p in cloud.local.rglob("*") if iid in str(p) and "/archive/" not in str(p)]
    assert psql(ip, "userA", "Passw0rd", "test", "SELECT 1").returncode != 0
