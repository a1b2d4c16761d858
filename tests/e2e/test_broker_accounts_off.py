"""A ctrove that cannot give a guest a broker account of its own makes no guest:
when the broker's management API refuses, the build fails (ERROR, with the reason
in the log) instead of falling back to the control plane's credentials, and the
instance cannot be deleted until the account can be removed; with accounts off
and no [DEFAULT] guest_transport_url, the build fails with a clear message. In
neither case does a guest config exist, so the control plane's login is never
written for a guest. (Separate from test_broker_accounts.py so that its ctrove is
never running beside this one on the same control exchange.)
"""
import time

import pytest

from buslib import conf_value
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
