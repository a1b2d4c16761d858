"""Point-in-time recovery end to end (issue 16, docs/pitr.md), with the real CLI
where it can (restorePoint is an extension: the REST API for it).

Control plane, whatever the guest side does: every instance gets an archive row
once ACTIVE; the guest's update_archive and update_backup(consistent_time)
reports (sent to the real conductor sealed with the instance's key, as its
agent would, while the agent is paused) make the recoverable window shown in
the instance's detail and at GET instances/{id}/recoverable_window; a gap is a
fault that clears when shipping resumes; a message not sealed with the
instance's key changes nothing; restorePoint refusals (outside the window,
bad time, another project's source) are clear 4xx that create nothing, and a
time inside the window picks the newest base backup before it.

The scenario of the issue, MariaDB and PostgreSQL, needs the guest side
(branches mbinlog, pgwal): a writer commits a row with its commit time every
100 ms for 20 s; then DROP TABLE; a restore to T = one second before the drop
has every row committed at or before T and none committed from T + 1 s on
(checked against the writer's log; T is to the second, so a commit inside the
second T may land either side), and the table exists; then the source is
deleted and a restore to an earlier time still works."""
import calendar
import os
import signal
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import pytest

from buslib import Bus, conf_value, guest_request, instance_key, plain_request
from conftest import Cloud, serve

PASSWORD = "Passw0rd"
VERSION = {"mariadb": "10.11", "postgresql": "15"}
# Which datastores' guest agents archive and restore to a time (flipped when the
# guest branches land; strict xfail makes a stale entry fail loudly).
GUEST_PITR = {"mariadb": True, "postgresql": True}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    """The usual cloud; these tests poll, so GETs are not rate-limited."""
    srv = Cloud(tmp_path_factory.mktemp("cloud"), broker)
    srv.conf.write_text(srv.conf.read_text().replace(
        "[DEFAULT]\n", "[DEFAULT]\nhttp_get_rate = 1000000\n", 1))
    for started in serve(srv):
        started.register("postgresql", "15")
        yield started


@pytest.fixture(scope="module")
def bus(cloud):
    b = Bus(conf_value(cloud.conf, "transport_url"), conf_value(cloud.conf, "control_exchange"))
    yield b
    b.close()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def unix(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def detail(cloud, instance_id):
    status, _, body = cloud.api("GET", f"/instances/{instance_id}")
    assert status == 200, body
    return body["instance"]


def window(cloud, instance_id, user="admin"):
    status, _, body = cloud.api("GET", f"/instances/{instance_id}/recoverable_window",
                                user=user)
    return status, body


def create_instance(cloud, name, datastore="mariadb"):
    cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore",
              datastore, "--datastore-version", VERSION[datastore])
    return cloud.wait_status(name, "ACTIVE", operating="HEALTHY", timeout=120)


@contextmanager
def paused(cloud, instance_id):
    """The guest agent stopped: it sends nothing and casts to it wait."""
    pid = int((cloud.local / "instances" / instance_id / "guestagent.pid").read_text().split()[0])
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def to_conductor(bus, cloud, instance_id, method, **args):
    key = instance_key(cloud, instance_id)
    args = {"instance_id": instance_id, "sent": time.time(), **args}
    bus.send("trove-conductor", guest_request(method, args, key, instance_id))


def wait_for(what, check, timeout=30):
    deadline = time.time() + timeout
    seen = None
    while time.time() < deadline:
        ok, seen = check()
        if ok:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"{what}: still {seen} after {timeout} s")


def restore_request(name, point, datastore="mariadb"):
    return {"instance": {"name": name, "flavorRef": "12", "volume": {"size": 1},
                         "datastore": {"type": datastore, "version": VERSION[datastore]},
                         "restorePoint": point}}


def instance_names(cloud):
    return sorted(i["name"] for i in cloud.api("GET", "/instances")[2]["instances"])


# --- the control plane ----------------------------------------------------------------


def test_window_reports_and_refusals(cloud, bus):
    src = create_instance(cloud, "pitr-cp")
    sid = src["id"]
    # The taskmanager gave the instance its archive once it was ACTIVE.
    status, body = wait_for("the archive row", lambda: (window(cloud, sid)[0] == 200,
                                                         window(cloud, sid)))
    assert body["instance_id"] == sid and body["datastore"] == "mariadb", body
    # Another project sees nothing of it.
    assert window(cloud, sid, user="demo")[0] == 404
    assert window(cloud, str(uuid.uuid4()))[0] == 404

    out = cloud.cli_json("database", "backup", "create", "pitr-cp-full", "--instance", sid)
    backup_id = out["id"]
    # The real backup, so that its object exists for the checks a restore makes.
    wait_for("the backup", lambda: (
        cloud.api("GET", f"/backups/{backup_id}")[2]["backup"]["status"] == "COMPLETED",
        cloud.api("GET", f"/backups/{backup_id}")[2]["backup"]["status"]), timeout=180)
    with paused(cloud, sid):
        # Ahead of anything the guest itself may have reported before it was paused
        # (the conductor takes a guest's time up to 300 s ahead of its clock).
        now = int(time.time()) + 5
        base = now - 100
        # What the guest reports: the backup's consistent time, then the archive.
        to_conductor(bus, cloud, sid, "update_backup", backup_id=backup_id, state="COMPLETED",
                     success=True, checksum="0" * 64, size=0.01, backup_type="full",
                     consistent_time=base)
        to_conductor(bus, cloud, sid, "update_archive", archived_until=now, last_seq=3,
                     gap=None)
        expected = {"from": iso(base), "to": iso(now)}
        wait_for("the window", lambda: (window(cloud, sid)[1]["recoverable_window"] == expected,
                                        window(cloud, sid)[1]))
        assert detail(cloud, sid)["recoverable_window"] == expected
        # A report that is not sealed with the instance's key changes nothing.
        bus.send("trove-conductor", plain_request("update_archive", {
            "instance_id": sid, "archived_until": now + 100, "last_seq": 9, "gap": None}))
        time.sleep(1)
        assert window(cloud, sid)[1]["recoverable_window"] == expected
        assert "refusing cast update_archive" in cloud.log.read_text()

        before = instance_names(cloud)
        outside = f"is outside the recoverable window {iso(base)} – {iso(now)} of " \
                  f"instance {sid}."
        for point in ({"instanceRef": sid, "time": iso(now + 3600)},
                      {"instanceRef": sid, "time": iso(base - 1)},
                      {"backupRef": backup_id, "time": iso(base - 50)}):
            status, _, err = cloud.api("POST", "/instances", restore_request("pitr-x", point))
            assert status == 400, err
            assert err["badRequest"]["message"] == f"The time {point['time']} {outside}", err
        for point in ({"instanceRef": sid, "time": "yesterday"},
                      {"instanceRef": sid, "time": "2026-02-30T00:00:00Z"},
                      {"instanceRef": sid, "time": 1234},
                      {"instanceRef": sid, "backupRef": backup_id, "time": iso(now - 50)},
                      {"instanceRef": "not-a-uuid", "time": iso(now - 50)},
                      {"instanceRef": sid}):
            status, _, err = cloud.api("POST", "/instances", restore_request("pitr-x", point))
            assert status == 400, (point, err)
        # Another project's source, or none: 404.
        status, _, err = cloud.api("POST", "/instances", restore_request(
            "pitr-x", {"instanceRef": sid, "time": iso(now - 50)}), user="demo")
        assert status == 404, err
        status, _, err = cloud.api("POST", "/instances", restore_request(
            "pitr-x", {"instanceRef": str(uuid.uuid4()), "time": iso(now - 50)}))
        assert status == 404, err
        # Onto another datastore: the base backup's datastore check answers.
        status, _, err = cloud.api("POST", "/instances", restore_request(
            "pitr-x", {"instanceRef": sid, "time": iso(now - 50)}, "postgresql"))
        assert status == 400, err
        assert "does not match the destination datastore of postgresql" in \
            err["badRequest"]["message"], err
        assert instance_names(cloud) == before

        # A gap is a fault on the instance ...
        gap = "mariadb-bin.000002 was purged before it was shipped"
        to_conductor(bus, cloud, sid, "update_archive", archived_until=now + 1, last_seq=4,
                     gap=gap)
        wait_for("the gap fault", lambda: (detail(cloud, sid).get("fault", {}).get("message")
                                           == gap, detail(cloud, sid).get("fault")))
        assert window(cloud, sid)[1]["gap"] == gap
        # ... cleared when shipping resumes without one.
        to_conductor(bus, cloud, sid, "update_archive", archived_until=now + 2, last_seq=5,
                     gap=None)
        wait_for("the gap cleared", lambda: ("fault" not in detail(cloud, sid),
                                             detail(cloud, sid).get("fault")))
        assert window(cloud, sid)[1]["gap"] is None
    cloud.cli("database", "instance", "delete", sid)
    assert cloud.wait_deleted(sid, timeout=60)
    # The archive outlives the instance.
    status, body = window(cloud, sid)
    assert status == 200 and body["recoverable_window"]["from"] == iso(base), body
    assert window(cloud, sid, user="demo")[0] == 404


# --- the scenario of the issue: needs the guest side ----------------------------------


def maria_sql(address, sql, db="test"):
    return subprocess.run(["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u",
                           "userA", f"-p{PASSWORD}", "-N", "-B", db, "-e", sql],
                          capture_output=True, text=True, timeout=60)


def pg_sql(address, sql):
    env = dict(os.environ, PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="5")
    return subprocess.run(["psql", "-h", address, "-U", "userA", "-d", "test", "-tA", "-v",
                           "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=60)


SQL = {"mariadb": maria_sql, "postgresql": pg_sql}


def run_sql(datastore, address, sql):
    out = SQL[datastore](address, sql)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def address_of(cloud, instance_id):
    return detail(cloud, instance_id)["ip"][0]


def write_for(datastore, address, seconds, period=0.1):
    """The writer: one committed row every period; its log is (id, before, after):
    the row committed between the two client times."""
    log = []
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        i += 1
        before = time.time()
        run_sql(datastore, address, f"INSERT INTO w (id, at) VALUES ({i}, {before:.3f})")
        log.append((i, before, time.time()))
        pause = period - (time.time() - before)
        if pause > 0:
            time.sleep(pause)
    return log


def check_restored(datastore, address, log, t, writes_after=True):
    """Every row committed at or before t is there, none committed from t + 1 on
    (writes_after: the log has some of those)."""
    text = run_sql(datastore, address, "SELECT id FROM w ORDER BY id")
    got = {int(x) for x in text.split()} if text else set()
    must = {i for i, _, after in log if after <= t}
    must_not = {i for i, before, _ in log if before >= t + 1}
    assert must, "the writer committed nothing before the restore point"
    assert must_not or not writes_after, "the writer committed nothing after the restore point"
    assert must <= got, f"missing rows committed by {iso(t)}: {sorted(must - got)[:20]}"
    assert not (must_not & got), f"rows committed after {iso(t)}: {sorted(must_not & got)[:20]}"
    return got


def wait_archived(cloud, instance_id, t, timeout=90):
    def reached():
        status, body = window(cloud, instance_id)
        w = body.get("recoverable_window") if status == 200 else None
        return bool(w) and unix(w["to"]) >= t, body
    return wait_for(f"archived_until past {iso(t)}", reached, timeout)


def restore_to(cloud, name, point, datastore):
    status, _, body = cloud.api("POST", "/instances", restore_request(name, point, datastore))
    assert status == 200, body
    return cloud.wait_status(name, "ACTIVE", timeout=300)


@pytest.mark.parametrize("datastore", ["mariadb", "postgresql"])
def test_restore_to_a_point_in_time(cloud, datastore, request):
    if not GUEST_PITR[datastore]:
        request.applymarker(pytest.mark.xfail(
            reason=f"the {datastore} guest side of PITR (branch "
                   f"{'mbinlog' if datastore == 'mariadb' else 'pgwal'}) is not merged",
            strict=True, raises=AssertionError))
    src = create_instance(cloud, f"pitr-{datastore}", datastore)
    sid = src["id"]
    addr = address_of(cloud, sid)
    run_sql(datastore, addr, "CREATE TABLE w (id INT PRIMARY KEY, at DOUBLE PRECISION)")
    full = cloud.cli_json("database", "backup", "create", f"pitr-{datastore}-full",
                          "--instance", sid)
    wait_for("the full backup", lambda: (
        cloud.api("GET", f"/backups/{full['id']}")[2]["backup"]["status"] == "COMPLETED",
        cloud.api("GET", f"/backups/{full['id']}")[2]["backup"]["status"]), timeout=180)
    log = write_for(datastore, addr, 20)
    dropped_at = time.time()
    run_sql(datastore, addr, "DROP TABLE w")
    t = int(dropped_at) - 1
    wait_archived(cloud, sid, t)

    inst = restore_to(cloud, f"pitr-{datastore}-r1", {"instanceRef": sid, "time": iso(t)},
                      datastore)
    # The writer stopped just before the drop: what follows t is the drop itself
    # (and maybe rows inside the second t), so the table must be there.
    check_restored(datastore, address_of(cloud, inst["id"]), log, t, writes_after=False)
    # The restored instance archives too.
    wait_for("the restored instance's archive",
             lambda: (window(cloud, inst["id"])[0] == 200, window(cloud, inst["id"])))
    cloud.cli("database", "instance", "delete", inst["id"])

    # The source deleted: its window and archive stay, a restore by backupRef still works.
    cloud.cli("database", "instance", "delete", sid)
    assert cloud.wait_deleted(sid, timeout=60)
    status, body = window(cloud, sid)
    assert status == 200 and body["recoverable_window"], body
    t2 = int(log[len(log) // 2][2])
    inst = restore_to(cloud, f"pitr-{datastore}-r2", {"backupRef": full["id"], "time": iso(t2)},
                      datastore)
    check_restored(datastore, address_of(cloud, inst["id"]), log, t2)
    # Outside the window of the deleted source: 400 naming it.
    late = unix(body["recoverable_window"]["to"]) + 3600
    status, _, err = cloud.api("POST", "/instances", restore_request(
        f"pitr-{datastore}-r3", {"instanceRef": sid, "time": iso(late)}, datastore))
    assert status == 400 and "outside the recoverable window" in err["badRequest"]["message"]
    cloud.cli("database", "instance", "delete", inst["id"])
    assert cloud.wait_deleted(inst["id"], timeout=60)
