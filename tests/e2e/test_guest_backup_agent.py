"""The guest agent's create_backup (issue 12, guest side), driven over the real bus
against a real MariaDB instance of `ctrove all`: a create_backup cast sealed with
the instance's key, as the taskmanager sends it, leaves an encrypted object with
its metadata in a local store and the agent saying so; a backup_info the agent
cannot use leaves no object and puts the error on the instance's fault (Trove's
notify_exc_info). The control plane's backup rows and routes are tested with the
API (test_backups.py); this file needs only the agent and the conductor.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from buslib import Bus, conf_value, instance_key, sealed_request

CONTAINER = "database_backups"


def mariadb(address, sql):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", "userA",
           "-pPassw0rd", "-N", "-B", "test", "-e", sql]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def bus(cloud):
    b = Bus(conf_value(cloud.conf, "transport_url"), conf_value(cloud.conf, "control_exchange"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def source(cloud):
    cloud.cli("database", "instance", "create", "gbk", "--flavor", "d2", "--size", "1",
              "--datastore", "mariadb", "--databases", "test", "--users",
              "userA:Passw0rd", "--is-public")
    inst = cloud.wait_status("gbk", "ACTIVE", operating="HEALTHY", timeout=90)
    ip = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]["ip"][0]
    mariadb(ip, "CREATE TABLE t (id INT PRIMARY KEY); "
                "INSERT INTO t SELECT seq FROM seq_1_to_1000")
    return {"id": inst["id"], "ip": ip, "key": instance_key(cloud, inst["id"])}


@pytest.fixture
def store_dir():
    d = tempfile.mkdtemp(prefix="ctrove-e2e-store-", dir="/tmp")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def backup_info(source, store_dir, backup_id, key):
    return {
        "id": backup_id, "name": backup_id, "description": None,
        "instance_id": source["id"], "backup_type": "full", "checksum": None,
        "parent": None, "datastore": "mariadb", "datastore_version": "10.11",
        "swift_container": CONTAINER,
        "location": f"{CONTAINER}/{backup_id}.xbstream.zst.enc",
        "encryption_key": key,
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


def test_create_backup_cast_stores_the_encrypted_object(cloud, bus, source, store_dir):
    key = base64.b64encode(os.urandom(32)).decode()
    info = backup_info(source, store_dir, "e2e-full", key)
    bus.send(f"guestagent.{source['id']}",
             sealed_request("create_backup", {"backup_info": info}, source["key"]))
    record = store_dir / CONTAINER / ".e2e-full.xbstream.zst.enc.meta"
    assert wait_for(lambda: "backup e2e-full completed" in guest_log(cloud, source)), \
        guest_log(cloud, source)[-3000:]
    assert record.exists()
    meta = json.loads(record.read_text())
    obj = store_dir / CONTAINER / "e2e-full.xbstream.zst.enc"
    assert meta["size"] == obj.stat().st_size > 0
    assert meta["metadata"]["format"] == "ctbk1"
    assert meta["metadata"]["backup_type"] == "full"
    assert meta["metadata"]["datastore"] == "mariadb"
    assert meta["metadata"]["lsn"].isdigit()
    # sealed: neither xbstream's magic nor the table's rows in clear
    head = obj.read_bytes()[:4096]
    assert head.startswith(b"CTBK\x01") and b"XBSTCK01" not in head
    # the server kept serving during the backup and after it
    assert mariadb(source["ip"], "SELECT COUNT(*) FROM t").strip() == "1000"
    assert key not in guest_log(cloud, source)
    assert key not in cloud.log.read_text(errors="replace")


def test_unusable_backup_info_fails_with_a_fault_and_no_object(cloud, bus, source, store_dir):
    info = backup_info(source, store_dir, "e2e-bad", "c2hvcnQ=")
    bus.send(f"guestagent.{source['id']}",
             sealed_request("create_backup", {"backup_info": info}, source["key"]))

    def fault():
        detail = cloud.api("GET", f"/instances/{source['id']}")[2]["instance"]
        return (detail.get("fault") or {}).get("message", "")

    assert wait_for(lambda: "encryption key" in fault(), timeout=60), fault()
    assert "c2hvcnQ=" not in fault()
    assert not any(store_dir.rglob("*e2e-bad*"))
    # the agent still answers and the instance is unharmed
    assert cloud.wait_status("gbk", "ACTIVE", operating="HEALTHY")
