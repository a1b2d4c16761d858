"""Broker accounts when things go wrong. A ctrove that cannot give a guest an
account of its own makes no guest: when the broker's management API refuses, the
build fails (ERROR, with the reason in the log) instead of falling back to the
control plane's credentials, and the instance cannot be deleted until the account
can be removed; with accounts off and no [DEFAULT] guest_transport_url, the build
fails with a clear message. In neither case does a guest config exist, so the
control plane's login is never written for a guest. A build cut short by the
taskmanager's death leaves no account behind once it restarts. (Separate from
test_broker_accounts.py so that no two ctroves run on one control exchange.)
"""
import sqlite3
import stat
import time

import pytest

from buslib import conf_value, management
from conftest import Cloud, serve


def failed_build(srv, name):
    srv.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
            "--datastore", "mariadb")
    inst = srv.wait_status(name, "ERROR")
    assert not (srv.local / "instances" / inst["id"] / "guest.conf").exists()
    return inst


@pytest.fixture
def other_cloud(tmp_path, broker, request):
    srv = Cloud(tmp_path, broker)
    with open(srv.conf, "a") as f:
        f.write(request.param)
    yield from serve(srv)


@pytest.mark.parametrize("other_cloud", [
    "[broker_accounts]\nadmin_password = not-the-password\n"], indirect=True)
def test_a_broker_that_refuses_fails_the_build(other_cloud):
    inst = failed_build(other_cloud, "nomgmt")
    log = other_cloud.log.read_text(errors="replace")
    assert "build failed: the broker's management API refused PUT users/" in log, log[-3000:]
    assert "not-the-password" not in log
    # The control plane's own login still works: only the guest's account failed.
    assert conf_value(other_cloud.conf, "transport_url")
    other_cloud.cli("database", "instance", "delete", "nomgmt")
    # Deleting removes the account too: while the API refuses, the instance stays.
    deadline = time.time() + 10
    while time.time() < deadline and "delete failed" not in other_cloud.log.read_text():
        time.sleep(0.2)
    assert "delete failed" in other_cloud.log.read_text()
    assert other_cloud.api("GET", f"/instances/{inst['id']}")[0] == 200


@pytest.mark.parametrize("other_cloud", [
    "[broker_accounts]\nenabled = false\n"], indirect=True)
def test_without_accounts_a_guest_url_must_be_given(other_cloud):
    inst = failed_build(other_cloud, "nourl")
    assert "guest_transport_url is unset" in other_cloud.log.read_text(errors="replace")
    other_cloud.cli("database", "instance", "delete", "nourl")
    assert other_cloud.wait_deleted(inst["id"], 60)


@pytest.fixture
def stuck_cloud(tmp_path, broker):
    """A cloud whose "guest agent" starts and never answers: builds stay BUILD."""
    srv = Cloud(tmp_path, broker)
    agent = srv.local / "silent-agent"
    agent.write_text("#!/bin/sh\nexec sleep 600\n")
    agent.chmod(agent.stat().st_mode | stat.S_IXUSR)
    with open(srv.conf, "a") as f:
        f.write(f"[local]\nguestagent_binary = {agent}\n")
    yield from serve(srv)


def test_recovery_of_an_interrupted_build_removes_the_account(stuck_cloud):
    srv = stuck_cloud
    srv.cli("database", "instance", "create", "halfway", "--flavor", "d2", "--size", "1",
            "--datastore", "mariadb")
    inst = srv.wait_status("halfway", "BUILD")
    user = f"ctrove-guest-{inst['id']}"
    deadline = time.time() + 20
    while management(srv, "GET", f"users/{user}")[0] != 200 and time.time() < deadline:
        time.sleep(0.1)
    assert management(srv, "GET", f"users/{user}")[0] == 200
    # The taskmanager dies mid-build; the next one finds the build interrupted
    # and, its time to build gone (docs/crash_recovery.md), fails it.
    srv.proc.kill()
    srv.proc.wait(30)
    srv.stderr.close()
    srv.proc = None
    db = sqlite3.connect(srv.root / "trove.sqlite", timeout=10)
    with db:
        db.execute("UPDATE ctrove_instance_claims SET started_at = started_at - 3600"
                   " WHERE instance_id = ?", (inst["id"],))
    db.close()
    srv.start()
    srv.wait_status("halfway", "ERROR", timeout=30)
    detail = srv.api("GET", f"/instances/{inst['id']}")[2]["instance"]
    assert "restarted while the instance was building" in detail["fault"]["message"]
    assert management(srv, "GET", f"users/{user}")[0] == 404
    srv.cli("database", "instance", "delete", "halfway")
    assert srv.wait_deleted(inst["id"], 60)
