# test_postgresql_replication_rpc.py — PostgreSQL streaming replication with
# real guest agents (ctrove-guestagent) driven through their RPC on a real
# RabbitMQ, as the taskmanager drives them: get_replication_snapshot on the
# source, prepare with the snapshot on the replica (the agent seeds it by
# pg_basebackup and attaches it), rows replicate, the replica's heartbeats carry
# replication_lag and the source's do not, user changes are refused on the
# replica, the positions answer, and detach_replica makes it standalone.
# The manager's other paths (promote, demote with pg_rewind, synchronous mode)
# are in test_postgresql_replication.py through guest_cli.
# Needs root (servers run as postgres), PostgreSQL 15 and the broker of
# scripts/check.sh (CTROVE_TEST_TRANSPORT_URL); CTROVE_GUESTAGENT names the
# agent binary (meson sets it). Owns its temporary directories and agents.
import base64
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from guestlib import allocate_address
from test_mariadb_replication import Agent, Conductor, agent_binary, wait_for

OS_USER = "postgres"
PASSWORD = "Passw0rd"
SECRETS = []


class PgAgent(Agent):
    """Agent's RPC calls and clean-up, for a PostgreSQL instance."""

    def __init__(self, conductor, url, cache_dir):  # noqa: super().__init__ is MariaDB's
        self.conductor = conductor
        self.base = tempfile.mkdtemp(prefix="ctr-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.ip, self.port = allocate_address(78, [5432] + list(range(15432, 15500)))
        self.id = str(uuid.uuid4())
        self.key = base64.b64encode(os.urandom(24)).decode()
        self.run_dir = os.path.join(self.base, "run")
        self.conf = os.path.join(self.base, "guest.conf")
        self.log = os.path.join(self.base, "guestagent.log")
        with open(self.conf, "w") as f:
            f.write("[DEFAULT]\nguest_id = %s\ndatastore_manager = postgresql\n"
                    "datastore_version = 15\ninstance_rpc_encr_key = %s\n"
                    "transport_url = %s\ncontrol_exchange = %s\nconductor_queue = %s\n"
                    "report_interval = 1\n\n[guest_agent]\ndata_dir = %s\nrun_dir = %s\n"
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

    def prepare(self, **extra):
        args = {"packages": [], "memory_mb": 512, "device_path": None, "mount_point": None,
                "backup_info": None, "config_contents": "", "root_password": None,
                "overrides": None, "cluster_config": None, "snapshot": None, "modules": None,
                "ds_version": "15",
                "databases": [{"_name": "test", "_character_set": None, "_collate": None}],
                "users": [{"_name": "userA", "_password": PASSWORD, "_host": "%",
                           "_databases": [{"_name": "test"}], "_is_root": False}]}
        args.update(extra)
        return self.ok("prepare", **args)

    def sql(self, statement, expect_ok=True):
        env = dict(os.environ, PGPASSWORD=PASSWORD, PGUSER="userA", PGDATABASE="test",
                   PGCONNECT_TIMEOUT="10", PGSSLMODE="disable")
        p = subprocess.run(["psql", "-h", self.ip, "-p", str(self.port), "-X", "-A", "-t", "-q",
                            "-v", "ON_ERROR_STOP=1", "-c", statement],
                           capture_output=True, text=True, timeout=30, env=env)
        if expect_ok:
            assert p.returncode == 0, p.stderr
        return p

    def count(self):
        p = self.sql("SELECT count(*) FROM t", expect_ok=False)
        return int(p.stdout.strip()) if p.returncode == 0 else -1

    def server_pids(self):
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/cmdline" % d, "rb") as f:
                        if (self.run_dir + "/postgresql.conf").encode() in f.read():
                            pids.append(int(d))
                except OSError:
                    pass
        return pids


@pytest.fixture(scope="module")
def url():
    if os.geteuid() != 0:
        pytest.skip("needs root (the server is switched to the postgres user)")
    if not os.path.exists("/usr/lib/postgresql/15/bin/pg_basebackup") or not shutil.which("psql"):
        pytest.fail("postgresql-15 and postgresql-client are needed")
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
def agents(conductor, url):
    cache = tempfile.mkdtemp(prefix="ctr-cache-", dir="/tmp")
    os.chmod(cache, 0o755)
    made = []

    def make():
        a = PgAgent(conductor, url, cache)
        made.append(a)
        return a

    yield make
    for a in made:
        a.cleanup()
    logs = "".join(a.log_text() for a in made)
    for a in made:
        deadline = time.time() + 10
        while a.server_pids() and time.time() < deadline:
            time.sleep(0.1)
        assert a.server_pids() == [], "server left running"
        shutil.rmtree(a.base, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    assert PASSWORD not in logs
    for secret in SECRETS:
        assert secret not in logs, "a replication password reached a log"
    for a in made:
        assert a.key not in logs
    assert "Sanitizer" not in logs and "runtime error" not in logs, logs[-3000:]


def test_seed_replicate_heartbeat_refuse_and_detach(agents, conductor):
    src, rep = agents(), agents()
    src.prepare()
    src.sql("CREATE TABLE t (id int PRIMARY KEY, v text); "
            "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 50) g")
    snap = src.ok("get_replication_snapshot", replica_source_config=None, snapshot_info={
        "id": str(uuid.uuid4()), "name": "snap", "instance_id": src.id,
        "datastore": "postgresql", "datastore_version": "15",
        "replica_addresses": ["127.0.0.1"], "replica_ids": [rep.id]})
    SECRETS.append(snap["replica_conf"]["replication_user"]["password"])
    assert snap["dataset"]["snapshot_id"] is None
    assert snap["replication_strategy"] == "PostgresqlReplicationStreaming"

    # The agent seeds the replica and attaches it before prepare answers.
    rep.prepare(snapshot=snap, databases=[], users=[])
    assert rep.count() == 50
    src.sql("INSERT INTO t SELECT g, 'y' FROM generate_series(51, 80) g")
    wait_for(lambda: rep.count() == 80, what="rows on the replica")
    assert "read-only" in rep.sql("INSERT INTO t VALUES (999, 'no')", expect_ok=False).stderr

    # Heartbeats: replication_lag (a number) from the replica only.
    conductor.drain(3)
    rep_beats = [b["payload"].get("server", {}) for b in conductor.casts_of(rep, "heartbeat")]
    src_beats = [b["payload"].get("server", {}) for b in conductor.casts_of(src, "heartbeat")]
    assert any(isinstance(s.get("replication_lag"), (int, float)) for s in rep_beats), rep_beats
    assert src_beats and not any("replication_lag" in s for s in src_beats), src_beats

    user = {"_name": "u2", "_password": PASSWORD, "_host": "%", "_databases": [], "_is_root": False}
    ok, res = rep.call("create_user", users=[user])
    assert not ok and "is a replica and is read only" in res["message"], res

    txn = src.ok("get_latest_txn_id")
    assert rep.ok("wait_for_txn", txn=txn, timeout=30) is None
    assert rep.ok("get_last_txn")[0] == src.ok("get_last_txn")[0]
    ok, res = rep.call("wait_for_txn", txn="FFFF/0", timeout=1)
    assert not ok, res

    assert rep.ok("detach_replica", for_failover=False)["replication_user"] == \
        snap["replica_conf"]["replication_user"]["name"]
    rep.sql("INSERT INTO t VALUES (1000, 'standalone')")
    assert rep.count() == 81
    assert rep.ok("create_user", users=[user]) is None
