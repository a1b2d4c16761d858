# test_postgresql_archive.py — the PostgreSQL WAL archive and restore to a time
# (src/guest/postgresql_archive.c, postgresql_pitr.c) against real PostgreSQL 15
# and a real local store, through guest_cli: every archive_ship call is a new
# process (as an agent restart), so continuity across restarts is what every
# test sees; a store outage is caught up; a restore to a time has exactly the
# rows committed at or before it; a hole in the archive fails the restore and
# leaves nothing running.
#   GUEST_CLI=<build>/tests/guest/guest_cli /usr/bin/python3 -m pytest -q tests/guest/test_postgresql_archive.py
# Owns nothing outside its temporary directories.
import base64
import os
import re
import shutil
import time

import pytest

from test_postgresql import _ALL_STDERR, cache_dir, cli, make_instance, volume_root  # noqa: F401
from test_postgresql_backup import CONTAINER, _base_prepare, backup, count, restore_args, store  # noqa: F401

NAME = re.compile(r"^(\d{12})-([0-9A-F]{24}(\.\d{12})?|[0-9A-F]{8}\.history)\.zst\.enc$")


def archive_info(inst, store):
    return {"prefix": "%s/archive/%s/" % (CONTAINER, inst.info["id"]),
            "encryption_key": inst.archive_key, "store": store, "interval": 1}


def ship(inst, store):
    res = inst.ok("archive_ship", archive_info=archive_info(inst, store))
    assert res["gap"] is None, res
    return res


def objects(inst, store):
    d = os.path.join(store["backups_dir"], CONTAINER, "archive", inst.info["id"])
    names = sorted(n for n in os.listdir(d) if n.endswith(".zst.enc")) if os.path.isdir(d) else []
    for n in names:
        assert NAME.match(n), n
    return names


def source(make_instance, store):
    src = make_instance()
    src.archive_key = base64.b64encode(os.urandom(32)).decode()
    src.prepare()
    src.psql("userA", "Passw0rd", "CREATE TABLE t (id int PRIMARY KEY, v text)")
    return src


def add(inst, first, last):
    inst.psql("userA", "Passw0rd",
              "INSERT INTO t SELECT g, 'x' FROM generate_series(%d, %d) g" % (first, last))


def wait_past(t):
    while time.time() < t:
        time.sleep(0.05)


def pitr_args(src, store, chain, t):
    args = restore_args(chain, store)
    args["backup_info"]["restore_point"] = {
        "time": t, "archive": {"prefix": archive_info(src, store)["prefix"],
                               "encryption_key": src.archive_key}}
    return args


def test_archive_is_continuous_and_catches_up(make_instance, store):
    src = source(make_instance, store)
    first = ship(src, store)
    assert first["last_seq"] >= 1
    t_before = int(time.time()) - 2
    add(src, 1, 10)
    res = ship(src, store)
    # Shipped within the round: everything committed before it is archived.
    assert res["archived_until"] >= t_before, res
    n = len(objects(src, store))
    # An idle round ships nothing and still moves archived_until on.
    time.sleep(1.1)
    again = ship(src, store)
    assert len(objects(src, store)) == n and again["archived_until"] >= res["archived_until"]

    # The store is gone for a while: rounds fail, the slot keeps the WAL,
    # the next round after it is back ships all of it, in order.
    cdir = os.path.join(store["backups_dir"], CONTAINER)
    shutil.move(cdir, cdir + ".away")
    with open(cdir, "w") as f:
        f.write("not a directory")
    try:
        add(src, 11, 5000)
        ok, err = src.call("archive_ship", archive_info=archive_info(src, store))
        assert not ok, err
    finally:
        os.unlink(cdir)
        shutil.move(cdir + ".away", cdir)
    add(src, 5001, 5010)
    ship(src, store)
    names = objects(src, store)
    seqs = [int(n[:12]) for n in names]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), names
    assert len(names) > n

    # The whole archive restores onto the base: nothing was skipped.
    full = backup(src, store)
    add(src, 5011, 5020)
    ship(src, store)
    time.sleep(1.1)
    dst = make_instance()
    dst.prepare(databases=(), users=(), **pitr_args(src, store, [full], int(time.time())))
    assert count(dst) == 5020


def test_restore_to_a_time_stops_exactly_there(make_instance, store):
    src = source(make_instance, store)
    ship(src, store)
    add(src, 1, 100)
    full = backup(src, store)
    add(src, 101, 200)
    ship(src, store)
    # Commits before T, then none in T's second, then more after it.
    add(src, 201, 300)
    t = int(time.time()) + 1
    wait_past(t + 1.2)
    add(src, 301, 400)
    ship(src, store)
    src.psql("userA", "Passw0rd", "DROP TABLE t")
    ship(src, store)

    dst = make_instance()
    dst.prepare(databases=(), users=(), **pitr_args(src, store, [full], t))
    assert count(dst) == 300
    assert dst.psql("userA", "Passw0rd", "SELECT max(id) FROM t").stdout.strip() == "300"
    assert not os.path.exists(os.path.join(dst.info["data_dir"], "wal_restore"))
    assert dst.ok("get_status") == "healthy"
    dst.psql("userA", "Passw0rd", "INSERT INTO t VALUES (100000, 'w')")

    # On an incremental chain too, and past the last commit (nothing after
    # it archived: replay to the end).
    src2 = source(make_instance, store)
    ship(src2, store)
    add(src2, 1, 50)
    f2 = backup(src2, store)
    add(src2, 51, 60)
    i2 = backup(src2, store, parent=f2)
    add(src2, 61, 70)
    ship(src2, store)
    time.sleep(1.1)
    end = make_instance()
    end.prepare(databases=(), users=(), **pitr_args(src2, store, [f2, i2], int(time.time())))
    assert count(end) == 70


def test_a_hole_in_the_archive_fails_the_restore(make_instance, store):
    src = source(make_instance, store)
    ship(src, store)
    full = backup(src, store)
    for i in range(3):
        add(src, i * 10 + 1, i * 10 + 10)
        ship(src, store)
    time.sleep(1.1)
    names = objects(src, store)
    d = os.path.join(store["backups_dir"], CONTAINER, "archive", src.info["id"])
    os.unlink(os.path.join(d, names[-2]))
    dst = make_instance()
    ok, res = dst.call("prepare", **dict(_base_prepare(),
                                         **pitr_args(src, store, [full], int(time.time()))))
    assert not ok and res["status"] == 422 and "misses object" in res["message"], res
    assert dst.server_pids() == [] and not os.path.exists(dst.datadir)

    # A malformed restore_point is refused before anything changes.
    bad = pitr_args(src, store, [full], "yesterday")
    ok, res = dst.call("prepare", **dict(_base_prepare(), **bad))
    assert not ok and res["status"] == 400 and "unix seconds" in res["message"], res
