"""kill -9 of `ctrove all` at each step of create and of delete (issue 18).

For every named crash point (src/common/crash_point.h, docs/crash_recovery.md)
ctrove runs with CTROVE_CRASH_AT=<point>, an instance is created (or deleted)
through the API, the process dies by SIGKILL at that point, and ctrove is
started again on the same state without the variable. The instance then
reaches ACTIVE with a working database (a row written and read back), or is
gone; after its delete nothing of it is left on the machine (orphans.py:
processes, mounts, loop devices, nftables, addresses, broker and OS users,
files, rows). MariaDB for every point, PostgreSQL for a few.
"""
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CTROVE, SANITIZER, Cloud, sanitizer_env
from orphans import assert_nothing_left, leftovers

CREATE_POINTS = [
    "create.row_inserted",       # the API: row and queued claim written, no cast yet
    "create.cast_sent",          # the API: cast sent, no reply to the client
    "create.claimed",            # the taskmanager took the build
    "create.broker_account",     # the guest's broker account made
    "create.address_allocated",
    "create.volume_file",        # sparse image written, not formatted
    "create.mkfs",               # formatted
    "create.loop_attached",
    "create.volume_mounted",
    "create.rules_applied",      # nftables chains
    "create.config_written",     # guest.conf with the key and the bus password
    "create.agent_spawned",
    "create.prepare_sent",
    "create.before_active",
]
DELETE_POINTS = [
    "delete.deleting_set",       # the API: task DELETING, no cast yet
    "delete.agent_stopped",
    "delete.server_stopped",
    "delete.rules_removed",
    "delete.unmounted",
    "delete.loop_detached",
    "delete.address_released",
    "delete.broker_account_removed",
    "delete.before_row_removed",
]
POSTGRESQL_POINTS = ["create.volume_mounted", "create.prepare_sent", "delete.server_stopped",
                     "delete.loop_detached"]


def mariadb(address, sql):
    return subprocess.run(["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address,
                           "-u", "userA", "-pPassw0rd", "-N", "-B", "test", "-e", sql],
                          capture_output=True, text=True, timeout=30)


def psql(address, sql):
    env = dict(os.environ, PGPASSWORD="Passw0rd", PGCONNECT_TIMEOUT="5")
    return subprocess.run(["psql", "-h", address, "-U", "userA", "-d", "test", "-tA",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=30)


DATASTORES = {"mariadb": ("10.11", mariadb), "postgresql": ("15", psql)}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    srv = Cloud(tmp_path_factory.mktemp("crash"), broker)
    try:
        srv.bootstrap()
        srv.register("mariadb", "10.11")
        srv.register("postgresql", "15")
        srv.start()
        yield srv
        start(srv)  # whatever a failed test left, then the clean stop
        srv.stop()
        assert not SANITIZER.search(srv.guest_logs()), srv.guest_logs()[-4000:]
    finally:
        srv.cleanup()


def start(cloud, crash_at=None, wait_at=None):
    """(Re)start ctrove all on the same state, CTROVE_CRASH_AT=crash_at and
    CTROVE_WAIT_AT=wait_at when given."""
    if cloud.proc and cloud.proc.poll() is None:
        cloud.stop()
    for var, value in (("CTROVE_CRASH_AT", crash_at), ("CTROVE_WAIT_AT", wait_at)):
        if value:
            os.environ[var] = value
    try:
        cloud.start()
    finally:
        os.environ.pop("CTROVE_CRASH_AT", None)
        os.environ.pop("CTROVE_WAIT_AT", None)


def wait_killed(cloud, point, timeout=60):
    """The process died by SIGKILL at `point`; its stderr is closed for the restart."""
    try:
        rc = cloud.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"ctrove did not reach crash point {point} in {timeout} s")
    cloud.stderr.close()
    cloud.proc = None
    assert rc == -9, f"ctrove exited with {rc}, not SIGKILL: {cloud.stderr_text()[-3000:]}"
    assert point is None or f"crash point {point}: SIGKILL" in cloud.log.read_text()
    assert not SANITIZER.search(cloud.stderr_text()), cloud.stderr_text()[-4000:]


def create(cloud, name, datastore, allowed_cidrs=None):
    """POST /instances as admin; the process may die before it answers."""
    version, _ = DATASTORES[datastore]
    body = {"instance": {"name": name, "flavorRef": "12", "volume": {"size": 1},
                         "datastore": {"type": datastore, "version": version},
                         "databases": [{"name": "test"}],
                         "users": [{"name": "userA", "password": "Passw0rd",
                                    "databases": [{"name": "test"}]}]}}
    if allowed_cidrs:
        body["instance"]["access"] = {"allowed_cidrs": allowed_cidrs}
    try:
        cloud.api("POST", "/instances", body)
    except OSError:  # connection reset: the crash point was in the API itself
        pass


def instance_id(cloud, name):
    body = cloud.api("GET", "/instances")[2]
    found = [i["id"] for i in body["instances"] if i["name"] == name]
    assert len(found) == 1, body
    return found[0]


def works(cloud, name, datastore):
    """The database answers: a row written and read back. → its address."""
    inst = cloud.api("GET", f"/instances/{instance_id(cloud, name)}")[2]["instance"]
    address = inst["ip"][0]
    client = DATASTORES[datastore][1]
    out = client(address, "CREATE TABLE t (x int); INSERT INTO t VALUES (42);"
                          " SELECT x FROM t;")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "42"
    return address


def delete_and_check(cloud, name, address=None):
    iid = instance_id(cloud, name)
    status, _, body = cloud.api("DELETE", f"/instances/{iid}")
    assert status == 202, body
    assert cloud.wait_deleted(iid, timeout=60)
    assert_nothing_left(cloud, iid, address)


def point_name(point):
    return point.replace(".", "-").replace("_", "-")


def crash_during_create(cloud, point, datastore):
    name = f"c-{point_name(point)}-{datastore[:2]}"
    start(cloud, crash_at=point)
    create(cloud, name, datastore)
    wait_killed(cloud, point)
    start(cloud)
    cloud.wait_status(name, "ACTIVE", timeout=90, operating="HEALTHY")
    address = works(cloud, name, datastore)
    delete_and_check(cloud, name, address)


def crash_during_delete(cloud, point, datastore):
    name = f"d-{point_name(point)}-{datastore[:2]}"
    start(cloud, crash_at=point)
    create(cloud, name, datastore)
    cloud.wait_status(name, "ACTIVE", timeout=90, operating="HEALTHY")
    address = works(cloud, name, datastore)
    iid = instance_id(cloud, name)
    try:
        cloud.api("DELETE", f"/instances/{iid}")
    except OSError:
        pass
    wait_killed(cloud, point)
    start(cloud)
    assert cloud.wait_deleted(iid, timeout=60), cloud.api("GET", f"/instances/{iid}")
    assert_nothing_left(cloud, iid, address)


@pytest.mark.parametrize("point", CREATE_POINTS)
def test_crash_during_create_mariadb(cloud, point):
    crash_during_create(cloud, point, "mariadb")


@pytest.mark.parametrize("point", DELETE_POINTS)
def test_crash_during_delete_mariadb(cloud, point):
    crash_during_delete(cloud, point, "mariadb")


@pytest.mark.parametrize("point", POSTGRESQL_POINTS)
def test_crash_postgresql(cloud, point):
    if point.startswith("create."):
        crash_during_create(cloud, point, "postgresql")
    else:
        crash_during_delete(cloud, point, "postgresql")


def test_prepare_is_not_sent_twice(cloud):
    """Resumed after prepare went out: the guest prepared once (its log says so)."""
    name = "c-once"
    start(cloud, crash_at="create.prepare_sent")
    create(cloud, name, "mariadb")
    wait_killed(cloud, "create.prepare_sent")
    start(cloud)
    cloud.wait_status(name, "ACTIVE", timeout=90, operating="HEALTHY")
    iid = instance_id(cloud, name)
    log = (cloud.local / "instances" / iid / "guestagent.log").read_text()
    assert log.count("prepare finished") == 1, log[-3000:]
    works(cloud, name, "mariadb")
    delete_and_check(cloud, name)


def test_build_past_its_time_goes_to_error_and_delete_cleans_up(cloud):
    """Restarted after usage_timeout from the build's start: ERROR, as before;
    delete then removes everything the half build made."""
    name = "c-late"
    start(cloud, crash_at="create.volume_mounted")
    create(cloud, name, "mariadb")
    wait_killed(cloud, "create.volume_mounted")
    iid = instance_id_offline(cloud, name)
    db = sqlite3.connect(cloud.root / "trove.sqlite", timeout=10)
    with db:
        db.execute("UPDATE ctrove_instance_claims SET started_at = started_at - 3600"
                   " WHERE instance_id = ?", (iid,))
    db.close()
    start(cloud)
    inst = cloud.wait_status(name, "ERROR", timeout=30)
    detail = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]
    assert "time to build ran out" in detail["fault"]["message"]
    delete_and_check(cloud, name)


def instance_id_offline(cloud, name):
    db = sqlite3.connect(f"file:{cloud.root}/trove.sqlite?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT id FROM instances WHERE name = ?", (name,)).fetchone()[0]
    finally:
        db.close()


def test_crash_points_are_in_the_test_build():
    """This (test) build has the points; the run build has none of their names
    nor the variable (scripts/ci_run_without_test_deps.sh checks that on every
    CI run, tests/unit/test_crash_point.c that the macro is then nothing)."""
    data = open(CTROVE, "rb").read()
    assert b"CTROVE_CRASH_AT" in data
    for point in CREATE_POINTS + DELETE_POINTS:
        assert point.encode() in data, point


class SecondTaskmanager:
    """`ctrove taskmanager` beside the cloud's `ctrove all`, on the same
    config and database (as the failover tests run two)."""

    def __init__(self, cloud, wait_at):
        self.stderr = open(cloud.root / "taskmanager2.stderr", "ab")
        self.proc = subprocess.Popen(
            [CTROVE, "--config-file", str(cloud.conf), "taskmanager"],
            stdout=self.stderr, stderr=self.stderr,
            env=dict(sanitizer_env(), CTROVE_WAIT_AT=wait_at))
        self.log = cloud.log
        deadline = time.time() + 20
        while not self.lines() and time.time() < deadline:
            time.sleep(0.1)
        assert self.lines(), "the second taskmanager wrote no log line"

    def lines(self):
        return process_lines(self.log, self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            rc = self.proc.wait(30)
            assert rc == 0, f"the second taskmanager exited with {rc}"
        self.stderr.close()
        text = Path(self.stderr.name).read_text(errors="replace")
        assert not SANITIZER.search(text), text[-3000:]


def process_lines(log, pid):
    """The log lines one process wrote ("<date> <time> <pid> ...")."""
    return [line for line in log.read_text(errors="replace").splitlines()
            if len(line.split()) > 3 and line.split()[2] == str(pid)]


def holder_of(cloud, iid, point, timeout=30):
    """The pid of the process waiting at `point` in iid's build."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in cloud.log.read_text(errors="replace").splitlines():
            if iid in line and f"crash point {point}: waiting" in line:
                return int(line.split()[2])
        time.sleep(0.1)
    raise AssertionError(f"no process waits at {point} for {iid}")


def test_live_taskmanager_keeps_its_build(cloud):
    """A taskmanager started while another one builds leaves that build alone;
    when the builder is killed, the live one takes it over at once."""
    wait = "create.volume_mounted:8"
    name = "c-live"
    # The only taskmanager there is gets the cast and holds the build.
    start(cloud, wait_at=wait)
    create(cloud, name, "mariadb")
    iid = instance_id(cloud, name)
    assert holder_of(cloud, iid, "create.volume_mounted") == cloud.proc.pid
    second = SecondTaskmanager(cloud, wait)
    try:
        cloud.wait_status(name, "ACTIVE", timeout=60, operating="HEALTHY")
        assert not [l for l in second.lines() if "resuming" in l], second.lines()
        assert [l for l in process_lines(cloud.log, cloud.proc.pid) if "is ACTIVE" in l]
        works(cloud, name, "mariadb")

        # Whichever of the two gets the next build dies holding it.
        name2 = "c-taken"
        create(cloud, name2, "mariadb")
        iid2 = instance_id(cloud, name2)
        holder = holder_of(cloud, iid2, "create.volume_mounted")
        survivor = second.proc.pid if holder == cloud.proc.pid else cloud.proc.pid
        if holder == cloud.proc.pid:
            cloud.proc.kill()
            wait_killed(cloud, None)
        else:
            second.proc.kill()
            assert second.proc.wait(10) == -9
        killed = time.time()
        while time.time() - killed < 30 and not [
                l for l in process_lines(cloud.log, survivor)
                if "resuming the build" in l and iid2 in l]:
            time.sleep(0.2)
        assert time.time() - killed < 10, "not taken over within a keeper's round"
        if not cloud.proc:
            start(cloud)
        cloud.wait_status(name2, "ACTIVE", timeout=60, operating="HEALTHY")
        works(cloud, name2, "mariadb")
    finally:
        second.stop()
    start(cloud)  # without the wait
    delete_and_check(cloud, name)
    delete_and_check(cloud, name2)


def test_orphan_check_sees_a_live_instance(cloud):
    """orphans.py finds every kind of thing a running instance has (so an
    empty answer after a delete means something)."""
    start(cloud)
    name = "c-seen"
    create(cloud, name, "mariadb", allowed_cidrs=["127.0.0.1/32"])
    cloud.wait_status(name, "ACTIVE", timeout=60, operating="HEALTHY")
    iid = instance_id(cloud, name)
    address = works(cloud, name, "mariadb")
    left = "\n".join(leftovers(cloud, iid, address))
    for kind in ("process", "mount", "loop device", "nft chain", "broker user", "OS user",
                 "file", "instances row"):
        assert kind in left, f"{kind} not seen:\n{left}"
    delete_and_check(cloud, name, address)
