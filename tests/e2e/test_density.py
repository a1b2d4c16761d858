"""Issue 18's reductions of an idle instance's cost, end to end on a real MariaDB
instance of `ctrove all` with `[local] guest_probe_interval = 30` (the default;
the other e2e modules probe every heartbeat): an idle instance's agent starts
(almost) no worker process — archive rounds are skipped while the binary logs are
unchanged, heartbeats between full probes check only the server's process — and
yet the recoverable window's end keeps moving, a write still reaches the archive
within seconds, and a server killed with SIGKILL shows SHUTDOWN at the next
heartbeat (1 s), not at the next full probe. Owns its cloud and instance.
"""
import calendar
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Cloud, serve

PASSWORD = "Passw0rd"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    srv = Cloud(tmp_path_factory.mktemp("cloud-density"), broker,
                extra_conf="[local]\nguest_probe_interval = 30\n")
    srv.conf.write_text(srv.conf.read_text().replace(
        "[DEFAULT]\n", "[DEFAULT]\nhttp_get_rate = 1000000\n", 1))
    yield from serve(srv)


@pytest.fixture(scope="module")
def instance(cloud):
    cloud.cli("database", "instance", "create", "dense1", "--flavor", "d1", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore", "mariadb",
              "--datastore-version", "10.11")
    inst = cloud.wait_status("dense1", "ACTIVE", operating="HEALTHY", timeout=120)
    # The recoverable window starts at a full backup.
    full = cloud.cli_json("database", "backup", "create", "dense1-full", "--instance",
                          inst["id"])
    wait_until("the full backup", lambda: cloud.api("GET", f"/backups/{full['id']}")[2][
        "backup"]["status"] == "COMPLETED", 180)
    yield inst
    cloud.api("DELETE", f"/backups/{full['id']}")
    cloud.api("DELETE", f"/instances/{inst['id']}")
    assert cloud.wait_deleted(inst["id"], timeout=120)


def unix(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def window_to(cloud, iid):
    status, _, body = cloud.api("GET", f"/instances/{iid}/recoverable_window")
    assert status == 200, body
    w = body["recoverable_window"]
    return unix(w["to"]) if w and w.get("to") else None


def agent_pid(cloud, iid):
    return int((cloud.local / "instances" / iid / "guestagent.pid").read_text().split()[0])


def workers_started(pid, seconds):
    """Distinct child processes of the agent seen while polling its threads'
    children lists every few ms (a worker lives for tens of ms at least)."""
    seen = set()
    end = time.time() + seconds
    while time.time() < end:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                seen.update((task / "children").read_text().split())
            except OSError:
                continue
        time.sleep(0.003)
    return len(seen)


def server_pid(cloud, iid):
    conf = (cloud.local / "instances" / iid / "guest.conf").read_text()
    user = next(line.split("=", 1)[1].strip() for line in conf.splitlines()
                if line.startswith("service_user"))
    out = subprocess.run(["pgrep", "-u", user, "-x", "mariadbd"], capture_output=True, text=True)
    assert out.returncode == 0, f"no mariadbd of {user}"
    return int(out.stdout.split()[0])


def wait_until(what, check, timeout):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.time() < deadline, f"{what}: not after {timeout} s"
        time.sleep(0.3)


def test_idle_instance_starts_almost_no_worker(cloud, instance):
    iid = instance["id"]
    # Let the creation's writes settle and the first full rounds run.
    wait_until("a recoverable window", lambda: window_to(cloud, iid), 90)
    time.sleep(8)
    before = window_to(cloud, iid)
    started = workers_started(agent_pid(cloud, iid), 12)
    # Before issue 18: an archive worker a second and one or two per heartbeat
    # (every second here): 12 s made 20 and more. Now a full probe every 30 s at most.
    assert started <= 2, f"{started} worker processes in 12 s of idle"
    # The window's end still moved (quiet rounds, no worker).
    after = wait_until("the window's end to move", lambda: (
        (t := window_to(cloud, iid)) and t >= before + 5 and t), 30)
    assert after >= before + 5


def test_a_write_still_reaches_the_archive(cloud, instance):
    iid = instance["id"]
    address = instance.get("ip", [None])[0] or cloud.api("GET", f"/instances/{iid}")[2][
        "instance"]["ip"][0]
    time.sleep(3)
    committed = time.time()
    out = subprocess.run(["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u",
                          "userA", f"-p{PASSWORD}", "test", "-e",
                          "CREATE TABLE IF NOT EXISTS d (i INT); INSERT INTO d VALUES (1)"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # Shipped by a real round (the binary log changed), then reported.
    wait_until("the window past the write", lambda: (window_to(cloud, iid) or 0) >= committed,
               30)
    store = cloud.local
    shipped = [p for p in store.rglob(f"archive/{iid}/*") if p.is_file()]
    assert shipped, "no archive object in the local store"


def test_killed_server_shows_at_the_next_heartbeat(cloud, instance):
    iid = instance["id"]
    cloud.wait_status("dense1", "ACTIVE", operating="HEALTHY", timeout=30)
    time.sleep(2)  # a heartbeat between full probes has happened
    killed = time.time()
    os.kill(server_pid(cloud, iid), signal.SIGKILL)
    # guest_report_interval is 1; the full probe would be up to 30 s away.
    cloud.wait_status("dense1", "ACTIVE", operating="SHUTDOWN", timeout=15)
    assert time.time() - killed < 15
    status, _, body = cloud.api("POST", f"/instances/{iid}/action", {"restart": {}})
    assert status == 202, body
    cloud.wait_status("dense1", "ACTIVE", operating="HEALTHY", timeout=120)
