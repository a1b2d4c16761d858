"""Replication end to end with the real CLI (issue 15), both datastores: a
source with two replicas (`instance create --replica-of S --replica-count 2`),
rows written on the source read on both replicas; promote; eject after kill -9
of the new source's server and agent; detach — after each, writes go to the
new source and every replica follows it. Bad inputs are clear 4xx and change
nothing."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import Cloud, serve

HEARTBEAT_EXPIRY = 10  # seconds; eject is refused while the source heartbeats
BUILD_TIMEOUT = 400  # ASan, shared CPUs: a MariaDB replica restores a backup
USER, PASSWORD, DATABASE = "repl", "Repl-pass1", "rdb"
VERSIONS = {"mariadb": "10.11", "postgresql": "15"}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    # kill -9 of a source's server and agent stands for a dead machine here,
    # which no supervisor brings back: the agent supervisor checks only at start.
    srv = Cloud(tmp_path_factory.mktemp("repl"), broker,
                extra_conf=f"[DEFAULT]\nagent_heartbeat_expiry = {HEARTBEAT_EXPIRY}\n"
                "guest_agent_check_interval = 0\n")
    yield from serve(srv)


@pytest.fixture(scope="module", autouse=True)
def registered(cloud):
    cloud.register("postgresql", "15")


def sql(datastore, address, statement):
    if datastore == "mariadb":
        cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", USER,
               f"-p{PASSWORD}", "-N", "-B", DATABASE, "-e", statement]
        env = None
    else:
        cmd = ["psql", "-h", address, "-U", USER, "-d", DATABASE, "-tA", "-v",
               "ON_ERROR_STOP=1", "-c", statement]
        env = dict(os.environ, PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="5")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30)
    except subprocess.TimeoutExpired:
        return 124, "timeout"
    return out.returncode, out.stdout + out.stderr


def show(cloud, iid):
    status, _, body = cloud.api("GET", f"/instances/{iid}")
    assert status == 200, body
    return body["instance"]


def wait_for(what, check, timeout, step=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s")


def wait_active(cloud, iid, timeout=BUILD_TIMEOUT):
    def active():
        inst = show(cloud, iid)
        if inst["status"] == "ERROR":
            raise AssertionError(f"{iid} went to ERROR: {inst}\n{cloud.guest_logs()[-4000:]}")
        return inst["status"] == "ACTIVE"
    wait_for(f"{iid} ACTIVE", active, timeout)


def rows(datastore, address):
    rc, out = sql(datastore, address, "SELECT id FROM t ORDER BY id")
    return sorted(int(x) for x in out.split()) if rc == 0 else None


def wait_rows(cloud, datastore, iid, wanted, timeout=90):
    address = show(cloud, iid)["ip"][0]
    wait_for(f"{iid} has rows {wanted}", lambda: rows(datastore, address) == wanted, timeout)


def write(cloud, datastore, iid, n):
    rc, out = sql(datastore, show(cloud, iid)["ip"][0], f"INSERT INTO t (id) VALUES ({n})")
    assert rc == 0, out


def kill_server_and_agent(cloud, iid):
    pid = int((cloud.local / "instances" / iid / "guestagent.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    user = ("ct-" + iid.lower())[:32]
    subprocess.run(["pkill", "-KILL", "-U", user], check=False)


def post(cloud, body, user="admin"):
    return cloud.api("POST", "/instances", {"instance": body}, user=user)


def count(cloud):
    return len(cloud.api("GET", "/instances")[2]["instances"])


@pytest.mark.parametrize("datastore", ["mariadb", "postgresql"])
def test_replicas_promote_eject_detach(cloud, datastore):
    name = f"src-{datastore[:2]}"
    proc = cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
                     "--databases", DATABASE, "--users", f"{USER}:{PASSWORD}",
                     "--datastore", datastore, "--datastore-version", VERSIONS[datastore],
                     "--allowed-cidr", "127.0.0.1/32", "-f", "json")
    source = json.loads(proc.stdout)["id"]
    wait_active(cloud, source)
    rc, out = sql(datastore, show(cloud, source)["ip"][0],
                  "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)")
    assert rc == 0, out

    # Two replicas at once, named <name>-1 and <name>-2, the source's flavor and size.
    proc = cloud.cli("database", "instance", "create", f"{name}-r", "--replica-of", name,
                     "--replica-count", "2", "-f", "json")
    shown = json.loads(proc.stdout)
    assert shown["name"] == f"{name}-r-2"
    replicas = wait_for("two replicas listed", lambda: [
        r["id"] for r in show(cloud, source).get("replicas", [])] if len(
            show(cloud, source).get("replicas", [])) == 2 else None, 30)
    for r in replicas:
        wait_active(cloud, r)
        inst = show(cloud, r)
        assert inst["replica_of"]["id"] == source
        assert inst["flavor"]["id"] == show(cloud, source)["flavor"]["id"]
        assert inst["volume"]["size"] == 1
        assert inst["datastore"]["type"] == datastore
        assert "replication_lag" in inst
        assert "replication_lag" not in show(cloud, source)
    names = sorted(show(cloud, r)["name"] for r in replicas)
    assert names == [f"{name}-r-1", f"{name}-r-2"]
    # The CLI shows the roles.
    listed = {i["ID"]: i for i in cloud.cli_json("database", "instance", "list")}
    assert listed[source]["Role"] == "primary"
    assert all(listed[r]["Role"] == "replica" for r in replicas)
    for r in replicas:
        wait_rows(cloud, datastore, r, [1])
    write(cloud, datastore, source, 2)
    for r in replicas:
        wait_rows(cloud, datastore, r, [1, 2])
    lag = show(cloud, replicas[0])["replication_lag"]
    assert lag is None or lag >= 0

    # Read only replicas, a source that cannot be deleted, a replica of a replica.
    status, _, reply = cloud.api("POST", f"/instances/{replicas[0]}/databases",
                                 {"databases": [{"name": "nope"}]})
    assert status == 400 and "read only" in json.dumps(reply), reply
    status, _, reply = cloud.api("POST", f"/instances/{replicas[0]}/users",
                                 {"users": [{"name": "nope", "password": "Nope-pass1"}]})
    assert status == 400, reply
    status, _, reply = cloud.api("DELETE", f"/instances/{source}")
    assert status == 403, reply
    assert reply["forbidden"]["message"] == "Detach replicas before deleting replica source."
    before = count(cloud)
    status, _, reply = post(cloud, {"name": "rr", "replica_of": replicas[0]})
    assert status == 401, reply
    assert "Cannot create a replica of a replica" in json.dumps(reply)
    status, _, reply = cloud.api("POST", f"/instances/{source}/action",
                                 {"promote_to_replica_source": {}})
    assert status == 400 and "is not a replica" in json.dumps(reply), reply
    status, _, reply = cloud.api("POST", f"/instances/{source}/action",
                                 {"eject_replica_source": {}})
    assert status == 400, reply
    assert "cannot be ejected as it has a current heartbeat" in json.dumps(reply)
    assert count(cloud) == before

    # Promote: the first replica is the source; the old source and the other
    # replica follow it.
    new, other = replicas
    cloud.cli("database", "instance", "promote", new)
    for iid in (new, other, source):
        wait_for(f"{iid} done promoting", lambda: show(cloud, iid)["status"] != "PROMOTE", 300)
        wait_active(cloud, iid)
    assert "replica_of" not in show(cloud, new), show(cloud, new)
    assert sorted(r["id"] for r in show(cloud, new)["replicas"]) == sorted([source, other])
    assert show(cloud, source)["replica_of"]["id"] == new
    assert show(cloud, other)["replica_of"]["id"] == new
    write(cloud, datastore, new, 3)
    for iid in (source, other):
        wait_rows(cloud, datastore, iid, [1, 2, 3])
    rc, _ = sql(datastore, show(cloud, source)["ip"][0], "INSERT INTO t VALUES (99)")
    assert rc != 0, "the old source still takes writes"

    # Eject: the new source dies (server and agent, kill -9); once its
    # heartbeat is stale the most advanced replica takes over.
    kill_server_and_agent(cloud, new)

    def ejected():
        status, _, reply = cloud.api("POST", f"/instances/{new}/action",
                                     {"eject_replica_source": {}})
        assert status in (202, 400), reply
        return status == 202
    wait_for("eject accepted", ejected, HEARTBEAT_EXPIRY * 6, step=1)

    def new_source():
        for iid in (source, other):
            inst = show(cloud, iid)
            if inst["status"] == "ACTIVE" and len(inst.get("replicas", [])) == 1:
                return iid
        return None
    leader = wait_for("a new source after eject", new_source, 300, step=0.5)
    follower = other if leader == source else source
    wait_active(cloud, follower)
    assert show(cloud, follower)["replica_of"]["id"] == leader
    assert "replica_of" not in show(cloud, leader)
    assert "replicas" not in show(cloud, new)
    write(cloud, datastore, leader, 4)
    wait_rows(cloud, datastore, follower, [1, 2, 3, 4])

    # Detach: the last replica stands alone and takes writes of its own.
    cloud.cli("database", "instance", "detach", follower)
    wait_for("detached", lambda: "replica_of" not in show(cloud, follower), 120)
    wait_active(cloud, follower)
    assert "replicas" not in show(cloud, leader)
    write(cloud, datastore, leader, 5)
    write(cloud, datastore, follower, 6)
    time.sleep(2)
    assert rows(datastore, show(cloud, follower)["ip"][0]) == [1, 2, 3, 4, 6]
    assert rows(datastore, show(cloud, leader)["ip"][0]) == [1, 2, 3, 4, 5]

    for iid in (new, follower, leader):
        cloud.cli("database", "instance", "delete", iid)
    for iid in (new, follower, leader):
        assert cloud.wait_deleted(iid, timeout=120), iid


def test_bad_replica_requests_are_clear_4xx(cloud):
    proc = cloud.cli("database", "instance", "create", "bad-src", "--flavor", "d2", "--size",
                     "1", "--datastore", "mariadb", "--datastore-version", "10.11", "-f", "json")
    source = json.loads(proc.stdout)["id"]
    wait_active(cloud, source)
    before = count(cloud)
    cases = [
        ({"name": "x", "replica_of": source, "datastore": {"type": "postgresql"}}, 400,
         "Cannot specify datastore when creating replicas."),
        ({"name": "x", "replica_of": source, "flavorRef": "12"}, 400,
         "Cannot specify flavor when creating replicas."),
        ({"name": "x", "replica_of": source, "volume": {"size": 1}}, 400,
         "Cannot specify volume when creating replicas."),
        ({"name": "x", "replica_of": source, "databases": [{"name": "d"}]}, 400,
         "Cannot create a replica with users or databases."),
        ({"name": "x", "replica_of": source, "replica_count": 4}, 400, "replica_count"),
        ({"name": "x", "flavorRef": "12", "volume": {"size": 1}, "replica_count": 2}, 400,
         "unless they are replicas"),
        ({"name": "x", "replica_of": "not-a-uuid"}, 400, "replica_of"),
        ({"name": "x", "replica_of": "00000000-0000-0000-0000-000000000000"}, 404,
         "cannot be found"),
    ]
    for body, code, message in cases:
        status, _, reply = post(cloud, body)
        assert status == code, (body, reply)
        assert message in json.dumps(reply), (body, reply)
    # The CLI: a replica onto another datastore.
    proc = cloud.cli("database", "instance", "create", "x", "--replica-of", "bad-src",
                     "--datastore", "postgresql", check=False)
    assert proc.returncode != 0 and "Cannot specify datastore" in proc.stderr, proc.stderr
    # Another project's source is not there at all.
    status, _, reply = post(cloud, {"name": "x", "replica_of": source}, user="demo")
    assert status == 404, reply
    # Not a replica: promote and detach refused; no replicas: eject refused.
    status, _, reply = cloud.api("POST", f"/instances/{source}/action",
                                 {"promote_to_replica_source": {}})
    assert status == 400 and f"Instance {source} is not a replica." in json.dumps(reply)
    proc = cloud.cli("database", "instance", "detach", source, check=False)
    assert proc.returncode != 0 and "is not a replica" in proc.stderr, proc.stderr
    status, _, reply = cloud.api("POST", f"/instances/{source}/action",
                                 {"eject_replica_source": {}})
    assert status == 400 and "is not a replica source" in json.dumps(reply), reply
    assert count(cloud) == before
    assert show(cloud, source)["status"] == "ACTIVE"
    cloud.cli("database", "instance", "delete", source)
    assert cloud.wait_deleted(source, timeout=120)
