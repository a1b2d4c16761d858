"""bench/provision: create->ACTIVE and delete times of local instances, the
RSS of their guest agents (and of Debian's Python trove-guestagent, idle on
the same broker) and of `ctrove all`, and the floor: initialising and
starting the same database server by hand on this machine. A part of
`make bench` (bench/main.py loads it); `make bench-provision` runs it alone.

Starts its own RabbitMQ node and `ctrove all` (real defaults except the
directories, address range and nftables table, which are private to the run)
and drives the REST API directly (the CLI's own 1 s start-up is not ctrove's).
No assertion on speed.

environment: BENCH_PROVISION_N (10), BENCH_DATASTORES ("mariadb postgresql"),
  BENCH_PROVISION_TIMEOUT (s a create or delete may take, 180)
"""
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from benchlib import (TOP, Procs, clear_tree, free_block, free_port, log,  # noqa: E402
                      memory_kb, nft_delete, rabbit_management_url, rabbit_stop,
                      rabbit_url, run, table)
import configs  # noqa: E402  (bench/provision/configs.py)
import resize  # noqa: E402  (bench/provision/resize.py)

VERSIONS = {"mariadb": "10.11", "postgresql": "15"}


def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def private_dir(ledger, prefix, parent):
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    ledger.add("tree", path=str(d))
    return d


class Control:
    def __init__(self, ctrove, work, ledger, procs):
        self.ctrove = ctrove
        self.work = work
        self.ledger = ledger
        self.procs = procs
        self.local = private_dir(ledger, "ctrove-bench-", "/tmp")
        os.chmod(self.local, 0o711)
        self.run_root = private_dir(ledger, "ctb", "/run")
        os.chmod(self.run_root, 0o711)
        self.amqp = free_block(4, 30700)
        self.port = free_port()
        self.rmq = work / "prov-rabbitmq"
        self.conf = work / "prov-trove.conf"
        self.table = f"ctrove_bench_{os.getpid()}"
        ledger.add("nft", table=self.table)
        self.password = secrets.token_urlsafe(12)
        self.proc = None
        self.token = self.project = None

    def transport_url(self):
        return rabbit_url(self.rmq, self.amqp)

    def write_conf(self):
        work, octet = self.work, 230 + os.getpid() % 20
        ctrove = self.ctrove
        self.conf.write_text(
            f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {self.port}\n"
            f"state_path = {self.local}\nlog_file = {work}/prov-ctrove.log\n"
            f"transport_url = {self.transport_url()}\n"
            "http_get_rate = 1000000\nhttp_post_rate = 1000000\nhttp_delete_rate = 1000000\n"
            "max_instances_per_tenant = 1000\nmax_volumes_per_tenant = 10000\n"
            f"[database]\nconnection = sqlite:///{work}/prov-trove.sqlite\n"
            f"[broker_accounts]\nmanagement_url = {rabbit_management_url(self.amqp)}\n"
            f"[local]\nrun_root = {self.run_root}\nnft_table = {self.table}\n"
            f"address_range = 127.{octet}.0.1-127.{octet}.255.254\n"
            f"guestagent_binary = {Path(ctrove).parent / 'ctrove-guestagent'}\n")

    def manage(self, *args):
        run([self.ctrove, "--config-file", str(self.conf), "manage", *args], 120,
            out=self.work / "prov-manage.out")

    def start(self, datastores):
        self.ledger.add("rabbit", dir=str(self.rmq), port=self.amqp)
        run([str(TOP / "scripts/rabbitmq.sh"), "start", str(self.rmq), str(self.amqp)], 180)
        self.write_conf()
        self.manage("db_sync")
        password_file = self.work / "prov-admin-password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        self.manage("identity_bootstrap", "--password-file", str(password_file))
        for ds in datastores:
            v = VERSIONS[ds]
            self.manage("datastore_update", ds, "")
            self.manage("datastore_version_update", ds, v, ds, "", "", "1")
            self.manage("datastore_update", ds, v)
            self.manage("db_load_datastore_config_parameters", ds, v,
                        str(TOP / "etc/validation-rules" / configs.RULES[ds]))
        self.versions = VERSIONS
        self.proc = self.procs.start([self.ctrove, "--config-file", str(self.conf), "all"],
                                     self.work / "prov-ctrove.out")
        end = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ctrove all exited with {self.proc.returncode}; "
                                   f"see {self.work}/prov-ctrove.log")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("ctrove all did not listen within 60 s")
                time.sleep(0.05)
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": self.password}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/identity/v3/auth/tokens",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
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
        """ctrove all, the broker, then whatever of the instances is left
        (guest agents and database servers name these directories)."""
        steps = [
            lambda: self.proc and self.procs.stop(self.proc, 30),
            lambda: rabbit_stop(self.rmq, self.amqp),
            lambda: clear_tree(self.local),
            lambda: clear_tree(self.run_root),
            lambda: nft_delete(self.table),
        ]
        for step in steps:
            try:
                step()
            except Exception as e:  # the rest must still run
                log(f"provision cleanup: {e}")


class Failed(Exception):
    pass


def wait_until(what, deadline, probe):
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise Failed(f"{what}: still waiting after the timeout")
        time.sleep(0.01)


def provision(ctl, datastore, n, timeout):
    """Create n instances one after another (after one warm-up build that
    makes the datastore's template data directory), then delete them."""
    ids, creates, deletes, agents = [], [], [], []
    try:
        for i in range(n + 1):
            t0 = time.monotonic()
            status, body = ctl.api("POST", "/instances", {"instance": {
                "name": f"b{i}", "flavorRef": "11", "volume": {"size": 1},
                "datastore": {"type": datastore, "version": VERSIONS[datastore]},
                "databases": [{"name": "test"}],
                "users": [{"name": "userA", "password": "Passw0rd",
                           "databases": [{"name": "test"}]}]}})
            if status != 200:
                raise Failed(f"create answered {status}: {body}")
            iid = body["instance"]["id"]
            ids.append(iid)

            def active():
                _, b = ctl.api("GET", f"/instances/{iid}")
                st = b["instance"]["status"]
                if st not in ("BUILD", "ACTIVE"):
                    raise Failed(f"instance {iid} went {st}: {b['instance'].get('fault')}")
                return True if st == "ACTIVE" else None

            wait_until(f"create of {iid}", t0 + timeout, active)
            if i > 0:
                creates.append(time.monotonic() - t0)
            pid_file = next(ctl.local.glob(f"instances/{iid}/guestagent.pid"))
            agent_pid = int(pid_file.read_text().split()[0])
            agents.append(memory_kb([agent_pid]))
        control = memory_kb([ctl.proc.pid])
        try:
            follow = configs.measure(ctl, datastore, ids[1:], timeout)
            log(f"provision: {datastore} configuration set -> live on {follow['instances']} "
                f"instances in {follow['all_live_s']:.3f} s")
        except (RuntimeError, OSError, KeyError, subprocess.SubprocessError) as e:
            follow = {"error": repr(e)}
            log(f"provision: {datastore} configuration change failed: {e!r}")
        try:
            grow = resize.measure(ctl, ids[1:], timeout, ctl.work / "prov-ctrove.log")
            log(f"provision: {datastore} online volume grow 1 -> 2 GiB: "
                f"{grow['grow_p50_s']} s in the taskmanager, "
                f"{grow['api_to_active_p50_s']:.3f} s POST -> ACTIVE (p50)")
        except (RuntimeError, OSError, KeyError, ValueError) as e:
            grow = {"error": repr(e)}
            log(f"provision: {datastore} volume grow failed: {e!r}")
        for k, iid in enumerate(list(ids)):
            t0 = time.monotonic()
            status, _ = ctl.api("DELETE", f"/instances/{iid}")
            if status != 202:
                raise Failed(f"delete of {iid} answered {status}")
            wait_until(f"delete of {iid}", t0 + timeout,
                       lambda: True if ctl.api("GET", f"/instances/{iid}")[0] == 404 else None)
            ids.remove(iid)
            if k > 0:
                deletes.append(time.monotonic() - t0)
    finally:
        for iid in ids:  # after a failure: what was created goes, best effort
            try:
                ctl.api("DELETE", f"/instances/{iid}")
                wait_until(f"delete of {iid}", time.monotonic() + timeout,
                           lambda: True if ctl.api("GET", f"/instances/{iid}")[0] == 404
                           else None)
            except Exception as e:
                log(f"{datastore}: could not delete {iid}: {e}")
    return {
        "n": n,
        "create_s": creates, "delete_s": deletes,
        "create_p50_s": pct(creates, 50), "create_p95_s": pct(creates, 95),
        "delete_p50_s": pct(deletes, 50), "delete_p95_s": pct(deletes, 95),
        "guest_agent_rss_kb": statistics.median(a["rss_kb"] for a in agents),
        "guest_agent_pss_kb": statistics.median(a["pss_kb"] for a in agents),
        "ctrove_all_with_instances": {"instances": n + 1, **control},
        "configuration_follow": follow,
        "volume_grow": grow,
    }


# ---------------------------------------------------------------- floors


def accepts(sock_path, greeting=True):
    """The server at this unix socket accepts a connection (and, for
    MariaDB, sends its handshake packet)."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(sock_path)
            return not greeting or len(s.recv(4)) == 4
    except OSError:
        return False


def floor_mariadb(work, ledger, procs):
    """mariadb-install-db, then mariadbd until it accepts a connection on its
    socket; stopped with SIGTERM, SIGKILL after 30 s."""
    d = private_dir(ledger, "ctrove-floor-", "/tmp")
    os.chmod(d, 0o755)
    shutil.chown(d, "mysql", "mysql")
    srv = None
    try:
        t0 = time.monotonic()
        run(["mariadb-install-db", "--no-defaults", f"--datadir={d}/data", "--user=mysql",
             "--skip-test-db"], 300, out=work / "floor-mariadb.out")
        t1 = time.monotonic()
        srv = procs.start(["mariadbd", "--no-defaults", f"--datadir={d}/data", "--user=mysql",
                           f"--socket={d}/s", "--skip-networking"], work / "floor-mariadb.out")
        deadline = time.monotonic() + 120
        while not accepts(f"{d}/s"):
            if srv.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {srv.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("mariadbd did not accept a connection within 120 s")
            time.sleep(0.005)
        t2 = time.monotonic()
        return t1 - t0, t2 - t1
    finally:
        if srv:
            procs.stop(srv, 30)
        clear_tree(d)


def floor_postgresql(work, ledger, procs):
    """initdb, then pg_ctl start -w (returns once it accepts connections)."""
    d = private_dir(ledger, "ctrove-floor-", "/tmp")
    os.chmod(d, 0o755)
    shutil.chown(d, "postgres", "postgres")
    bin_dir = "/usr/lib/postgresql/15/bin"
    as_pg = ["runuser", "-u", "postgres", "--"]
    try:
        t0 = time.monotonic()
        run(as_pg + [f"{bin_dir}/initdb", "-D", f"{d}/data", "-U", "postgres", "-A", "trust",
                     "--no-sync"], 300, out=work / "floor-postgresql.out")
        t1 = time.monotonic()
        run(as_pg + [f"{bin_dir}/pg_ctl", "-D", f"{d}/data", "-o",
                     f"-c listen_addresses='' -k {d}", "-w", "-t", "120", "-l", f"{d}/log",
                     "start"], 150, out=work / "floor-postgresql.out")
        t2 = time.monotonic()
        return t1 - t0, t2 - t1
    finally:
        try:
            run(as_pg + [f"{bin_dir}/pg_ctl", "-D", f"{d}/data", "-m", "immediate", "-t", "30",
                         "stop"], 60, check=False, out=work / "floor-postgresql.out")
        except RuntimeError as e:
            log(str(e))
        clear_tree(d)


FLOORS = {"mariadb": floor_mariadb, "postgresql": floor_postgresql}


# ---------------------------------------------------------------- run


def run_provision(ctrove, work, ledger, python_guest=None):
    """Returns {"settings", "datastores": {ds: figures | {"error"}}, and
    "python_guest": what python_guest(transport_url) returned}."""
    n = int(os.environ.get("BENCH_PROVISION_N", "10"))
    datastores = os.environ.get("BENCH_DATASTORES", "mariadb postgresql").replace(",", " ").split()
    timeout = int(os.environ.get("BENCH_PROVISION_TIMEOUT", "180"))
    for ds in datastores:
        if ds not in VERSIONS:
            raise SystemExit(f"BENCH_DATASTORES: {ds} is not one of {' '.join(VERSIONS)}")
    procs = Procs(ledger)
    ctl = Control(os.path.realpath(ctrove), work, ledger, procs)
    out = {"settings": {"n": n, "datastores": datastores, "timeout_s": timeout},
           "datastores": {}}
    try:
        log(f"provision: RabbitMQ and ctrove all, {n} instances per datastore")
        ctl.start(datastores)
        for ds in datastores:
            log(f"provision: {ds}, 1 + {n} creates then deletes")
            try:
                out["datastores"][ds] = provision(ctl, ds, n, timeout)
                r = out["datastores"][ds]
                log(f"provision: {ds} create p50 {r['create_p50_s']:.3f} s, delete p50 "
                    f"{r['delete_p50_s']:.3f} s")
            except (Failed, AssertionError, KeyError, OSError, StopIteration) as e:
                log(f"provision: {ds} failed: {e!r}")
                out["datastores"][ds] = {"error": repr(e)}
        if python_guest:
            out["python_guest"] = python_guest(ctl.transport_url())
    finally:
        ctl.stop()
        procs.stop_all()
    for ds in datastores:
        try:
            log(f"provision: floor for {ds}")
            init, start = FLOORS[ds](work, ledger, procs)
            out["datastores"].setdefault(ds, {}).update(floor_init_s=init, floor_start_s=start)
        except Exception as e:
            log(f"provision: floor for {ds} failed: {e}")
            out["datastores"].setdefault(ds, {})["floor_error"] = str(e)
        finally:
            procs.stop_all()
    return out


def print_provision(prov):
    s = prov["settings"]

    def sec(v):
        return "-" if v is None else f"{v:.3f}"

    print(f"== provisioning: local driver, {s['n']} instances per datastore, one at a time "
          "(after one warm-up build), REST API polled every 10 ms")
    head = ["datastore", "create->ACTIVE p50 s", "p95 s", "delete p50 s", "p95 s",
            "floor init s", "floor start s", "init+start s"]
    rows = []
    for ds, r in prov["datastores"].items():
        fi, fs = r.get("floor_init_s"), r.get("floor_start_s")
        rows.append([ds, sec(r.get("create_p50_s")), sec(r.get("create_p95_s")),
                     sec(r.get("delete_p50_s")), sec(r.get("delete_p95_s")), sec(fi), sec(fs),
                     sec(fi + fs if fi is not None and fs is not None else None)])
    print(table(head, rows))
    for ds, r in prov["datastores"].items():
        f = r.get("configuration_follow")
        if f and "error" not in f:
            print(f"{ds}: configuration set -> {f['parameter']} live on all {f['instances']} "
                  f"attached instances in {f['all_live_s']:.3f} s (first {f['first_live_s']:.3f} "
                  "s; PATCH /configurations, then SHOW polled on each instance)")
        elif f:
            print(f"!! {ds}: configuration change failed: {f['error']}")
    for ds, r in prov["datastores"].items():
        g = r.get("volume_grow")
        if g and "error" not in g:
            print(f"{ds}: online volume grow 1 -> 2 GiB (database running) on {g['instances']} "
                  f"instances: {sec(g['grow_p50_s'])} s in the taskmanager (truncate, losetup, "
                  f"xfs_growfs), {g['api_to_active_p50_s']:.3f} s POST -> ACTIVE (p50)")
        elif g:
            print(f"!! {ds}: volume grow failed: {g['error']}")
    for ds, r in prov["datastores"].items():
        if "error" in r:
            print(f"!! {ds}: provisioning failed: {r['error']}")
        if "floor_error" in r:
            print(f"!! {ds}: floor failed: {r['floor_error']}")
    print("floor: the same server initialised (mariadb-install-db / initdb --no-sync) and "
          "started (until it accepts a connection on its socket) by hand on this machine; "
          "create->ACTIVE also covers the volume, the guest agent, users and databases.")
