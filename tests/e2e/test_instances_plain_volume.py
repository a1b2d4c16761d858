"""`[local] use_loop_devices = false` (issue 10): instance volumes are plain
directories, and a MariaDB instance on one still becomes ACTIVE, serves its
users and is deleted without a trace. The server runs as an unprivileged user,
so the directory standing in for the volume must be reachable by it whatever
the control plane's umask (077)."""
import json
import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import Cloud, serve

NAME = "plain1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    srv = Cloud(tmp_path_factory.mktemp("plain"), broker)
    srv.conf.write_text(srv.conf.read_text().replace(
        "[local]\n", "[local]\nuse_loop_devices = false\n"))
    yield from serve(srv)


def instance(cloud):
    status, _, body = cloud.api("GET", "/instances")
    found = [i for i in body["instances"] if i["name"] == NAME]
    assert found, body
    return cloud.api("GET", f"/instances/{found[0]['id']}")[2]["instance"]


def test_the_driver_says_volumes_are_plain_directories(cloud):
    log = cloud.log.read_text(errors="replace")
    assert "use_loop_devices = false" in log


def test_mariadb_on_a_plain_directory_is_active(cloud):
    proc = cloud.cli("database", "instance", "create", NAME, "--flavor", "d2", "--size", "1",
                     "--databases", "test", "--users", "userA:Passw0rd",
                     "--datastore", "mariadb", "--datastore-version", "10.11",
                     "--is-public", "--allowed-cidr", "127.0.0.1/32", "-f", "json")
    assert json.loads(proc.stdout)["status"] == "BUILD"
    cloud.wait_status(NAME, "ACTIVE", operating="HEALTHY")
    detail = instance(cloud)
    mount = cloud.local / "instances" / detail["id"] / "data"
    # No file system of its own: a directory on the host's, made 0755 like
    # the root of a fresh one (whatever ctrove's umask), then given to the
    # instance's own OS user, 0700, by its agent.
    assert str(mount) not in Path("/proc/self/mounts").read_text()
    assert not list((cloud.local / "volumes").glob(f"{detail['id']}*"))
    assert stat.S_IMODE(mount.stat().st_mode) == 0o700
    assert pwd.getpwuid(mount.stat().st_uid).pw_gecos == f"ctrove instance {detail['id']}"
    ip = detail["ip"][0]
    out = subprocess.run(["mariadb", "--ssl=0", "--connect-timeout=5", "-h", ip, "-u", "userA",
                          "-pPassw0rd", "-N", "-B", "test", "-e",
                          "CREATE TABLE t (x INT); INSERT INTO t VALUES (7); SELECT x FROM t;"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "7"


def test_delete_removes_the_directory(cloud):
    iid = instance(cloud)["id"]
    cloud.cli("database", "instance", "delete", NAME)
    assert cloud.wait_deleted(iid)
    assert subprocess.run(["pgrep", "-af", iid], capture_output=True, text=True).stdout == ""
    # The PITR archive in the backup store outlives the instance (docs/pitr.md).
    assert not [p for p in cloud.local.rglob("*") if iid in str(p) and "/archive/" not in str(p)]
    assert not os.path.exists(cloud.run_root / iid)
