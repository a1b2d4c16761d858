"""Instances end to end with the local compute driver and MariaDB (issue 4):
the real CLI creates, uses, restarts and deletes an instance, and the machine
is checked for what it leaves behind."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

NAME = "db1"


def mariadb(address, user, password, database, sql, source=None):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", user,
           f"-p{password}", "-N", "-B", database, "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def instance(cloud, name=NAME):
    status, _, body = cloud.api("GET", "/instances")
    found = [i for i in body["instances"] if i["name"] == name]
    assert found, body
    return cloud.api("GET", f"/instances/{found[0]['id']}")[2]["instance"]


def connects_from(source, address, port=3306):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.bind((source, 0))
        s.connect((address, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_create_is_active_quickly(cloud):
    started = time.time()
    proc = cloud.cli("database", "instance", "create", NAME, "--flavor", "d2", "--size", "1",
                     "--databases", "test", "--users", "userA:Passw0rd",
                     "--datastore", "mariadb", "--datastore-version", "10.11",
                     "--is-public", "--allowed-cidr", "127.0.0.1/32", "-f", "json")
    created = json.loads(proc.stdout)
    assert created["status"] == "BUILD" and created["name"] == NAME
    inst = cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    elapsed = time.time() - started
    print(f"create -> ACTIVE through the CLI: {elapsed:.2f} s")
    assert inst["flavor"]["id"] == "12"
    detail = instance(cloud)
    assert detail["ip"] and detail["ip"][0].startswith("127.")
    assert detail["access"] == {"is_public": True, "allowed_cidrs": ["127.0.0.1/32"]}
    assert 0 <= detail["volume"]["used"] < 1


def test_user_reads_and_writes_over_tcp(cloud):
    ip = instance(cloud)["ip"][0]
    out = mariadb(ip, "userA", "Passw0rd", "test",
                  "CREATE TABLE t (x INT); INSERT INTO t VALUES (42); SELECT x FROM t;")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"
    assert mariadb(ip, "userA", "wrong", "test", "SELECT 1").returncode != 0


def test_allowed_cidrs_are_enforced(cloud):
    ip = instance(cloud)["ip"][0]
    assert connects_from("127.0.0.1", ip)
    assert not connects_from("127.0.0.9", ip)
    # Opening the instance to 127.0.0.9/32 swaps who may connect.
    cloud.cli("database", "instance", "update", NAME, "--allowed-cidr", "127.0.0.9/32")
    deadline = time.time() + 10
    while time.time() < deadline and not connects_from("127.0.0.9", ip):
        time.sleep(0.1)
    assert connects_from("127.0.0.9", ip)
    assert not connects_from("127.0.0.1", ip)
    cloud.cli("database", "instance", "update", NAME, "--allowed-cidr", "127.0.0.1/32")
    deadline = time.time() + 10
    while time.time() < deadline and not connects_from("127.0.0.1", ip):
        time.sleep(0.1)
    assert connects_from("127.0.0.1", ip)
    cloud.wait_status(NAME, "ACTIVE")


def test_databases_users_and_root(cloud):
    cloud.cli("database", "db", "create", NAME, "db2")
    names = {d["Name"] for d in cloud.cli_json("database", "db", "list", NAME)}
    assert names == {"test", "db2"}
    cloud.cli("database", "user", "create", NAME, "userB", "S3cret!x", "--databases", "db2")
    users = {u["Name"]: u for u in cloud.cli_json("database", "user", "list", NAME)}
    assert set(users) == {"userA", "userB"}
    ip = instance(cloud)["ip"][0]
    out = mariadb(ip, "userB", "S3cret!x", "db2", "SELECT DATABASE()")
    assert out.returncode == 0 and out.stdout.strip() == "db2"
    iid = instance(cloud)["id"]
    access = cloud.api("GET", f"/instances/{iid}/users/userB/databases")[2]
    assert access == {"databases": [{"name": "db2"}]}
    # Password changes: all users at once, then one user's attributes.
    assert cloud.api("PUT", f"/instances/{iid}/users",
                     {"users": [{"name": "userB", "password": "N3w-pass"}]})[0] == 202
    assert mariadb(ip, "userB", "N3w-pass", "db2", "SELECT 1").returncode == 0
    assert mariadb(ip, "userB", "S3cret!x", "db2", "SELECT 1").returncode != 0
    assert cloud.api("PUT", f"/instances/{iid}/users/userB",
                     {"user": {"password": "S3cret!x"}})[0] == 202
    assert mariadb(ip, "userB", "S3cret!x", "db2", "SELECT 1").returncode == 0
    status, _, body = cloud.api("PUT", f"/instances/{iid}/users", {"users": []})
    assert status == 400 and "non-empty" in body["badRequest"]["message"]
    cloud.cli("database", "user", "delete", NAME, "userB")
    assert {u["Name"] for u in cloud.cli_json("database", "user", "list", NAME)} == {"userA"}
    assert mariadb(ip, "userB", "S3cret!x", "db2", "SELECT 1").returncode != 0
    cloud.cli("database", "db", "delete", NAME, "db2")
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", NAME)} == {"test"}
    # root
    assert cloud.cli_json("database", "root", "show", NAME)["is_root_enabled"] is False
    root = cloud.cli_json("database", "root", "enable", NAME)
    assert root["name"] == "root" and len(root["password"]) >= 16
    assert mariadb(ip, "root", root["password"], "mysql", "SELECT 1").returncode == 0
    assert cloud.cli_json("database", "root", "show", NAME)["is_root_enabled"] is True
    cloud.cli("database", "root", "disable", NAME)
    assert mariadb(ip, "root", root["password"], "mysql", "SELECT 1").returncode != 0


def test_access_pages_and_root_password_through_the_guest(cloud):
    """The guest client's other methods end to end: paged list_databases and
    list_users, get_user (and its 404), grant/revoke/list_access,
    update_attributes renaming a user, enable_root_with_password."""
    inst = instance(cloud)
    iid, ip = inst["id"], inst["ip"][0]
    base = f"/instances/{iid}"

    def pages(kind):
        seen, marker = [], None
        for _ in range(20):
            status, _, body = cloud.api(
                "GET", f"{base}/{kind}?limit=1" + (f"&marker={marker}" if marker else ""))
            assert status == 200 and len(body[kind]) <= 1, body
            seen += [item["name"] for item in body[kind]]
            if not body.get("links"):
                return seen
            marker = body["links"][0]["href"].split("marker=")[1]
        raise AssertionError(f"{kind}: paging never ended: {seen}")

    assert cloud.api("POST", f"{base}/databases",
                     {"databases": [{"name": n} for n in ("pa1", "pa2", "pa3")]})[0] == 202
    assert pages("databases") == ["pa1", "pa2", "pa3", "test"]
    assert cloud.api("POST", f"{base}/users",
                     {"users": [{"name": "userC", "password": "Acc3ss-pw"}]})[0] == 202
    assert cloud.api("PUT", f"{base}/users/userC/databases",
                     {"databases": [{"name": "pa1"}, {"name": "pa2"}]})[0] == 202
    access = cloud.api("GET", f"{base}/users/userC/databases")[2]["databases"]
    assert sorted(d["name"] for d in access) == ["pa1", "pa2"]
    assert mariadb(ip, "userC", "Acc3ss-pw", "pa1", "SELECT 1").returncode == 0
    assert cloud.api("DELETE", f"{base}/users/userC/databases/pa1")[0] == 202
    assert cloud.api("GET", f"{base}/users/userC/databases")[2] == {"databases": [{"name": "pa2"}]}
    assert mariadb(ip, "userC", "Acc3ss-pw", "pa1", "SELECT 1").returncode != 0
    status, _, body = cloud.api("GET", f"{base}/users/userC")
    assert status == 200 and body == {
        "user": {"name": "userC", "host": "%", "databases": [{"name": "pa2"}]}}
    assert cloud.api("GET", f"{base}/users/nobody")[0] == 404
    assert cloud.api("PUT", f"{base}/users/userC", {"user": {"name": "userD"}})[0] == 202
    assert cloud.api("GET", f"{base}/users/userC")[0] == 404
    assert cloud.api("GET", f"{base}/users/userD")[2]["user"]["databases"] == [{"name": "pa2"}]
    assert pages("users") == ["userA", "userD"]
    status, _, body = cloud.api("POST", f"{base}/root", {"password": "R00t-chosen-pw"})
    assert status == 200 and body == {"user": {"name": "root", "password": "R00t-chosen-pw"}}
    assert mariadb(ip, "root", "R00t-chosen-pw", "mysql", "SELECT 1").returncode == 0
    assert cloud.api("DELETE", f"{base}/root")[0] == 204
    assert mariadb(ip, "root", "R00t-chosen-pw", "mysql", "SELECT 1").returncode != 0
    assert cloud.api("DELETE", f"{base}/users/userD")[0] == 202
    for name in ("pa1", "pa2", "pa3"):
        assert cloud.api("DELETE", f"{base}/databases/{name}")[0] == 202
    assert pages("databases") == ["test"]
    # debug = true: the control plane and the agent log every guest call.
    logs = cloud.log.read_text(errors="replace") + cloud.guest_logs()
    for secret in ("Acc3ss-pw", "R00t-chosen-pw"):
        assert secret not in logs


def test_agent_maps_no_database_client(cloud):
    """The agent runs every database session in a worker process, so after all
    the operations above it has never mapped a client library
    (docs/guest-mariadb.md, "Processes and memory")."""
    iid = instance(cloud)["id"]
    pid = int((cloud.local / "instances" / iid / "guestagent.pid").read_text().split()[0])
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "libmariadb" not in maps and "libpq" not in maps


def test_a_hung_guest_holds_no_http_thread(cloud):
    """Calls that wait on a guest are served by the API's wait pool: with the
    guest agent stopped, more of them are pending than the API has HTTP
    threads (one per CPU; four per CPU before the pool), and other requests
    are still answered at once."""
    iid = instance(cloud)["id"]
    pid = int((cloud.local / "instances" / iid / "guestagent.pid").read_text().split()[0])
    calls = min(4 * (os.cpu_count() or 2) + 2, 30)
    results = []

    def list_databases():
        results.append(cloud.api("GET", f"/instances/{iid}/databases")[0])

    threads = [threading.Thread(target=list_databases) for _ in range(calls)]
    os.kill(pid, signal.SIGSTOP)
    try:
        for t in threads:
            t.start()
        time.sleep(1.5)  # every call is waiting on the stopped guest now
        assert results == []
        started = time.monotonic()
        status, _, body = cloud.api("GET", "/datastores")
        assert status == 200 and body["datastores"]
        assert time.monotonic() - started < 2
    finally:
        os.kill(pid, signal.SIGCONT)
    for t in threads:
        t.join(60)
    assert results == [200] * calls


@pytest.mark.parametrize("name", ["a'b", "a`b", "a\\\\b", "a;b", "x'; DROP DATABASE test; --"])
def test_injection_in_database_names_is_refused(cloud, name):
    iid = instance(cloud)["id"]
    status, _, body = cloud.api("POST", f"/instances/{iid}/databases",
                                {"databases": [{"name": name}]})
    assert status == 400, body
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", NAME)} == {"test"}


@pytest.mark.parametrize("user, password", [
    ("u'x", "p"), ("u`x", "p"), ("u;x", "p"), ("ok", "p'; DROP USER userA; --"),
    ("ok", "p\\\\x"), ("ok2", "with space"),
])
def test_injection_in_users_and_passwords(cloud, user, password):
    iid = instance(cloud)["id"]
    status, _, body = cloud.api("POST", f"/instances/{iid}/users",
                                {"users": [{"name": user, "password": password}]})
    ip = instance(cloud)["ip"][0]
    if status == 202:
        # Stored literally: the exact password logs in, nothing else changed.
        out = mariadb(ip, user, password, "", "SELECT 1")
        assert out.returncode == 0, out.stderr
        cloud.api("DELETE", f"/instances/{iid}/users/{user}")
    else:
        assert status == 400, body
    users = {u["Name"] for u in cloud.cli_json("database", "user", "list", NAME)}
    assert users == {"userA"}
    assert mariadb(ip, "userA", "Passw0rd", "test", "SELECT x FROM t").stdout.strip() == "42"


def mariadbd_pid(cloud):
    out = subprocess.run(["pgrep", "-f", f"mariadbd.*{cloud.run_root}"], capture_output=True,
                         text=True).stdout.split()
    return int(out[0]) if out else None


def test_restart_keeps_data(cloud):
    before = mariadbd_pid(cloud)
    cloud.cli("database", "instance", "restart", NAME)
    cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    after = mariadbd_pid(cloud)
    assert before and after and before != after
    ip = instance(cloud)["ip"][0]
    assert mariadb(ip, "userA", "Passw0rd", "test", "SELECT x FROM t").stdout.strip() == "42"


def test_killed_server_shows_shutdown_and_restart_recovers(cloud):
    os.kill(mariadbd_pid(cloud), signal.SIGKILL)
    cloud.wait_status(NAME, "ACTIVE", operating="SHUTDOWN", timeout=20)
    cloud.cli("database", "instance", "restart", NAME)
    cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    ip = instance(cloud)["ip"][0]
    assert mariadb(ip, "userA", "Passw0rd", "test", "SELECT x FROM t").stdout.strip() == "42"


def test_instance_survives_a_control_plane_restart(cloud):
    pid = mariadbd_pid(cloud)
    cloud.stop()
    cloud.start()
    inst = cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY", timeout=20)
    assert mariadbd_pid(cloud) == pid
    assert inst["name"] == NAME


def test_instance_list_pages(cloud):
    for extra in ("page-a", "page-b"):
        cloud.cli("database", "instance", "create", extra, "--flavor", "d1", "--size", "1",
                  "--datastore", "mariadb")
    for extra in ("page-a", "page-b"):
        cloud.wait_status(extra, "ACTIVE")
    seen, marker, pages = [], None, 0
    while True:
        path = "/instances?limit=1" + (f"&marker={marker}" if marker else "")
        status, _, body = cloud.api("GET", path)
        assert status == 200 and len(body["instances"]) <= 1
        seen += [i["name"] for i in body["instances"]]
        pages += 1
        if "links" not in body:
            break
        assert body["links"][0]["rel"] == "next"
        marker = body["links"][0]["href"].split("marker=")[1]
    assert sorted(seen) == sorted([NAME, "page-a", "page-b"]) and pages == 3
    detail = cloud.api("GET", "/instances/detail")[2]["instances"]
    assert all("created" in i for i in detail) and len(detail) == 3
    for extra in ("page-a", "page-b"):
        cloud.cli("database", "instance", "delete", extra)


def test_delete_leaves_nothing_behind(cloud):
    detail = instance(cloud)
    iid, ip = detail["id"], detail["ip"][0]
    cloud.cli("database", "instance", "delete", NAME)
    deadline = time.time() + 30
    while time.time() < deadline:
        if not cloud.api("GET", "/instances")[2]["instances"]:
            break
        time.sleep(0.2)
    assert cloud.api("GET", f"/instances/{iid}")[0] == 404
    assert cloud.cli_json("database", "instance", "list") == []
    procs = subprocess.run(["pgrep", "-af", iid], capture_output=True, text=True).stdout
    assert procs.strip() == "", procs
    assert iid not in Path("/proc/self/mounts").read_text()
    assert iid not in subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    rules = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert iid not in rules and ip not in rules
    # The PITR archive in the backup store outlives the instance (docs/pitr.md).
    leftovers = [p for p in cloud.local.rglob("*")
                 if iid in str(p) and "/archive/" not in str(p)]
    assert leftovers == []
    assert not (cloud.run_root / iid).exists()
    # Its OS identity (and the group of the same name) went with it.
    assert f"ctrove instance {iid}" not in Path("/etc/passwd").read_text()
    assert f"ct-{iid[:29]}:" not in Path("/etc/group").read_text()
    assert not connects_from("127.0.0.1", ip)
    # The address is free again: the next instance may reuse it.
    quota = {q["resource"]: q for q in cloud.api(
        "GET", f"/mgmt/quotas/{cloud.token()[1]}")[2]["quotas"]}
    assert quota["instances"]["in_use"] == 0 and quota["volumes"]["in_use"] == 0
