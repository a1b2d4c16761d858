"""Backup schedules and retention end to end (issue 16, "Schedules and
retention"; docs/backups.md): the extension's CRUD with every refusal a clear
400/404 that changes nothing and another project seeing nothing; then, on
real MariaDB and PostgreSQL instances, a schedule of every minute makes
backups through the real guests (the schedules' minute is shortened to
MINUTE seconds by the test-only [DEFAULT] backup_schedule_minute_seconds) and
retention keeps N of them: the backups beyond N and their objects in the
store are gone, listed the same by the real CLI; an incremental schedule's
chain is kept whole; and archive objects that end before the oldest kept
backup are deleted from the store while newer ones stay."""
import hashlib
import json
import os
import time

import pytest

from conftest import Cloud, serve

PASSWORD = "Passw0rd"
MINUTE = 2
KEEP = 2
RUNNING = ("NEW", "BUILDING", "SAVING")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    srv = Cloud(tmp_path_factory.mktemp("cloud"), broker)
    srv.conf.write_text(srv.conf.read_text().replace(
        "[DEFAULT]\n", "[DEFAULT]\nhttp_get_rate = 1000000\n"
        f"backup_schedule_minute_seconds = {MINUTE}\n", 1))
    for started in serve(srv):
        started.register("postgresql", "15")
        yield started


def create_instance(cloud, name, datastore, version):
    cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore",
              datastore, "--datastore-version", version)
    return cloud.wait_status(name, "ACTIVE", operating="HEALTHY", timeout=120)


@pytest.fixture(scope="module")
def instances(cloud):
    made = {}
    yield made
    for inst in made.values():
        cloud.api("DELETE", f"/instances/{inst['id']}")
    for inst in made.values():
        cloud.wait_deleted(inst["id"], timeout=90)


def instance_of(cloud, instances, datastore):
    if datastore not in instances:
        version = {"mariadb": "10.11", "postgresql": "15"}[datastore]
        instances[datastore] = create_instance(cloud, f"sched-{datastore[:5]}", datastore,
                                               version)
    return instances[datastore]


def path(instance_id, schedule_id=""):
    return f"/instances/{instance_id}/backup_schedules" + (f"/{schedule_id}" if schedule_id else "")


def schedules(cloud, instance_id):
    status, _, body = cloud.api("GET", path(instance_id))
    assert status == 200, body
    return body["backup_schedules"]


def backups_of(cloud, instance_id):
    status, _, body = cloud.api("GET", f"/backups?instance_id={instance_id}&limit=1000")
    assert status == 200, body
    return body["backups"]


def message(err):
    return next(iter(err.values()))["message"]


def test_schedule_crud_and_bad_input(cloud, instances):
    maria = instance_of(cloud, instances, "mariadb")
    iid = maria["id"]
    body = {"backup_schedule": {"name": "nightly", "pattern": "30 2 1 jan *",
                                "description": "yearly, in fact",
                                "retention": {"max_count": 3, "max_age_days": 7}}}
    status, _, created = cloud.api("POST", path(iid), body)
    assert status == 202, created
    s = created["backup_schedule"]
    assert set(s) == {"id", "name", "description", "instance_id", "project_id", "pattern",
                      "incremental", "retention", "next_run", "last_run", "created"}, s
    assert (s["name"], s["pattern"], s["description"]) == ("nightly", "30 2 1 jan *",
                                                          "yearly, in fact")
    assert s["instance_id"] == iid and s["incremental"] is False and s["last_run"] is None
    assert s["retention"] == {"max_count": 3, "max_age_days": 7}, s
    assert s["next_run"] > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), s
    assert schedules(cloud, iid) == [s]
    status, _, shown = cloud.api("GET", path(iid, s["id"]))
    assert status == 200 and shown["backup_schedule"] == s, shown

    # Another project sees nothing and can change nothing.
    for method, p, b in (("GET", path(iid), None), ("POST", path(iid), body),
                         ("GET", path(iid, s["id"]), None), ("DELETE", path(iid, s["id"]), None)):
        status, _, err = cloud.api(method, p, b, user="demo")
        assert status == 404, (method, p, err)
        assert message(err) == f"Resource {iid} cannot be found.", err
    nosuch = "00000000-0000-4000-8000-000000000000"
    status, _, err = cloud.api("POST", path(nosuch), body)
    assert status == 404 and message(err) == f"Resource {nosuch} cannot be found.", err
    status, _, err = cloud.api("GET", path(iid, nosuch))
    assert status == 404 and message(err) == f"Resource {nosuch} cannot be found.", err

    def with_(**fields):
        b = {"name": "x", "pattern": "* * * * *"}
        b.update(fields)
        return {"backup_schedule": {k: v for k, v in b.items() if v is not None}}

    cases = [
        ({}, "'backup_schedule' is a required property"),
        ({"backup_schedule": "x"}, "backup_schedule"),
        (with_(name=None), "'name' is a required property"),
        (with_(pattern=None), "'pattern' is a required property"),
        (with_(name=""), "backup_schedule['name']"),
        (with_(name="n" * 201), "Backup schedule name is longer than 200 characters."),
        (with_(pattern=5), "backup_schedule['pattern'] is not of type 'string'"),
        (with_(pattern="61 * * * *"),
         "Invalid backup schedule pattern '61 * * * *': '61' is not a valid minute."),
        (with_(pattern="* * * *"), "this one has 4"),
        (with_(pattern="* * * * frday"), "'frday' is not a valid day-of-week"),
        (with_(pattern="*/0 * * * *"), "the step '0' in the minute field"),
        (with_(pattern="0 0 30 2 *"), "it matches no time in the next five years."),
        (with_(pattern="* * * * * ; rm -rf /"), "more than 5"),
        (with_(incremental="maybe"), "backup_schedule['incremental']"),
        (with_(retention={"max_count": 0}), "is less than the minimum of 1"),
        (with_(retention={"max_age_days": "7"}), "is not of type 'integer', 'null'"),
        (with_(retention={"keep": 3}), "('keep' was unexpected)"),
        (with_(retention=[]), "backup_schedule['retention']"),
        (with_(when="now"), "('when' was unexpected)"),
        (with_(description="d" * 513), "description is longer than 512 characters."),
    ]
    for b, text in cases:
        status, _, err = cloud.api("POST", path(iid), b)
        assert status == 400, (b, status, err)
        assert text in message(err), (b, err)
    assert schedules(cloud, iid) == [s]
    assert backups_of(cloud, iid) == []

    status, _, _ = cloud.api("DELETE", path(iid, s["id"]))
    assert status == 202
    assert cloud.api("GET", path(iid, s["id"]))[0] == 404
    assert cloud.api("DELETE", path(iid, s["id"]))[0] == 404
    assert schedules(cloud, iid) == []
    assert cloud.api("GET", path(nosuch))[0] == 404
    # The server logged no request body (and so no pattern's garbage as a command).
    assert "rm -rf" not in cloud.log.read_text(errors="replace")


def store_files(cloud, location):
    """The local store's files of an object: its bytes and its record."""
    data = cloud.local / "backups" / location
    if not data.parent.exists():
        return []
    base = data.name
    return [p.name for p in data.parent.iterdir() if p.name in (base, f".{base}.meta")]


def plant_archive(cloud, instance_id, name, end_time):
    """An archive object in the local store, as the guest's shipping writes it
    (bytes + the store's record with the contract's metadata)."""
    folder = cloud.local / "backups" / "database_backups" / "archive" / instance_id
    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(64)
    created = int(time.time())
    (folder / name).write_bytes(data)
    record = {"format": 1, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
              "created": created,
              "metadata": {"format": "ctbk1", "kind": "archive", "instance_id": instance_id,
                           "seq": name.split("-", 1)[0].lstrip("0") or "0",
                           "start_time": str(max(end_time - 10, 0)),
                           "end_time": str(end_time)}}
    meta = folder / f".{name}.meta"
    meta.write_text(json.dumps(record))
    for p in (folder / name, meta):
        os.utime(p, (created, created))
    return folder / name


def wait_quiet(cloud, instance_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        listed = backups_of(cloud, instance_id)
        if not any(b["status"] in RUNNING for b in listed):
            return listed
        time.sleep(0.5)
    raise AssertionError(f"backups of {instance_id} still running: {listed}")


@pytest.mark.parametrize("datastore", ["mariadb", "postgresql"])
def test_schedule_makes_backups_and_retention_keeps_n(cloud, instances, datastore):
    inst = instance_of(cloud, instances, datastore)
    iid = inst["id"]
    # Sequence 0, which the guest never ships (it starts at 1): these sort
    # before whatever the guest's own archive holds and never collide with it.
    old = [plant_archive(cloud, iid, f"000000000000-ctrove-test-{i}-old.zst.enc", 1000 + i)
           for i in (1, 2)]
    future = plant_archive(cloud, iid, "000000000000-ctrove-test-3-future.zst.enc",
                           int(time.time()) + 10 * 365 * 86400)
    status, _, body = cloud.api("POST", path(iid), {"backup_schedule": {
        "name": "every-minute", "pattern": "* * * * *", "retention": {"max_count": KEEP}}})
    assert status == 202, body
    schedule = body["backup_schedule"]

    made, locations, steady = set(), {}, None
    deadline = time.time() + 300
    while time.time() < deadline:
        listed = backups_of(cloud, iid)
        done = [b for b in listed if b["status"] == "COMPLETED"]
        assert not [b for b in listed if b["status"] == "FAILED"], listed
        running = [b for b in listed if b["status"] in RUNNING]
        assert len(running) <= 1, listed  # one backup per instance at a time
        for b in done:
            made.add(b["id"])
            locations[b["id"]] = b["locationRef"]
        if len(made) >= KEEP + 2 and len(done) == KEEP:
            steady = done
            break
        time.sleep(0.3)
    assert steady, f"made {len(made)} backups, listed {listed}"
    for b in steady:
        assert b["name"].startswith("every-minute-") and b["name"].endswith("Z"), b
        assert b["description"] == f"Made by backup schedule {schedule['id']}.", b
        assert b["parent_id"] is None, b
    shown = cloud.api("GET", path(iid, schedule["id"]))[2]["backup_schedule"]
    assert shown["last_run"] is not None and shown["next_run"] > shown["last_run"], shown

    status, _, _ = cloud.api("DELETE", path(iid, schedule["id"]))
    assert status == 202
    final = wait_quiet(cloud, iid)
    kept = {b["id"] for b in final}
    assert KEEP <= len(kept) <= KEEP + 1, final  # one may have been running at the delete
    assert {b["id"] for b in steady} <= kept | made
    gone = made - kept
    assert len(gone) >= 2, (made, kept)
    for backup_id in gone:
        assert store_files(cloud, locations[backup_id]) == [], backup_id
        assert cloud.api("GET", f"/backups/{backup_id}")[0] == 404
    for b in final:
        assert b["status"] == "COMPLETED", b
        assert len(store_files(cloud, b["locationRef"])) == 2, b
    # The real CLI lists exactly what is kept.
    listed = cloud.cli_json("database", "backup", "list", "instance", iid)
    assert {b["ID"] for b in listed} == kept, listed
    # No backup after the schedule is gone.
    time.sleep(3 * MINUTE)
    assert {b["id"] for b in backups_of(cloud, iid)} == kept

    # The archive before the oldest kept backup went; what is needed stays
    # (and stops the walk: nothing after it is looked at).
    for p in old:
        assert not p.exists() and not p.with_name(f".{p.name}.meta").exists(), p
    assert future.exists()


def test_incremental_schedule_keeps_its_chain(cloud, instances):
    iid = instance_of(cloud, instances, "mariadb")["id"]
    before = {b["id"] for b in wait_quiet(cloud, iid)}
    status, _, body = cloud.api("POST", path(iid), {"backup_schedule": {
        "name": "chain", "pattern": "*/1 * * * *", "incremental": True,
        "retention": {"max_count": 1}}})
    assert status == 202, body
    assert body["backup_schedule"]["incremental"] is True
    deadline = time.time() + 300
    mine = []
    while time.time() < deadline:
        listed = backups_of(cloud, iid)
        assert not [b for b in listed if b["status"] == "FAILED"], listed
        mine = [b for b in listed if b["name"].startswith("chain-")]
        if len([b for b in mine if b["status"] == "COMPLETED"]) >= 3:
            break
        time.sleep(0.3)
    cloud.api("DELETE", path(iid, body["backup_schedule"]["id"]))
    final = wait_quiet(cloud, iid)
    mine = sorted((b for b in final if b["name"].startswith("chain-")),
                  key=lambda b: b["created"])
    assert len(mine) >= 3, final
    # Each builds on the one before: keeping the newest keeps them all (and the
    # full the first one built on), objects included.
    ids = {b["id"] for b in final}
    for b in mine:
        assert b["parent_id"] in ids, (b, final)
        assert len(store_files(cloud, b["locationRef"])) == 2, b
    for prev, nxt in zip(mine, mine[1:]):
        assert nxt["parent_id"] == prev["id"], mine
    assert mine[0]["parent_id"] in before
