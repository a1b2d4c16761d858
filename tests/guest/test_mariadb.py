# test_mariadb.py — the MariaDB guest manager against real mariadbd servers.
#
# Each test prepares its own instance through guest_cli (tests/guest/guest_cli.c,
# the manager's operations with Trove's RPC arguments as JSON on stdin) in a
# temporary directory, on its own loopback address 127.77.x.y and port 3306 (or
# a free port when 3306 is taken there), and checks the result with the real
# `mariadb` client over TCP. Every process and directory is removed afterwards.
# Run as root (the server is switched to the `mysql` user) with Debian's pytest:
#   GUEST_CLI=<build>/tests/guest/guest_cli /usr/bin/python3 -m pytest -q tests/guest
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

OS_USER = "mysql"
TEST_PASSWORDS = ["Passw0rd", "N3wPassw0rd", "R00tPassw0rd", "Ch4nged!"]


_ALL_STDERR = []


class Instance:
    def __init__(self, cli, cache_dir, manager="mariadb"):
        self.cli = cli
        # Short and world-traversable: the socket path must be <= 107 bytes and
        # the mysql user must reach the data and run directories.
        self.base = tempfile.mkdtemp(prefix="ctg-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.ip, self.port = allocate_address(77, [3306] + list(range(13306, 13400)))
        self.info = {
            "id": instance_id(),
            "manager": manager,
            "data_dir": os.path.join(self.base, "vol"),
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
        out = json.loads(p.stdout)
        if "error" in out:
            assert p.returncode == 1
            return False, out["error"]
        assert p.returncode == 0, p.stderr
        return True, out["result"]

    def ok(self, method, **args):
        ok, res = self.call(method, **args)
        assert ok, "%s failed: %s" % (method, res)
        return res

    def fails(self, method, status, **args):
        ok, res = self.call(method, **args)
        assert not ok, "%s unexpectedly succeeded: %s" % (method, res)
        assert res["status"] == status, res
        return res["message"]

    def prepare(self, databases=("test",), users=(("userA", "Passw0rd", "%", ("test",)),), **extra):
        args = {
            "packages": [], "memory_mb": 512, "device_path": None, "mount_point": None,
            "backup_info": None, "config_contents": "", "root_password": None, "overrides": None,
            "cluster_config": None, "snapshot": None, "modules": None, "ds_version": "10.11",
            "databases": [{"_name": d, "_character_set": None, "_collate": None} for d in databases],
            "users": [{"_name": u, "_password": pw, "_host": h,
                       "_databases": [{"_name": d} for d in dbs], "_is_root": False}
                      for (u, pw, h, dbs) in users],
        }
        args.update(extra)
        t0 = time.monotonic()
        self.ok("prepare", **args)
        return time.monotonic() - t0

    @property
    def run_dir(self):
        return self.info["run_dir"]

    def pid(self):
        try:
            with open(os.path.join(self.run_dir, "mysqld", "mysqld.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def server_pids(self):
        """Every mariadbd whose command line names this instance's config."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().decode(errors="replace")
            except OSError:
                continue
            if self.run_dir + "/my.cnf" in cmd:
                pids.append(int(d))
        return pids

    def sql(self, user, password, sql, db=None, expect_ok=True):
        cmd = ["mariadb", "-h", self.ip, "-P", str(self.port), "--skip-ssl", "-N", "-B",
               "-u", user, "-p" + password, "-e", sql]
        if db:
            cmd.append(db)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
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
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def cli():
    if os.geteuid() != 0:
        pytest.skip("needs root (the server is switched to the mysql user)")
    if not shutil.which("mariadb") or not os.path.exists("/usr/sbin/mariadbd"):
        pytest.skip("mariadb-server and mariadb-client are not installed")
    return find_cli()


@pytest.fixture(scope="session")
def cache_dir():
    d = tempfile.mkdtemp(prefix="ctg-cache-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def make_instance(cli, cache_dir):
    made = []

    def make(manager="mariadb"):
        inst = Instance(cli, cache_dir, manager)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.cleanup()
        assert inst.server_pids() == [], "server left running"
        assert not os.path.exists(inst.base)


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
    i.prepare()  # the first prepare of the session may build the template
    j = make_instance()
    elapsed = min(j.prepare(), make_instance().prepare())
    print("\nprepare (template cached): %.3f s" % elapsed)
    assert j.ok("get_status") == "healthy"
    assert j.ok("is_prepared") is True
    j.sql("userA", "Passw0rd", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); "
          "INSERT INTO t VALUES (1, 'hello')", db="test")
    p = j.sql("userA", "Passw0rd", "SELECT v FROM t WHERE id = 1", db="test")
    assert p.stdout.strip() == "hello"
    # userA has its database only.
    assert j.sql("userA", "Passw0rd", "CREATE DATABASE other", expect_ok=False).returncode != 0


def test_layout_and_credentials(inst):
    run = inst.run_dir
    data = inst.info["data_dir"]
    assert not os.path.commonpath([run, data]) == data
    cred = os.path.join(run, "credentials", "os_admin.cnf")
    st = os.stat(cred)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cred)).st_mode) == 0o700
    with open(cred) as f:
        text = f.read()
    assert "user = os_admin" in text
    password = [l.split("=", 1)[1].strip() for l in text.splitlines() if l.startswith("password")][0]
    assert len(password) == 36 and password.isalnum()
    _ALL_STDERR.append("")  # the admin password must not be in any agent log
    TEST_PASSWORDS.append(password)
    # The admin account and root are unusable over TCP, even with the right password.
    p = inst.sql("os_admin", password, "SELECT 1", expect_ok=False)
    assert p.returncode != 0 and "Access denied" in p.stderr
    assert inst.sql("root", "", "SELECT 1", expect_ok=False).returncode != 0
    # The server runs as the unprivileged user, in its own process group and session.
    pid = inst.pid()
    assert pid and inst.server_pids() == [pid]
    assert os.stat("/proc/%d" % pid).st_uid == pwd.getpwnam(OS_USER).pw_uid
    assert os.getpgid(pid) == pid and os.getsid(pid) == pid
    # Its command line carries no secret.
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        cmdline = f.read().decode()
    assert password not in cmdline and "Passw0rd" not in cmdline
    # Socket, pid and config live in the run directory, data under the volume.
    assert stat.S_ISSOCK(os.stat(os.path.join(run, "mysqld", "mysqld.sock")).st_mode)
    assert os.path.isdir(os.path.join(data, "data", "mysql"))
    assert os.path.isdir(os.path.join(data, "data", "test"))
    stats = inst.ok("get_filesystem_stats", fs_path="/")
    assert stats["total_blocks"] > 0 and stats["block_size"] > 0 and stats["total"] > 0
    assert set(stats) == {"block_size", "total_blocks", "free_blocks", "total", "free", "used"}


def test_prepare_with_config_and_root_password(make_instance):
    i = make_instance()
    cfg = i.ok("config_render", memory_mb=1024, instance_id=i.info["id"])
    assert "innodb_buffer_pool_size = 300M" in cfg and "max_connections = 200" in cfg
    i.prepare(databases=(), users=(), config_contents=cfg, root_password="R00tPassw0rd")
    assert i.ok("is_root_enabled") is True
    p = i.sql("root", "R00tPassw0rd", "SELECT @@innodb_buffer_pool_size, @@max_connections, @@port")
    assert p.stdout.split() == [str(300 * 1024 * 1024), "200", str(i.port)]


def test_mysql_manager(make_instance):
    i = make_instance("mysql")
    i.prepare()
    assert i.ok("get_status") == "healthy"
    i.ok("change_passwords", users=[{"name": "userA", "host": "%", "password": "N3wPassw0rd"}])
    i.sql("userA", "N3wPassw0rd", "SELECT 1", db="test")


def test_prepare_refuses_bad_input_before_touching_anything(make_instance):
    i = make_instance()
    i.fails("prepare", 400, databases=[{"_name": "a;b"}], users=[])
    i.fails("prepare", 400, databases=[], users=[{"_name": "root", "_password": "x", "_host": "%"}])
    i.fails("prepare", 400, databases=[], users=[], backup_info={"id": "x"})
    assert not os.path.exists(os.path.join(i.info["data_dir"], "data"))
    assert i.server_pids() == []


# --- lifecycle ---------------------------------------------------------------------


def test_restart_keeps_data(inst):
    inst.sql("userA", "Passw0rd", "CREATE TABLE k (v INT); INSERT INTO k VALUES (7)", db="test")
    old = inst.pid()
    inst.ok("restart")
    assert inst.pid() != old
    assert inst.ok("get_status") == "healthy"
    assert inst.sql("userA", "Passw0rd", "SELECT v FROM k", db="test").stdout.strip() == "7"


def test_kill_9_shutdown_then_start(inst):
    inst.sql("userA", "Passw0rd", "CREATE TABLE k (v INT); INSERT INTO k VALUES (9)", db="test")
    pid = inst.pid()
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        if not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z":
            break
        time.sleep(0.01)
    assert inst.ok("get_status") == "shutdown"
    inst.ok("start_db")
    assert inst.ok("get_status") == "healthy"
    assert inst.sql("userA", "Passw0rd", "SELECT v FROM k", db="test").stdout.strip() == "9"


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
    t0 = time.monotonic()
    inst.ok("stop_db")
    print("\nstop: %.3f s" % (time.monotonic() - t0))
    assert inst.server_pids() == []
    assert inst.ok("get_status") == "shutdown"
    assert not os.path.exists(os.path.join(inst.run_dir, "mysqld", "mysqld.sock"))
    inst.fails("list_databases", 422)
    inst.ok("stop_db")  # idempotent
    inst.ok("start_db")
    assert inst.ok("get_status") == "healthy"


def test_prepare_again_reuses_data(inst):
    inst.sql("userA", "Passw0rd", "CREATE TABLE k (v INT); INSERT INTO k VALUES (3)", db="test")
    inst.prepare(databases=("test",), users=())
    assert inst.sql("userA", "Passw0rd", "SELECT v FROM k", db="test").stdout.strip() == "3"
    assert len(inst.server_pids()) == 1


# --- databases ---------------------------------------------------------------------


def test_databases(inst):
    inst.ok("create_database", databases=[
        {"_name": "db1", "_character_set": "latin1", "_collate": None},
        {"_name": "db2", "_character_set": None, "_collate": "utf8_general_ci"},
        {"_name": "db3", "_character_set": "utf8mb4", "_collate": "utf8mb4_bin"},
        {"_name": "db 4"}])
    page = inst.ok("list_databases")
    assert names(page) == ["db 4", "db1", "db2", "db3", "test"] and page[1] is None
    by = {x["_name"]: x for x in page[0]}
    assert by["db1"]["_character_set"] == "latin1" and by["db1"]["_collate"] == "latin1_swedish_ci"
    assert by["db2"]["_collate"] == "utf8mb3_general_ci"
    assert by["db3"]["_collate"] == "utf8mb4_bin"
    assert by["test"]["_character_set"] == "utf8mb4"
    # Pagination: marker exclusive unless include_marker.
    p1 = inst.ok("list_databases", limit=2)
    assert names(p1) == ["db 4", "db1"] and p1[1] == "db1"
    p2 = inst.ok("list_databases", limit=2, marker=p1[1])
    assert names(p2) == ["db2", "db3"] and p2[1] == "db3"
    p3 = inst.ok("list_databases", limit=2, marker=p2[1])
    assert names(p3) == ["test"] and p3[1] is None
    assert names(inst.ok("list_databases", limit=1, marker="db2", include_marker=True)) == ["db2"]
    # Idempotent create, errors.
    inst.ok("create_database", databases=[{"_name": "db1"}])
    inst.fails("create_database", 400, databases=[{"_name": "x1", "_character_set": "nosuch"}])
    inst.fails("create_database", 400, databases=[{"_name": "x1", "_character_set": "latin1",
                                                   "_collate": "utf8mb4_bin"}])
    inst.fails("create_database", 400, databases=[{"_name": "mysql"}])
    inst.ok("delete_database", database={"_name": "db1"})
    inst.fails("delete_database", 404, database={"_name": "db1"})
    inst.fails("delete_database", 400, database={"_name": "sys"})
    assert "db1" not in names(inst.ok("list_databases"))


# --- users, access, root --------------------------------------------------------------


def test_users(inst):
    inst.ok("create_user", users=[
        {"_name": "u1", "_password": "Passw0rd", "_host": "%", "_databases": [{"_name": "test"}]},
        {"_name": "u2", "_password": "Passw0rd", "_host": "127.0.0.1", "_databases": []}])
    u = inst.ok("get_user", username="u1", hostname="%")
    assert u["_name"] == "u1" and u["_host"] == "%" and [d["_name"] for d in u["_databases"]] == ["test"]
    assert u["_password"] is None
    inst.fails("get_user", 404, username="nobody", hostname="%")
    inst.fails("get_user", 400, username="os_admin", hostname="%")
    inst.fails("create_user", 400, users=[{"_name": "u1", "_password": "x", "_host": "%"}])
    page = inst.ok("list_users")
    assert [(x["_name"], x["_host"]) for x in page[0]] == [("u1", "%"), ("u2", "127.0.0.1"), ("userA", "%")]
    p1 = inst.ok("list_users", limit=1)
    assert len(p1[0]) == 1 and p1[1] == "u1@%"
    p2 = inst.ok("list_users", limit=1, marker=p1[1])
    assert p2[0][0]["_name"] == "u2" and p2[1] == "u2@127.0.0.1"
    # u2 connects from 127.0.0.1 (loopback clients appear as 127.0.0.1).
    inst.sql("u2", "Passw0rd", "SELECT 1")
    # update_attributes: password, then rename and host; grants move.
    inst.ok("update_attributes", username="u1", hostname="%", user_attrs={"password": "N3wPassw0rd"})
    inst.sql("u1", "N3wPassw0rd", "SELECT 1", db="test")
    assert inst.sql("u1", "Passw0rd", "SELECT 1", expect_ok=False).returncode != 0
    inst.ok("update_attributes", username="u1", hostname="%", user_attrs={"name": "u1new"})
    inst.ok("update_attributes", username="u1new", hostname="%", user_attrs={"host": "127.0.0.1"})
    u = inst.ok("get_user", username="u1new", hostname="127.0.0.1")
    assert [d["_name"] for d in u["_databases"]] == ["test"]
    inst.sql("u1new", "N3wPassw0rd", "SELECT 1", db="test")
    inst.fails("update_attributes", 404, username="u1", hostname="%", user_attrs={"name": "zz"})
    inst.fails("update_attributes", 400, username="u1new", hostname="127.0.0.1", user_attrs={"name": "root"})
    inst.fails("update_attributes", 400, username="u1new", hostname="127.0.0.1", user_attrs={"name": "u2", "host": "127.0.0.1"})
    # change_passwords, plain and underscored forms.
    inst.ok("change_passwords", users=[{"name": "u2", "host": "127.0.0.1", "password": "Ch4nged!"}])
    inst.sql("u2", "Ch4nged!", "SELECT 1")
    inst.fails("change_passwords", 404, users=[{"name": "ghost", "host": "%", "password": "x1"}])
    # delete
    inst.ok("delete_user", user={"_name": "u2", "_host": "127.0.0.1"})
    inst.fails("delete_user", 404, user={"_name": "u2", "_host": "127.0.0.1"})
    inst.fails("delete_user", 400, user={"_name": "root", "_host": "%"})
    assert inst.sql("u2", "Ch4nged!", "SELECT 1", expect_ok=False).returncode != 0


def test_access(inst):
    inst.ok("create_database", databases=[{"_name": "a_b"}, {"_name": "axb"}, {"_name": "db2"}])
    inst.ok("create_user", users=[{"_name": "u", "_password": "Passw0rd", "_host": "%"}])
    assert inst.ok("list_access", username="u", hostname="%") == []
    inst.ok("grant_access", username="u", hostname="%", databases=["a_b", "db2"])
    acc = inst.ok("list_access", username="u", hostname="%")
    assert [d["_name"] for d in acc] == ["a_b", "db2"]
    inst.sql("u", "Passw0rd", "CREATE TABLE t (i INT)", db="a_b")
    # `_` in a granted name is not a wildcard: no access to axb.
    assert inst.sql("u", "Passw0rd", "SELECT 1", db="axb", expect_ok=False).returncode != 0
    inst.ok("revoke_access", username="u", hostname="%", database="a_b")
    assert [d["_name"] for d in inst.ok("list_access", username="u", hostname="%")] == ["db2"]
    assert inst.sql("u", "Passw0rd", "SELECT 1", db="a_b", expect_ok=False).returncode != 0
    inst.fails("revoke_access", 404, username="u", hostname="%", database="a_b")
    inst.fails("grant_access", 404, username="nobody", hostname="%", databases=["db2"])
    inst.fails("grant_access", 400, username="u", hostname="%", databases=["mysql"])
    inst.fails("list_access", 404, username="nobody", hostname="%")


def test_root(inst):
    assert inst.ok("is_root_enabled") is False
    root = inst.ok("enable_root")
    assert root["_name"] == "root" and root["_host"] == "%" and len(root["_password"]) == 36
    TEST_PASSWORDS.append(root["_password"])
    assert inst.ok("is_root_enabled") is True
    inst.sql("root", root["_password"], "CREATE DATABASE byroot")
    root2 = inst.ok("enable_root_with_password", root_password="R00tPassw0rd")
    assert root2["_password"] == "R00tPassw0rd"
    inst.sql("root", "R00tPassw0rd", "SELECT 1")
    assert inst.sql("root", root["_password"], "SELECT 1", expect_ok=False).returncode != 0
    # root is never listed as an ordinary user.
    assert "root" not in [u["_name"] for u in inst.ok("list_users")[0]]
    inst.ok("disable_root")
    assert inst.ok("is_root_enabled") is False
    assert inst.sql("root", "R00tPassw0rd", "SELECT 1", expect_ok=False).returncode != 0
    # The agent still administers the server.
    assert inst.ok("get_status") == "healthy"


# --- injection ------------------------------------------------------------------------


BAD_DB_NAMES = ["a'b", "a`b", "a\\b", "a;b", "a%b", "x`; DROP DATABASE test; --", "a\"b",
                "a\nb", "a/b", "x" * 65, "a" * 5000, "a", ""]
BAD_USER_NAMES = ["a'b", "a`b", "a\\b", "a;b", "a\"b", "a,b", "a/b", " a", "a ", "u\n",
                  "x" * 17, "y" * 5000, "root", "os_admin", "\U0001F600"]
BAD_PASSWORDS = ["a'b", "a`b", "a\\b", "a;b", "a\"b", "x'); DROP USER userA; --", "p\n"]


def test_injection_in_database_names(inst):
    for name in BAD_DB_NAMES:
        inst.fails("create_database", 400, databases=[{"_name": name}])
        inst.fails("delete_database", 400, database={"_name": name})
        inst.fails("grant_access", 400, username="userA", hostname="%", databases=[name])
        inst.fails("revoke_access", 400, username="userA", hostname="%", database=name)
    # One bad entry refuses the whole request: nothing was created.
    inst.fails("create_database", 400, databases=[{"_name": "good1"}, {"_name": "a`b"}])
    assert names(inst.ok("list_databases")) == ["test"]
    # Markers are escaped, not executed.
    assert names(inst.ok("list_databases", marker="' OR 1=1 -- ")) == ["test"]
    assert inst.ok("list_users", marker="x' UNION SELECT 1,2,3 -- ")[0] == []
    # Separators that Trove allows are stored literally.
    inst.ok("create_database", databases=[{"_name": "we#?@ird"}])
    assert "we#?@ird" in names(inst.ok("list_databases"))
    assert "test" in names(inst.ok("list_databases"))


def test_injection_in_user_names_hosts_and_passwords(inst):
    for name in BAD_USER_NAMES:
        inst.fails("create_user", 400, users=[{"_name": name, "_password": "Passw0rd", "_host": "%"}])
        inst.fails("get_user", 400, username=name, hostname="%")
        inst.fails("delete_user", 400, user={"_name": name, "_host": "%"})
    for host in ["localhost", "%' OR '1'='1", "1.2.3.4`", "h;ost", "a" * 300]:
        inst.fails("create_user", 400, users=[{"_name": "h1", "_password": "Passw0rd", "_host": host}])
        inst.fails("get_user", 400, username="userA", hostname=host)
    for pw in BAD_PASSWORDS:
        msg = inst.fails("create_user", 400, users=[{"_name": "p1", "_password": pw, "_host": "%"}])
        assert pw not in msg
        inst.fails("change_passwords", 400, users=[{"name": "userA", "host": "%", "password": pw}])
        inst.fails("enable_root_with_password", 400, root_password=pw)
    # Characters Trove allows are stored literally: % and @ in a name, specials in a password.
    inst.ok("create_user", users=[{"_name": "a%b@c", "_password": "p%w@d!#$ &*()", "_host": "%"}])
    assert inst.ok("get_user", username="a%b@c", hostname="%")["_name"] == "a%b@c"
    inst.fails("get_user", 404, username="aXb@c", hostname="%")  # % is not a wildcard in names
    inst.sql("a%b@c", "p%w@d!#$ &*()", "SELECT 1")
    # userA and its data survived every attempt.
    inst.sql("userA", "Passw0rd", "SELECT 1", db="test")
    assert [u["_name"] for u in inst.ok("list_users")[0]] == ["a%b@c", "userA"]


def test_no_secret_in_any_log():
    # Runs last in this file: every agent log line written by the tests above.
    text = "".join(_ALL_STDERR)
    assert text, "no agent output collected"
    for pw in TEST_PASSWORDS:
        assert pw not in text
