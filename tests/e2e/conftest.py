"""End-to-end harness: the real ctrove binary, the real openstack CLI.

Each test module gets its own ctrove server in a temporary directory on a free
loopback port (fixture `server`). The server runs built with ASan+UBSan
(make check passes CTROVE_BIN); after every test the harness checks that it is
still alive and printed no sanitizer report, and when the module ends it stops
the server with SIGTERM and requires a clean exit (LeakSanitizer reports leaks
at exit, so a leak fails the module's last test teardown).
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CTROVE = os.environ.get("CTROVE_BIN", str(REPO / "build" / "src" / "ctrove"))
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root: Path, command="api", extra=""):
        self.root = root
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = root / "trove.conf"
        self.log = root / "ctrove.log"
        self.stderr_path = root / "stderr.log"
        self.conf.write_text(
            "[DEFAULT]\n"
            f"bind_host = 127.0.0.1\nbind_port = {self.port}\n"
            f"state_path = {root}\nlog_file = {self.log}\ndebug = true\n"
            "[database]\n"
            f"connection = sqlite:///{root}/trove.sqlite\n"
            "[identity]\npassword_hash_rounds = 1000\n" + extra
        )
        self.passwords = {"admin": "p" + secrets.token_urlsafe(12), "demo": "p" + secrets.token_urlsafe(12)}
        self.projects = {}  # user -> project name, when not the user's own name
        self.proc = None
        self._tokens = {}
        self.cacert = None  # set with use_https(): the CA clients trust

    def use_https(self, cert, key, cacert):
        """Serve HTTPS with cert/key; clients (CLI, http()) trust cacert."""
        self.url = f"https://127.0.0.1:{self.port}"
        self.cacert = cacert
        with open(self.conf, "a") as f:
            f.write(f"[ssl]\ncert_file = {cert}\nkey_file = {key}\n")

    # -- lifecycle ---------------------------------------------------------
    def manage(self, *args, check=True, stdin=None):
        """ctrove manage; `stdin` is its standard input (passwords go there)."""
        return subprocess.run(
            [CTROVE, "--config-file", str(self.conf), "manage", *args],
            capture_output=True, text=True, check=check, env=sanitizer_env(),
            input=stdin if stdin is not None else "")

    def bootstrap(self):
        self.manage("db_sync")
        self.manage("identity_bootstrap", stdin=self.passwords["admin"] + "\n")
        self.manage("user_create", "demo", "demo", "member", stdin=self.passwords["demo"] + "\n")

    def start(self):
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [CTROVE, "--config-file", str(self.conf), self.command],
            stdout=self.stderr, stderr=self.stderr, env=sanitizer_env())
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ctrove exited: {self.stderr_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("ctrove did not listen in 20 s")

    def stop(self):
        """SIGTERM and require exit status 0 with no sanitizer report."""
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("ctrove did not stop within 30 s of SIGTERM")
        finally:
            self.stderr.close()
        self.proc = None
        assert not SANITIZER.search(self.stderr_text()), self.stderr_text()[-4000:]
        assert rc == 0, f"ctrove exited with {rc}: {self.stderr_text()[-4000:]}"

    def stderr_text(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def assert_healthy(self):
        assert self.proc.poll() is None, f"ctrove died: {self.stderr_text()[-4000:]}"
        assert not SANITIZER.search(self.stderr_text()), self.stderr_text()[-4000:]

    # -- identity ----------------------------------------------------------
    def env(self, user="admin", project=None):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("OS_"):
                del env[k]
        env.update({
            "OS_AUTH_URL": f"{self.url}/identity/v3",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": user,
            "OS_PASSWORD": self.passwords[user],
            "OS_PROJECT_NAME": project or self.projects.get(user, user),
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": "RegionOne",
        })
        if self.cacert:
            env["OS_CACERT"] = self.cacert
        return env

    def token(self, user="admin"):
        """(token, project id) for user, cached."""
        if user not in self._tokens:
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"name": "Default"},
                "password": self.passwords[user]}}},
                "scope": {"project": {"name": self.projects.get(user, user),
                                      "domain": {"name": "Default"}}}}}
            status, headers, data = self.http("POST", "/identity/v3/auth/tokens", body)
            assert status == 201, data
            self._tokens[user] = (headers["X-Subject-Token"], data["token"]["project"]["id"])
        return self._tokens[user]

    # -- clients -------------------------------------------------------------
    def cli(self, *args, user="admin", check=True, stdin=None):
        """Run the real openstack CLI; -f json output is parsed when asked."""
        proc = subprocess.run(["openstack", *args], env=self.env(user),
                              capture_output=True, text=True, timeout=120, input=stdin)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed:\n{proc.stderr}")
        return proc

    def cli_json(self, *args, user="admin"):
        return json.loads(self.cli(*args, "-f", "json", user=user).stdout)

    def http(self, method, path, body=None, token=None, headers=None, raw=None):
        """One raw HTTP request; returns (status, headers, parsed JSON or None)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None and not (headers and "Content-Type" in headers):
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("X-Auth-Token", token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        context = ssl.create_default_context(cafile=self.cacert) if self.cacert else None
        try:
            with urllib.request.urlopen(req, timeout=30, context=context) as r:
                status, hdrs, payload = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, dict(e.headers), e.read()
        return status, hdrs, (json.loads(payload) if payload else None)

    def api(self, method, path, body=None, user="admin", **kw):
        """Request under /v1.0/<project of user>."""
        token, project = self.token(user)
        return self.http(method, f"/v1.0/{project}{path}", body, token=token, **kw)


def sanitizer_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # No message bus: a closed loopback port, so nothing here can reach any
    # broker on the machine and casts fail within rpc_response_timeout.
    srv = Server(tmp_path_factory.mktemp("ctrove"), extra=(
        "[DEFAULT]\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"
        "rpc_response_timeout = 3\n"))
    srv.bootstrap()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _server_stays_healthy(request):
    yield
    for name in ("server", "cloud", "cloud_swift"):
        if name in request.fixturenames:
            request.getfixturevalue(name).assert_healthy()


def free_port_block(count):
    """A base port with `count` free consecutive ports after it."""
    for _ in range(100):
        base = free_port()
        if base + count >= 65000:
            continue
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


class BusURL(str):
    """A transport_url (the control plane's account) that also knows where the
    node's management API is (ctrove makes each guest's account there)."""

    def __new__(cls, url, management):
        obj = super().__new__(cls, url)
        obj.management = management
        return obj


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """A private RabbitMQ node for the whole run (started once: it takes ~5 s)."""
    url = os.environ.get("CTROVE_TEST_TRANSPORT_URL")
    if url:
        bus = BusURL(url, os.environ["CTROVE_TEST_MANAGEMENT_URL"])
        bus.tls_url = os.environ.get("CTROVE_TEST_TLS_TRANSPORT_URL")
        bus.ca = os.environ.get("CTROVE_TEST_BUS_CA")
        yield bus
        return
    where = tmp_path_factory.mktemp("rabbitmq")
    port = free_port_block(5)  # PORT+4: the TLS listener
    script = str(REPO / "scripts" / "rabbitmq.sh")
    subprocess.run([script, "start", str(where), str(port), str(port + 4)], check=True,
                   timeout=120)
    url = subprocess.run([script, "url", str(where), str(port)], check=True,
                         capture_output=True, text=True).stdout.strip()
    bus = BusURL(url, f"http://127.0.0.1:{port + 3}/")
    bus.tls_url = subprocess.run([script, "tls-url", str(where), str(port)], check=True,
                                 capture_output=True, text=True).stdout.strip()
    bus.ca = str(where / "tls" / "ca.pem")
    yield bus
    subprocess.run([script, "stop", str(where), str(port)], timeout=60)


@pytest.fixture(scope="session")
def tls_broker(broker):
    """The same node's AMQPS listener: BusURL of the amqps:// URL, .ca its CA."""
    if not getattr(broker, "tls_url", None) or not broker.ca:
        pytest.fail("the test broker has no TLS listener (scripts/check.sh starts one)")
    bus = BusURL(broker.tls_url, broker.management)
    bus.ca = broker.ca
    bus.plain_url = str(broker)
    return bus


class Cloud(Server):
    """ctrove all with the local compute driver, on a private broker, with its
    own instance directories, address range and nftables table."""

    def __init__(self, root: Path, transport_url: str, extra_conf: str = "", peer: str = ""):
        """peer names a second cloud running beside the first in this process
        (a module's `cloud_swift` beside its `cloud`)."""
        # The database servers run as unprivileged users: their directories
        # must be searchable from / (pytest's tmp dirs are 0700).
        self.local = Path(tempfile.mkdtemp(prefix="ctrove-e2e-", dir="/tmp"))
        os.chmod(self.local, 0o711)
        self.run_root = Path(tempfile.mkdtemp(prefix="cte", dir="/run"))
        os.chmod(self.run_root, 0o711)
        # A peer shares no exchange, topic queue (a queue is named by its
        # topic alone, whatever the exchange), table, addresses or users with
        # the first cloud, which keeps the default topics the bus tests use.
        nth = 1 if peer else 0
        tag = f"{os.getpid()}" + (f"_{peer}" if peer else "")
        topics = (f"taskmanager_queue = taskmanager_{tag}\n"
                  f"conductor_queue = trove-conductor_{tag}\n") if peer else ""
        self.nft_table = f"ctrove_e2e_{tag}"
        octet = 20 + (os.getpid() + 101 * nth) % 200
        # Its instances' OS users come from a uid block of its own, so that
        # cleanup() can remove whatever a failed test left (and nothing else).
        self.uid_first = 70000 + ((os.getpid() + 45 * nth) % 90) * 100
        guestagent = str(Path(CTROVE).parent / "ctrove-guestagent")
        extra = (
            "[DEFAULT]\n"
            f"transport_url = {transport_url}\n"
            f"state_path = {self.local}\n"
            f"control_exchange = ctrove_e2e_{tag}\n"
            "usage_timeout = 60\n"
            f"{topics}"
            "[broker_accounts]\n"
            f"management_url = {getattr(transport_url, 'management', '')}\n"
            "[local]\n"
            f"instances_dir = {self.local}/instances\n"
            f"volumes_dir = {self.local}/volumes\n"
            f"run_root = {self.run_root}\n"
            f"nft_table = {self.nft_table}\n"
            f"address_range = 127.{octet}.0.1-127.{octet}.255.254\n"
            f"guestagent_binary = {guestagent}\n"
            "guest_report_interval = 1\n"
            # A full server probe (counters) at every heartbeat, as the tests expect.
            "guest_probe_interval = 1\n"
            f"instance_uid_range = {self.uid_first}-{self.uid_first + 99}\n"
        )
        super().__init__(root, command="all", extra=extra + extra_conf)
        os.chmod(root, 0o711)
        self.local.joinpath("instances").mkdir(mode=0o711)

    def register(self, name, version):
        self.manage("datastore_update", name, "")
        self.manage("datastore_version_update", name, version, name, "", "", "1",
                    "--image-tags", f"trove,{name}")
        self.manage("datastore_update", name, version)

    def wait_status(self, name, wanted, timeout=60, operating=None):
        deadline = time.time() + timeout
        seen = None
        while time.time() < deadline:
            status, _, body = self.api("GET", "/instances")
            if status == 413:  # polled past Trove's 200 GETs a minute: wait, as a client does
                time.sleep(float(body["overLimit"].get("retryAfter", 1)))
                continue
            assert status == 200, body
            for inst in body["instances"]:
                if inst["name"] == name:
                    seen = (inst["status"], inst.get("operating_status"))
                    if inst["status"] == wanted and (operating is None or seen[1] == operating):
                        return inst
                    if inst["status"] == "ERROR" and wanted != "ERROR":
                        detail = self.api("GET", f"/instances/{inst['id']}")[2]
                        raise AssertionError(f"{name} went to ERROR: {detail}\n"
                                             f"guest logs:\n{self.guest_logs()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"{name} is {seen}, not {wanted}/{operating} after {timeout} s")

    def wait_deleted(self, instance_id, timeout=30):
        """True once GET /instances/<id> answers 404."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.api("GET", f"/instances/{instance_id}")[0] == 404:
                return True
            time.sleep(0.2)
        return False

    def guest_logs(self):
        text = ""
        for log in self.local.glob("instances/*/guestagent.log"):
            text += log.read_text(errors="replace")
        for log in list(self.run_root.glob("*/tools.log")) + list(self.run_root.glob("*/log/*")):
            text += f"--- {log}\n" + log.read_text(errors="replace")[-2000:]
        return text

    def assert_healthy(self):
        super().assert_healthy()
        assert not SANITIZER.search(self.guest_logs()), self.guest_logs()[-4000:]

    def cleanup(self):
        """Whatever a failed test left: agents, servers, mounts, rules, dirs."""
        subprocess.run(["pkill", "-KILL", "-f", str(self.local)], check=False)
        subprocess.run(["pkill", "-KILL", "-f", str(self.run_root)], check=False)
        time.sleep(0.2)
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        for line in mounts:
            point = line.split()[1]
            if point.startswith(str(self.local)):
                subprocess.run(["umount", "-l", point], check=False)
        out = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if str(self.local) in line:
                subprocess.run(["losetup", "-d", line.split(":")[0]], check=False)
        subprocess.run(["nft", "delete", "table", "inet", self.nft_table],
                       capture_output=True, check=False)
        shutil.rmtree(self.local, ignore_errors=True)
        shutil.rmtree(self.run_root, ignore_errors=True)
        for user in self.leftover_users():
            subprocess.run(["pkill", "-KILL", "-U", user], check=False)
            time.sleep(0.1)
            subprocess.run(["userdel", user], capture_output=True, check=False)

    def leftover_users(self):
        """Instance OS users (ctrove instance ...) in this cloud's uid block."""
        users = []
        for line in Path("/etc/passwd").read_text().splitlines():
            f = line.split(":")
            if (len(f) > 4 and self.uid_first <= int(f[2]) < self.uid_first + 100
                    and f[4].startswith("ctrove instance ")):
                users.append(f[0])
        return users


def serve(srv):
    """A module fixture's body for a Cloud: bootstrapped, mariadb registered,
    running while the module's tests run; then a clean stop, no sanitizer
    report in the guests' logs, and nothing left on the machine."""
    try:
        srv.bootstrap()
        srv.register("mariadb", "10.11")
        srv.start()
        yield srv
        srv.stop()
        assert not SANITIZER.search(srv.guest_logs()), srv.guest_logs()[-4000:]
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    yield from serve(Cloud(tmp_path_factory.mktemp("cloud"), broker))


class SwiftAccount(dict):
    """The private Swift of the run: auth_url, user, key (tempauth v1)."""

    def conf(self, segment_size=1024 * 1024):
        """trove.conf lines that make ctrove keep its backups in this Swift, in
        segments of segment_size bytes (small, so that tests see several)."""
        return ("[DEFAULT]\nstorage_strategy = swift\n"
                f"backup_segment_max_size = {segment_size}\n"
                f"[swift]\nauth_url = {self['auth_url']}\nauth_user = {self['user']}\n"
                f"auth_key = {self['key']}\ntimeout = 60\n")


@pytest.fixture(scope="session")
def swift(tmp_path_factory):
    """The run's private Swift (scripts/swift.sh): the one scripts/check.sh
    started (CTROVE_TEST_SWIFT_*), else one started here for the session."""
    if os.environ.get("CTROVE_TEST_SWIFT_AUTH_URL"):
        yield SwiftAccount(auth_url=os.environ["CTROVE_TEST_SWIFT_AUTH_URL"],
                           user=os.environ["CTROVE_TEST_SWIFT_USER"],
                           key=os.environ["CTROVE_TEST_SWIFT_KEY"])
        return
    where = Path(tempfile.mkdtemp(prefix="ctrove-e2e-swift-", dir="/tmp"))
    port = free_port_block(5)
    script = str(REPO / "scripts" / "swift.sh")
    subprocess.run([script, "start", str(where), str(port)], check=True, timeout=180)
    env = subprocess.run([script, "env", str(where)], check=True, capture_output=True,
                         text=True).stdout
    values = dict(line.split(" ", 1)[1].split("=", 1) for line in env.splitlines())
    try:
        yield SwiftAccount(auth_url=values["CTROVE_TEST_SWIFT_AUTH_URL"],
                           user=values["CTROVE_TEST_SWIFT_USER"],
                           key=values["CTROVE_TEST_SWIFT_KEY"])
    finally:
        subprocess.run([script, "stop", str(where)], timeout=60)
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture(scope="module")
def cloud_swift(tmp_path_factory, broker, swift):
    """A Cloud whose backup store is the run's Swift (storage_strategy = swift)."""
    srv = Cloud(tmp_path_factory.mktemp("cloud-swift"), broker, extra_conf=swift.conf())
    srv.swift = swift
    yield from serve(srv)
