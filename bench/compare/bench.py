"""bench/compare: ctrove's API beside Python Trove 18's, in one run on this
machine, with the same data and the same wrk settings. A part of `make bench`
(bench/main.py loads it; bench/README.md has the whole story).

Trove side (as ../shared/peer measured it): Debian's trove-api, SQLite,
Debian's paste pipeline without keystonemiddleware's authtoken filter (the
client sends the headers authtoken would set), transport fake://, Nova,
Neutron and the guest agent replaced by zero-cost in-process stand-ins
(trove_stubs.py), default API workers, rate limits raised. trove-taskmanager
and trove-conductor run beside it (same config, fake://) for their memory.

ctrove side: `ctrove all` (API, taskmanager and conductor in one process, on
a private RabbitMQ node) with its real defaults (embedded identity, a signed
token checked on every request, policy, rate limiter) except the rate limits,
raised the same way, and private [local] paths and nftables table.

Both get the same datastore (mysql 5.7.29) and the same N instances of one
project, written straight into each one's SQLite database. run() returns the
rows and the control planes' memory; no assertion on speed.

environment: BENCH_DURATION (s, 15), BENCH_WARMUP (s, 5), BENCH_THREADS (2),
  BENCH_CONNECTIONS (16), BENCH_NS ("0 100 1000"), BENCH_TROVE_WORKERS (unset =
  Trove's default, one per CPU), BENCH_GUEST (report | rpc), BENCH_HTTPS_N (100;
  N of the HTTPS-beside-HTTP row, bench/compare/https.py; -1 skips it)
"""
import datetime
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import https  # noqa: E402
from benchlib import (CLK_TCK, PY, TOP, Procs, children, cpu_ticks, fmt_num,  # noqa: E402
                      free_block, free_port, log, memory_kb, rabbit_stop, rabbit_url, run,
                      table)

DATASTORE, VERSION = "mysql", "5.7.29"
ID_NS = uuid.UUID("0b3c6f1e-52a4-4d8e-b1f0-6a2d9e7c4b10")


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
        self.others = {}  # trove-taskmanager, trove-conductor
        self.tenant = None
        self.user_id = None
        self.base = f"http://127.0.0.1:{self.port}"

    def manage(self, *args):
        run([PY, "-c", TROVE_MANAGE, "--config-file", str(self.conf),
             "--log-file", str(self.dir / "trove-manage.log"), *args], 300,
            out=self.dir / "trove-manage.out")

    def setup(self):
        log(f"Trove: schema and datastore {DATASTORE} {VERSION} in {self.db}")
        self.manage("db_sync")
        self.manage("datastore_update", DATASTORE, "")
        self.manage("datastore_version_update", DATASTORE, VERSION, DATASTORE, "", "", "1")
        self.manage("datastore_update", DATASTORE, VERSION)
        self.servers.write_text("")

    def env(self):
        env = dict(os.environ, PYTHONPATH=str(HERE), TROVE_STUB_SERVERS=str(self.servers))
        env.pop("PYTHONHOME", None)
        return env

    def start(self, tenant):
        self.tenant = tenant
        self.proc = self.procs.start(
            ["/usr/bin/trove-api", "--config-file", str(self.conf),
             "--log-file", str(self.dir / "trove-api.log")], self.dir / "trove-api.out",
            self.env())
        wait_http(self.base + "/", self.proc, "trove-api")
        want = int(self.workers) if str(self.workers).isdigit() else os.cpu_count()
        end = time.monotonic() + 60
        while want > 1 and len(children(self.proc.pid)) < want and time.monotonic() < end:
            time.sleep(0.2)
        log(f"Trove: trove-api on {self.base}, pids {self.pids()}")
        # The rest of Trove's control plane, for its memory: same config, the
        # same fake:// bus (nothing reaches them during the run).
        for svc in ("trove-taskmanager", "trove-conductor"):
            if not Path(f"/usr/bin/{svc}").exists():
                continue
            self.others[svc] = self.procs.start(
                [f"/usr/bin/{svc}", "--config-file", str(self.conf),
                 "--log-file", str(self.dir / f"{svc}.log")], self.dir / f"{svc}.out",
                self.env())

    def ready_others(self, timeout=60):
        """Wait until taskmanager and conductor stopped importing (CPU idle)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pids = [q for p in self.others.values() if p.poll() is None
                    for q in (p.pid, *children(p.pid))]
            t0 = cpu_ticks(pids)
            time.sleep(0.5)
            if cpu_ticks(pids) - t0 <= 1:
                break
        for svc, p in self.others.items():
            if p.poll() is not None:
                log(f"Trove: {svc} exited with {p.returncode}; see {self.dir}/{svc}.log")

    def pids(self):
        return [self.proc.pid, *children(self.proc.pid)]

    def memory(self):
        m = {"trove-api": memory_kb(self.pids())}
        for svc, p in self.others.items():
            m[svc] = (memory_kb([p.pid, *children(p.pid)]) if p.poll() is None
                      else {"procs": 0, "rss_kb": None, "pss_kb": None,
                            "exited": p.returncode})
        return m

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

    def measuring(self, label):
        return _Nothing()


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ---------------------------------------------------------------- bus


class Bus:
    """The private RabbitMQ node `ctrove all` runs on (scripts/rabbitmq.sh,
    its own ports, never 5672), and what answers the guest call of
    GET /instances/{id} when BENCH_GUEST=rpc.

    "report" (default): each seeded instance has a fresh volume-usage report
    (table ctrove_volume_usage, what the conductor writes from every guest
    heartbeat), so showing it needs no guest call: ctrove's normal path.
    "rpc": no reports, so ctrove asks the guest (get_filesystem_stats) over
    RPC; tests/rpc's rpc_peer consumes the shown instance's guest topic and
    answers with an RPC error (no such method), so ctrove pays a full round
    trip through the broker and shows the instance without volume.used.
    That is ctrove's fallback when a guest's report is older than
    volume_usage_max_age; Trove's guest call is an in-process stub."""

    def __init__(self, procs, ledger, work, mode, peer_bin):
        if mode not in ("report", "rpc"):
            raise SystemExit(f"BENCH_GUEST={mode}: report or rpc")
        self.procs, self.ledger, self.work = procs, ledger, work
        self.mode, self.peer_bin = mode, peer_bin
        self.dir = work / "rabbitmq"
        self.port = None
        self.peer = None

    def start(self):
        port = free_block(4)
        self.ledger.add("rabbit", dir=str(self.dir), port=port)
        self.port = port
        log(f"bus: private RabbitMQ on 127.0.0.1:{self.port}")
        run([str(TOP / "scripts/rabbitmq.sh"), "start", str(self.dir), str(self.port)], 180)
        return self.url()

    def url(self):
        return rabbit_url(self.dir, self.port)

    def serve_guest(self, instance_id):
        if self.mode != "rpc" or self.peer:
            return
        if not Path(self.peer_bin).is_file():
            raise SystemExit(f"no rpc_peer at {self.peer_bin} (ninja -C <build>)")
        out = self.work / "guest-peer.out"
        self.peer = self.procs.start([self.peer_bin, "--url", self.url(), "--topic",
                                      f"guestagent.{instance_id}", "serve"], out)
        end = time.monotonic() + 60
        while "READY" not in out.read_text(errors="replace"):
            if self.peer.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"rpc_peer did not get ready; see {out}")
            time.sleep(0.1)

    def stop(self):
        if self.peer:
            self.procs.stop(self.peer)
            self.peer = None
        if self.port:
            rabbit_stop(self.dir, self.port)
            self.port = None


# ---------------------------------------------------------------- ctrove


def utc_now_db():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Ctrove:
    name = "ctrove"

    def __init__(self, procs, ledger, work, binary, guest_mode):
        self.procs = procs
        self.bin = str(binary)
        self.guest_mode = guest_mode
        self.dir = work / "ctrove"
        self.dir.mkdir()
        self.port = free_port()
        self.db = self.dir / "trove.sqlite"
        self.conf = self.dir / "trove.conf"
        self.nft_table = f"ctrove_cmp_{os.getpid()}"
        ledger.add("nft", table=self.nft_table)
        self.bus_url = None
        # Everything at ctrove's defaults except the rate limits (raised as on
        # Trove's side), the paths, and [local]'s host-wide names (nftables
        # table, loopback range) made private to this run. No instance is
        # created here; the taskmanager and conductor idle on the bus.
        octet = 200 + os.getpid() % 20
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
            + (f"trove_api_workers = {os.environ['BENCH_CTROVE_WORKERS']}\n"
               if os.environ.get("BENCH_CTROVE_WORKERS") else "")
            + f"[database]\nconnection = sqlite:///{self.db}\n"
            f"[local]\nrun_root = {self.dir / 'run'}\nnft_table = {self.nft_table}\n"
            f"address_range = 127.{octet}.0.1-127.{octet}.255.254\n")
        self.password = secrets.token_hex(12)
        self.proc = None
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = None
        self.token_at = 0
        self.project = self.user_id = self.flavor = None

    def manage(self, *args):
        run([self.bin, "--config-file", str(self.conf), "manage", *args], 120,
            out=self.dir / "manage.out")

    def setup(self, bus_url):
        self.bus_url = bus_url
        self.conf.write_text(self.conf_text.replace("{bus_url}", bus_url))
        log(f"ctrove: schema, identity and datastore {DATASTORE} {VERSION} in {self.db}")
        self.manage("db_sync")
        # Passwords reach `ctrove manage` in files, never on its command line.
        admin_pw, bench_pw = self.dir / "admin-password", self.dir / "bench-password"
        for path, text in ((admin_pw, secrets.token_hex(12)), (bench_pw, self.password)):
            path.write_text(text + "\n")
            path.chmod(0o600)
        self.manage("identity_bootstrap", "--password-file", str(admin_pw))
        self.manage("user_create", "bench", "bench", "member", "--password-file", str(bench_pw))
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
        self.proc = self.procs.start([self.bin, "--config-file", str(self.conf), "all"],
                                     self.dir / "ctrove.out")
        wait_http(self.base + "/", self.proc, "ctrove all")
        log(f"ctrove: ctrove all on {self.base}, pid {self.proc.pid}")

    def pids(self):
        return [self.proc.pid]

    def memory(self):
        return {"ctrove all": memory_kb(self.pids())}

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
            c.execute("DELETE FROM ctrove_volume_usage")
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
            if self.guest_mode == "report":
                # What the conductor writes from each guest heartbeat
                # (conductor.c): the volume usage, stamped now (UTC).
                now = utc_now_db()
                c.executemany(
                    "INSERT INTO ctrove_volume_usage (instance_id, used_gb, total_gb,"
                    " updated_at) VALUES (?, 0.12, 0.98, ?)", [(r["id"], now) for r in rows])

    def measuring(self, label):
        """While a show row is measured, keep the seeded reports fresh, as
        guests' heartbeats would (volume_usage_max_age is 60 s by default)."""
        if self.guest_mode != "report" or "{id}" not in label:
            return _Nothing()
        return _Refresher(self.db)


class _Refresher:
    def __init__(self, db, every=15.0):
        self.db, self.every = db, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def touch(self):
        with sqlite3.connect(self.db, timeout=30) as c:
            c.execute("UPDATE ctrove_volume_usage SET updated_at = ?", (utc_now_db(),))

    def loop(self):
        while not self.stop.wait(self.every):
            self.touch()

    def __enter__(self):
        self.touch()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)
        return False


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
    return round(v * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit], 4)


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
    def __init__(self, work):
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
        return run(argv, seconds + 120).stdout.decode()

    @staticmethod
    def wait_idle(pids):
        """Until the server stops burning CPU on requests left over from the
        warm-up (eventlet keeps serving them after wrk disconnects); 2 min at
        most."""
        for _ in range(240):
            t0 = cpu_ticks(pids)
            time.sleep(0.5)
            if cpu_ticks(pids) - t0 <= 1:
                return

    def measure(self, side, label, n, path):
        url = side.base + path
        headers = side.headers()
        with side.measuring(label):
            code, _, body = http("GET", url, headers)
            tag = re.sub(r"[^A-Za-z0-9]+", "_", f"{side.name}-{label}-N{n}")
            (self.work / "bodies" / f"{tag}.json").write_bytes(body)
            check = None
            if code == 200 and "instances" in label:
                doc = json.loads(body)
                items = doc["instances"] if "instances" in doc else [doc["instance"]]
                statuses = sorted({(i.get("status"), i.get("operating_status"))
                                   for i in items})
                check = {"items": len(items), "statuses": statuses}
                if "instance" in doc:
                    check["volume_used"] = doc["instance"].get("volume", {}).get("used")
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


# ---------------------------------------------------------------- run


def run_api(ctrove_bin, work, ledger):
    """The API comparison; returns its part of the results."""
    ns = [int(x) for x in os.environ.get("BENCH_NS", "0 100 1000").split()]
    trove_workers = os.environ.get("BENCH_TROVE_WORKERS", "")
    guest_mode = os.environ.get("BENCH_GUEST", "report")
    procs = Procs(ledger)
    ctrove_bin = Path(ctrove_bin).resolve()
    bus = Bus(procs, ledger, work, guest_mode,
              str(ctrove_bin.parents[1] / "tests/unit/rpc_peer"))
    try:
        runner = Runner(work)
        ctrove = Ctrove(procs, ledger, work, ctrove_bin, guest_mode)
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
        trove.ready_others()
        memory = {"idle": {**trove.memory(), **ctrove.memory()}}
        log(f"idle memory: {memory['idle']}")

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
        memory["after_load"] = {**trove.memory(), **ctrove.memory()}
        memory["after_load_n"] = max(ns) if ns else 0
        log(f"after-load memory: {memory['after_load']}")
        # Last: it restarts ctrove with [ssl] (bench/compare/https.py).
        https_n = int(os.environ.get("BENCH_HTTPS_N", "100"))
        https_result = None
        if https_n >= 0:
            https_result = https.run(runner, ctrove, procs, instance_rows(https_n), https_n,
                                     f"/v1.0/{proj}/instances")
        skipped = {
            "trove": [
                "authentication: no keystonemiddleware (authtoken removed from the paste "
                "pipeline); the client sends X-Tenant-Id/X-User-Id/X-Role headers that Trove "
                "trusts, so no token is checked",
                "Nova, Neutron and the guest agent: in-process zero-cost stubs "
                "(bench/compare/trove_stubs.py) answer its server, port and volume-info calls",
                "the message bus: transport_url = fake:// (in-process) for trove-api, "
                "trove-taskmanager and trove-conductor; they never talk to each other",
                "POST /instances + DELETE: not measured; Trove 18 standalone has no "
                "Nova/Glance/Cinder, so a create never leaves BUILD",
            ],
            "ctrove": [
                "nothing in the request path: `ctrove all` with its real defaults (embedded "
                "identity, signed token checked on every request, policy, rate limiter, "
                "SQLite, a real RabbitMQ node for its taskmanager and conductor); rate limits "
                "raised as on Trove's side",
                "guest heartbeats: their volume-usage reports are seeded into "
                "ctrove_volume_usage (stamped now) instead of coming from running guests"
                if guest_mode == "report" else
                "guest agent: tests/rpc's rpc_peer stands in on the shown instance's topic "
                "and answers get_filesystem_stats with an RPC error (BENCH_GUEST=rpc)",
            ],
        }
        notes = [
            "Both list pages hold 20 instances (instances_page_size 20) plus a next link.",
            f"Trove runs its default API workers ({trove_workers or os.cpu_count()} processes + "
            "parent, eventlet); ctrove one process with "
            + (f"{os.environ['BENCH_CTROVE_WORKERS']} HTTP threads"
               if os.environ.get("BENCH_CTROVE_WORKERS") else "one HTTP thread per CPU")
            + " (guest calls on its wait pool).",
            "ctrove's GET /instances/{id} reads volume.used from the guest's last heartbeat "
            "report (ctrove_volume_usage, younger than volume_usage_max_age): no guest call."
            if guest_mode == "report" else
            "ctrove's GET /instances/{id} asks the guest over RPC through the private RabbitMQ "
            "node (its fallback when no fresh report exists); RabbitMQ's CPU shares the "
            "machine during that row.",
            "Rate limits raised on both sides (http_*_rate = 1000000000); Trove logs at INFO "
            "to a file as shipped, ctrove at its default level.",
        ]
        return {
            "trove_version": pkg_version("python3-trove"),
            "trove_workers": trove_workers or os.cpu_count(),
            "settings": {"guest": guest_mode, "threads": runner.threads,
                         "connections": runner.conns, "duration_s": runner.duration,
                         "warmup_s": runner.warmup, "timeout": runner.timeout, "ns": ns,
                         "datastore": DATASTORE, "version": VERSION},
            "rows": rows,
            "memory": memory,
            "https": https_result,
            "skipped": skipped,
            "notes": notes,
        }
    finally:
        procs.stop_all()
        bus.stop()


def pkg_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                       text=True, timeout=30)
    return r.stdout.strip() or "?"


# ---------------------------------------------------------------- report


def print_api(api, machine):
    rows = api["rows"]
    head = ["endpoint", "N", "Trove req/s", "p50 ms", "p99 ms", "ctrove req/s", "p50 ms",
            "p99 ms", "ctrove/Trove", "CPU ms/req T", "CPU ms/req c"]
    out = []
    for r in rows:
        t, c = r["trove"], r["ctrove"]
        ratio = c["rps"] / t["rps"] if t["rps"] else None
        out.append([r["endpoint"], str(r["n"]), fmt_num(t["rps"]), fmt_num(t["p50_ms"]),
                    fmt_num(t["p99_ms"]), fmt_num(c["rps"]), fmt_num(c["p50_ms"]),
                    fmt_num(c["p99_ms"]), (f"{ratio:.0f}x" if ratio and ratio >= 10 else
                                           f"{ratio:.1f}x" if ratio else "-"),
                    fmt_num(t["cpu_ms_per_req"]), fmt_num(c["cpu_ms_per_req"])])
    s = api["settings"]
    print(f"== API: ctrove vs Trove {api['trove_version']} on {machine['cpus']} CPUs "
          f"({machine['cpu_model']}), loopback, wrk shares the CPUs")
    print(f"== wrk -t{s['threads']} -c{s['connections']} -d{s['duration_s']}s --timeout "
          f"{s['timeout']} --latency after a {s['warmup_s']} s warm-up; datastore "
          f"{s['datastore']} {s['version']}; N instances of one project; "
          f"BENCH_GUEST={s['guest']}")
    print(table(head, out))
    if api.get("https"):
        https.print_table(api["https"], table, fmt_num)
    for r in rows:
        for side in ("trove", "ctrove"):
            x = r[side]
            if x["http"] != 200 or x["non2xx"] or x["sock_errors"]:
                print(f"!! {r['endpoint']} N={r['n']} {side}: HTTP {x['http']}, "
                      f"{x['non2xx']} non-2xx, {x['sock_errors']} socket errors")
        if (r["endpoint"].endswith("{id}") and s["guest"] == "report"
                and (r["ctrove"]["check"] or {}).get("volume_used") is None):
            print(f"!! {r['endpoint']} N={r['n']} ctrove: no volume.used in the response "
                  "(the seeded heartbeat report was not used)")
