"""Automatic failover (issue 15) end to end, both datastores: a source with two
replicas and `failover: {automatic, synchronous}`; a writer commits numbered
rows and records every acknowledged id; kill -9 of the source's server and
agent; within a bound a replica is the source, the other follows it, every
acknowledged id is on it, the old source is fenced (connections refused, no
process left) — and a second taskmanager racing the first changes nothing:
one claim row, one eject. Also the `failover` field's checks."""
import signal
import socket
import subprocess
import time

import pytest

from conftest import CTROVE, SANITIZER, Cloud, sanitizer_env, serve
from failoverlib import (DATABASE, PASSWORD, USER, Writer, claims, create_topology, delete_all, detail, instance_pids,
                         kill_source, new_source_of, sql, wait_for)

FAILOVER_BOUND = 90  # seconds from the kill; failover_timeout is 5 (ASan, shared CPUs)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    """kill -9 of the source's server and agent stands for a dead machine here,
    which no supervisor brings back: the agent supervisor checks only at start."""
    yield from serve(Cloud(tmp_path_factory.mktemp("failover"), broker,
                           extra_conf="[DEFAULT]\nguest_agent_check_interval = 0\n"))


@pytest.fixture(scope="module", autouse=True)
def registered(cloud):
    cloud.register("postgresql", "15")


def post(cloud, extra):
    body = {"instance": {"name": "fo-bad", "flavorRef": "12", "volume": {"size": 1},
                         "datastore": {"type": "mariadb", "version": "10.11"}, **extra}}
    return cloud.api("POST", "/instances", body)


def count_instances(cloud):
    return len(cloud.api("GET", "/instances")[2]["instances"])


@pytest.mark.parametrize("value,message", [
    ("yes", "Validation error: instance['failover'] 'yes' is not of type 'object'"),
    ({"automatic": "yes"}, "instance['failover']['automatic']"),
    ({"synchronous": 1}, "instance['failover']['synchronous']"),
    ({"automatic": True, "quorum": 2}, "Additional properties are not allowed ('quorum'"),
    ({}, "instance['failover'] needs 'automatic' or 'synchronous'"),
])
def test_bad_failover_field_is_400_and_creates_nothing(cloud, value, message):
    before = count_instances(cloud)
    status, _, body = post(cloud, {"failover": value})
    assert status == 400, body
    assert message in body["badRequest"]["message"], body
    assert count_instances(cloud) == before


def test_replica_with_failover_is_400(cloud):
    status, _, body = post(cloud, {"replica_of": "11111111-1111-4111-8111-111111111111",
                                   "failover": {"automatic": True}})
    assert status == 400, body
    assert "A replica cannot have failover settings" in body["badRequest"]["message"]


def test_failover_settings_shown_and_changed(cloud):
    status, _, body = post(cloud, {
        "name": "fo-set", "failover": {"automatic": True}, "databases": [{"name": DATABASE}],
        "users": [{"name": USER, "password": PASSWORD, "databases": [{"name": DATABASE}]}]})
    assert status == 200, body
    iid = body["instance"]["id"]
    try:
        cloud.wait_status("fo-set", "ACTIVE")
        assert detail(cloud, iid)["failover"] == {"automatic": True, "synchronous": False}
        status, _, body = cloud.api("PATCH", f"/instances/{iid}",
                                    {"instance": {"failover": {"synchronous": True}}})
        assert status == 202, body
        assert detail(cloud, iid)["failover"] == {"automatic": True, "synchronous": True}
        status, _, body = cloud.api("PUT", f"/instances/{iid}",
                                    {"instance": {"failover": {"automatic": False}}})
        assert status == 202, body
        assert detail(cloud, iid)["failover"] == {"automatic": False, "synchronous": True}
        status, _, body = cloud.api("PATCH", f"/instances/{iid}",
                                    {"instance": {"failover": {"automatic": 3}}})
        assert status == 400, body
        assert detail(cloud, iid)["failover"] == {"automatic": False, "synchronous": True}
        # a standalone source: synchronous is recorded, never blocks its commits
        time.sleep(1)  # the taskmanager has applied it
        started = time.time()
        rc, out = sql("mariadb", detail(cloud, iid)["ip"][0],
                      "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1)")
        assert rc == 0, out
        assert time.time() - started < 5
        status, _, body = cloud.api("PATCH", "/instances/00000000-0000-4000-8000-000000000000",
                                    {"instance": {"failover": {"automatic": True}}})
        assert status == 404, body
    finally:
        delete_all(cloud, [iid])


class SecondTaskmanager:
    """`ctrove taskmanager` beside the cloud's `ctrove all`, on the same
    database and bus: both detectors see the same dead source."""

    def __init__(self, cloud):
        self.stderr_path = cloud.root / "taskmanager2.stderr"
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([CTROVE, "--config-file", str(cloud.conf), "taskmanager"],
                                     stdout=self.stderr, stderr=self.stderr,
                                     env=sanitizer_env())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        self.stderr.close()
        text = self.stderr_path.read_text(errors="replace")
        assert not SANITIZER.search(text), text[-4000:]
        assert rc == 0, text[-4000:]


def refused(address, port):
    try:
        with socket.create_connection((address, port), timeout=3):
            return False
    except ConnectionRefusedError:
        return True


@pytest.mark.parametrize("datastore", ["mariadb", "postgresql"])
def test_automatic_failover_loses_no_acknowledged_write(cloud, datastore):
    name = f"fo-{datastore[:2]}"
    source, replicas, _ = create_topology(
        cloud, datastore, name, failover={"automatic": True, "synchronous": True})
    ids = [source] + replicas
    second = None
    try:
        assert detail(cloud, source)["failover"] == {"automatic": True, "synchronous": True}
        old_ip = detail(cloud, source)["ip"][0]
        port = 3306 if datastore == "mariadb" else 5432
        writer = Writer(datastore, old_ip)
        writer.start()
        wait_for("rows acknowledged", lambda: len(writer.acked) >= 20, 60)
        # replication works before anything is killed
        for r in replicas:
            ip = detail(cloud, r)["ip"][0]
            wait_for(f"row 1 on {r}", lambda: sql(datastore, ip,
                                                  "SELECT id FROM t WHERE id = 1")[1].strip()
                     == "1", 60)
        second = SecondTaskmanager(cloud)
        time.sleep(6)  # its detector has watched for longer than failover_timeout
        assert second.proc.poll() is None
        old_pids = instance_pids(cloud, source)
        killed_at = kill_source(cloud, source)
        new = wait_for("a replica promoted", lambda: new_source_of(cloud, source, replicas),
                       FAILOVER_BOUND, step=0.2)
        failover_s = time.time() - killed_at
        new_ip = detail(cloud, new)["ip"][0]
        writer.mark(exclude=old_ip)
        writer.target = new_ip
        wait_for("a write on the new source", lambda: writer.first_ack_after_mark, 60)
        writer.stop()

        # the topology: the other replica follows the new source
        other = [r for r in replicas if r != new][0]
        assert "replica_of" not in detail(cloud, new)
        assert [x["id"] for x in detail(cloud, new)["replicas"]] == [other]
        assert detail(cloud, other)["replica_of"]["id"] == new
        # settings moved with the source role
        assert detail(cloud, new)["failover"] == {"automatic": True, "synchronous": True}
        assert "failover" not in detail(cloud, source)
        old = detail(cloud, source)
        assert old["status"] == "ERROR"
        assert old["fault"]["message"] == f"Failed over to {new}."

        # no acknowledged write is lost
        rc, out = sql(datastore, new_ip, "SELECT id FROM t")
        assert rc == 0, out
        present = {int(x) for x in out.split()}
        lost = [n for n in writer.acked if n not in present]
        assert not lost, f"acknowledged but lost on {new}: {lost[:20]} (of {len(lost)})"
        # ... and the remaining replica follows the new source
        last = writer.acked[-1]
        other_ip = detail(cloud, other)["ip"][0]
        wait_for(f"row {last} on {other}", lambda: sql(
            datastore, other_ip, f"SELECT id FROM t WHERE id = {last}")[1].strip() == str(last),
            60)

        # the old source is fenced: refused, and nothing of it runs
        assert refused(old_ip, port)
        remaining = instance_pids(cloud, source)
        assert not remaining, f"processes of the old source remain: {remaining} (had {old_pids})"
        # exactly one failover, though two taskmanagers watched
        rows = claims(cloud, source)
        assert len(rows) == 1, rows
        assert rows[0][1] == new and rows[0][2] == "failed over", rows
        log = cloud.log.read_text(errors="replace")
        assert log.count(f"ejecting {source} (fenced)") == 1
        assert second.proc.poll() is None
        print(f"{datastore}: failover in {failover_s:.1f} s, {len(writer.acked)} rows "
              f"acknowledged, {writer.failed} refused")
    finally:
        if second:
            second.stop()
        # replicas first; the fenced old source has none left
        status_of = {i: detail(cloud, i) for i in ids}
        order = sorted(ids, key=lambda i: "replicas" in status_of[i])
        delete_all(cloud, order)
