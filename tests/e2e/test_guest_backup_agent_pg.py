"""The guest agent's create_backup for PostgreSQL (issue 12, guest side), over the
real bus against a real PostgreSQL instance of `ctrove all`: sealed create_backup
casts as the taskmanager sends them leave a full (pg_basebackup tar) and an
incremental (the WAL since it) in a local store, sealed, with their WAL positions;
the agent's worker runs pg_basebackup with os_admin's password in a passfile, and
neither the password nor the data key reaches a log. Restores (prepare with
backup_info) are tested against real servers in tests/guest/test_postgresql_backup.py
and through the API when the control plane's backups land (test_backups.py).
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from buslib import Bus, conf_value, instance_key, sealed_request

CONTAINER = "database_backups"
NAME = "gbkpg"


def psql(address, sql):
    env = dict(os.environ, PGPASSWORD="Passw0rd", PGCONNECT_TIMEOUT="5")
    p = subprocess.run(["psql", "-h", address, "-U", "userA", "-d", "test", "-tA",
                        "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.fixture(scope="module")
def bus(cloud):
    b = Bus(conf_value(cloud.conf, "transport_url"), conf_value(cloud.conf, "control_exchange"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def source(cloud):
    cloud.register("postgresql", "15")
    cloud.cli("database", "instance", "create", NAME, "--flavor", "d2", "--size", "1",
              "--datastore", "postgresql", "--datastore-version", "15", "--databases", "test",
              "--users", "userA:Passw0rd", "--is-public")
    inst = cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY", timeout=90)
    ip = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]["ip"][0]
    psql(ip, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000)")
    yield {"id": inst["id"], "ip": ip, "key": instance_key(cloud, inst["id"])}
    cloud.cli("database", "instance", "delete", NAME)


@pytest.fixture(scope="module")
def store_dir():
    d = tempfile.mkdtemp(prefix="ctrove-e2e-pgstore-", dir="/tmp")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def backup_info(source, store_dir, backup_id, key, parent=None):
    suffix = ".wal.tar.zst.enc" if parent else ".tar.zst.enc"
    return {
        "id": backup_id, "name": backup_id, "description": None,
        "instance_id": source["id"], "backup_type": "incremental" if parent else "full",
        "checksum": None, "parent": parent, "datastore": "postgresql",
        "datastore_version": "15", "swift_container": CONTAINER,
        "location": f"{CONTAINER}/{backup_id}{suffix}", "encryption_key": key,
        "store": {"kind": "local", "backups_dir": str(store_dir)},
    }


def guest_log(cloud, source):
    return (cloud.local / "instances" / source["id"] / "guestagent.log").read_text(
        errors="replace")


def wait_for(predicate, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def backup(cloud, bus, source, store_dir, parent=None):
    bid = str(uuid.uuid4())
    key = base64.b64encode(os.urandom(32)).decode()
    info = backup_info(source, store_dir, bid, key, parent)
    bus.send(f"guestagent.{source['id']}",
             sealed_request("create_backup", {"backup_info": info}, source["key"]))
    assert wait_for(lambda: f"backup {bid} completed" in guest_log(cloud, source)), \
        guest_log(cloud, source)[-3000:]
    name = info["location"].split("/", 1)[1]
    meta = json.loads((store_dir / CONTAINER / f".{name}.meta").read_text())
    obj = store_dir / CONTAINER / name
    assert meta["size"] == obj.stat().st_size > 0
    assert obj.read_bytes()[:5] == b"CTBK\x01"
    assert key not in guest_log(cloud, source)
    assert key not in cloud.log.read_text(errors="replace")
    return {"id": bid, "location": info["location"], "checksum": meta["sha256"],
            "meta": meta["metadata"], "bytes": obj.read_bytes()}


def test_full_then_incremental_through_the_agent(cloud, bus, source, store_dir):
    full = backup(cloud, bus, source, store_dir)
    m = full["meta"]
    assert (m["format"], m["backup_type"], m["datastore"]) == ("ctbk1", "full", "postgresql")
    assert "/" in m["start_lsn"] and "/" in m["stop_lsn"] and m["timeline"] == "1"
    assert b"PG_VERSION" not in full["bytes"]  # sealed: no tar member names in clear
    psql(source["ip"], "INSERT INTO t SELECT generate_series(1001, 1100)")
    inc = backup(cloud, bus, source, store_dir,
                 parent={"id": full["id"], "location": full["location"],
                         "checksum": full["checksum"]})
    m = inc["meta"]
    assert (m["backup_type"], m["parent_id"]) == ("incremental", full["id"])
    assert m["start_lsn"] == full["meta"]["stop_lsn"] and m["restore_point"] == inc["id"]
    assert len(inc["bytes"]) < len(full["bytes"])
    # the server kept serving, and os_admin's password never reached a log
    assert psql(source["ip"], "SELECT count(*) FROM t") == "1100"
    run_dir = cloud.run_root / source["id"]
    files = list(run_dir.rglob("*"))
    assert not any(p.name == "backup.pgpass" for p in files)
    cnf = [p for p in files if p.name == "os_admin.cnf"]
    assert cnf, "no os_admin.cnf under " + str(run_dir)
    password = [line.split("=", 1)[1].strip() for line in cnf[0].read_text().splitlines()
                if line.startswith("password")][0]
    assert password not in guest_log(cloud, source)
    assert cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
