# test_postgresql.py — the PostgreSQL guest manager against real PostgreSQL 15.
#
# Each test prepares its own instance through guest_cli (tests/guest/guest_cli.c,
# the manager's operations with Trove's RPC arguments as JSON on stdin) in a
# temporary directory, on its own loopback address 127.78.x.y port 5432 (or a
# free port when 5432 is taken there), and checks the result with the real
# `psql` over TCP (password in PGPASSWORD, never on a command line). Every
# process and directory is removed afterwards, also when a test fails.
# Run as root (the server is switched to the `postgres` user) with Debian's pytest:
#   GUEST_CLI=<build>/tests/guest/guest_cli /usr/bin/python3 -m pytest -q tests/guest/test_postgresql.py
# Owns nothing outside its temporary directories.
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from guestlib import allocate_address, find_cli, instance_id

OS_USER = "postgres"
PG_BIN = "/usr/lib/postgresql/15/bin"
TEST_PASSWORDS = ["Passw0rd", "N3wPassw0rd", "R00tPassw0rd", "Ch4nged!", "p'w\"d\\;$$--x"]
_ALL_STDERR = []
_SERVER_LOGS = []


def _proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(") ", 1)[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


class Instance:
    def __init__(self, cli, cache_dir, volume_root=None):
        self.cli = cli
        # Short and world-traversable: the socket path must be <= 107 bytes and
        # the postgres user must reach the data and run directories.
        self.base = tempfile.mkdtemp(prefix="ctp-", dir="/tmp")
        os.chmod(self.base, 0o755)
        # The data directory on the session's volume (as the local compute
        # driver gives each instance a loop-mounted XFS), else beside run/.
        self.volume = None
        if volume_root:
            self.volume = tempfile.mkdtemp(prefix="v-", dir=volume_root)
            os.chmod(self.volume, 0o755)
        self.ip, self.port = allocate_address(78, [5432] + list(range(15432, 15500)))
        self.pgids = set()
        self.info = {
            "id": instance_id(),
            "manager": "postgresql",
            "data_dir": os.path.join(self.volume or self.base, "vol"),
            "run_dir": os.path.join(self.base, "run"),
            "cache_dir": cache_dir,
            "bind_address": self.ip,
            "port": self.port,
            "os_user": OS_USER,
            "memory_mb": 512,
        }

    def call(self, method, **args):
        """(ok, result or error dict); the agent's log is kept for the secret scan."""
        p = subprocess.run([self.cli, method], input=json.dumps({"instance": self.info, "args": args}),
                           capture_output=True, text=True, timeout=300)
        _ALL_STDERR.append(p.stderr)
        pid = self.pid()
        if pid:
            self.pgids.add(pid)
        assert "ERROR: AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
        out = json.loads(p.stdout)
        if "error" in out:
            assert p.returncode == 1
            return False, out["error"]
        assert p.returncode == 0, p.stderr
        return True, out["result"]

    def ok(self, method, **args):
        ok, res = self.call(method, **args)
        assert ok, "%s failed: %s\n%s" % (method, res, _ALL_STDERR[-1])
        return res

    def fails(self, method, status, **args):
        ok, res = self.call(method, **args)
        assert not ok, "%s unexpectedly succeeded: %s" % (method, res)
        assert res["status"] == status, (method, args, res)
        return res["message"]

    def prepare(self, databases=("test",), users=(("userA", "Passw0rd", ("test",)),), **extra):
        args = {
            "packages": [], "memory_mb": 512, "device_path": None, "mount_point": None,
            "backup_info": None, "config_contents": "", "root_password": None, "overrides": None,
            "cluster_config": None, "snapshot": None, "modules": None, "ds_version": "15",
            "databases": [{"_name": d, "_character_set": None, "_collate": None} for d in databases],
            "users": [{"_name": u, "_password": pw, "_host": "%",
                       "_databases": [{"_name": d} for d in dbs], "_is_root": False}
                      for (u, pw, dbs) in users],
        }
        args.update(extra)
        t0 = time.monotonic()
        self.ok("prepare", **args)
        return time.monotonic() - t0

    @property
    def run_dir(self):
        return self.info["run_dir"]

    @property
    def datadir(self):
        return os.path.join(self.info["data_dir"], "data")

    def pid(self):
        try:
            with open(os.path.join(self.datadir, "postmaster.pid")) as f:
                pid = int(f.readline().strip())
            return pid if _proc_alive(pid) else None
        except (OSError, ValueError):
            return None

    def server_pids(self):
        """Every live process of this instance: the postmasters started with its
        config and everything in their process groups."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            pid = int(d)
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().decode(errors="replace")
                pgid = os.getpgid(pid)
            except (OSError, ProcessLookupError):
                continue
            if not _proc_alive(pid):
                continue
            if self.run_dir + "/postgresql.conf" in cmd or pgid in self.pgids:
                pids.append(pid)
        return pids

    def psql(self, user, password, sql, db="test", expect_ok=True):
        env = dict(os.environ, PGPASSWORD=password, PGUSER=user, PGDATABASE=db,
                   PGCONNECT_TIMEOUT="10", PGSSLMODE="disable")
        cmd = ["psql", "-h", self.ip, "-p", str(self.port), "-X", "-A", "-t", "-q",
               "-v", "ON_ERROR_STOP=1", "-c", sql]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
        if expect_ok:
            assert p.returncode == 0, p.stderr
        return p

    def cleanup(self):
        try:
            self.call("stop_db")
        except Exception:
            pass
        for pid in self.server_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log = os.path.join(self.run_dir, "log", "postgresql.log")
        try:
            with open(log, errors="replace") as f:
                _SERVER_LOGS.append(f.read())
        except OSError:
            pass
        shutil.rmtree(self.base, ignore_errors=True)
        if self.volume:
            shutil.rmtree(self.volume, ignore_errors=True)


@pytest.fixture(scope="session")
def cli():
    if os.geteuid() != 0:
        pytest.skip("needs root (the server is switched to the postgres user)")
    if not shutil.which("psql") or not os.path.exists(PG_BIN + "/postgres"):
        pytest.skip("postgresql-15 and postgresql-client are not installed")
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        pytest.skip("no postgres OS user")
    return find_cli()


@pytest.fixture(scope="session")
def cache_dir():
    d = tempfile.mkdtemp(prefix="ctp-cache-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def volume_root():
    """A sparse 4 GB XFS file system, loop-mounted, for the instances' data
    directories: what the local compute driver gives an instance. Creating a
    thousand files (a cluster copy, CREATE DATABASE) costs ~0.6 s on this
    machine's root ext4 (mounted with discard) and ~0.05 s there. None when it
    cannot be made; the tests then use /tmp."""
    d = tempfile.mkdtemp(prefix="ctp-xfs-", dir="/tmp")
    os.chmod(d, 0o755)
    img, mnt = os.path.join(d, "volume.img"), os.path.join(d, "mnt")
    os.mkdir(mnt)
    mounted = False
    try:
        with open(img, "wb") as f:
            f.truncate(4 << 30)
        mounted = (shutil.which("mkfs.xfs") is not None
                   and subprocess.run(["mkfs.xfs", "-q", img], capture_output=True).returncode == 0
                   and subprocess.run(["mount", "-o", "loop,noatime", img, mnt],
                                      capture_output=True).returncode == 0)
        if mounted:
            os.chmod(mnt, 0o755)
        yield mnt if mounted else None
    finally:
        if mounted:
            for _ in range(50):
                if subprocess.run(["umount", mnt], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def make_instance(cli, cache_dir, volume_root):
    made = []

    def make():
        inst = Instance(cli, cache_dir, volume_root)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.cleanup()
    for inst in made:
        deadline = time.monotonic() + 5
        while inst.server_pids() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert inst.server_pids() == [], "server left running"
        assert not os.path.exists(inst.base)
        assert not inst.volume or not os.path.exists(inst.volume)


@pytest.fixture
def inst(make_instance):
    i = make_instance()
    i.prepare()
    return i


def names(page):
    return [x["_name"] for x in page[0]]


# --- prepare, layout, security ----------------------------------------------------


def test_prepare_connect_write_read(make_instance):
    i = make_instance()
    first = i.prepare()  # the first prepare of the session may build the template
    times = [make_instance().prepare() for _ in range(3)]
    j = make_instance()
    times.append(j.prepare())
    print("\nprepare: first %.3f s, template cached %s s" % (first, ", ".join("%.3f" % t for t in times)))
    assert j.ok("get_status") == "healthy"
    assert j.ok("is_prepared") is True
    # userA creates a table in its database on PG 15 (public schema granted).
    j.psql("userA", "Passw0rd", "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); "
           "INSERT INTO t VALUES (1, 'hello')")
    assert j.psql("userA", "Passw0rd", "SELECT v FROM t WHERE id = 1").stdout.strip() == "hello"
    # ... and nothing else: no other database, no new ones.
    assert j.psql("userA", "Passw0rd", "SELECT 1", db="postgres", expect_ok=False).returncode != 0
    assert j.psql("userA", "Passw0rd", "CREATE DATABASE other", expect_ok=False).returncode != 0
    assert j.psql("userA", "wrong", "SELECT 1", expect_ok=False).returncode != 0


def test_layout_and_credentials(inst):
    run, data = inst.run_dir, inst.info["data_dir"]
    assert os.path.commonpath([run, data]) != data
    cred = os.path.join(run, "credentials", "os_admin.cnf")
    assert stat.S_IMODE(os.stat(cred).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cred)).st_mode) == 0o700
    with open(cred) as f:
        text = f.read()
    assert "user = os_admin" in text
    password = [l.split("=", 1)[1].strip() for l in text.splitlines() if l.startswith("password")][0]
    assert len(password) == 36 and password.isalnum()
    TEST_PASSWORDS.append(password)
    # os_admin and postgres are refused over TCP, even with the right password.
    p = inst.psql("os_admin", password, "SELECT 1", db="postgres", expect_ok=False)
    assert p.returncode != 0 and "pg_hba.conf rejects" in p.stderr, p.stderr
    p = inst.psql("postgres", "", "SELECT 1", db="postgres", expect_ok=False)
    assert p.returncode != 0 and "pg_hba.conf rejects" in p.stderr, p.stderr
    # The postmaster runs as postgres, leads its own process group and session.
    pid = inst.pid()
    assert pid
    assert os.stat("/proc/%d" % pid).st_uid == pwd.getpwnam(OS_USER).pw_uid
    assert os.getpgid(pid) == pid and os.getsid(pid) == pid
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        cmdline = f.read().decode()
    assert password not in cmdline and "Passw0rd" not in cmdline
    # Data directory 0700 postgres; socket, config and hba in the run directory.
    st = os.stat(inst.datadir)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == pwd.getpwnam(OS_USER).pw_uid
    assert stat.S_ISSOCK(os.stat(os.path.join(run, "socket", ".s.PGSQL.%d" % inst.port)).st_mode)
    assert not [f for f in os.listdir(inst.datadir) if f.startswith(".s.PGSQL")]
    for f in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
        assert os.path.exists(os.path.join(run, f))
        assert not os.path.exists(os.path.join(inst.datadir, f))
    stats = inst.ok("get_filesystem_stats", fs_path="/")
    assert set(stats) == {"block_size", "total_blocks", "free_blocks", "total", "free", "used"}
    assert stats["total_blocks"] > 0 and stats["total"] > 0


def test_config_sized_from_flavor_ram_and_root_password(make_instance):
    i = make_instance()
    i.info["memory_mb"] = 2048
    i.prepare(databases=(), users=(), root_password="R00tPassw0rd")
    assert i.ok("is_root_enabled") is True
    out = i.psql("root", "R00tPassw0rd", "SELECT current_setting('shared_buffers'), "
                 "current_setting('max_connections'), current_setting('effective_cache_size'), "
                 "current_setting('port'), current_setting('password_encryption')", db="postgres")
    assert out.stdout.strip().split("|") == ["512MB", "400", "1536MB", str(i.port), "scram-sha-256"]


def test_config_contents_is_used_but_cannot_move_the_instance(make_instance):
    i = make_instance()
    cfg = ("max_connections = 33\nshared_buffers = 24MB\ninclude '/etc/nonexistent.conf'\n"
           "port = 1\nlisten_addresses = '*'\nhba_file = '/etc/passwd'\n")
    i.prepare(databases=(), users=(), config_contents=cfg, root_password="R00tPassw0rd")
    out = i.psql("root", "R00tPassw0rd", "SELECT current_setting('max_connections'), "
                 "current_setting('shared_buffers'), current_setting('listen_addresses')", db="postgres")
    assert out.stdout.strip().split("|") == ["33", "24MB", i.ip]


def test_prepare_refuses_bad_input_before_touching_anything(make_instance):
    i = make_instance()
    i.fails("prepare", 400, databases=[{"_name": "a"}], users=[])
    i.fails("prepare", 400, databases=[], users=[{"_name": "postgres", "_password": "x", "_host": "%"}])
    i.fails("prepare", 400, databases=[], users=[{"_name": "u", "_password": "a\nb", "_host": "%"}])
    i.fails("prepare", 400, databases=[{"_name": "x1", "_character_set": "nosuch"}], users=[])
    # A restore's backup_info is checked before anything is touched too.
    assert "location" in i.fails("prepare", 400, databases=[], users=[], backup_info={"id": "x"})
    # A replica's snapshot names its source (test_postgresql_replication.py).
    assert "source" in i.fails("prepare", 400, databases=[], users=[], snapshot={"id": "x"})
    i.fails("prepare", 501, databases=[], users=[], ds_version="9")
    assert not os.path.exists(i.datadir)
    assert i.server_pids() == []


# --- lifecycle ---------------------------------------------------------------------


def test_restart_keeps_data(inst):
    inst.psql("userA", "Passw0rd", "CREATE TABLE k (v INT); INSERT INTO k VALUES (7)")
    old = inst.pid()
    inst.ok("restart")
    assert inst.pid() != old
    assert inst.ok("get_status") == "healthy"
    assert inst.psql("userA", "Passw0rd", "SELECT v FROM k").stdout.strip() == "7"


def test_kill_9_shutdown_then_start(inst):
    inst.psql("userA", "Passw0rd", "CREATE TABLE k (v INT); INSERT INTO k VALUES (9)")
    pid = inst.pid()
    os.kill(pid, signal.SIGKILL)
    for _ in range(500):
        if not _proc_alive(pid):
            break
        time.sleep(0.01)
    assert inst.ok("get_status") == "shutdown"
    inst.ok("start_db")
    assert inst.ok("get_status") == "healthy"
    assert inst.pid() != pid
    assert inst.psql("userA", "Passw0rd", "SELECT v FROM k").stdout.strip() == "9"


def test_sigstop_is_paused(inst):
    pid = inst.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(0.05)
        assert inst.ok("get_status") == "paused"
    finally:
        os.kill(pid, signal.SIGCONT)
    assert inst.ok("get_status") == "healthy"


def test_stop_leaves_nothing_running(inst):
    pgid = inst.pid()
    t0 = time.monotonic()
    inst.ok("stop_db")
    print("\nstop: %.3f s" % (time.monotonic() - t0))
    assert inst.server_pids() == []  # the postmaster and its whole process group
    assert pgid in inst.pgids
    assert inst.ok("get_status") == "shutdown"
    assert not os.path.exists(os.path.join(inst.run_dir, "socket", ".s.PGSQL.%d" % inst.port))
    inst.fails("list_databases", 422)
    inst.ok("stop_db")  # idempotent
    inst.ok("start_db")
    assert inst.ok("get_status") == "healthy"


def test_prepare_again_reuses_data(inst):
    inst.psql("userA", "Passw0rd", "CREATE TABLE k (v INT); INSERT INTO k VALUES (3)")
    inst.prepare(databases=("test",), users=())
    assert inst.psql("userA", "Passw0rd", "SELECT v FROM k").stdout.strip() == "3"
    assert inst.ok("get_status") == "healthy"


# --- databases ---------------------------------------------------------------------


def test_databases(inst):
    inst.ok("create_database", databases=[
        {"_name": "db1", "_character_set": "LATIN1", "_collate": None},
        {"_name": "db2", "_character_set": None, "_collate": "C"},
        {"_name": "db3", "_character_set": "utf8mb4", "_collate": None},
        {"_name": "Db 4"}])
    page = inst.ok("list_databases")
    assert names(page) == ["Db 4", "db1", "db2", "db3", "test"] and page[1] is None
    by = {x["_name"]: x for x in page[0]}
    assert by["db1"]["_character_set"] == "LATIN1" and by["db1"]["_collate"] == "C"
    assert by["db2"]["_character_set"] == "UTF8" and by["db2"]["_collate"] == "C"
    assert by["db3"]["_character_set"] == "UTF8"
    # Pagination: marker exclusive unless include_marker.
    p1 = inst.ok("list_databases", limit=2)
    assert names(p1) == ["Db 4", "db1"] and p1[1] == "db1"
    p2 = inst.ok("list_databases", limit=2, marker=p1[1])
    assert names(p2) == ["db2", "db3"] and p2[1] == "db3"
    p3 = inst.ok("list_databases", limit=2, marker=p2[1])
    assert names(p3) == ["test"] and p3[1] is None
    assert names(inst.ok("list_databases", limit=1, marker="db2", include_marker=True)) == ["db2"]
    # Idempotent create; errors.
    inst.ok("create_database", databases=[{"_name": "db1"}])
    inst.fails("create_database", 400, databases=[{"_name": "x1", "_character_set": "nosuch"}])
    inst.fails("create_database", 400, databases=[{"_name": "x1", "_collate": "utf8_general_ci"}])
    inst.fails("create_database", 400, databases=[{"_name": "x1", "_collate": "C'; --"}])
    for reserved in ("postgres", "template0", "template1", "os_admin"):
        inst.fails("create_database", 400, databases=[{"_name": reserved}])
        inst.fails("delete_database", 400, database={"_name": reserved})
    assert "x1" not in names(inst.ok("list_databases"))
    # A database in use is dropped anyway.
    holder = subprocess.Popen(["psql", "-h", inst.ip, "-p", str(inst.port), "-X", "-c", "SELECT pg_sleep(30)"],
                              env=dict(os.environ, PGPASSWORD="Passw0rd", PGUSER="userA", PGDATABASE="test"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        inst.ok("delete_database", database={"_name": "test"})
    finally:
        holder.kill()
        holder.wait()
    inst.ok("delete_database", database={"_name": "db1"})
    inst.fails("delete_database", 404, database={"_name": "db1"})
    assert names(inst.ok("list_databases")) == ["Db 4", "db2", "db3"]


# --- users, access, root --------------------------------------------------------------


def test_users(inst):
    inst.ok("create_user", users=[
        {"_name": "u1", "_password": "Passw0rd", "_host": "%", "_databases": [{"_name": "test"}]},
        {"_name": "u2", "_password": "Passw0rd", "_databases": []}])
    u = inst.ok("get_user", username="u1", hostname="%")
    assert u["_name"] == "u1" and u["_host"] == "%" and [d["_name"] for d in u["_databases"]] == ["test"]
    assert u["_password"] is None
    inst.fails("get_user", 404, username="nobody", hostname="%")
    for reserved in ("os_admin", "postgres", "root", "replicator", "pg_monitor", "public"):
        inst.fails("get_user", 400, username=reserved, hostname="%")
        inst.fails("create_user", 400, users=[{"_name": reserved, "_password": "x"}])
    inst.fails("create_user", 400, users=[{"_name": "u1", "_password": "x"}])
    # One refused entry refuses the whole request.
    inst.fails("create_user", 400, users=[{"_name": "fresh", "_password": "x"}, {"_name": "u1", "_password": "x"}])
    inst.fails("create_user", 404, users=[{"_name": "fresh", "_password": "x", "_databases": [{"_name": "nodb"}]}])
    assert [x["_name"] for x in inst.ok("list_users")[0]] == ["u1", "u2", "userA"]
    p1 = inst.ok("list_users", limit=1)
    assert [x["_name"] for x in p1[0]] == ["u1"] and p1[1] == "u1"
    p2 = inst.ok("list_users", limit=1, marker=p1[1])
    assert [x["_name"] for x in p2[0]] == ["u2"] and p2[1] == "u2"
    assert [x["_name"] for x in inst.ok("list_users", marker="u2", include_marker=True)[0]] == ["u2", "userA"]
    # update_attributes: password, then rename (the SCRAM password survives).
    inst.ok("update_attributes", username="u1", hostname="%", user_attrs={"password": "N3wPassw0rd"})
    inst.psql("u1", "N3wPassw0rd", "SELECT 1")
    assert inst.psql("u1", "Passw0rd", "SELECT 1", expect_ok=False).returncode != 0
    inst.ok("update_attributes", username="u1", hostname="%", user_attrs={"name": "u1new"})
    inst.psql("u1new", "N3wPassw0rd", "SELECT 1")
    assert [d["_name"] for d in inst.ok("get_user", username="u1new", hostname="%")["_databases"]] == ["test"]
    inst.fails("update_attributes", 404, username="u1", hostname="%", user_attrs={"name": "zz"})
    inst.fails("update_attributes", 400, username="u1new", hostname="%", user_attrs={"name": "root"})
    inst.fails("update_attributes", 400, username="u1new", hostname="%", user_attrs={"name": "u2"})
    # change_passwords, plain form (what the API sends) and underscored form.
    inst.ok("change_passwords", users=[{"name": "u1new", "host": "%", "password": "Ch4nged!"}])
    inst.psql("u1new", "Ch4nged!", "SELECT 1")
    inst.ok("change_passwords", users=[{"_name": "u1new", "_host": "%", "_password": "N3wPassw0rd"}])
    inst.psql("u1new", "N3wPassw0rd", "SELECT 1")
    inst.fails("change_passwords", 404, users=[{"name": "ghost", "host": "%", "password": "x1"}])
    # Deleting a user that owns a table: the table is kept (handed to os_admin).
    inst.psql("u1new", "N3wPassw0rd", "CREATE TABLE owned (v INT); INSERT INTO owned VALUES (5)")
    inst.ok("delete_user", user={"_name": "u1new", "_host": "%"})
    inst.fails("delete_user", 404, user={"_name": "u1new", "_host": "%"})
    inst.fails("delete_user", 400, user={"_name": "postgres", "_host": "%"})
    assert inst.psql("u1new", "N3wPassw0rd", "SELECT 1", expect_ok=False).returncode != 0
    root = inst.ok("enable_root")
    TEST_PASSWORDS.append(root["_password"])
    out = inst.psql("root", root["_password"], "SELECT tableowner || ':' || (SELECT v FROM owned) "
                    "FROM pg_tables WHERE tablename = 'owned'")
    assert out.stdout.strip() == "os_admin:5"


def test_access(inst):
    inst.ok("create_database", databases=[{"_name": "a_b"}, {"_name": "axb"}, {"_name": "db2"}])
    inst.ok("create_user", users=[{"_name": "u", "_password": "Passw0rd", "_host": "%"}])
    assert inst.ok("list_access", username="u", hostname="%") == []
    # Without a grant, no database is open to the user.
    for db in ("a_b", "test", "postgres", "template1"):
        assert inst.psql("u", "Passw0rd", "SELECT 1", db=db, expect_ok=False).returncode != 0
    inst.ok("grant_access", username="u", hostname="%", databases=["a_b", "db2"])
    assert [d["_name"] for d in inst.ok("list_access", username="u", hostname="%")] == ["a_b", "db2"]
    inst.psql("u", "Passw0rd", "CREATE TABLE t (i INT); INSERT INTO t VALUES (1)", db="a_b")
    assert inst.psql("u", "Passw0rd", "SELECT 1", db="axb", expect_ok=False).returncode != 0
    inst.ok("revoke_access", username="u", hostname="%", database="a_b")
    assert [d["_name"] for d in inst.ok("list_access", username="u", hostname="%")] == ["db2"]
    assert inst.psql("u", "Passw0rd", "SELECT 1", db="a_b", expect_ok=False).returncode != 0
    inst.fails("revoke_access", 404, username="u", hostname="%", database="a_b")
    inst.fails("revoke_access", 404, username="u", hostname="%", database="nodb")
    inst.fails("grant_access", 404, username="nobody", hostname="%", databases=["db2"])
    inst.fails("grant_access", 404, username="u", hostname="%", databases=["nodb"])
    inst.fails("grant_access", 400, username="u", hostname="%", databases=["postgres"])
    inst.fails("list_access", 404, username="nobody", hostname="%")
    # The user still deletes cleanly although it owns a table in a_b.
    inst.ok("delete_user", user={"_name": "u", "_host": "%"})


def test_root(inst):
    assert inst.ok("is_root_enabled") is False
    root = inst.ok("enable_root")
    assert root["_name"] == "root" and root["_host"] == "%" and root["_is_root"] is True
    assert len(root["_password"]) == 36
    TEST_PASSWORDS.append(root["_password"])
    assert inst.ok("is_root_enabled") is True
    inst.psql("root", root["_password"], "CREATE DATABASE byroot", db="postgres")
    root2 = inst.ok("enable_root_with_password", root_password="R00tPassw0rd")
    assert root2["_password"] == "R00tPassw0rd"
    assert inst.psql("root", "R00tPassw0rd", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                     db="postgres").stdout.strip() == "t"
    assert inst.psql("root", root["_password"], "SELECT 1", expect_ok=False).returncode != 0
    assert "root" not in [u["_name"] for u in inst.ok("list_users")[0]]
    inst.ok("disable_root")
    assert inst.ok("is_root_enabled") is False
    assert inst.psql("root", "R00tPassw0rd", "SELECT 1", expect_ok=False).returncode != 0
    # What root made survives, owned by os_admin.
    assert "byroot" in names(inst.ok("list_databases"))
    inst.ok("disable_root")  # idempotent
    assert inst.ok("get_status") == "healthy"


# --- injection ------------------------------------------------------------------------


BAD_DB_NAMES = ["a", "", "x" * 64, "\u00e9" * 32, "a" * 5000, "a\nb", "a\x00b"[:1] + "\x01", "ab ",
                "postgres", "template1"]
BAD_USER_NAMES = ["", "x" * 64, "y" * 5000, "u\n", "a\tb", "root", "os_admin", "postgres",
                  "replicator", "pg_x", "public"]
BAD_PASSWORDS = ["p\n", "\x00"[:0] + "a\x07b", "x" * 256, ""]
# Allowed by PostgreSQL's rules, so stored literally and usable.
ODD_NAMES = ["a'b", 'a"b', "a\\b", "a;b", "x$$y$$", "x'); DROP ROLE \"userA\"; --",
             'q"; DROP DATABASE test; --', "\u00e9t\u00e9 \U0001F600"]


def test_injection_refused(inst):
    for name in BAD_DB_NAMES:
        inst.fails("create_database", 400, databases=[{"_name": name}])
        inst.fails("delete_database", 400, database={"_name": name})
        inst.fails("grant_access", 400, username="userA", hostname="%", databases=[name])
        inst.fails("revoke_access", 400, username="userA", hostname="%", database=name)
    for name in BAD_USER_NAMES:
        inst.fails("create_user", 400, users=[{"_name": name, "_password": "Passw0rd"}])
        inst.fails("get_user", 400, username=name, hostname="%")
        inst.fails("delete_user", 400, user={"_name": name})
        inst.fails("update_attributes", 400, username="userA", hostname="%", user_attrs={"name": name})
    for pw in BAD_PASSWORDS:
        inst.fails("change_passwords", 400, users=[{"name": "userA", "host": "%", "password": pw}])
        if pw:
            msg = inst.fails("create_user", 400, users=[{"_name": "p1", "_password": pw}])
            assert pw not in msg
            inst.fails("enable_root_with_password", 400, root_password=pw)
    # One bad entry refuses the whole request: nothing was created.
    inst.fails("create_database", 400, databases=[{"_name": "good1"}, {"_name": "a"}])
    assert names(inst.ok("list_databases")) == ["test"]
    # Markers are parameters, not SQL.
    assert names(inst.ok("list_databases", marker="' OR 1=1 -- ")) == ["test"]
    assert inst.ok("list_users", marker="x' UNION SELECT 1,2 -- ")[0] == []


def test_injection_stored_literally(inst):
    pw = "p'w\"d\\;$$--x"
    for name in ODD_NAMES:
        inst.ok("create_database", databases=[{"_name": name}])
        inst.ok("create_user", users=[{"_name": name, "_password": pw, "_databases": [{"_name": name}]}])
    assert sorted(names(inst.ok("list_databases"))) == sorted(ODD_NAMES + ["test"])
    assert sorted(u["_name"] for u in inst.ok("list_users")[0]) == sorted(ODD_NAMES + ["userA"])
    for name in ODD_NAMES:
        # The ACL lookup works whatever quoting the name needs ([BUG-18] in Trove).
        assert [d["_name"] for d in inst.ok("list_access", username=name, hostname="%")] == [name]
        out = inst.psql(name, pw, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES (current_user); "
                        "SELECT v || '@' || current_database() FROM t", db=name)
        assert out.stdout.strip() == "%s@%s" % (name, name)
    # A 63-byte name is kept whole.
    long_name = "L" * 63
    inst.ok("create_database", databases=[{"_name": long_name}])
    assert long_name in names(inst.ok("list_databases"))
    # Rename, change password, revoke, delete: all literal.
    inst.ok("update_attributes", username=ODD_NAMES[0], hostname="%", user_attrs={"name": ODD_NAMES[0] + "'2", "password": pw + "2"})
    inst.psql(ODD_NAMES[0] + "'2", pw + "2", "SELECT 1", db=ODD_NAMES[0])
    TEST_PASSWORDS.append(pw + "2")
    for name in ODD_NAMES[1:]:
        inst.ok("revoke_access", username=name, hostname="%", database=name)
        inst.ok("delete_user", user={"_name": name})
        inst.ok("delete_database", database={"_name": name})
    # userA, its database and its data survived every attempt.
    inst.psql("userA", "Passw0rd", "CREATE TABLE survived (i INT)")
    assert sorted(u["_name"] for u in inst.ok("list_users")[0]) == sorted([ODD_NAMES[0] + "'2", "userA"])


def test_no_secret_in_any_log():
    # Runs last in this file: every agent log line and every server log of the
    # tests above (a password, or its verifier, never reaches either).
    text = "".join(_ALL_STDERR)
    assert text, "no agent output collected"
    server = "".join(_SERVER_LOGS)
    assert server, "no server log collected"
    for pw in TEST_PASSWORDS:
        assert pw not in text
        assert pw not in server
    assert "SCRAM-SHA-256$" not in text and "SCRAM-SHA-256$" not in server
