"""The RPC master keys (issue 10): generated on first run when trove.conf leaves them
unset, kept 0600 in state_path; Trove's published defaults refused at start-up unless
allow_published_rpc_keys; and a control plane that ran on the published
inst_rpc_key_encr_key (a state from before ctrove generated keys) keeps reaching its
instances after it switches to a generated one."""
import os
import sqlite3
import stat
import time

import pytest

from buslib import decrypt_bytes, master_keys
from conftest import SANITIZER, Cloud, Server, free_port, serve

PUBLISHED = {"taskmanager_rpc_encr_key": "bzH6y0SGmjuoY0FNSTptrhgieGXNDX6PIhvz",
             "inst_rpc_key_encr_key": "emYjgHFqfXNB1NGehAFIUeoyw4V4XwWHEaKP"}


@pytest.mark.parametrize("option", sorted(PUBLISHED))
def test_published_keys_are_refused_at_start(tmp_path, option):
    srv = Server(tmp_path, extra=(
        "[DEFAULT]\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"
        f"{option} = {PUBLISHED[option]}\n"))
    srv.bootstrap()
    with pytest.raises(RuntimeError) as info:
        srv.start()
    message = str(info.value)
    assert f"[DEFAULT] {option} is the default Trove publishes" in message, message
    assert "allow_published_rpc_keys = true" in message
    assert PUBLISHED[option] not in message
    assert srv.proc.wait(5) == 1
    srv.stderr.close()
    assert not SANITIZER.search(srv.stderr_text())


def test_keys_generated_on_first_run(tmp_path):
    srv = Server(tmp_path, extra=(
        "[DEFAULT]\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"))
    srv.bootstrap()
    srv.start()
    try:
        path = tmp_path / "rpc_master_keys"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        first = master_keys(tmp_path)
        assert set(first) == set(PUBLISHED)
        for name, value in first.items():
            assert value != PUBLISHED[name] and len(value) == 40 and value.isalnum()
        assert first["taskmanager_rpc_encr_key"] != first["inst_rpc_key_encr_key"]
        assert first["inst_rpc_key_encr_key"] not in srv.log.read_text()
    finally:
        srv.stop()
    srv.start()  # an existing state: the same keys
    srv.stop()
    assert master_keys(tmp_path) == first


@pytest.fixture
def published_cloud(tmp_path, broker):
    srv = Cloud(tmp_path, broker)
    srv.conf.write_text(srv.conf.read_text() + (
        "[DEFAULT]\n"
        f"inst_rpc_key_encr_key = {PUBLISHED['inst_rpc_key_encr_key']}\n"
        "allow_published_rpc_keys = true\n"))
    yield from serve(srv)


def test_instances_keep_their_bus_when_the_published_key_goes(published_cloud):
    cloud = published_cloud
    assert "is Trove's published default" in cloud.log.read_text()
    cloud.cli("database", "instance", "create", "old", "--flavor", "d2", "--size", "1",
              "--datastore", "mariadb", "--databases", "kept")
    inst = cloud.wait_status("old", "ACTIVE", operating="HEALTHY")
    db = sqlite3.connect(cloud.root / "trove.sqlite")
    sealed = db.execute("SELECT encrypted_key FROM instances WHERE id = ?",
                        (inst["id"],)).fetchone()[0]
    instance_key = decrypt_bytes(PUBLISHED["inst_rpc_key_encr_key"], sealed)
    assert len(instance_key) == 32
    # the operator drops the published key: ctrove generates its own on the next start
    cloud.stop()
    cloud.conf.write_text("".join(
        line for line in cloud.conf.read_text().splitlines(keepends=True)
        if not line.startswith(("inst_rpc_key_encr_key", "allow_published_rpc_keys"))))
    cloud.start()
    assert "1 instance RPC key(s) sealed with Trove's published" in cloud.log.read_text()
    new_key = master_keys(cloud.local)["inst_rpc_key_encr_key"]
    sealed = db.execute("SELECT encrypted_key FROM instances WHERE id = ?",
                        (inst["id"],)).fetchone()[0]
    db.close()
    # the same instance key, now sealed with the generated master key only
    try:  # a wrong key leaves valid padding now and then, never the right plaintext
        assert decrypt_bytes(PUBLISHED["inst_rpc_key_encr_key"], sealed) != instance_key
    except ValueError:
        pass
    assert decrypt_bytes(new_key, sealed) == instance_key
    # the guest still answers and the conductor still applies its heartbeats
    status, _, body = cloud.api("GET", f"/instances/{inst['id']}/databases")
    assert status == 200 and [d["name"] for d in body["databases"]] == ["kept"], body
    time.sleep(2.5)  # heartbeats every second: a refused one would be logged
    assert "refusing" not in cloud.log.read_text()
    cloud.wait_status("old", "ACTIVE", operating="HEALTHY")
    cloud.cli("database", "instance", "delete", "old")
