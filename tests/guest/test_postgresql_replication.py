# test_postgresql_replication.py — PostgreSQL streaming replication through the
# guest manager (src/guest/postgresql_replication.c) against real PostgreSQL 15:
# replicas seeded by pg_basebackup from a snapshot, rows replicating, users and
# databases refused on a replica, the positions failover compares
# (get_latest_txn_id, wait_for_txn, get_last_txn), Trove's promote order
# (detach + enable_as_master on the candidate, re-point the other replica,
# attach + demote the old source with pg_rewind), detach to a standalone, and
# synchronous mode holding a commit until a replica acknowledges it.
# Every instance's server runs as `postgres` and, with no per-instance SNAT
# here (the local compute driver adds it), connects from 127.0.0.1: that is
# the replica address the tests give; one test proves another address is
# refused by pg_hba. Uses test_postgresql.py's Instance and fixtures.
# Run as root:
#   GUEST_CLI=<build>/tests/guest/guest_cli /usr/bin/python3 -m pytest -q tests/guest/test_postgresql_replication.py
# Owns nothing outside its temporary directories.
import glob
import os
import stat
import subprocess
import time
import uuid

from test_postgresql import _ALL_STDERR, cache_dir, cli, make_instance, volume_root  # noqa: F401

FROM = ["127.0.0.1"]
REPL_PASSWORDS = []


def snapshot(src, replicas, addresses=FROM):
    res = src.ok("get_replication_snapshot", replica_source_config=None, snapshot_info={
        "id": str(uuid.uuid4()), "name": "snap", "instance_id": src.info["id"],
        "datastore": "postgresql", "datastore_version": "15",
        "replica_addresses": addresses, "replica_ids": [r.info["id"] for r in replicas]})
    REPL_PASSWORDS.append(res["replica_conf"]["replication_user"]["password"])
    return res


def seed(replica, snap):
    """prepare with the snapshot, then attach_replica as the agent does."""
    replica.prepare(databases=(), users=(), snapshot=snap)
    replica.ok("attach_replica", replica_info=snap, slave_config=None, restart=False)


def slot_of(inst):
    return "ctrove_replica_" + inst.info["id"][:8]


def sql(inst, query, **kw):
    return inst.psql("userA", "Passw0rd", query, **kw).stdout.strip()


def count(inst):
    return int(sql(inst, "SELECT count(*) FROM t"))


def wait_count(inst, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = inst.psql("userA", "Passw0rd", "SELECT count(*) FROM t", expect_ok=False)
        if p.returncode == 0 and int(p.stdout.strip()) == n:
            return
        time.sleep(0.1)
    with open(os.path.join(inst.run_dir, "log", "postgresql.log"), errors="replace") as f:
        log = f.read()[-3000:]
    raise AssertionError("%s has not %d rows; its log ends:\n%s" % (inst.info["id"], n, log))


def insert(inst, first, last):
    sql(inst, "INSERT INTO t SELECT g, 'x' FROM generate_series(%d, %d) g" % (first, last))


def slots(inst):
    return sql(inst, "SELECT string_agg(slot_name || ':' || active, ',' ORDER BY slot_name) "
                     "FROM pg_replication_slots").split(",")


def source_with_rows(make_instance, n=100):
    src = make_instance()
    src.prepare()
    sql(src, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    insert(src, 1, n)
    return src


def tools_log(inst):
    try:
        with open(os.path.join(inst.run_dir, "log", "replication.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def no_secret_anywhere(*insts):
    texts = ["".join(_ALL_STDERR)]
    for inst in insts:
        for path in glob.glob(os.path.join(inst.run_dir, "log", "*")) + \
                glob.glob(os.path.join(inst.run_dir, "conf.d", "*")) + \
                [os.path.join(inst.run_dir, "postgresql.conf")]:
            with open(path, errors="replace") as f:
                texts.append(f.read())
    text = "".join(texts)
    for pw in REPL_PASSWORDS:
        assert pw not in text


def test_replica_seeded_follows_refuses_writes_and_detaches(make_instance):
    src = source_with_rows(make_instance)
    r1 = make_instance()
    snap = snapshot(src, [r1])
    assert snap["replication_strategy"] == "PostgresqlReplicationStreaming"
    assert snap["dataset"]["snapshot_id"] is None and snap["dataset"]["datastore_manager"] == "postgresql"
    assert snap["master"] == {"host": src.ip, "port": src.port}
    role = snap["replica_conf"]["replication_user"]["name"]
    assert role.startswith("ctrove_repl_")
    # The slot exists before the replica does; pg_hba admits the role for
    # replication from the given address only.
    assert slots(src) == [slot_of(r1) + ":false"]
    with open(os.path.join(src.run_dir, "pg_hba.conf")) as f:
        hba = f.read()
    assert "host    replication  %s  127.0.0.1/32  scram-sha-256" % role in hba
    assert hba.index(role) < hba.index("host    replication  all       0.0.0.0/0   reject")
    # The role is not a tenant's user.
    assert role not in str(src.ok("list_users"))

    seed(r1, snap)
    assert r1.ok("get_status") == "healthy"
    assert slots(src) == [slot_of(r1) + ":true"]
    # Users and data come from the source, and then follow it.
    assert count(r1) == 100
    insert(src, 101, 200)
    wait_count(r1, 200)
    p = r1.psql("userA", "Passw0rd", "INSERT INTO t VALUES (1000, 'no')", expect_ok=False)
    assert p.returncode != 0 and "read-only" in p.stderr
    msg = r1.fails("create_user", 400, users=[{"_name": "u2", "_password": "Passw0rd", "_host": "%",
                                               "_databases": [], "_is_root": False}])
    assert "replica" in msg
    assert "replica" in r1.fails("create_database", 400,
                                 databases=[{"_name": "db2", "_character_set": None, "_collate": None}])
    assert "replica" in r1.fails("delete_user", 400, user={"_name": "userA", "_host": "%"})
    # The password is in a 0600 file of the server's user, nowhere else.
    passfile = os.path.join(r1.run_dir, "replication.pgpass")
    st = os.stat(passfile)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid != 0
    with open(passfile) as f:
        assert snap["replica_conf"]["replication_user"]["password"] in f.read()

    # Positions: same system, the replica's replayed position as an integer.
    txn = src.ok("get_latest_txn_id")
    hi, lo = txn.split("/")
    r1.ok("wait_for_txn", txn=txn, timeout=30)
    src_sys, _ = src.ok("get_last_txn")
    r1_sys, r1_pos = r1.ok("get_last_txn")
    assert r1_sys == src_sys and r1_pos >= (int(hi, 16) << 32 | int(lo, 16))
    t0 = time.monotonic()
    assert "did not reach" in r1.fails("wait_for_txn", 504, txn="FF/0", timeout=1)
    assert time.monotonic() - t0 < 10
    assert "not a WAL position" in r1.fails("wait_for_txn", 400, txn="0/x'; DROP", timeout=1)
    # Heartbeat counters: replication_lag on the replica only (0: caught up).
    assert "replication_lag" not in src.ok("server_stats")
    assert r1.ok("server_stats")["replication_lag"] == 0

    # Detach: standalone and writable, its slot on the source dropped.
    assert r1.ok("detach_replica", for_failover=False) == {"replication_user": role}
    insert(r1, 5000, 5000)
    assert count(r1) == 201
    assert slots(src) == [""]
    assert not os.path.exists(passfile)
    r1.ok("create_user", users=[{"_name": "u2", "_password": "Passw0rd", "_host": "%",
                                 "_databases": [], "_is_root": False}])
    assert "replication_lag" not in r1.ok("server_stats")
    # Detaching again changes nothing.
    assert r1.ok("detach_replica", for_failover=False) == {"replication_user": None}
    no_secret_anywhere(src, r1)


def test_bad_input_and_addresses_outside_the_list(make_instance):
    src = source_with_rows(make_instance, 10)
    r = make_instance()
    for bad in (["not-an-address"], ["127.0.0.1/8"], "127.0.0.1", [5]):
        src.fails("get_replication_snapshot", 400, snapshot_info={
            "id": "x", "replica_addresses": bad, "replica_ids": [r.info["id"]]})
    src.fails("get_replication_snapshot", 400, snapshot_info={
        "id": "x", "replica_addresses": FROM, "replica_ids": ["zz"]})
    # A role admitted only from another address cannot seed this replica.
    snap = snapshot(src, [r], addresses=["127.9.9.9"])
    ok, res = r.call("prepare", **_prepare_args(snapshot=snap))
    assert not ok and "replication slot" in res["message"], res
    assert "pg_hba.conf rejects replication connection" in tools_log(r), tools_log(r)
    assert r.server_pids() == [] and not os.path.exists(r.datadir)
    # Garbage replica_info is refused before anything changes.
    bad = dict(snap, master={"host": "h; rm -rf /", "port": 1})
    assert "host" in r.fails("attach_replica", 400, replica_info=bad, restart=False)
    # A replica does not make replicas.
    r2 = make_instance()
    seed(r2, snapshot(src, [r2]))
    assert "is a replica" in r2.fails("get_replica_context", 422, replica_addresses=FROM)
    # A context without addresses admits its role from this host's loopback.
    ctx = src.ok("get_replica_context")
    REPL_PASSWORDS.append(ctx["replica_conf"]["replication_user"]["password"])
    with open(os.path.join(src.run_dir, "pg_hba.conf")) as f:
        assert "host    replication  %s  127.0.0.0/8  scram-sha-256" % (
            ctx["replica_conf"]["replication_user"]["name"]) in f.read()
    # A source with nothing to follow is not demoted.
    assert "attach_replica first" in src.fails("demote_replication_master", 422)


def _prepare_args(**extra):
    args = {"packages": [], "memory_mb": 512, "device_path": None, "mount_point": None,
            "backup_info": None, "config_contents": "", "root_password": None, "overrides": None,
            "cluster_config": None, "snapshot": None, "modules": None, "ds_version": "15",
            "databases": [], "users": []}
    args.update(extra)
    return args


def test_promote_repoint_and_demote_old_source(make_instance):
    src = source_with_rows(make_instance)
    r1, r2 = make_instance(), make_instance()
    snap = snapshot(src, [r1, r2])
    seed(r1, snap)
    seed(r2, snap)
    insert(src, 101, 150)
    wait_count(r1, 150)
    wait_count(r2, 150)

    # Trove's promote of r1: the old source stops taking writes, r1 catches up
    # and is promoted, the others follow it, the old source is demoted.
    src.ok("make_read_only", read_only=True)
    txn = src.ok("get_latest_txn_id")
    r1.ok("wait_for_txn", txn=txn, timeout=60)
    assert r1.ok("detach_replica", for_failover=True)["replication_user"].startswith("ctrove_repl_")
    r1.ok("enable_as_master")
    ctx = r1.ok("get_replica_context", replica_addresses=FROM)
    REPL_PASSWORDS.append(ctx["replica_conf"]["replication_user"]["password"])
    assert ctx["master"] == {"host": r1.ip, "port": r1.port}
    r2.ok("attach_replica", replica_info=ctx, slave_config=None, restart=False)
    src.ok("attach_replica", replica_info=ctx, slave_config=None, restart=False)
    ok, res = src.call("demote_replication_master")
    if not ok:
        open("/tmp/replpg_tools.log", "w").write(tools_log(src))
    assert ok, (res, tools_log(src)[-3000:], _ALL_STDERR[-1])

    # Writes go to r1 and reach both; the old source is a standby now.
    insert(r1, 151, 300)
    wait_count(r2, 300)
    wait_count(src, 300)
    p = src.psql("userA", "Passw0rd", "INSERT INTO t VALUES (9999, 'no')", expect_ok=False)
    assert p.returncode != 0 and "read-only" in p.stderr
    assert sorted(slots(r1)) == sorted([slot_of(r2) + ":true", slot_of(src) + ":true"])
    assert slots(src) == [""]  # its old replicas' slots went with its source role
    for inst in (src, r2):
        assert inst.ok("get_status") == "healthy"
        assert inst.ok("get_last_txn")[0] == r1.ok("get_last_txn")[0]
    assert r1.ok("enable_as_master") is None
    assert "still a replica" in r2.fails("enable_as_master", 422)

    # And back: the old source is promoted again, r1 rewound under it.
    txn = r1.ok("get_latest_txn_id")
    src.ok("wait_for_txn", txn=txn, timeout=60)
    src.ok("detach_replica", for_failover=True)
    ctx = src.ok("get_replica_context", replica_addresses=FROM)
    REPL_PASSWORDS.append(ctx["replica_conf"]["replication_user"]["password"])
    r1.ok("attach_replica", replica_info=ctx, restart=True)
    r2.ok("attach_replica", replica_info=ctx, restart=False)
    insert(src, 301, 310)
    wait_count(r1, 310)
    wait_count(r2, 310)
    no_secret_anywhere(src, r1, r2)


def test_synchronous_commit_waits_for_a_replica(make_instance):
    src = source_with_rows(make_instance, 10)
    r1 = make_instance()
    seed(r1, snapshot(src, [r1]))
    src.ok("set_synchronous_replication", enabled=True)
    insert(src, 11, 11)  # acknowledged by the streaming replica
    wait_count(r1, 11)
    r1.ok("stop_db")
    env = dict(os.environ, PGPASSWORD="Passw0rd", PGUSER="userA", PGDATABASE="test",
               PGSSLMODE="disable")
    writer = subprocess.Popen(["psql", "-h", src.ip, "-p", str(src.port), "-X", "-q", "-v",
                               "ON_ERROR_STOP=1", "-c", "INSERT INTO t VALUES (12, 'sync')"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(3)
        assert writer.poll() is None, "the commit returned with no replica to acknowledge it"
        src.ok("set_synchronous_replication", enabled=False)
        assert writer.wait(timeout=20) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
    assert count(src) == 12
    # Off again, commits no longer wait; on, with the replica back, they pass.
    insert(src, 13, 13)
    r1.ok("start_db")
    src.ok("set_synchronous_replication", enabled=True)
    insert(src, 14, 14)
    wait_count(r1, 14)
