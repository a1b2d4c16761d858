"""Helpers of the fault tests (tests/e2e/test_faults.py): a RabbitMQ node of a
test's own, the datastores' command-line clients, heartbeat ages read from the
control-plane database, and what a machine must not keep after a test
(orphans). Owns nothing but the processes and files a test asks it to make;
never touches the run's shared broker or another test's instances."""
import os
import sqlite3
import subprocess
import time
from pathlib import Path

from conftest import REPO, BusURL, free_port_block

RABBITMQ = str(REPO / "scripts" / "rabbitmq.sh")


class PrivateBroker:
    """A RabbitMQ node in `where` on ports of its own (scripts/rabbitmq.sh):
    the one a fault test may stop and start without disturbing anyone."""

    def __init__(self, where: Path):
        self.where = where
        self.port = free_port_block(5)

    def start(self):
        subprocess.run([RABBITMQ, "start", str(self.where), str(self.port)], check=True,
                       capture_output=True, timeout=180)

    def stop(self):
        subprocess.run([RABBITMQ, "stop", str(self.where), str(self.port)],
                       capture_output=True, timeout=120)

    def url(self):
        url = subprocess.run([RABBITMQ, "url", str(self.where), str(self.port)], check=True,
                             capture_output=True, text=True).stdout.strip()
        return BusURL(url, f"http://127.0.0.1:{self.port + 3}/")


def mariadb(address, user, password, database, sql):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", user,
           f"-p{password}", "-N", "-B", database, "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def psql(address, user, password, database, sql):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    return subprocess.run(["psql", "-h", address, "-U", user, "-d", database, "-tA",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=30)


def query(datastore, address, sql, user="userA", password="Passw0rd", database="test"):
    """Run sql on an instance with the datastore's own client."""
    run = mariadb if datastore == "mariadb" else psql
    return run(address, user, password, database, sql)


def heartbeat_ages(db_path, ids):
    """Seconds since each instance's last heartbeat (service_statuses.updated_at),
    read from the control-plane database (read-only, beside the running server)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        ages = {}
        for iid in ids:
            row = con.execute(
                "SELECT (julianday('now') - julianday(updated_at)) * 86400"
                " FROM service_statuses WHERE instance_id = ?", (iid,)).fetchone()
            ages[iid] = row[0] if row and row[0] is not None else None
        return ages
    finally:
        con.close()


def integrity_ok(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def wait_until(check, timeout, what, interval=0.2):
    """check() until it returns something true; its value, or AssertionError."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout} s (last: {last!r})")


def processes_mentioning(text):
    """pids whose command line mentions text (never this process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def orphans(local_root, nft_table=None):
    """What is left on the machine of a cloud whose instances live under
    local_root: processes, mounts, loop devices and its nftables table."""
    left = {}
    procs = processes_mentioning(str(local_root))
    if procs:
        left["processes"] = procs
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
              if line.split()[1].startswith(str(local_root))]
    if mounts:
        left["mounts"] = mounts
    loops = [line for line in subprocess.run(["losetup", "-a"], capture_output=True,
                                             text=True).stdout.splitlines()
             if str(local_root) in line]
    if loops:
        left["loop devices"] = loops
    if nft_table and subprocess.run(["nft", "list", "table", "inet", nft_table],
                                    capture_output=True).returncode == 0:
        left["nft table"] = nft_table
    return left
