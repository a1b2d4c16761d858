# test_mariadb_backup.py — MariaDB backups and restores (issue 12, guest side)
# against real mariadbd servers, Debian's mariadb-backup and the local store in a
# temporary directory, through guest_cli (create_backup runs the worker's half,
# guest/backups.c; a restore is prepare with backup_info, as the taskmanager
# sends it): full + two incrementals, each restored into a new instance that
# sees exactly the rows written before its backup; a corrupted object, a wrong
# key, a missing object → prepare fails with a clear error and no server runs.
# Run as root, like test_mariadb.py (whose Instance and fixtures it uses).
# Owns its temporary directories.
import base64
import json
import os
import pwd
import stat
import tempfile

import pytest

from test_mariadb import Instance, cache_dir, cli, make_instance  # noqa: F401 (fixtures)
from test_mariadb import _ALL_STDERR, OS_USER

CONTAINER = "database_backups"


@pytest.fixture
def store_dir():
    d = tempfile.mkdtemp(prefix="ctg-store-", dir="/tmp")
    yield d
    import shutil
    shutil.rmtree(d, ignore_errors=True)


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


def store_files(store_dir):
    out = []
    for root, _, files in os.walk(store_dir):
        out += [os.path.join(root, f) for f in files]
    return sorted(out)


def backup_info(inst, store_dir, backup_id, key, parent=None):
    return {
        "id": backup_id, "name": "b " + backup_id, "description": None,
        "instance_id": inst.info["id"],
        "backup_type": "incremental" if parent else "full", "checksum": None,
        "parent": parent, "datastore": "mariadb", "datastore_version": "10.11",
        "swift_container": CONTAINER,
        "location": "%s/%s.xbstream.zst.enc" % (CONTAINER, backup_id),
        "encryption_key": key,
        "store": {"kind": "local", "backups_dir": store_dir},
    }


def take_backup(inst, store_dir, backup_id, key, parent=None):
    info = backup_info(inst, store_dir, backup_id, key, parent)
    res = inst.ok("create_backup", backup_info=info)
    assert res["location"] == info["location"]
    assert len(res["checksum"]) == 64
    assert res["size"] > 0
    return {"id": backup_id, "location": res["location"], "checksum": res["checksum"],
            "backup_type": info["backup_type"], "encryption_key": key}


def restore_info(store_dir, chain):
    last = chain[-1]
    return {"id": last["id"], "instance_id": "source", "location": last["location"],
            "type": last["backup_type"], "checksum": last["checksum"], "chain": chain,
            "store": {"kind": "local", "backups_dir": store_dir}}


def insert(inst, first, last):
    values = ",".join("(%d)" % i for i in range(first, last + 1))
    inst.sql("userA", "Passw0rd", "INSERT INTO t VALUES %s" % values, db="test")


def row_ids(inst):
    p = inst.sql("userA", "Passw0rd", "SELECT COUNT(*), MIN(id), MAX(id) FROM t", db="test")
    return tuple(int(x) for x in p.stdout.split())


@pytest.fixture
def source(make_instance):
    a = make_instance()
    a.prepare()
    a.sql("userA", "Passw0rd", "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB", db="test")
    insert(a, 1, 100)
    # Data that outweighs the server's fixed files, so an incremental can be
    # seen to be smaller than its full.
    a.sql("userA", "Passw0rd", "CREATE TABLE bulk (id INT PRIMARY KEY, v CHAR(64)) ENGINE=InnoDB "
          "SELECT seq AS id, SHA2(seq, 256) AS v FROM seq_1_to_60000", db="test")
    # A clean restart checkpoints: an incremental holds the pages changed
    # after the full's checkpoint LSN, and a fresh server has had none yet.
    a.ok("restart")
    return a


def test_full_and_incrementals_restore_exactly_their_rows(source, make_instance, store_dir):
    key1, key2, key3 = new_key(), new_key(), new_key()
    # root state travels with the data (Trove: a restore keeps the backup's root)
    source.ok("enable_root_with_password", root_password="R00tPassw0rd")
    full = take_backup(source, store_dir, "b-full", key1)
    insert(source, 101, 200)
    inc1 = take_backup(source, store_dir, "b-inc1", key2,
                       parent={"id": full["id"], "location": full["location"],
                               "checksum": full["checksum"]})
    insert(source, 201, 300)
    inc2 = take_backup(source, store_dir, "b-inc2", key3,
                       parent={"id": inc1["id"], "location": inc1["location"],
                               "checksum": inc1["checksum"]})
    # An incremental is much smaller than the full.
    sizes = {os.path.basename(f): os.path.getsize(f) for f in store_files(store_dir)}
    full_size = [v for k, v in sizes.items() if k.startswith("b-full")][0]
    inc_size = [v for k, v in sizes.items() if k.startswith("b-inc1")][0]
    assert inc_size < full_size / 2, sizes

    for chain, expect in (([full], (100, 1, 100)), ([full, inc1], (200, 1, 200)),
                          ([full, inc1, inc2], (300, 1, 300))):
        b = make_instance()
        b.prepare(databases=(), users=(), backup_info=restore_info(store_dir, chain))
        # the users and data came with the backup
        assert row_ids(b) == expect
        assert b.ok("get_status") == "healthy"
        datadir = os.path.join(b.info["data_dir"], "data")
        st = os.stat(datadir)
        assert stat.S_IMODE(st.st_mode) == 0o700
        assert st.st_uid == pwd.getpwnam(OS_USER).pw_uid
        # the staging directory is gone; the server writes to the restored data
        assert not os.path.exists(os.path.join(b.info["data_dir"], "restore"))
        assert b.ok("is_root_enabled") is True
        b.sql("root", "R00tPassw0rd", "SELECT 1")
        insert(b, 1000, 1000)
        # the agent's admin account works with the new instance's password
        assert b.ok("list_databases", limit=10)[0]
        b.cleanup()

    # The stream never landed on the source's volume, and no password or key
    # reached a log.
    assert not os.path.exists(os.path.join(source.info["run_dir"], "credentials",
                                           "mariabackup.cnf"))
    with open(os.path.join(source.info["run_dir"], "credentials", "os_admin.cnf")) as f:
        admin_pw = [ln.split("=", 1)[1].strip() for ln in f if ln.startswith("password")][0]
    with open(os.path.join(source.info["run_dir"], "backup.log")) as f:
        tool_log = f.read()
    assert "completed OK!" in tool_log
    for secret in (admin_pw, key1, key2, key3):
        assert secret not in tool_log
        assert all(secret not in s for s in _ALL_STDERR)


def test_corrupted_object_fails_the_restore_and_starts_nothing(source, make_instance, store_dir):
    key = new_key()
    full = take_backup(source, store_dir, "b-corrupt", key)
    path = [f for f in store_files(store_dir) if f.endswith(".xbstream.zst.enc")][0]
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        c = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([c[0] ^ 0x40]))
    b = make_instance()
    ok, res = b.call("prepare", **prepare_args(restore_info(store_dir, [full])))
    assert not ok
    assert "b-corrupt" in res["message"]
    assert "corrupt" in res["message"], res
    assert b.server_pids() == []
    assert b.ok("is_prepared") is False
    assert not os.path.exists(os.path.join(b.info["data_dir"], "data", "mysql"))


def test_wrong_key_or_missing_object_fails_the_restore(source, make_instance, store_dir):
    full = take_backup(source, store_dir, "b-key", new_key())
    wrong = dict(full, encryption_key=new_key())
    b = make_instance()
    ok, res = b.call("prepare", **prepare_args(restore_info(store_dir, [wrong])))
    assert not ok and "another key" in res["message"], res
    assert b.server_pids() == []
    missing = dict(full, id="b-gone", location=CONTAINER + "/b-gone.xbstream.zst.enc")
    ok, res = b.call("prepare", **prepare_args(restore_info(store_dir, [missing])))
    assert not ok and res["status"] == 422 and "b-gone" in res["message"], res
    assert b.server_pids() == []
    # bad input: a chain that does not end with the backup, a key that is not one
    bad = restore_info(store_dir, [full])
    bad["id"] = "other"
    ok, res = b.call("prepare", **prepare_args(bad))
    assert not ok and res["status"] == 400, res
    short = dict(full, encryption_key="AAEC")
    ok, res = b.call("prepare", **prepare_args(restore_info(store_dir, [short])))
    assert not ok and res["status"] == 400 and "AAEC" not in res["message"], res


def test_failed_backup_leaves_no_object(source, store_dir):
    before = store_files(store_dir)
    source.ok("stop_db")
    ok, res = source.call("create_backup",
                          backup_info=backup_info(source, store_dir, "b-down", new_key()))
    assert not ok, res
    assert "mariabackup" in res["message"], res
    assert store_files(store_dir) == before
    source.ok("start_db")
    # an incremental whose parent is not in the store
    parent = {"id": "nope", "location": CONTAINER + "/nope.xbstream.zst.enc", "checksum": None}
    ok, res = source.call("create_backup", backup_info=backup_info(
        source, store_dir, "b-orphan", new_key(), parent=parent))
    assert not ok and res["status"] == 422 and "nope" in res["message"], res
    # another instance's backup_info
    info = backup_info(source, store_dir, "b-other", new_key())
    info["instance_id"] = "someone-else"
    ok, res = source.call("create_backup", backup_info=info)
    assert not ok and res["status"] == 400, res
    assert store_files(store_dir) == before


def prepare_args(info):
    return {
        "packages": [], "memory_mb": 512, "device_path": None, "mount_point": None,
        "backup_info": info, "config_contents": "", "root_password": None, "overrides": None,
        "cluster_config": None, "snapshot": None, "modules": None, "ds_version": "10.11",
        "databases": [], "users": [],
    }
