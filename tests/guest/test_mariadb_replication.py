# test_mariadb_replication.py — MariaDB GTID replication (issue 15, guest side)
# with two real guest agents (ctrove-guestagent) driven through their RPC on a
# real RabbitMQ, as the taskmanager drives them: every call sealed with the
# instance's key, every answer and heartbeat read off the bus. A replica is
# seeded from a snapshot backup in a local store (get_replication_snapshot →
# prepare with backup_info + snapshot), rows replicate, the replica refuses
# writes and user/database changes, a promotion by Trove's steps turns the
# pair around, wait_for_txn / get_last_txn answer, semi-synchronous commits
# wait for a replica's acknowledgement and go on once it is turned off.
# Needs root (servers run as mysql), mariadb-server, mariadb-backup and the
# broker of scripts/check.sh (CTROVE_TEST_TRANSPORT_URL); CTROVE_GUESTAGENT
# names the agent binary (meson sets it).
# Owns its temporary directories, its exchange's queues and its agents.
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest

from guestlib import allocate_address

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from buslib import Bus, decrypt, sealed_request  # noqa: E402

OS_USER = "mysql"
PASSWORD = "Passw0rd"
CONTAINER = "database_backups"


def agent_binary():
    env = os.environ.get("CTROVE_GUESTAGENT")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for build in ("build-asan", "build"):
        p = os.path.join(root, build, "src", "ctrove-guestagent")
        if os.access(p, os.X_OK):
            return p
    pytest.fail("ctrove-guestagent not built (set CTROVE_GUESTAGENT)")


class Conductor:
    """The bus as the control plane sees it: a private exchange, a reply queue
    for calls and a queue on the conductor topic collecting what guests cast."""

    def __init__(self, url):
        self.exchange = "ctrove-repl-test-%d" % os.getpid()
        self.topic = "ctrove-repl-conductor-%d" % os.getpid()
        self.bus = Bus(url, self.exchange)
        ch = self.bus.ch
        ch.exchange_declare(self.exchange, "topic", durable=False, auto_delete=False)
        ch.queue_declare(self.topic, exclusive=True, auto_delete=True)
        ch.queue_bind(self.topic, self.exchange, routing_key=self.topic)
        self.casts = []
        ch.basic_consume(self.topic, callback=self._on_cast, no_ack=True)
        self.lock = threading.Lock()

    def _on_cast(self, msg):
        self.casts.append(json.loads(json.loads(msg.body)["oslo.message"]))

    def drain(self, seconds):
        self.bus.wait_reply("none", timeout=seconds)

    def casts_of(self, agent, method):
        """Decrypted args of every cast method from agent."""
        out = []
        for c in self.casts:
            if c.get("method") != method or c.get("_context_csz-instance-id") != agent.id:
                continue
            args = {}
            for k, v in c["args"].items():
                args[k] = decrypt(agent.key, json.loads(v)["entity"])
            out.append(args)
        return out

    def close(self):
        try:
            self.bus.ch.exchange_delete(self.exchange)
        except Exception:
            pass
        self.bus.close()


class Agent:
    """One instance: its directories, its guest.conf and its running agent."""

    def __init__(self, conductor, url, cache_dir):
        self.conductor = conductor
        self.base = tempfile.mkdtemp(prefix="ctr-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.ip, self.port = allocate_address(78, [3306] + list(range(13306, 13400)))
        self.id = str(uuid.uuid4())
        self.key = base64.b64encode(os.urandom(24)).decode()
        self.run_dir = os.path.join(self.base, "run")
        self.conf = os.path.join(self.base, "guest.conf")
        self.log = os.path.join(self.base, "guestagent.log")
        with open(self.conf, "w") as f:
            f.write("[DEFAULT]\nguest_id = %s\ndatastore_manager = mariadb\n"
                    "datastore_version = 10.11\ninstance_rpc_encr_key = %s\n"
                    "transport_url = %s\ncontrol_exchange = %s\nconductor_queue = %s\n"
                    "report_interval = 2\n\n[guest_agent]\ndata_dir = %s\nrun_dir = %s\n"
                    "cache_dir = %s\nbind_address = %s\nport = %d\nmemory_mb = 512\n"
                    "service_user = %s\n"
                    % (self.id, self.key, url, conductor.exchange, conductor.topic,
                       os.path.join(self.base, "vol"), self.run_dir, cache_dir, self.ip,
                       self.port, OS_USER))
        os.chmod(self.conf, 0o600)
        self.proc = subprocess.Popen([agent_binary(), "--config-file", self.conf],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while "serving guestagent." not in self.log_text():
            assert self.proc.poll() is None, self.log_text()
            assert time.time() < deadline, self.log_text()
            time.sleep(0.1)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def call(self, method, wait=300, **args):
        """(True, result) or (False, {"class", "message"})."""
        bus = self.conductor.bus
        reply = bus.wait_reply(bus.send("guestagent." + self.id,
                                        sealed_request(method, args, self.key), call=True),
                               timeout=wait)
        assert reply is not None, "%s: no answer in %d s; agent log:\n%s" % (
            method, wait, self.log_text()[-6000:])
        if reply.get("failure"):
            return False, json.loads(reply["failure"])
        result = reply.get("result")
        if isinstance(result, str):
            result = decrypt(self.key, result)
        return True, result

    def ok(self, method, **args):
        ok, res = self.call(method, **args)
        assert ok, "%s failed: %s" % (method, res)
        return res

    def fails(self, method, cls, **args):
        ok, res = self.call(method, **args)
        assert not ok, "%s unexpectedly succeeded: %s" % (method, res)
        assert res["class"] == cls, res
        return res["message"]

    def prepare(self, **extra):
        args = {"packages": [], "memory_mb": 512, "device_path": None, "mount_point": None,
                "backup_info": None, "config_contents": "", "root_password": None,
                "overrides": None, "cluster_config": None, "snapshot": None, "modules": None,
                "ds_version": "10.11",
                "databases": [{"_name": "test", "_character_set": None, "_collate": None}],
                "users": [{"_name": "userA", "_password": PASSWORD, "_host": "%",
                           "_databases": [{"_name": "test"}], "_is_root": False}]}
        args.update(extra)
        return self.ok("prepare", **args)

    def sql(self, statement, expect_ok=True, timeout=30):
        p = subprocess.run(["mariadb", "-h", self.ip, "-P", str(self.port), "--skip-ssl", "-N",
                            "-B", "-u", "userA", "-p" + PASSWORD, "-e", statement, "test"],
                           capture_output=True, text=True, timeout=timeout)
        if expect_ok:
            assert p.returncode == 0, p.stderr
        return p

    def root_sql(self, statement):
        """As root over the socket (unix_socket login of the OS root)."""
        p = subprocess.run(["mariadb", "-S", os.path.join(self.run_dir, "mysqld", "mysqld.sock"),
                            "-u", "root", "-N", "-B", "-e", statement],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def count(self):
        return int(self.sql("SELECT COUNT(*) FROM t").stdout)

    def server_id(self):
        return self.root_sql("SELECT @@server_id").strip()

    def server_pids(self):
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/cmdline" % d, "rb") as f:
                        if (self.run_dir + "/my.cnf").encode() in f.read():
                            pids.append(int(d))
                except OSError:
                    pass
        return pids

    def cleanup(self):
        try:
            if self.proc.poll() is None:
                self.call("stop_db", wait=60)
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for pid in self.server_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def url():
    if os.geteuid() != 0:
        pytest.skip("needs root (the server is switched to the mysql user)")
    if not shutil.which("mariabackup") or not os.path.exists("/usr/sbin/mariadbd"):
        pytest.fail("mariadb-server and mariadb-backup are needed")
    u = os.environ.get("CTROVE_TEST_TRANSPORT_URL")
    if not u:
        pytest.fail("CTROVE_TEST_TRANSPORT_URL is not set (scripts/check.sh sets it)")
    return u


@pytest.fixture(scope="module")
def conductor(url):
    c = Conductor(url)
    yield c
    c.close()


@pytest.fixture(scope="module")
def cache_dir():
    d = tempfile.mkdtemp(prefix="ctr-cache-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def store_dir():
    d = tempfile.mkdtemp(prefix="ctr-store-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def agents(conductor, url, cache_dir):
    made = []

    def make():
        a = Agent(conductor, url, cache_dir)
        made.append(a)
        return a

    yield make
    for a in made:
        a.cleanup()
    logs = "".join(a.log_text() for a in made)
    for a in made:
        assert a.server_pids() == [], "server left running"
        shutil.rmtree(a.base, ignore_errors=True)
    assert PASSWORD not in logs
    for secret in SECRETS:
        assert secret not in logs, "a replication password reached a log"
    for a in made:
        assert a.key not in logs
    assert "Sanitizer" not in logs and "runtime error" not in logs, logs[-3000:]


SECRETS = []


def wait_for(predicate, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def snapshot_info(source, store_dir, snapshot_id, **extra):
    info = {"id": snapshot_id, "name": "replication snapshot", "description": None,
            "instance_id": source.id, "backup_type": "full", "checksum": None, "parent": None,
            "datastore": "mariadb", "datastore_version": "10.11",
            "swift_container": CONTAINER,
            "location": "%s/%s.xbstream.zst.enc" % (CONTAINER, snapshot_id),
            "encryption_key": base64.b64encode(os.urandom(32)).decode(),
            "store": {"kind": "local", "backups_dir": store_dir}}
    info.update(extra)
    return info


def restore_info(info, snap):
    link = {"id": info["id"], "location": snap["backup"]["location"],
            "checksum": snap["backup"]["checksum"], "backup_type": "full",
            "encryption_key": info["encryption_key"]}
    return {"id": info["id"], "instance_id": info["instance_id"], "location": link["location"],
            "type": "full", "checksum": link["checksum"], "chain": [link],
            "store": info["store"]}


def insert(inst, first, last):
    inst.sql("INSERT INTO t VALUES %s" % ",".join("(%d)" % i for i in range(first, last + 1)))


def test_seed_replicate_promote_and_synchronous_commits(agents, conductor, store_dir):
    src, rep = agents(), agents()
    src.prepare()
    src.sql("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
    insert(src, 1, 100)
    assert src.ok("backup_required_for_replication") is True

    # The source's snapshot: a backup in the store, then a replication user.
    info = snapshot_info(src, store_dir, "snap-1")
    snap = src.ok("get_replication_snapshot", snapshot_info=info, replica_source_config=None)
    assert snap["replication_strategy"] == "MariaDBGTIDReplication"
    assert snap["master"] == {"host": src.ip, "port": src.port}
    assert snap["dataset"]["snapshot_id"] == "snap-1"
    assert snap["dataset"]["datastore_manager"] == "mariadb"
    assert snap["dataset"]["volume_size"] >= snap["dataset"]["dataset_size"] > 0
    user = snap["replica_conf"]["replication_user"]
    assert re.fullmatch(r"slave_[0-9a-f]{8}", user["name"]), user
    assert len(user["password"]) == 16
    SECRETS.append(user["password"])
    assert os.path.getsize(os.path.join(store_dir, snap["backup"]["location"])) > 0
    assert src.root_sql("SELECT Host FROM mysql.user WHERE User = '%s'" % user["name"]).split() \
        == ["%"]
    # the snapshot's backup row is COMPLETED the way create_backup's are
    conductor.drain(1)
    done = [c for c in conductor.casts_of(src, "update_backup") if c["backup_id"] == "snap-1"]
    assert done and done[-1]["state"] == "COMPLETED", done
    assert done[-1]["location"] == snap["backup"]["location"]

    # Written after the snapshot: reaches the replica through the binary log.
    insert(src, 101, 200)
    rep.prepare(databases=[], users=[], backup_info=restore_info(info, snap), snapshot=snap)
    wait_for(lambda: rep.count() == 200, what="the rows written after the snapshot")
    insert(src, 201, 300)
    wait_for(lambda: rep.count() == 300, what="new rows on the replica")
    # The replica is read-only, also after a restart, and refuses account changes.
    assert rep.sql("INSERT INTO t VALUES (1000)", expect_ok=False).returncode != 0
    rep.ok("restart")
    assert rep.root_sql("SELECT @@read_only").strip() == "1"
    assert rep.sql("INSERT INTO t VALUES (1000)", expect_ok=False).returncode != 0
    insert(src, 301, 310)
    wait_for(lambda: rep.count() == 310, what="replication resuming after a restart")
    msg = rep.fails("create_user", "BadRequest",
                    users=[{"_name": "bob", "_password": PASSWORD, "_host": "%",
                            "_databases": [], "_is_root": False}])
    assert "is a replica and is read only" in msg
    rep.fails("create_database", "BadRequest",
              databases=[{"_name": "other", "_character_set": None, "_collate": None}])
    rep.fails("delete_user", "BadRequest", user={"_name": "userA", "_host": "%"})

    # Heartbeats: the replica reports its lag, the source none.
    conductor.drain(3)
    rep_beats = [b["payload"].get("server", {}) for b in conductor.casts_of(rep, "heartbeat")]
    src_beats = [b["payload"].get("server", {}) for b in conductor.casts_of(src, "heartbeat")]
    assert any(isinstance(s.get("replication_lag"), (int, float)) for s in rep_beats), rep_beats
    assert src_beats and not any("replication_lag" in s for s in src_beats), src_beats

    # Positions: the replica has applied what the source wrote.
    txn = src.ok("get_latest_txn_id")
    assert re.fullmatch(r"\d+-\d+-\d+(,\d+-\d+-\d+)*", txn), txn
    rep.ok("wait_for_txn", txn=txn, timeout=30)
    seq = int(txn.split(",")[0].split("-")[2])
    assert rep.ok("get_last_txn") == [src.server_id(), seq]
    assert src.ok("get_last_txn") == [None, 0]
    domain, server, _ = txn.split(",")[0].split("-")
    t0 = time.monotonic()
    msg = rep.fails("wait_for_txn", "GuestTimeout", txn="%s-%s-%d" % (domain, server, seq + 1000),
                    timeout=2)
    assert "not applied within 2 s" in msg and time.monotonic() - t0 < 30
    rep.fails("wait_for_txn", "BadRequest", txn="0-1-1'; DROP TABLE t; --")
    rep.fails("attach_replica", "BadRequest", replica_info={"replica_conf": {}})

    # Promotion, Trove's steps: the replica becomes the source.
    src.ok("make_read_only", read_only=True)
    assert src.sql("INSERT INTO t VALUES (2000)", expect_ok=False).returncode != 0
    txn = src.ok("get_latest_txn_id")
    rep.ok("wait_for_txn", txn=txn)
    assert rep.ok("detach_replica", for_failover=True) == {"replication_user": user["name"]}
    rep.ok("enable_as_master", replica_source_config=None)
    rep.ok("make_read_only", read_only=False)
    ctx = rep.ok("get_replica_context")
    new_user = ctx["replica_conf"]["replication_user"]
    SECRETS.append(new_user["password"])
    assert ctx["master"] == {"host": rep.ip, "port": rep.port}
    assert new_user["name"] != user["name"]
    assert ctx["replica_conf"]["log_position"]["gtid_pos"]
    src.ok("attach_replica", replica_info=ctx, slave_config=None, restart=False)
    src.ok("demote_replication_master")
    insert(rep, 311, 400)
    wait_for(lambda: src.count() == 400, what="rows from the new source")
    assert src.ok("get_last_txn")[0] == rep.server_id()

    # Synchronous: a commit waits for a replica's acknowledgement.
    rep.ok("set_synchronous_replication", enabled=True)
    t0 = time.monotonic()
    insert(rep, 401, 410)
    assert time.monotonic() - t0 < 10
    wait_for(lambda: src.count() == 410, what="a synchronous commit on the replica")
    assert rep.root_sql("SELECT @@rpl_semi_sync_master_wait_point").strip() == "AFTER_SYNC"
    # The old source leaves: its copy of the replication user goes with it.
    assert src.ok("detach_replica", for_failover=False) == {"replication_user": new_user["name"]}
    assert src.root_sql("SELECT COUNT(*) FROM mysql.user WHERE User = '%s'"
                        % new_user["name"]).strip() == "0"
    assert src.root_sql("SELECT @@read_only").strip() == "0"
    # No replica acknowledges now: the commit waits...
    writer = subprocess.Popen(["mariadb", "-h", rep.ip, "-P", str(rep.port), "--skip-ssl",
                               "-u", "userA", "-p" + PASSWORD, "-e",
                               "INSERT INTO t VALUES (411)", "test"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    assert writer.poll() is None, writer.communicate()
    assert rep.count() == 410  # not committed to the engine yet (AFTER_SYNC)
    # ...until synchronous mode is turned off.
    rep.ok("set_synchronous_replication", enabled=False)
    assert writer.wait(timeout=30) == 0, writer.communicate()
    assert rep.count() == 411
    # A source that is no replica has nothing to detach.
    assert rep.ok("detach_replica", for_failover=False) == {"replication_user": None}


def test_replication_users_only_from_the_replicas_addresses(agents):
    src = agents()
    src.prepare()
    ctx = src.ok("get_replica_context", replica_addresses=["127.9.8.7", "127.9.8.6"])
    name = ctx["replica_conf"]["replication_user"]["name"]
    SECRETS.append(ctx["replica_conf"]["replication_user"]["password"])
    hosts = src.root_sql("SELECT Host FROM mysql.user WHERE User = '%s' ORDER BY Host" % name)
    assert hosts.split() == ["127.9.8.6", "127.9.8.7"]
    grants = src.root_sql("SHOW GRANTS FOR '%s'@'127.9.8.7'" % name)
    assert "REPLICATION SLAVE" in grants
    before = src.root_sql("SELECT COUNT(*) FROM mysql.user")
    src.fails("get_replica_context", "BadRequest", replica_addresses=["127.0.0.1'--"])
    src.fails("get_replica_context", "BadRequest", replica_addresses=[7])
    assert src.root_sql("SELECT COUNT(*) FROM mysql.user") == before
    # prepare with a snapshot but nothing to seed from is refused before any change
    other = agents()
    ok, res = other.call("prepare", packages=[], databases=[], users=[], memory_mb=512,
                         snapshot={"master": {"host": src.ip, "port": src.port}})
    assert not ok and res["class"] == "BadRequest", res
