"""A build that cannot finish ends in ERROR with a fault (never BUILD forever),
and delete still cleans it up."""
import os
import stat
import subprocess
import time

import pytest

from conftest import Cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    # A "guest agent" that starts and never answers: prepare is never done.
    root = tmp_path_factory.mktemp("stuck")
    srv = Cloud(root, broker)
    agent = srv.local / "silent-agent"
    agent.write_text("#!/bin/sh\nexec sleep 600\n")
    agent.chmod(agent.stat().st_mode | stat.S_IXUSR)
    srv.conf.write_text(srv.conf.read_text().replace(
        "usage_timeout = 60", "usage_timeout = 3").replace(
        "guestagent_binary = ", f"guestagent_binary = {agent}\n# was: "))
    try:
        srv.bootstrap()
        srv.register("mariadb", "10.11")
        srv.start()
        yield srv
        srv.stop()
    finally:
        srv.cleanup()


def test_build_timeout_goes_to_error_with_fault(cloud):
    cloud.cli("database", "instance", "create", "stuck", "--flavor", "d1", "--size", "1",
              "--datastore", "mariadb")
    started = time.time()
    inst = cloud.wait_status("stuck", "ERROR", timeout=30)
    assert time.time() - started < 20
    detail = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]
    assert "usage_timeout" in detail["fault"]["message"]
    shown = cloud.cli_json("database", "instance", "show", "stuck")
    assert shown["status"] == "ERROR" and "usage_timeout" in shown["fault"]


def test_delete_of_a_failed_build_cleans_up(cloud):
    inst = cloud.wait_status("stuck", "ERROR")
    cloud.cli("database", "instance", "delete", "stuck")
    deadline = time.time() + 20
    while time.time() < deadline and cloud.api("GET", f"/instances/{inst['id']}")[0] != 404:
        time.sleep(0.2)
    assert cloud.api("GET", f"/instances/{inst['id']}")[0] == 404
    assert subprocess.run(["pgrep", "-f", str(cloud.local / "silent-agent")],
                          capture_output=True).returncode == 1
    assert inst["id"] not in open("/proc/self/mounts").read()
    assert not any(inst["id"] in str(p) for p in cloud.local.rglob("*"))
