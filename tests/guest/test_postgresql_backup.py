# test_postgresql_backup.py — PostgreSQL backups and restores through the guest
# manager (src/guest/postgresql_backup.c) against real PostgreSQL 15 and a real
# local backup store: a full, an incremental and a second incremental of one
# instance, each restored into a new instance with exactly the rows written
# before it; a corrupted object fails the restore and leaves nothing running;
# an incremental whose parent's WAL is gone fails asking for a full backup.
# Uses test_postgresql.py's Instance and fixtures (guest_cli, its own loopback
# addresses, the XFS volume). Run as root, like test_postgresql.py:
#   GUEST_CLI=<build>/tests/guest/guest_cli /usr/bin/python3 -m pytest -q tests/guest/test_postgresql_backup.py
# Owns nothing outside its temporary directories.
import base64
import os
import shutil
import tempfile
import time
import uuid

import pytest

from test_postgresql import _ALL_STDERR, cache_dir, cli, make_instance, volume_root  # noqa: F401

CONTAINER = "database_backups"


@pytest.fixture
def store():
    d = tempfile.mkdtemp(prefix="ctp-store-", dir="/tmp")
    yield {"kind": "local", "backups_dir": d}
    shutil.rmtree(d, ignore_errors=True)


def backup(inst, store, parent=None, expect_error=None):
    """create_backup as the taskmanager sends it; → the backup's chain link."""
    bid = str(uuid.uuid4())
    suffix = ".wal.tar.zst.enc" if parent else ".tar.zst.enc"
    key = base64.b64encode(os.urandom(32)).decode()
    info = {
        "id": bid, "name": "b", "description": None, "instance_id": inst.info["id"],
        "backup_type": "incremental" if parent else "full", "checksum": None,
        "parent": ({"id": parent["id"], "location": parent["location"],
                    "checksum": parent["checksum"]} if parent else None),
        "datastore": "postgresql", "datastore_version": "15",
        "swift_container": CONTAINER, "location": "%s/%s%s" % (CONTAINER, bid, suffix),
        "encryption_key": key, "store": store,
    }
    if expect_error:
        return inst.fails("create_backup", expect_error, backup_info=info)
    t0 = int(time.time())
    res = inst.ok("create_backup", backup_info=info)
    # consistent_time bounds the backup's commits from above (docs/pitr.md).
    assert t0 <= res["consistent_time"] <= int(time.time()) + 1, res
    assert res["location"] == info["location"]
    assert len(res["checksum"]) == 64 and res["size"] > 0
    return {"id": bid, "location": info["location"], "checksum": res["checksum"],
            "backup_type": info["backup_type"], "encryption_key": key, "size": res["size"]}


def restore_args(chain, store):
    last = chain[-1]
    return {"backup_info": {
        "id": last["id"], "instance_id": "src", "location": last["location"],
        "type": last["backup_type"], "checksum": last["checksum"],
        "chain": [{k: b[k] for k in ("id", "location", "checksum", "backup_type", "encryption_key")}
                  for b in chain],
        "store": store}}


def count(inst, user="userA", password="Passw0rd"):
    return int(inst.psql(user, password, "SELECT count(*) FROM t").stdout.strip())


def insert(inst, first, last):
    inst.psql("userA", "Passw0rd",
              "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(%d, %d) g" % (first, last))


def object_path(store, location):
    return os.path.join(store["backups_dir"], location)


def test_full_and_two_incrementals_restore_exactly(make_instance, store):
    src = make_instance()
    src.prepare()
    src.psql("userA", "Passw0rd", "CREATE TABLE t (id int PRIMARY KEY, v text)")
    insert(src, 1, 1000)
    full = backup(src, store)
    insert(src, 1001, 1500)
    inc1 = backup(src, store, parent=full)
    insert(src, 1501, 1750)
    inc2 = backup(src, store, parent=inc1)
    insert(src, 1751, 1760)  # after every backup: in no restore
    assert inc1["size"] < full["size"] and inc2["size"] < full["size"]

    # A chain with a hole (the second incremental straight on the full) is
    # refused before any server starts.
    gap = make_instance()
    ok, res = gap.call("prepare", **dict(_base_prepare(), **restore_args([full, inc2], store)))
    assert not ok and "does not continue" in res["message"], res
    assert gap.server_pids() == [] and not os.path.exists(gap.datadir)

    for chain, rows in (([full], 1000), ([full, inc1], 1500), ([full, inc1, inc2], 1750)):
        dst = make_instance()
        dst.prepare(databases=(), users=(), **restore_args(chain, store))
        # The backed-up instance's users come with the data; the restored
        # server accepts writes (it was promoted), and nothing is left over.
        assert count(dst) == rows
        assert dst.psql("userA", "Passw0rd",
                        "SELECT max(id) FROM t").stdout.strip() == str(rows)
        dst.psql("userA", "Passw0rd", "INSERT INTO t VALUES (100000, 'w')")
        assert not os.path.exists(os.path.join(dst.info["data_dir"], "wal_restore"))
        assert not os.path.exists(os.path.join(dst.datadir, "recovery.signal"))
        assert dst.ok("get_status") == "healthy"
        # A restored instance backs up again (a new chain on its timeline).
        if rows == 1750:
            f2 = backup(dst, store)
            insert(dst, 200000, 200009)
            i2 = backup(dst, store, parent=f2)
            again = make_instance()
            again.prepare(databases=(), users=(), **restore_args([f2, i2], store))
            assert count(again) == 1750 + 1 + 10


def test_corrupted_object_fails_restore_and_leaves_nothing(make_instance, store):
    src = make_instance()
    src.prepare()
    src.psql("userA", "Passw0rd", "CREATE TABLE t (id int PRIMARY KEY, v text)")
    insert(src, 1, 200)
    full = backup(src, store)
    insert(src, 201, 300)
    inc = backup(src, store, parent=full)
    path = object_path(store, inc["location"])
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x40]))
    dst = make_instance()
    ok, res = dst.call("prepare", **dict(_base_prepare(), **restore_args([full, inc], store)))
    assert not ok, res
    print("corrupted:", res)
    assert "Restoring backup %s failed" % inc["id"] in res["message"], res
    assert dst.server_pids() == []
    assert not os.path.exists(dst.datadir)
    assert dst.ok("is_prepared") is False
    # The wrong key fails the same way.
    bad = dict(full, encryption_key=base64.b64encode(os.urandom(32)).decode())
    dst2 = make_instance()
    ok, res = dst2.call("prepare", **dict(_base_prepare(), **restore_args([bad], store)))
    assert not ok, res
    print("wrong key:", res)
    assert "Restoring backup %s failed" % full["id"] in res["message"], res
    assert dst2.server_pids() == [] and not os.path.exists(dst2.datadir)


def test_incremental_without_kept_wal_asks_for_full(make_instance, store):
    src = make_instance()
    src.prepare()
    src.psql("userA", "Passw0rd", "CREATE TABLE t (id int PRIMARY KEY, v text)")
    insert(src, 1, 100)
    full = backup(src, store)
    insert(src, 101, 200)
    backup(src, store, parent=full)
    # The slot moved on to the incremental's boundary: a second child of the
    # full cannot be made.
    message = backup(src, store, parent=full, expect_error=422)
    assert "take a full backup" in message
    # No object was left behind by the failed backup.
    left = [n for n in os.listdir(os.path.join(store["backups_dir"], CONTAINER))
            if not n.startswith(".")]
    assert len(left) == 2, left


def _base_prepare():
    return {"packages": [], "memory_mb": 512, "databases": [], "users": [], "device_path": None, "mount_point": None,
            "config_contents": "", "root_password": None, "overrides": None,
            "cluster_config": None, "snapshot": None, "modules": None, "ds_version": "15"}


def test_no_secret_in_agent_logs():
    text = "\n".join(_ALL_STDERR)
    assert "Passw0rd" not in text
