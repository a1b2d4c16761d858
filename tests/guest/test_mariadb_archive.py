# test_mariadb_archive.py — the MariaDB binary log archive and point-in-time
# restore (issue 16, guest side) against real mariadbd servers, mariadb-binlog
# and the local store in a temporary directory, through guest_cli
# (archive_ship runs one shipping round as the agent's worker does,
# guest/archive.h; a point-in-time restore is prepare with backup_info +
# restore_point, as the taskmanager sends it). Each guest_cli run is a new
# process, like an agent restart: what survives is the progress file.
# Run as root, like test_mariadb.py (whose Instance and fixtures it uses).
# Owns its temporary directories.
import json
import os
import shutil
import stat
import time

import pytest

from test_mariadb import cache_dir, cli, make_instance  # noqa: F401 (fixtures)
from test_mariadb import _ALL_STDERR
from test_mariadb_backup import (CONTAINER, insert, new_key, prepare_args, restore_info,  # noqa
                                 row_ids, store_dir, take_backup)


def archive_info(inst, store_dir, key, **extra):
    info = {"prefix": "%s/archive/%s/" % (CONTAINER, inst.info["id"]), "encryption_key": key,
            "store": {"kind": "local", "backups_dir": store_dir}, "interval": 1}
    info.update(extra)
    return info


def archive_dir(store_dir, inst):
    return os.path.join(store_dir, CONTAINER, "archive", inst.info["id"])


def objects(store_dir, inst):
    """[(name, metadata)] of the instance's archive, in name order."""
    d = archive_dir(store_dir, inst)
    if not os.path.isdir(d):
        return []
    out = []
    for name in sorted(os.listdir(d)):
        if name.startswith("."):
            continue
        with open(os.path.join(d, "." + name + ".meta")) as f:
            out.append((name, json.load(f)["metadata"]))
    return out


def check_continuous(objs):
    """Sequence numbers 1..n, no part of any file skipped or shipped twice."""
    assert [int(m["seq"]) for _, m in objs] == list(range(1, len(objs) + 1))
    ends = {}
    for name, m in objs:
        assert name == "%012d-%s.%012d.zst.enc" % (int(m["seq"]), m["binlog_file"],
                                                   int(m["start_pos"])), name
        assert m["format"] == "ctbk1" and m["kind"] == "archive"
        assert m["datastore"] == "mariadb"
        assert int(m["start_time"]) <= int(m["end_time"])
        f, start, end = m["binlog_file"], int(m["start_pos"]), int(m["end_pos"])
        assert end > start
        assert ends.get(f, 0) == start, (name, ends)
        ends[f] = end


def binlogs(inst):
    p = inst.sql("root", "R00tPassw0rd", "SHOW BINARY LOGS")
    return [ln.split()[0] for ln in p.stdout.splitlines()]


@pytest.fixture
def source(make_instance):
    a = make_instance()
    a.prepare()
    a.ok("enable_root_with_password", root_password="R00tPassw0rd")
    a.sql("userA", "Passw0rd", "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB", db="test")
    insert(a, 1, 100)
    return a


def test_shipping_is_continuous_across_restarts_and_store_outages(source, store_dir):
    key = new_key()
    info = archive_info(source, store_dir, key)
    r = source.ok("archive_ship", archive_info=info)
    assert r["last_seq"] >= 1 and r["shipped"] == r["last_seq"] and r["gap"] is None
    assert r["archived_until"] >= int(time.time()) - 5
    objs = objects(store_dir, source)
    check_continuous(objs)
    assert objs[-1][1]["end_gtid"].startswith("0-")
    # the progress file is the agent's alone
    st = os.stat(os.path.join(source.info["data_dir"], ".ctrove-archive-state.json"))
    assert stat.S_IMODE(st.st_mode) == 0o600

    # nothing new: nothing shipped, the time still moves
    time.sleep(1.1)
    r2 = source.ok("archive_ship", archive_info=info)
    assert r2["shipped"] == 0 and r2["last_seq"] == r["last_seq"]
    assert r2["archived_until"] > r["archived_until"]

    # new rows: one new part of the open file, right after the last
    insert(source, 101, 200)
    r3 = source.ok("archive_ship", archive_info=info)
    assert r3["shipped"] == 1 and r3["last_seq"] == r["last_seq"] + 1
    check_continuous(objects(store_dir, source))

    # a server restart closes the file; both files' ends are shipped
    source.ok("restart")
    insert(source, 201, 300)
    source.ok("archive_ship", archive_info=info)
    objs = objects(store_dir, source)
    check_continuous(objs)
    assert len({m["binlog_file"] for _, m in objs}) >= 2

    # the store is gone for a while: rounds fail, nothing is skipped or lost
    container = os.path.join(store_dir, CONTAINER)
    shutil.move(container, container + ".away")
    with open(container, "w") as f:
        f.write("not a directory")
    insert(source, 301, 400)
    ok, res = source.call("archive_ship", archive_info=info)
    assert not ok, res
    insert(source, 401, 500)
    os.unlink(container)
    shutil.move(container + ".away", container)
    r4 = source.ok("archive_ship", archive_info=info)
    assert r4["shipped"] >= 1 and r4["gap"] is None
    objs = objects(store_dir, source)
    check_continuous(objs)

    # shipped files are purged, the newest two kept
    for _ in range(4):
        source.ok("restart")
        insert(source, 1000 + _, 1000 + _)
    before = binlogs(source)
    source.ok("archive_ship", archive_info=info)
    after = binlogs(source)
    assert len(after) < len(before) and len(after) >= 2, (before, after)
    check_continuous(objects(store_dir, source))

    # a lost progress file never reuses a sequence number: a gap is reported
    os.unlink(os.path.join(source.info["data_dir"], ".ctrove-archive-state.json"))
    last = len(objects(store_dir, source))
    r5 = source.ok("archive_ship", archive_info=info)
    assert r5["gap"] and "lost" in r5["gap"], r5
    assert r5["last_seq"] > last
    assert [int(m["seq"]) for _, m in objects(store_dir, source)][:last] == \
        list(range(1, last + 1))

    # bad input: clear errors, nothing shipped
    n = len(objects(store_dir, source))
    for bad, what in ((dict(info, prefix="%s/archive/other/" % CONTAINER), "prefix"),
                      (dict(info, encryption_key="AAEC"), "base64"),
                      (dict(info, interval=0), "interval")):
        ok, res = source.call("archive_ship", archive_info=bad)
        assert not ok and res["status"] == 400, res
        assert "AAEC" not in res["message"]
    assert len(objects(store_dir, source)) == n
    assert all(key not in s for s in _ALL_STDERR)


def wait_next_second():
    time.sleep(1.05 - (time.time() % 1.0))


def test_point_in_time_restore_stops_exactly_at_the_time(source, make_instance, store_dir):
    akey, bkey = new_key(), new_key()
    info = archive_info(source, store_dir, akey)
    source.ok("archive_ship", archive_info=info)
    t_before = int(time.time())
    full = take_backup(source, store_dir, "b-pitr", bkey)
    # the base of a point-in-time restore: its binary log position and time
    with open(os.path.join(store_dir, CONTAINER, ".b-pitr.xbstream.zst.enc.meta")) as f:
        meta = json.load(f)["metadata"]
    assert meta["gtid"].startswith("0-"), meta
    assert t_before <= int(meta["consistent_time"]) <= int(time.time())
    insert(source, 101, 200)
    source.sql("userA", "Passw0rd", "UPDATE t SET id = id + 10000 WHERE id <= 10", db="test")
    wait_next_second()
    t_mid = int(time.time())
    wait_next_second()
    insert(source, 201, 300)
    source.sql("userA", "Passw0rd", "DELETE FROM t WHERE id > 250 AND id < 10000", db="test")
    wait_next_second()
    t_end = int(time.time())
    source.ok("archive_ship", archive_info=info)
    wait_next_second()
    source.ok("restart")  # a new file: the replay crosses files
    insert(source, 301, 310)
    t_last = int(time.time())
    source.ok("archive_ship", archive_info=info)
    source_objs = objects(store_dir, source)

    def restore_point(t):
        rp = restore_info(store_dir, [full])
        rp["restore_point"] = {"time": t, "archive": {"prefix": info["prefix"],
                                                      "encryption_key": akey}}
        return rp

    for t, expect in ((t_mid, (200, 11, 10010)), (t_end, (250, 11, 10010)),
                      (t_last, (260, 11, 10010))):
        b = make_instance()
        b.prepare(databases=(), users=(), backup_info=restore_point(t))
        assert row_ids(b) == expect, t
        assert b.ok("get_status") == "healthy"
        assert not os.path.exists(os.path.join(b.info["data_dir"], "pitr"))
        b.cleanup()
    # the archive was only read
    assert objects(store_dir, source) == source_objs

    # a missing or a corrupt object fails the prepare; no server is left
    d = archive_dir(store_dir, source)
    name = source_objs[len(source_objs) // 2][0]
    shutil.move(os.path.join(d, name), os.path.join(store_dir, name))
    b = make_instance()
    ok, res = b.call("prepare", **prepare_args(restore_point(t_end)))
    assert not ok and res["status"] == 422 and "misses object" in res["message"], res
    assert b.server_pids() == [] and b.ok("is_prepared") is False
    shutil.move(os.path.join(store_dir, name), os.path.join(d, name))
    path = os.path.join(d, source_objs[-2][0])
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        c = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([c[0] ^ 0x40]))
    ok, res = b.call("prepare", **prepare_args(restore_point(t_end)))
    assert not ok and res["status"] == 422 and "cannot be read" in res["message"], res
    assert b.server_pids() == [] and b.ok("is_prepared") is False
    # bad input
    bad = restore_point(t_end)
    bad["restore_point"]["time"] = "yesterday"
    ok, res = b.call("prepare", **prepare_args(bad))
    assert not ok and res["status"] == 400, res
    assert all(akey not in s and bkey not in s for s in _ALL_STDERR)
