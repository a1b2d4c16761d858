"""Shared by tests/e2e/test_failover.py and bench/failover: a replication
source with replicas and automatic failover, a writer that records every
acknowledged row, and kill -9 of the source's server and agent. Talks to
the instances only with the real clients (mariadb, psql) and to ctrove only
through its API; reads the control-plane database only to show the claim."""
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

USER, PASSWORD, DATABASE = "writer", "Wr1ter-pass", "fo"
VERSIONS = {"mariadb": "10.11", "postgresql": "15"}


def sql(datastore, address, statement, timeout=15):
    """Run one statement as the writer; (returncode, stdout)."""
    if datastore == "mariadb":
        cmd = ["mariadb", "--ssl=0", "--connect-timeout=3", "-h", address, "-u", USER,
               f"-p{PASSWORD}", "-N", "-B", DATABASE, "-e", statement]
        env = None
    else:
        cmd = ["psql", "-h", address, "-U", USER, "-d", DATABASE, "-tA", "-v",
               "ON_ERROR_STOP=1", "-c", statement]
        env = dict(os.environ, PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="3")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, ""
    return out.returncode, out.stdout


def detail(cloud, iid):
    status, _, body = cloud.api("GET", f"/instances/{iid}")
    assert status == 200, body
    return body["instance"]


def wait_for(what, check, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s")


def wait_active(cloud, iid, timeout):
    def active():
        inst = detail(cloud, iid)
        if inst["status"] == "ERROR":
            logs = cloud.guest_logs()[-3000:] if hasattr(cloud, "guest_logs") else ""
            raise AssertionError(f"{iid} went to ERROR: {inst}\n{logs}")
        return inst["status"] == "ACTIVE"
    wait_for(f"{iid} ACTIVE", active, timeout, step=0.2)


def create_topology(cloud, datastore, name, replicas=2, failover=None, timeout=300,
                    via_cli=True):
    """A source (POST /instances with `failover`) and its replicas (the CLI's
    --replica-of/--replica-count, or the same request by the API), all ACTIVE;
    returns (source id, [replica ids], seconds from the replica create to all
    ACTIVE)."""
    body = {"instance": {
        "name": name, "flavorRef": "12", "volume": {"size": 1},
        "datastore": {"type": datastore, "version": VERSIONS[datastore]},
        "databases": [{"name": DATABASE}],
        "users": [{"name": USER, "password": PASSWORD, "databases": [{"name": DATABASE}]}],
    }}
    if failover is not None:
        body["instance"]["failover"] = failover
    status, _, created = cloud.api("POST", "/instances", body)
    assert status == 200, created
    source = created["instance"]["id"]
    wait_active(cloud, source, timeout)
    rc, out = sql(datastore, detail(cloud, source)["ip"][0],
                  "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    assert rc == 0, out
    started = time.time()
    if via_cli:
        cloud.cli("database", "instance", "create", f"{name}-r", "--flavor", "d2",
                  "--replica-of", source, "--replica-count", str(replicas))
    else:
        status, _, made = cloud.api("POST", "/instances", {"instance": {
            "name": f"{name}-r", "replica_of": source,
            "replica_count": replicas}})
        assert status == 200, made

    def all_active():
        ids = [r["id"] for r in detail(cloud, source).get("replicas", [])]
        if len(ids) < replicas:
            return None
        for r in ids:
            wait_active(cloud, r, timeout)
        return ids

    ids = wait_for("replicas ACTIVE", all_active, timeout, step=0.2)
    return source, ids, time.time() - started


class Writer(threading.Thread):
    """Inserts 1, 2, 3, ... one autocommitted statement each, into whatever
    address `target` holds, and records each id whose commit was acknowledged
    (and when the first one after `mark()` was). A failed insert is never
    retried with the same id: it may have committed without an answer."""

    def __init__(self, datastore, address):
        super().__init__(daemon=True)
        self.datastore = datastore
        self.target = address
        self.acked = []
        self.failed = 0
        self.next_id = 1
        self.stopping = threading.Event()
        self.marked_at = None
        self.first_ack_after_mark = None
        self.excluded = None

    def mark(self, exclude=None):
        """From now on, note the first acknowledged write to an address other
        than `exclude` (the old source)."""
        self.excluded = exclude
        self.first_ack_after_mark = None
        self.marked_at = time.time()

    def run(self):
        self.started_at = time.time()
        while not self.stopping.is_set():
            n, address = self.next_id, self.target
            self.next_id += 1
            rc, _ = sql(self.datastore, address, f"INSERT INTO t (id) VALUES ({n})")
            if rc == 0:
                self.acked.append(n)
                if self.marked_at and self.first_ack_after_mark is None \
                        and address != self.excluded:
                    self.first_ack_after_mark = time.time()
            else:
                self.failed += 1
                time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        self.join(60)
        assert not self.is_alive(), "the writer did not stop"


def instance_pids(cloud, iid):
    """The agent's pid and those of every process whose command line names the
    instance's run directory (its database server)."""
    pids = set()
    agent = cloud.local / "instances" / iid / "guestagent.pid"
    if agent.exists():
        pid = int(agent.read_text().split()[0])
        if Path(f"/proc/{pid}").exists():
            pids.add(pid)
    needle = f"{cloud.run_root}/{iid}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "cmdline").read_bytes():
                pids.add(int(proc.name))
        except OSError:
            pass
    return pids


def kill_source(cloud, iid):
    """kill -9 of the source's server and agent; returns the time of the kill."""
    pids = instance_pids(cloud, iid)
    assert len(pids) >= 2, f"agent and server of {iid} not found: {pids}"
    when = time.time()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return when


def new_source_of(cloud, old, replicas):
    """The replica that no longer has replica_of, once the old source shows the
    failover (ERROR); None before."""
    if detail(cloud, old)["status"] != "ERROR":
        return None
    for r in replicas:
        if "replica_of" not in detail(cloud, r):
            return r
    return None


def claims(cloud, source):
    db = sqlite3.connect(f"file:{cloud.root}/trove.sqlite?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT claimed_by, new_source_id, outcome FROM"
                          " ctrove_failover_claims WHERE source_id = ?", (source,)).fetchall()
    finally:
        db.close()


def delete_all(cloud, ids):
    """Replicas before their source (a source with replicas refuses delete)."""
    for iid in ids:
        status, _, body = cloud.api("DELETE", f"/instances/{iid}")
        assert status == 202, body
        assert cloud.wait_deleted(iid, timeout=120), f"{iid} not deleted"
