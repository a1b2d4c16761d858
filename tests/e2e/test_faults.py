"""Faults of issue 18, each with real processes and nothing mocked: the
control-plane database locked by another process or out of disk space (503s
in Trove's shape, nothing half-written, no corruption), a guest agent killed
(started again by the taskmanager's supervisor through the compute driver, as
systemd would in a VM: no API call, no task), RabbitMQ stopped for 30 s
during creates and heartbeats (a broker node of the test's own), and the
machine "rebooted" under `make run`'s script (every instance back ACTIVE with
its data). faultlib.py has the helpers and the orphan check."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import CTROVE, REPO, Cloud, free_port, free_port_block, serve
from faultlib import (PrivateBroker, heartbeat_ages, integrity_ok, orphans,
                      processes_mentioning, query, wait_until)

BUSY_TIMEOUT = 10  # src/db/store.c: sqlite3_busy_timeout


def flavor_id(cloud, name):
    flavors = cloud.api("GET", "/flavors")[2]["flavors"]
    return next(str(f["id"]) for f in flavors if f["name"] == name)


def create_body(cloud, name, datastore="mariadb", version="10.11", cidrs=None):
    inst = {"name": name, "flavorRef": flavor_id(cloud, "d1"), "volume": {"size": 1},
            "datastore": {"type": datastore, "version": version},
            "databases": [{"name": "test"}],
            "users": [{"name": "userA", "password": "Passw0rd",
                       "databases": [{"name": "test"}]}]}
    if cidrs:
        inst["access"] = {"allowed_cidrs": cidrs}
    return {"instance": inst}


def create(cloud, name, **kw):
    status, _, body = cloud.api("POST", "/instances", create_body(cloud, name, **kw))
    assert status == 200, body
    return body["instance"]["id"]


def detail(cloud, iid):
    status, _, body = cloud.api("GET", f"/instances/{iid}")
    assert status == 200, body
    return body["instance"]


def assert_service_unavailable(status, body, words):
    assert status == 503, body
    fault = body["serviceUnavailable"]
    assert fault["code"] == 503 and words in fault["message"], body


def quota_limit(cloud, project, resource="instances"):
    status, _, body = cloud.api("GET", f"/mgmt/quotas/{project}")
    assert status == 200, body
    return {q["resource"]: q["limit"] for q in body["quotas"]}[resource]


# --- the control-plane database: locked, then its disk full -------------------------


@pytest.fixture(scope="module")
def dbcloud(tmp_path_factory, broker):
    """ctrove all whose control-plane database sits alone on a small tmpfs
    (the test fills it), with the guest agents checked every second."""
    disk = Path(tempfile.mkdtemp(prefix="ctrove-e2e-faultsdb-", dir="/tmp"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(disk)],
                   check=True)
    srv = Cloud(tmp_path_factory.mktemp("faults-db"), broker,
                extra_conf="[DEFAULT]\nguest_agent_check_interval = 1\n")
    srv.db_path = disk / "trove.sqlite"
    srv.conf.write_text(srv.conf.read_text().replace(
        f"connection = sqlite:///{srv.root}/trove.sqlite",
        f"connection = sqlite:///{srv.db_path}"))
    srv.disk = disk
    try:
        yield from serve(srv)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        os.rmdir(disk)


def test_database_locked_answers_503_and_recovers(dbcloud):
    cloud = dbcloud
    _, project = cloud.token("admin")  # logging in writes: before the lock
    before = quota_limit(cloud, project)
    locker = sqlite3.connect(str(cloud.db_path), timeout=5, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    locked_at = time.time()
    answers = {}

    def writes():
        t0 = time.time()
        answers["quota"] = cloud.api("PUT", f"/mgmt/quotas/{project}",
                                     {"quotas": {"instances": before + 7}})
        answers["quota_s"] = time.time() - t0
        answers["create"] = cloud.api("POST", "/instances", create_body(cloud, "locked-db"))

    writer = threading.Thread(target=writes)
    writer.start()
    try:
        # Reads go on while writes wait out the busy timeout (WAL readers never block).
        slowest = 0
        while writer.is_alive():
            t0 = time.time()
            status, _, body = cloud.api("GET", "/instances")
            slowest = max(slowest, time.time() - t0)
            assert status == 200, body
            assert cloud.api("GET", f"/mgmt/quotas/{project}")[0] == 200
            time.sleep(0.5)
            assert time.time() - locked_at < 3 * BUSY_TIMEOUT + 10, "a write hangs"
        writer.join()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    print(f"reads under the lock: slowest {slowest:.2f} s; a write gave up after "
          f"{answers['quota_s']:.1f} s")
    assert slowest < 3
    assert BUSY_TIMEOUT - 1 <= answers["quota_s"] < BUSY_TIMEOUT + 5
    assert_service_unavailable(answers["quota"][0], answers["quota"][2], "locked")
    assert_service_unavailable(answers["create"][0], answers["create"][2], "locked")
    # Nothing half-written: no row, no quota change, no usage counted.
    assert quota_limit(cloud, project) == before
    names = [i["name"] for i in cloud.api("GET", "/instances")[2]["instances"]]
    assert "locked-db" not in names
    # Once the lock is gone every write works at once.
    t0 = time.time()
    status, _, body = cloud.api("PUT", f"/mgmt/quotas/{project}",
                                {"quotas": {"instances": before + 7}})
    assert status == 200 and time.time() - t0 < 2, body
    assert quota_limit(cloud, project) == before + 7
    assert cloud.api("PUT", f"/mgmt/quotas/{project}",
                     {"quotas": {"instances": before}})[0] == 200
    assert integrity_ok(cloud.db_path)


def fill(directory):
    """Fill the file system of directory up to its last byte; the filler's path."""
    filler = directory / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=512", "oflag=append",
                    "conv=notrunc"], capture_output=True)
    free = os.statvfs(directory)
    assert free.f_bavail == 0, "the file system is not full"
    return filler


def test_database_disk_full_answers_503_and_recovers(dbcloud):
    cloud = dbcloud
    _, project = cloud.token("admin")
    before = quota_limit(cloud, project)
    # Empty the WAL into the database, so that the next write needs new space.
    con = sqlite3.connect(str(cloud.db_path), timeout=30, isolation_level=None)
    wait_until(lambda: con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0,
               10, "a truncating checkpoint")
    con.close()
    filler = fill(cloud.disk)
    try:
        refused = None
        for attempt in range(5):
            status, _, body = cloud.api("PUT", f"/mgmt/quotas/{project}",
                                        {"quotas": {"instances": before + 1 + attempt}})
            assert status in (200, 503), body
            if status == 503:
                refused = (status, body, before + 1 + attempt)
                break
            before += 1 + attempt  # written before the disk was quite full: kept
            assert quota_limit(cloud, project) == before
        assert refused, "no write was refused on a full disk"
        assert_service_unavailable(refused[0], refused[1], "no space left")
        status, _, body = cloud.api("POST", "/instances", create_body(cloud, "full-db"))
        assert_service_unavailable(status, body, "no space left")
        # Reads still work, and show nothing of the refused writes.
        assert quota_limit(cloud, project) == before
        status, _, body = cloud.api("GET", "/instances")
        assert status == 200 and "full-db" not in [i["name"] for i in body["instances"]]
    finally:
        filler.unlink()
    assert integrity_ok(cloud.db_path)
    status, _, body = cloud.api("PUT", f"/mgmt/quotas/{project}",
                                {"quotas": {"instances": refused[2]}})
    assert status == 200, body
    assert quota_limit(cloud, project) == refused[2]
    cloud.api("PUT", f"/mgmt/quotas/{project}", {"quotas": {"instances": before}})
    cloud.assert_healthy()


# --- a guest agent killed -------------------------------------------------------------


def agent_pid(cloud, iid):
    path = cloud.local / "instances" / iid / "guestagent.pid"
    try:
        pid = int(path.read_text().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):
        return None


def test_guest_agent_killed_comes_back_without_a_control_plane_action(dbcloud):
    cloud = dbcloud
    iid = create(cloud, "agent-kill")
    cloud.wait_status("agent-kill", "ACTIVE", operating="HEALTHY")
    ip = detail(cloud, iid)["ip"][0]
    out = query("mariadb", ip, "CREATE TABLE t (x INT); INSERT INTO t VALUES (42)")
    assert out.returncode == 0, out.stderr
    killed = agent_pid(cloud, iid)
    assert killed
    log = cloud.log.read_text(errors="replace")
    os.kill(killed, signal.SIGKILL)
    killed_at = time.time()
    # The supervisor (guest_agent_check_interval = 1) starts it again.
    pid = wait_until(lambda: (p := agent_pid(cloud, iid)) and p != killed and p, 15,
                     "a new guest agent")
    back = time.time() - killed_at
    # Its heartbeats come again, and it answers database calls.
    wait_until(lambda: (a := heartbeat_ages(cloud.db_path, [iid])[iid]) is not None
               and a < time.time() - killed_at, 15, "a heartbeat of the new agent")
    cloud.wait_status("agent-kill", "ACTIVE", operating="HEALTHY", timeout=15)
    dbs = cloud.cli_json("database", "db", "list", "agent-kill")
    assert "test" in {d["Name"] for d in dbs}
    assert query("mariadb", ip, "SELECT x FROM t").stdout.strip() == "42"
    print(f"guest agent killed: a new one (pid {pid}) in {back:.1f} s")
    # The supervisor did it, not a task (the test made no request but GETs).
    new_log = cloud.log.read_text(errors="replace")[len(log):]
    assert "the guest agent was not running: started it again" in new_log
    assert "restart failed" not in new_log and "REBOOT" not in new_log
    cloud.cli("database", "instance", "delete", "agent-kill")
    assert cloud.wait_deleted(iid)


# --- RabbitMQ stopped for 30 s ---------------------------------------------------------


@pytest.fixture(scope="module")
def buscloud(tmp_path_factory):
    """ctrove all on a broker node of its own, which the test stops and starts."""
    where = Path(tempfile.mkdtemp(prefix="ctrove-e2e-faultsbus-", dir="/tmp"))
    node = PrivateBroker(where)
    node.start()
    srv = Cloud(tmp_path_factory.mktemp("faults-bus"), node.url())
    srv.node = node
    try:
        yield from serve(srv)
    finally:
        node.stop()
        subprocess.run(["rm", "-rf", str(where)], check=False)


def test_rabbitmq_stopped_30s_during_creates_and_heartbeats(buscloud):
    cloud = buscloud
    ids = [create(cloud, f"bus-{i}") for i in range(4)]
    for i in range(4):
        cloud.wait_status(f"bus-{i}", "ACTIVE", operating="HEALTHY", timeout=90)
    ip0 = detail(cloud, ids[0])["ip"][0]
    assert query("mariadb", ip0, "CREATE TABLE t (x INT); INSERT INTO t VALUES (7)").returncode == 0
    # Two creates accepted, then the broker goes while they build.
    flying = [create(cloud, f"bus-fly-{i}") for i in range(2)]
    t0 = time.time()
    cloud.node.stop()
    stopped_at = time.time()
    stop_took = stopped_at - t0
    # While it is down the API answers: reads 200, a create a clear 503.
    slowest = 0
    refused = None
    while time.time() - stopped_at < 30:
        t0 = time.time()
        status, _, body = cloud.api("GET", "/instances")
        assert status == 200, body
        assert cloud.api("GET", f"/instances/{ids[1]}")[0] == 200
        slowest = max(slowest, time.time() - t0)
        if refused is None:
            t0 = time.time()
            refused = cloud.api("POST", "/instances", create_body(cloud, "bus-down"))
            refused_s = time.time() - t0
        time.sleep(1)
    assert slowest < 3, f"a read took {slowest:.1f} s with the broker down"
    assert_service_unavailable(refused[0], refused[2], "Try again later")
    assert refused_s < 10
    names = [i["name"] for i in cloud.api("GET", "/instances")[2]["instances"]]
    assert "bus-down" not in names
    restarted_at = time.time()
    cloud.node.start()
    # After it returns: every instance ACTIVE, the creates in flight too.
    for name in [f"bus-{i}" for i in range(4)] + [f"bus-fly-{i}" for i in range(2)]:
        cloud.wait_status(name, "ACTIVE", operating="HEALTHY", timeout=120)
    all_ids = ids + flying
    # Heartbeats resume: every instance's is newer than the broker's return.
    wait_until(lambda: all(a is not None and a < time.time() - restarted_at
                           for a in heartbeat_ages(cloud.root / "trove.sqlite",
                                                   all_ids).values()),
               90, "fresh heartbeats from every instance")
    recovered = time.time() - restarted_at
    print(f"broker stopped in {stop_took:.1f} s, down {restarted_at - stopped_at:.0f} s; "
          f"every heartbeat fresh {recovered:.1f} s after it returned; "
          f"a create while down: {refused[0]} in {refused_s:.1f} s")
    # No message lost or doubled: each new instance was prepared exactly once.
    for iid in flying:
        log = (cloud.local / "instances" / iid / "guestagent.log").read_text(errors="replace")
        assert log.count("prepare finished") == 1, log[-3000:]
        assert "prepare failed" not in log
        ip = detail(cloud, iid)["ip"][0]
        assert query("mariadb", ip, "SELECT 1").stdout.strip() == "1"
    assert query("mariadb", ip0, "SELECT x FROM t").stdout.strip() == "7"
    # And the bus works for new work again.
    iid = create(cloud, "bus-after")
    cloud.wait_status("bus-after", "ACTIVE", operating="HEALTHY", timeout=60)
    for iid in all_ids + [iid]:
        assert cloud.api("DELETE", f"/instances/{iid}")[0] == 202
    for iid in all_ids:
        assert cloud.wait_deleted(iid, timeout=60)
    assert not orphans(cloud.local / "volumes"), orphans(cloud.local / "volumes")


# --- the machine "rebooted" under make run ---------------------------------------------

REBOOT_BOUND = 90  # seconds from `make run` again to every instance serving its data


class MakeRun:
    """scripts/run.sh (what `make run` runs) in a scratch directory, on ports,
    addresses, a run_root, an nftables table and a uid block of its own."""

    def __init__(self):
        self.scratch = Path(tempfile.mkdtemp(prefix="ctrove-e2e-reboot-", dir="/tmp"))
        os.chmod(self.scratch, 0o711)
        self.state = self.scratch / "run"
        self.run_root = Path(tempfile.mkdtemp(prefix="ctr", dir="/run"))
        tag = os.getpid()
        self.nft_table = f"ctrove_reboot_{tag}"
        self.octet = 20 + (tag + 151) % 200
        self.uid_first = 70000 + ((tag + 23) % 90) * 100
        self.amqp = free_port_block(5)
        extra = self.scratch / "extra.conf"
        extra.write_text(
            "\n[DEFAULT]\nguest_agent_check_interval = 2\n"
            "[local]\n"
            f"run_root = {self.run_root}\nnft_table = {self.nft_table}\n"
            f"address_range = 127.{self.octet}.0.1-127.{self.octet}.255.254\n"
            f"instance_uid_range = {self.uid_first}-{self.uid_first + 99}\n"
            "guest_report_interval = 1\n")
        self.env = dict(os.environ, CTROVE_RUN_DIR=str(self.state),
                        CTROVE_OPENRC=str(self.scratch / "openrc"),
                        CTROVE_PORT=str(free_port()), CTROVE_AMQP_PORT=str(self.amqp),
                        CTROVE_RUN_EXTRA_CONF=str(extra))
        self.log = self.scratch / "make-run.log"
        self.proc = None

    def start(self):
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([str(REPO / "scripts" / "run.sh"), CTROVE], env=self.env,
                                     stdout=out, stderr=out, start_new_session=True)
        out.close()
        wait_until(lambda: self.listening(), 180, "make run's API")

    def listening(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"run.sh exited: {self.log.read_text()[-3000:]}")
        conf = self.state / "trove.conf"
        if not (self.scratch / "openrc").exists() or not conf.exists():
            return False
        port = int(next(line.split("=")[1] for line in conf.read_text().splitlines()
                        if line.startswith("bind_port")))
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return "ctrove: API on" in self.log.read_text()
        except OSError:
            return False

    def cli(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        for line in (self.scratch / "openrc").read_text().splitlines():
            if line.startswith("export "):
                key, value = line[len("export "):].split("=", 1)
                env[key] = value
        proc = subprocess.run(["openstack", *args], env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, f"openstack {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def instances(self):
        return {i["Name"]: i for i in json.loads(
            self.cli("database", "instance", "list", "-f", "json"))}

    def crash(self):
        """What a power cut does to processes: every one of ctrove, its broker
        and its instances dies at once (SIGKILL), nothing runs its exit path."""
        epmd = subprocess.run(["ss", "-Hltnp", f"sport = :{self.amqp + 2}"],
                              capture_output=True, text=True).stdout
        pids = set(processes_mentioning(str(self.scratch)))
        pids |= set(processes_mentioning(str(self.run_root)))
        pids |= {int(p) for p in __import__("re").findall(r"pid=(\d+)", epmd)}
        pids.add(self.proc.pid)
        for user in self.instance_users():
            out = subprocess.run(["pgrep", "-U", user], capture_output=True, text=True).stdout
            pids |= {int(p) for p in out.split()}
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)
        wait_until(lambda: not processes_mentioning(str(self.scratch))
                   and not processes_mentioning(str(self.run_root)), 20, "every process gone")

    def lose_volatile_state(self):
        """What a reboot loses besides processes: mounts, loop devices, the
        nftables table and everything under /run."""
        for line in reversed(Path("/proc/self/mounts").read_text().splitlines()):
            point = line.split()[1]
            if point.startswith(str(self.scratch)):
                subprocess.run(["umount", point], check=True)
        for line in subprocess.run(["losetup", "-a"], capture_output=True,
                                   text=True).stdout.splitlines():
            if str(self.scratch) in line:
                subprocess.run(["losetup", "-d", line.split(":")[0]], check=True)
        subprocess.run(["nft", "delete", "table", "inet", self.nft_table], capture_output=True)
        subprocess.run(["rm", "-rf", str(self.run_root)], check=True)

    def instance_users(self):
        users = []
        for line in Path("/etc/passwd").read_text().splitlines():
            f = line.split(":")
            if (len(f) > 4 and self.uid_first <= int(f[2]) < self.uid_first + 100
                    and f[4].startswith("ctrove instance ")):
                users.append(f[0])
        return users

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)

    def cleanup(self):
        # The logs of a failed run, for whoever reads the failure.
        for log in [self.log] + list(self.scratch.glob("run/instances/*/guestagent.log")):
            if log.exists():
                keep = Path(tempfile.gettempdir()) / f"ctrove-faults-reboot-{log.parent.name}.log"
                keep.write_bytes(log.read_bytes()[-200000:])
        for pid in processes_mentioning(str(self.scratch)) + processes_mentioning(
                str(self.run_root)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.3)
        for line in reversed(Path("/proc/self/mounts").read_text().splitlines()):
            if line.split()[1].startswith(str(self.scratch)):
                subprocess.run(["umount", "-l", line.split()[1]], check=False)
        for line in subprocess.run(["losetup", "-a"], capture_output=True,
                                   text=True).stdout.splitlines():
            if str(self.scratch) in line:
                subprocess.run(["losetup", "-d", line.split(":")[0]], check=False)
        subprocess.run(["nft", "delete", "table", "inet", self.nft_table], capture_output=True)
        for user in self.instance_users():
            subprocess.run(["pkill", "-KILL", "-U", user], check=False)
            time.sleep(0.1)
            subprocess.run(["userdel", user], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", str(self.scratch), str(self.run_root)], check=False)


@pytest.fixture
def make_run():
    run = MakeRun()
    try:
        yield run
    finally:
        try:
            run.stop()
        finally:
            run.cleanup()


def connects_from(source, address, port):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.bind((source, 0))
        s.connect((address, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_machine_reboot_brings_every_instance_back_with_its_data(make_run):
    run = make_run
    run.start()
    wanted = {"rb-maria": ("mariadb", "10.11", 3306), "rb-pg": ("postgresql", "15", 5432),
              "rb-maria2": ("mariadb", "10.11", 3306)}
    for name, (datastore, version, _) in wanted.items():
        run.cli("database", "instance", "create", name, "--flavor", "d1", "--size", "1",
                "--databases", "test", "--users", "userA:Passw0rd", "--datastore", datastore,
                "--datastore-version", version, "--allowed-cidr", "127.0.0.1/32")
    shown = wait_until(lambda: (i := run.instances()) and all(
        i.get(n, {}).get("Status") == "ACTIVE" for n in wanted) and i, 180, "3 ACTIVE")
    ips, ids = {}, {}
    for name, (datastore, _, _) in wanted.items():
        info = json.loads(run.cli("database", "instance", "show", name, "-f", "json"))
        ips[name] = info["ip"].split(",")[0].strip("[]' ")
        ids[name] = info["id"]
        out = query(datastore, ips[name],
                    f"CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('{name}-before')")
        assert out.returncode == 0, out.stderr
    assert set(shown) >= set(wanted)
    # No instance address is configured on an interface: 127/8 is all local, so
    # a reboot has none to lose.
    assert f"127.{run.octet}." not in subprocess.run(["ip", "-o", "addr"], capture_output=True,
                                                     text=True).stdout
    run.crash()
    run.lose_volatile_state()
    for name, (datastore, _, _) in wanted.items():
        assert query(datastore, ips[name], "SELECT 1").returncode != 0
    rebooted = time.time()
    run.start()

    def serving():
        for name, (datastore, _, _) in wanted.items():
            out = query(datastore, ips[name], "SELECT x FROM t")
            if out.returncode or out.stdout.strip() != f"{name}-before":
                return False
        return True

    wait_until(serving, REBOOT_BOUND, "every instance serving its data after the reboot",
               interval=1)
    back = time.time() - rebooted
    ages = wait_until(lambda: (a := heartbeat_ages(run.state / "trove.sqlite", ids.values()))
                      and all(v is not None and v < time.time() - rebooted for v in a.values())
                      and a, 30, "heartbeats after the reboot")
    status = run.instances()
    assert all(status[n]["Status"] == "ACTIVE" for n in wanted), status
    print(f"make run again -> every instance serving its rows: {back:.1f} s "
          f"(bound {REBOOT_BOUND} s); heartbeat ages {sorted(round(a, 1) for a in ages.values())}")
    # What the reboot lost is back: mounts, loop devices and the packet filter.
    mounts = Path("/proc/self/mounts").read_text()
    for iid in ids.values():
        assert f"{iid}/data" in mounts
    for name, (_, _, port) in wanted.items():
        assert connects_from("127.0.0.1", ips[name], port)
        assert not connects_from("127.0.0.9", ips[name], port)
    for name in wanted:
        run.cli("database", "instance", "delete", name)
    wait_until(lambda: not set(wanted) & set(run.instances()), 60, "instances deleted")
    run.stop()
    text = run.log.read_text(errors="replace")
    assert "Sanitizer" not in text and "runtime error:" not in text, text[-3000:]
    left = orphans(run.scratch, run.nft_table)
    assert not left or set(left) == {"nft table"}, left
