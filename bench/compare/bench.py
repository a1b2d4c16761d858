#!/usr/bin/python3
"""bench/compare: ctrove's API beside Python Trove 18's, in one run on this
machine, with the same data and the same wrk settings.

Trove side (as ../shared/peer measured it): Debian's trove-api, SQLite,
Debian's paste pipeline without keystonemiddleware's authtoken filter (the
client sends the headers authtoken would set), transport fake://, Nova,
Neutron and the guest agent replaced by zero-cost in-process stand-ins
(trove_stubs.py), default API workers, rate limits raised.

ctrove side: `ctrove api` with its real defaults (embedded identity, a signed
token checked on every request, policy, rate limiter) except the rate limits,
raised the same way.

Both get the same datastore (mysql 5.7.29) and the same N instances of one
project, written straight into each one's SQLite database. Prints one table
and the RSS/PSS of each control plane, and writes everything as JSON.
No assertion on speed.

usage: bench/compare/bench.py --ctrove build/src/ctrove --work DIR [--results DIR]
environment: BENCH_DURATION (s, 15), BENCH_WARMUP (s, 5), BENCH_THREADS (2),
  BENCH_CONNECTIONS (16), BENCH_NS ("0 100 1000"), BENCH_TROVE_WORKERS (unset =
  Trove's default, one per CPU)
"""
import argparse
import datetime
import json
import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
PY = "/usr/bin/python3"
DATASTORE, VERSION = "mysql", "5.7.29"
ID_NS = uuid.UUID("0b3c6f1e-52a4-4d8e-b1f0-6a2d9e7c4b10")
CLK_TCK = os.sysconf("SC_CLK_TCK")
AVOID_PORTS = {8779, 5672}


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in AVOID_PORTS:
            return port


def closed_port():
    """A loopback port nothing listens on (connect() is refused)."""
    while True:
        port = free_port()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port


# ---------------------------------------------------------------- processes


class Procs:
    """Every process started here, each in its own session so that its
    forked children (trove-api's workers) go down with it. The pids are also
    written to WORK/pids for run.sh's trap."""

    def __init__(self, work):
        self.work = work
        self.started = []

    def start(self, argv, log_path, env=None):
        out = open(log_path, "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             env=env, start_new_session=True)
        out.close()
        self.started.append(p)
        with open(self.work / "pids", "a") as f:
            f.write(f"{p.pid}\n")
        return p

    def stop(self, p):
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            # the session may still hold forked workers after the leader exits
            try:
                os.killpg(p.pid, signal.SIGKILL if sig == signal.SIGKILL else sig)
            except ProcessLookupError:
                pass
            break

    def stop_all(self):
        for p in reversed(self.started):
            self.stop(p)
        self.started = []


def children(pid):
    kids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(d.name))
    return kids


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def memory_kb(pids):
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    return {"procs": len(pids), "rss_kb": rss, "pss_kb": pss}


def http(method, url, headers=None, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_http(url, proc, what, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}; see its log")
        try:
            http("GET", url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not answer {url} within {timeout} s")


# ---------------------------------------------------------------- Trove 18

TROVE_CONF = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
debug = false
api_paste_config = {paste}
{workers}\
transport_url = fake://
default_datastore = {ds}
http_get_rate = 1000000000
http_post_rate = 1000000000
http_put_rate = 1000000000
http_delete_rate = 1000000000
http_mgmt_post_rate = 1000000000
remote_nova_client = trove_stubs.nova
remote_neutron_client = trove_stubs.neutron
remote_guest_client = trove_stubs.guest

[database]
connection = sqlite:///{db}

[oslo_messaging_notifications]
driver = noop

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
"""

# Debian's /etc/trove/api-paste.ini with keystonemiddleware's authtoken filter
# taken out of the troveapi pipeline (nothing else changed).
TROVE_PASTE = """\
[composite:trove]
use = call:trove.common.wsgi:versioned_urlmap
/: versions
/v1.0: troveapi

[app:versions]
paste.app_factory = trove.versions:app_factory

[pipeline:troveapi]
pipeline = cors http_proxy_to_wsgi faultwrapper osprofiler authorization contextwrapper ratelimit extensions troveapp

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = trove

[filter:http_proxy_to_wsgi]
use = egg:oslo.middleware#http_proxy_to_wsgi

[filter:faultwrapper]
paste.filter_factory = trove.common.wsgi:FaultWrapper.factory

[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory

[filter:authorization]
paste.filter_factory = trove.common.auth:AuthorizationMiddleware.factory

[filter:contextwrapper]
paste.filter_factory = trove.common.wsgi:ContextMiddleware.factory

[filter:ratelimit]
paste.filter_factory = trove.common.limits:RateLimitingMiddleware.factory

[filter:extensions]
paste.filter_factory = trove.common.extensions:factory

[app:troveapp]
paste.app_factory = trove.common.api:app_factory
"""

# trove-manage 18.0.0 calls inspect.getargspec, gone in Python 3.11: run its
# entry point with the name pointed at getfullargspec.
TROVE_MANAGE = """\
import inspect, sys
inspect.getargspec = inspect.getfullargspec
sys.argv[0] = "trove-manage"
from trove.cmd.manage import main
sys.exit(main())
"""


class Trove:
    name = "Trove 18"

    def __init__(self, procs, work, workers):
        self.procs = procs
        self.dir = work / "trove"
        self.dir.mkdir()
        self.port = free_port()
        self.db = self.dir / "trove.sqlite"
        self.servers = self.dir / "servers.txt"
        self.conf = self.dir / "trove.conf"
        (self.dir / "api-paste.ini").write_text(TROVE_PASTE)
        self.conf.write_text(TROVE_CONF.format(
            port=self.port, paste=self.dir / "api-paste.ini", db=self.db, ds=DATASTORE,
            workers=f"trove_api_workers = {workers}\n" if workers else ""))
        self.workers = workers or "default (one per CPU)"
        self.proc = None
        self.tenant = None
        self.base = f"http://127.0.0.1:{self.port}"

    def manage(self, *args):
        with open(self.dir / "trove-manage.out", "ab") as out:
            subprocess.run([PY, "-c", TROVE_MANAGE, "--config-file", str(self.conf),
                            "--log-file", str(self.dir / "trove-manage.log"), *args],
                           stdout=out, stderr=out, check=True)

    def setup(self):
        log(f"Trove: schema and datastore {DATASTORE} {VERSION} in {self.db}")
        self.manage("db_sync")
        self.manage("datastore_update", DATASTORE, "")
        self.manage("datastore_version_update", DATASTORE, VERSION, DATASTORE, "", "", "1")
        self.manage("datastore_update", DATASTORE, VERSION)
        self.servers.write_text("")

    def start(self, tenant):
        self.tenant = tenant
        env = dict(os.environ, PYTHONPATH=str(HERE), TROVE_STUB_SERVERS=str(self.servers))
        env.pop("PYTHONHOME", None)
        self.proc = self.procs.start(
            ["/usr/bin/trove-api", "--config-file", str(self.conf),
             "--log-file", str(self.dir / "trove-api.log")], self.dir / "trove-api.out", env)
        wait_http(self.base + "/", self.proc, "trove-api")
        want = int(self.workers) if str(self.workers).isdigit() else os.cpu_count()
        end = time.monotonic() + 60
        while want > 1 and len(children(self.proc.pid)) < want and time.monotonic() < end:
            time.sleep(0.2)
        log(f"Trove: trove-api on {self.base}, pids {self.pids()}")

    def pids(self):
        return [self.proc.pid, *children(self.proc.pid)]

    def headers(self):
        # What keystonemiddleware would pass on after validating a token.
        return {"X-Auth-Token": "bench-unchecked", "X-Tenant-Id": self.tenant,
                "X-User-Id": self.user_id, "X-Role": "member"}

    def version_id(self):
        with sqlite3.connect(self.db) as c:
            return c.execute(
                "SELECT v.id FROM datastore_versions v JOIN datastores d"
                " ON d.default_version_id = v.id WHERE d.name = ?", (DATASTORE,)).fetchone()[0]

    def seed(self, rows):
        dsv = self.version_id()
        with sqlite3.connect(self.db) as c:
            c.execute("DELETE FROM service_statuses")
            c.execute("DELETE FROM instances")
            c.executemany(
                "INSERT INTO instances (id, created, updated, name, compute_instance_id,"
                " task_id, task_description, flavor_id, volume_size, tenant_id, deleted,"
                " datastore_version_id, region_id)"
                " VALUES (?, ?, ?, ?, ?, 1, 'No tasks for the instance.', '1', 1, ?, 0, ?,"
                " 'RegionOne')",
                [(r["id"], r["created"] + ".000000", r["created"] + ".000000", r["name"],
                  r["server"], self.tenant, dsv) for r in rows])
            c.executemany(
                "INSERT INTO service_statuses (id, instance_id, status_id, status_description,"
                " updated_at) VALUES (?, ?, 33, 'healthy', '2100-01-01 00:00:00.000000')",
                [(r["status"], r["id"]) for r in rows])
        tmp = self.servers.with_suffix(".tmp")
        tmp.write_text("".join(r["server"] + "\n" for r in rows))
        os.replace(tmp, self.servers)


# ---------------------------------------------------------------- bus


class Bus:
    """What answers ctrove's guest call in GET /instances/{id}.

    "peer" (default): a private RabbitMQ node (scripts/rabbitmq.sh, its own
    ports, never 5672) and tests/rpc's rpc_peer consuming the shown
    instance's guest topic; it answers get_filesystem_stats with an RPC error
    (no such method), so ctrove pays a full RPC round trip through the broker
    and shows the instance without volume.used. Trove's guest call is an
    in-process stub, so this costs ctrove more than it costs Trove.
    "none": transport_url names a closed loopback port; ctrove then waits for
    the bus until the call's timeout."""

    def __init__(self, procs, work, mode, peer_bin):
        self.procs, self.work, self.mode, self.peer_bin = procs, work, mode, peer_bin
        self.dir = work / "rabbitmq"
        self.port = None
        self.peer = None

    def start(self):
        if self.mode == "none":
            return f"rabbit://guest:guest@127.0.0.1:{closed_port()}/"
        if not Path(self.peer_bin).is_file():
            raise SystemExit(f"no rpc_peer at {self.peer_bin} (make build)")
        self.port = free_block(3)
        (self.work / "bus").write_text(f"{self.dir} {self.port}\n")
        log(f"bus: private RabbitMQ on 127.0.0.1:{self.port}")
        subprocess.run([str(TOP / "scripts/rabbitmq.sh"), "start", str(self.dir),
                        str(self.port)], check=True, capture_output=True)
        return self.url()

    def url(self):
        return f"rabbit://guest:guest@127.0.0.1:{self.port}/"

    def serve_guest(self, instance_id):
        if self.mode == "none" or self.peer:
            return
        out = self.work / "guest-peer.out"
        self.peer = self.procs.start([self.peer_bin, "--url", self.url(), "--topic",
                                      f"guestagent.{instance_id}", "serve"], out)
        end = time.monotonic() + 60
        while "READY" not in out.read_text(errors="replace"):
            if self.peer.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"rpc_peer did not get ready; see {out}")
            time.sleep(0.1)

    def stop(self):
        if self.port:
            subprocess.run([str(TOP / "scripts/rabbitmq.sh"), "stop", str(self.dir),
                            str(self.port)], capture_output=True)
            self.port = None


def free_block(count):
    for base in range(27000, 40000, 10):
        if any(p in AVOID_PORTS for p in range(base, base + count)):
            continue
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise SystemExit("no free block of ports")


# ---------------------------------------------------------------- ctrove


class Ctrove:
    name = "ctrove"

    def __init__(self, procs, work, binary):
        self.procs = procs
        self.bin = str(binary)
        self.dir = work / "ctrove"
        self.dir.mkdir()
        self.port = free_port()
        self.db = self.dir / "trove.sqlite"
        self.conf = self.dir / "trove.conf"
        # transport_url: the API's only use of the bus in these calls is the
        # guest call of GET /instances/{id} (see README and Bus below).
        self.bus_url = None
        self.conf_text = (
            "[DEFAULT]\n"
            "bind_host = 127.0.0.1\n"
            f"bind_port = {self.port}\n"
            f"state_path = {self.dir}\n"
            f"log_file = {self.dir / 'ctrove.log'}\n"
            "transport_url = {bus_url}\n"
            "# Trove's default is 200 requests a minute per project; raised as on Trove's side.\n"
            "http_get_rate = 1000000000\nhttp_post_rate = 1000000000\n"
            "http_put_rate = 1000000000\nhttp_delete_rate = 1000000000\n"
            "http_mgmt_post_rate = 1000000000\n"
            f"[database]\nconnection = sqlite:///{self.db}\n")
        self.password = secrets.token_hex(12)
        self.proc = None
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = None
        self.token_at = 0

    def manage(self, *args):
        with open(self.dir / "manage.out", "ab") as out:
            subprocess.run([self.bin, "--config-file", str(self.conf), "manage", *args],
                           stdout=out, stderr=out, check=True)

    def setup(self, bus_url):
        self.bus_url = bus_url
        self.conf.write_text(self.conf_text.replace("{bus_url}", bus_url))
        log(f"ctrove: schema, identity and datastore {DATASTORE} {VERSION} in {self.db}")
        self.manage("db_sync")
        self.manage("identity_bootstrap", secrets.token_hex(12))
        self.manage("user_create", "bench", self.password, "bench", "member")
        self.manage("datastore_update", DATASTORE, "")
        self.manage("datastore_version_update", DATASTORE, VERSION, DATASTORE, "", "", "1")
        self.manage("datastore_update", DATASTORE, VERSION)
        with sqlite3.connect(self.db) as c:
            self.project = c.execute(
                "SELECT id FROM ctrove_projects WHERE name = 'bench'").fetchone()[0]
            self.user_id = c.execute(
                "SELECT id FROM ctrove_users WHERE name = 'bench'").fetchone()[0]
            self.flavor = c.execute(
                "SELECT id FROM ctrove_flavors WHERE id = '1'").fetchone()[0]

    def start(self):
        self.proc = self.procs.start([self.bin, "--config-file", str(self.conf), "api"],
                                     self.dir / "ctrove.out")
        wait_http(self.base + "/", self.proc, "ctrove api")
        log(f"ctrove: ctrove api on {self.base}, pid {self.proc.pid}")

    def pids(self):
        return [self.proc.pid]

    def headers(self):
        # A fresh token now and then, so a long run never outlives one.
        if not self.token or time.monotonic() - self.token_at > 600:
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "bench", "domain": {"id": "default"}, "password": self.password}}},
                "scope": {"project": {"name": "bench", "domain": {"id": "default"}}}}}
            code, hdrs, _ = http("POST", self.base + "/identity/v3/auth/tokens", body=body)
            if code != 201:
                raise SystemExit(f"ctrove: token request answered {code}")
            self.token = {k.lower(): v for k, v in hdrs.items()}["x-subject-token"]
            self.token_at = time.monotonic()
        return {"X-Auth-Token": self.token}

    def seed(self, rows):
        with sqlite3.connect(self.db) as c:
            dsv = c.execute(
                "SELECT v.id FROM datastore_versions v JOIN datastores d"
                " ON d.default_version_id = v.id WHERE d.name = ?", (DATASTORE,)).fetchone()[0]
            c.execute("DELETE FROM ctrove_addresses")
            c.execute("DELETE FROM service_statuses")
            c.execute("DELETE FROM instances")
            c.executemany(
                "INSERT INTO instances (id, created, updated, name, compute_instance_id,"
                " task_id, task_description, flavor_id, volume_size, tenant_id, server_status,"
                " deleted, datastore_version_id, region_id)"
                " VALUES (?, ?, ?, ?, ?, 1, 'No tasks for the instance.', ?, 1, ?, 'ACTIVE',"
                " 0, ?, 'RegionOne')",
                [(r["id"], r["created"], r["created"], r["name"], r["server"], self.flavor,
                  self.project, dsv) for r in rows])
            c.executemany(
                "INSERT INTO service_statuses (id, instance_id, status_id, status_description,"
                " updated_at) VALUES (?, ?, 33, 'healthy', '2100-01-01 00:00:00')",
                [(r["status"], r["id"]) for r in rows])
            c.executemany(
                "INSERT INTO ctrove_addresses (address, instance_id, allocated) VALUES (?, ?, ?)",
                [(r["address"], r["id"], r["created"]) for r in rows])


def instance_rows(n):
    base = datetime.datetime(2024, 1, 1)
    rows = []
    for i in range(n):
        rows.append({
            "id": str(uuid.uuid5(ID_NS, f"instance-{i}")),
            "server": str(uuid.uuid5(ID_NS, f"server-{i}")),
            "status": str(uuid.uuid5(ID_NS, f"status-{i}")),
            "name": f"inst-{i:04d}",
            "created": (base + datetime.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S"),
            "address": f"10.0.{(i + 2) // 256}.{(i + 2) % 256}",
        })
    return rows


# ---------------------------------------------------------------- wrk


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(out):
    r = {"rps": 0.0, "p50_ms": None, "p99_ms": None, "requests": 0, "non2xx": 0,
         "sock_errors": 0}
    for line in out.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "Requests/sec:":
            r["rps"] = float(f[1])
        elif f[0] == "50%":
            r["p50_ms"] = to_ms(f[1])
        elif f[0] == "99%":
            r["p99_ms"] = to_ms(f[1])
        elif "requests in" in line:
            r["requests"] = int(f[0])
        elif line.strip().startswith("Non-2xx"):
            r["non2xx"] = int(f[-1])
        elif line.strip().startswith("Socket errors"):
            r["sock_errors"] = sum(int(x) for x in re.findall(r"\d+", line))
    return r


class Runner:
    def __init__(self, args, work):
        self.duration = int(os.environ.get("BENCH_DURATION", "15"))
        self.warmup = int(os.environ.get("BENCH_WARMUP", "5"))
        self.threads = int(os.environ.get("BENCH_THREADS", "2"))
        self.conns = int(os.environ.get("BENCH_CONNECTIONS", "16"))
        self.timeout = "60s"
        self.work = work
        (work / "bodies").mkdir()

    def wrk(self, url, headers, seconds, latency):
        argv = ["wrk", f"-t{self.threads}", f"-c{self.conns}", f"-d{seconds}s",
                "--timeout", self.timeout]
        if latency:
            argv.append("--latency")
        for k, v in headers.items():
            argv += ["-H", f"{k}: {v}"]
        argv.append(url)
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    @staticmethod
    def wait_idle(pids):
        """Until the server stops burning CPU on requests left over from the
        warm-up (eventlet keeps serving them after wrk disconnects)."""
        for _ in range(240):
            t0 = cpu_ticks(pids)
            time.sleep(0.5)
            if cpu_ticks(pids) - t0 <= 1:
                return

    def measure(self, side, label, n, path):
        url = side.base + path
        headers = side.headers()
        code, _, body = http("GET", url, headers)
        tag = re.sub(r"[^A-Za-z0-9]+", "_", f"{side.name}-{label}-N{n}")
        (self.work / "bodies" / f"{tag}.json").write_bytes(body)
        check = None
        if code == 200 and "instances" in label:
            doc = json.loads(body)
            items = doc["instances"] if "instances" in doc else [doc["instance"]]
            statuses = sorted({(i.get("status"), i.get("operating_status")) for i in items})
            check = {"items": len(items), "statuses": statuses}
        pids = side.pids()
        self.wrk(url, headers, self.warmup, False)
        self.wait_idle(pids)
        pids = side.pids()
        c0 = cpu_ticks(pids)
        out = self.wrk(url, headers, self.duration, True)
        c1 = cpu_ticks(pids)
        r = parse_wrk(out)
        r.update(http=code, bytes=len(body), check=check,
                 cpu_ms_per_req=round((c1 - c0) * 1000 / CLK_TCK / r["requests"], 3)
                 if r["requests"] else None)
        (self.work / "bodies" / f"{tag}.wrk.txt").write_text(out)
        log(f"{side.name:8} {label:32} N={n:<5} {code} {len(body):6} B  {r['rps']:10.1f} req/s"
            f"  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  cpu {r['cpu_ms_per_req']} ms/req"
            + (f"  non2xx {r['non2xx']}" if r["non2xx"] else "")
            + (f"  {check}" if check else ""))
        return r


# ---------------------------------------------------------------- report


def fmt_num(v, digits=1):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def print_report(result):
    rows = result["rows"]
    head = ["endpoint", "N", "Trove req/s", "p50 ms", "p99 ms", "ctrove req/s", "p50 ms",
            "p99 ms", "ctrove/Trove", "CPU ms/req T", "CPU ms/req c"]
    table = []
    for r in rows:
        t, c = r["trove"], r["ctrove"]
        ratio = c["rps"] / t["rps"] if t["rps"] else None
        table.append([r["endpoint"], str(r["n"]), fmt_num(t["rps"]), fmt_num(t["p50_ms"]),
                      fmt_num(t["p99_ms"]), fmt_num(c["rps"]), fmt_num(c["p50_ms"]),
                      fmt_num(c["p99_ms"]), (f"{ratio:.0f}x" if ratio and ratio >= 10 else
                                             f"{ratio:.1f}x" if ratio else "-"),
                      fmt_num(t["cpu_ms_per_req"]), fmt_num(c["cpu_ms_per_req"])])
    widths = [max(len(x[i]) for x in [head] + table) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    s = result["settings"]
    print()
    print(f"== ctrove vs Trove {result['trove_version']} on {result['machine']['cpus']} CPUs "
          f"({result['machine']['cpu_model']}), loopback, wrk shares the CPUs")
    print(f"== wrk -t{s['threads']} -c{s['connections']} -d{s['duration_s']}s --timeout "
          f"{s['timeout']} --latency after a {s['warmup_s']} s warm-up; datastore "
          f"{DATASTORE} {VERSION}; N instances of one project")
    print(line(head))
    print(line(["-" * w for w in widths]))
    for row in table:
        print(line(row))
    bad = [f"{r['endpoint']} N={r['n']} {side}: HTTP {r[side]['http']}, "
           f"{r[side]['non2xx']} non-2xx, {r[side]['sock_errors']} socket errors"
           for r in rows for side in ("trove", "ctrove")
           if r[side]["http"] != 200 or r[side]["non2xx"] or r[side]["sock_errors"]]
    for b in bad:
        print("!! " + b)
    print()
    print("memory (kB; VmRSS summed over the processes, Pss from smaps_rollup):")
    mh = ["control plane", "procs", "idle RSS", "idle PSS", "after-load RSS", "after-load PSS"]
    mrows = []
    for key, label in (("trove", f"Trove 18 trove-api ({result['trove_workers']} workers + parent)"),
                       ("ctrove", "ctrove api (one process)")):
        m = result["memory"][key]
        mrows.append([label, str(m["after_load"]["procs"]), str(m["idle"]["rss_kb"]),
                      str(m["idle"]["pss_kb"]), str(m["after_load"]["rss_kb"]),
                      str(m["after_load"]["pss_kb"])])
    mw = [max(len(x[i]) for x in [mh] + mrows) for i in range(len(mh))]
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(mh, mw))))
    for row in mrows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, mw))))
    print()
    for note in result["notes"]:
        print("- " + note)


# ---------------------------------------------------------------- main


def machine():
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "load_avg_at_start": os.getloadavg()}


def pkg_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                       text=True)
    return r.stdout.strip() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ctrove", default=str(TOP / "build/src/ctrove"))
    ap.add_argument("--work", required=True, help="an empty scratch directory (removed by run.sh)")
    ap.add_argument("--results", default=str(TOP / "bench/results"))
    args = ap.parse_args()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)

    work = Path(args.work)
    ns = [int(x) for x in os.environ.get("BENCH_NS", "0 100 1000").split()]
    trove_workers = os.environ.get("BENCH_TROVE_WORKERS", "")
    guest_mode = os.environ.get("BENCH_GUEST", "peer")
    procs = Procs(work)
    ctrove_bin = Path(args.ctrove).resolve()
    bus = Bus(procs, work, guest_mode, str(ctrove_bin.parents[1] / "tests/unit/rpc_peer"))
    try:
        runner = Runner(args, work)
        ctrove = Ctrove(procs, work, ctrove_bin)
        trove = Trove(procs, work, trove_workers)
        ctrove.setup(bus.start())
        trove.user_id = ctrove.user_id
        trove.setup()
        # Same project id on both sides: ctrove's identity made it; Trove's
        # no-auth pipeline takes whatever tenant the headers name.
        trove.start(ctrove.project)
        ctrove.start()
        for side in (trove, ctrove):
            side.seed([])
        time.sleep(5)
        memory = {"trove": {"idle": memory_kb(trove.pids())},
                  "ctrove": {"idle": memory_kb(ctrove.pids())}}
        log(f"idle memory: {memory}")

        rows = []

        def both(label, n, path_of):
            r = {"endpoint": label, "n": n}
            for side in (trove, ctrove):
                r["trove" if side is trove else "ctrove"] = runner.measure(
                    side, label, n, path_of(side))
            rows.append(r)

        proj = ctrove.project
        for i, n in enumerate(ns):
            seed = instance_rows(n)
            for side in (trove, ctrove):
                side.seed(seed)
            if i == 0:
                both("GET /", n, lambda s: "/")
                both("GET /datastores", n, lambda s: f"/v1.0/{proj}/datastores")
                both(f"GET /datastores/{DATASTORE}/versions", n,
                     lambda s: f"/v1.0/{proj}/datastores/{DATASTORE}/versions")
            both("GET /instances", n, lambda s: f"/v1.0/{proj}/instances")
            if n:
                bus.serve_guest(seed[0]["id"])
                both("GET /instances/{id}", n,
                     lambda s, iid=seed[0]["id"]: f"/v1.0/{proj}/instances/{iid}")
        memory["trove"]["after_load"] = memory_kb(trove.pids())
        memory["ctrove"]["after_load"] = memory_kb(ctrove.pids())

        git = subprocess.run(["git", "-C", str(TOP), "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip()
        result = {
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "ctrove_git": git,
            "trove_version": pkg_version("python3-trove"),
            "trove_workers": trove_workers or os.cpu_count(),
            "machine": machine(),
            "settings": {"guest": guest_mode, "threads": runner.threads, "connections": runner.conns,
                         "duration_s": runner.duration, "warmup_s": runner.warmup,
                         "timeout": runner.timeout, "ns": ns, "datastore": DATASTORE,
                         "version": VERSION},
            "rows": rows,
            "memory": memory,
            "skipped": [
                "POST /instances + DELETE: not measured on either side. Trove 18 standalone "
                "has no Nova/Glance/Cinder and a fake:// bus, so a create never gets past "
                "BUILD; ctrove's create needs its taskmanager and a RabbitMQ broker "
                "(see bench/provision for ctrove's create->ACTIVE and delete times)."],
            "notes": [
                "Trove's side skipped authentication: no keystonemiddleware (authtoken "
                "removed from the paste pipeline), the client sends X-Tenant-Id/X-User-Id/"
                "X-Role headers that Trove trusts. ctrove checks its signed token on every "
                "request (embedded identity, real defaults).",
                "Trove's Nova, Neutron and guest-agent calls are answered by in-process "
                "zero-cost stubs (bench/compare/trove_stubs.py). " + (
                    "ctrove's GET /instances/{id} makes its real guest RPC "
                    "(get_filesystem_stats) through a private RabbitMQ node to tests/rpc's "
                    "rpc_peer, which answers with an RPC error; RabbitMQ's CPU shares the "
                    "machine during that row." if guest_mode != "none" else
                    "ctrove's GET /instances/{id} tries its guest RPC against a bus "
                    "address nothing listens on (BENCH_GUEST=none) and waits for it."),
                "Both list pages hold 20 instances (instances_page_size 20) plus a next link.",
                f"Trove runs its default API workers ({trove_workers or os.cpu_count()} "
                "processes + parent, eventlet); ctrove one process with one thread per CPU. "
                "2-CPU machine shared with wrk and with whatever else runs: expect noise, "
                "compare CPU ms/req too.",
                "Rate limits raised on both sides (http_*_rate = 1000000000); Trove logs at "
                "INFO to a file as shipped, ctrove at its default level.",
            ],
        }
        result["notes"] += ["skipped: " + s for s in result["skipped"]]
        print_report(result)
        results = Path(args.results)
        results.mkdir(parents=True, exist_ok=True)
        out = results / (time.strftime("%Y%m%dT%H%M%S") + ".json")
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nwritten: {out}")
    finally:
        procs.stop_all()
        bus.stop()


if __name__ == "__main__":
    main()
