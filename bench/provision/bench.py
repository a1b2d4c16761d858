#!/usr/bin/python3
"""bench/provision: create->ACTIVE and delete times of local instances, the
RSS of the guest agent and of `ctrove all`, and the floor: initialising and
starting the same database server by hand on this machine.

Starts its own RabbitMQ node and `ctrove all` (real defaults except the
directories, address range and nftables table, which are private to the run)
and drives the REST API directly (the CLI's own 1 s start-up is not ctrove's).
Prints a table; no assertion on speed.

usage: bench/provision/bench.py [--ctrove build/src/ctrove] [-n 10] [--datastores mariadb,postgresql]
"""
import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
VERSIONS = {"mariadb": "10.11", "postgresql": "15"}


def free_port(block=1, start=30700):
    for base in range(start, start + 9000, 10):
        try:
            socks = []
            for p in range(base, base + block):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port")


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pss_kb(pid):
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Control:
    def __init__(self, ctrove, work):
        self.ctrove = ctrove
        self.work = work
        self.local = Path(tempfile.mkdtemp(prefix="ctrove-bench-", dir="/tmp"))
        os.chmod(self.local, 0o711)
        self.run_root = Path(tempfile.mkdtemp(prefix="ctb", dir="/run"))
        os.chmod(self.run_root, 0o711)
        self.amqp = free_port(3)
        self.port = free_port(1, 41700)
        self.rmq = work / "rabbitmq"
        self.conf = work / "trove.conf"
        self.table = f"ctrove_bench_{os.getpid()}"
        octet = 230 + os.getpid() % 20
        self.conf.write_text(
            f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {self.port}\n"
            f"state_path = {self.local}\nlog_file = {work}/ctrove.log\n"
            f"transport_url = rabbit://guest:guest@127.0.0.1:{self.amqp}/\n"
            "http_get_rate = 1000000\nhttp_post_rate = 1000000\nhttp_delete_rate = 1000000\n"
            "max_instances_per_tenant = 1000\nmax_volumes_per_tenant = 10000\n"
            f"[database]\nconnection = sqlite:///{work}/trove.sqlite\n"
            f"[local]\nrun_root = {self.run_root}\nnft_table = {self.table}\n"
            f"address_range = 127.{octet}.0.1-127.{octet}.255.254\n"
            f"guestagent_binary = {Path(ctrove).parent / 'ctrove-guestagent'}\n")
        self.password = secrets.token_urlsafe(12)
        self.proc = None

    def manage(self, *args):
        subprocess.run([self.ctrove, "--config-file", str(self.conf), "manage", *args],
                       check=True, capture_output=True)

    def start(self, datastores):
        subprocess.run([str(TOP / "scripts/rabbitmq.sh"), "start", str(self.rmq),
                        str(self.amqp)], check=True, capture_output=True)
        self.manage("db_sync")
        self.manage("identity_bootstrap", self.password)
        for ds in datastores:
            v = VERSIONS[ds]
            self.manage("datastore_update", ds, "")
            self.manage("datastore_version_update", ds, v, ds, "", "", "1")
            self.manage("datastore_update", ds, v)
        self.proc = subprocess.Popen([self.ctrove, "--config-file", str(self.conf), "all"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": self.password}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/identity/v3/auth/tokens",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            self.token = r.headers["X-Subject-Token"]
            self.project = json.load(r)["token"]["project"]["id"]

    def api(self, method, path, body=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/v1.0/{self.project}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-Auth-Token": self.token, "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                data = r.read()
                return r.status, json.loads(data) if data else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)
        subprocess.run([str(TOP / "scripts/rabbitmq.sh"), "stop", str(self.rmq),
                        str(self.amqp)], capture_output=True)
        subprocess.run(["pkill", "-KILL", "-f", str(self.local)], capture_output=True)
        subprocess.run(["pkill", "-KILL", "-f", str(self.run_root)], capture_output=True)
        time.sleep(0.2)
        for line in Path("/proc/self/mounts").read_text().splitlines():
            if str(self.local) in line.split()[1]:
                subprocess.run(["umount", "-l", line.split()[1]], capture_output=True)
        subprocess.run(["nft", "delete", "table", "inet", self.table], capture_output=True)
        shutil.rmtree(self.local, ignore_errors=True)
        shutil.rmtree(self.run_root, ignore_errors=True)


def provision(ctl, datastore, n):
    """Create n instances one after another, then delete them; seconds each."""
    # One warm-up build creates the datastore's template data directory.
    ids, creates, deletes, agent_rss = [], [], [], []
    for i in range(n + 1):
        t0 = time.monotonic()
        status, body = ctl.api("POST", "/instances", {"instance": {
            "name": f"b{i}", "flavorRef": "11", "volume": {"size": 1},
            "datastore": {"type": datastore, "version": VERSIONS[datastore]},
            "databases": [{"name": "test"}],
            "users": [{"name": "userA", "password": "Passw0rd", "databases": [{"name": "test"}]}]}})
        assert status == 200, body
        iid = body["instance"]["id"]
        while True:
            status, body = ctl.api("GET", f"/instances/{iid}")
            if body["instance"]["status"] == "ACTIVE":
                break
            assert body["instance"]["status"] == "BUILD", body
            time.sleep(0.01)
        if i > 0:
            creates.append(time.monotonic() - t0)
        ids.append(iid)
        pid_file = next(ctl.local.glob(f"instances/{iid}/guestagent.pid"))
        agent_pid = int(pid_file.read_text().split()[0])
        agent_rss.append((rss_kb(agent_pid), pss_kb(agent_pid)))
    control_rss = rss_kb(ctl.proc.pid)
    for iid in ids:
        t0 = time.monotonic()
        status, _ = ctl.api("DELETE", f"/instances/{iid}")
        assert status == 202
        while ctl.api("GET", f"/instances/{iid}")[0] != 404:
            time.sleep(0.01)
        deletes.append(time.monotonic() - t0)
    return creates, deletes[1:], agent_rss, control_rss


def floor_mariadb():
    d = Path(tempfile.mkdtemp(prefix="ctrove-floor-", dir="/tmp"))
    os.chmod(d, 0o755)
    shutil.chown(d, "mysql", "mysql")
    try:
        t0 = time.monotonic()
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={d}/data",
                        "--user=mysql", "--skip-test-db"], check=True, capture_output=True)
        t1 = time.monotonic()
        srv = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={d}/data",
                                "--user=mysql", f"--socket={d}/s", "--skip-networking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not Path(f"{d}/s").exists():
            if srv.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mariadbd did not start for the floor measurement")
            time.sleep(0.005)
        t2 = time.monotonic()
        srv.terminate()
        srv.wait()
        return t1 - t0, t2 - t1
    finally:
        shutil.rmtree(d, ignore_errors=True)


def floor_postgresql():
    d = Path(tempfile.mkdtemp(prefix="ctrove-floor-", dir="/tmp"))
    os.chmod(d, 0o755)
    shutil.chown(d, "postgres", "postgres")
    bin_dir = "/usr/lib/postgresql/15/bin"
    try:
        t0 = time.monotonic()
        subprocess.run(["runuser", "-u", "postgres", "--", f"{bin_dir}/initdb", "-D",
                        f"{d}/data", "-U", "postgres", "-A", "trust", "--no-sync"],
                       check=True, capture_output=True)
        t1 = time.monotonic()
        subprocess.run(["runuser", "-u", "postgres", "--", f"{bin_dir}/pg_ctl", "-D",
                        f"{d}/data", "-o", f"-c listen_addresses='' -k {d}", "-w", "-l",
                        f"{d}/log", "start"], check=True, capture_output=True)
        t2 = time.monotonic()
        subprocess.run(["runuser", "-u", "postgres", "--", f"{bin_dir}/pg_ctl", "-D",
                        f"{d}/data", "-m", "immediate", "stop"], capture_output=True)
        return t1 - t0, t2 - t1
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctrove", default=str(TOP / "build/src/ctrove"))
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--datastores", default="mariadb,postgresql")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    datastores = [d for d in args.datastores.split(",") if d]
    work = Path(tempfile.mkdtemp(prefix="ctrove-bench-work-"))
    ctl = Control(os.path.realpath(args.ctrove), work)
    results = {}
    try:
        ctl.start(datastores)
        for ds in datastores:
            try:
                results[ds] = provision(ctl, ds, args.n)
            except AssertionError as e:
                print(f"{ds}: provisioning failed: {e}", file=sys.stderr)
    finally:
        ctl.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir kept:", work)
    floors = {"mariadb": floor_mariadb, "postgresql": floor_postgresql}
    print(f"\nprovisioning with the local driver, {args.n} instances per datastore "
          "(REST API, one at a time)")
    print(f"{'datastore':<12} {'create->ACTIVE p50':>19} {'p95':>8} {'delete p50':>11} "
          f"{'p95':>8} {'agent RSS / PSS':>18} {'floor init+start':>18}")
    out = {}
    for ds, (creates, deletes, agent_rss, control_rss) in results.items():
        init, start = floors[ds]()
        print(f"{ds:<12} {pct(creates, 50):>17.3f} s {pct(creates, 95):>6.3f} s "
              f"{pct(deletes, 50):>9.3f} s {pct(deletes, 95):>6.3f} s "
              f"{statistics.median(r for r, _ in agent_rss) / 1024:>6.1f} / "
              f"{statistics.median(p for _, p in agent_rss) / 1024:.1f} MiB "
              f"{init:>7.3f} s + {start:.3f} s")
        out[ds] = {"create_p50": pct(creates, 50), "create_p95": pct(creates, 95),
                   "delete_p50": pct(deletes, 50), "delete_p95": pct(deletes, 95),
                   "guest_agent_rss_kib": statistics.median(r for r, _ in agent_rss),
                   "guest_agent_pss_kib": statistics.median(p for _, p in agent_rss),
                   "ctrove_all_rss_kib": control_rss, "floor_init_s": init,
                   "floor_start_s": start}
        print(f"{'':<12} ctrove all RSS with {args.n + 1} instances: {control_rss / 1024:.1f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
