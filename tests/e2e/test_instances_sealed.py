"""Instances are sealed from each other (issue 10): a tenant who enables root on
their own instance A (project t1) gets all of A and nothing of instance B
(project demo), on PostgreSQL and on MariaDB.

Each attack runs from inside A's database server (COPY ... TO/FROM PROGRAM,
pg_read_file, INTO OUTFILE, LOAD_FILE, LOAD DATA, INSTALL SONAME) against B, and
first, where it makes sense, against A itself, so that a refusal is shown to be
a refusal and not a probe that could never succeed. B's data and users are then
checked through B's own API and a query as B's user. docs/security.md,
"Instances", names the defence each test proves.
"""
import os
import pwd
import secrets
import stat
import subprocess
import time
from pathlib import Path

import pytest

SECRET = "b-secret-" + secrets.token_hex(4)


def psql(address, user, password, database, sql):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    return subprocess.run(["psql", "-h", address, "-U", user, "-d", database, "-qtA",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=60)


def mariadb(address, user, password, sql, *extra):
    return subprocess.run(["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address,
                           "-u", user, f"-p{password}", "-N", "-B", *extra, "-e", sql],
                          capture_output=True, text=True, timeout=60)


def lit(text):
    return "'" + text.replace("'", "''") + "'"


def wait_active(cloud, iid, user, timeout=90):
    deadline, seen = time.time() + timeout, None
    while time.time() < deadline:
        status, _, body = cloud.api("GET", f"/instances/{iid}", user=user)
        assert status == 200, body
        seen = body["instance"]
        if seen["status"] == "ACTIVE" and seen.get("operating_status") == "HEALTHY":
            return seen
        if seen["status"] == "ERROR":
            Path("/tmp/sealed-guest.log").write_text(cloud.guest_logs())
        assert seen["status"] != "ERROR", (seen.get("fault"), cloud.guest_logs()[-2000:])
        time.sleep(0.25)
    raise AssertionError(f"{iid} is {seen}")


class Inst:
    def __init__(self, cloud, iid, name, user):
        inst = wait_active(cloud, iid, user)
        self.id, self.name, self.tenant = iid, name, user
        self.ip = inst["ip"][0]
        self.dir = cloud.local / "instances" / self.id
        self.data = self.dir / "data"
        self.run = cloud.run_root / self.id
        self.guest_conf = self.dir / "guest.conf"
        self.os_user = pwd.getpwuid(self.data.stat().st_uid)


def make_tenant(cloud, name):
    """A member user in a project of its own (the same call as the harness's demo)."""
    cloud.passwords[name] = "p" + secrets.token_urlsafe(12)
    cloud.manage("user_create", name, name, "member", stdin=cloud.passwords[name] + "\n")


@pytest.fixture(scope="module")
def two(cloud):
    """A (project t1) and B (project demo) of each datastore, all four built at once."""
    cloud.register("postgresql", "15")
    make_tenant(cloud, "t1")
    specs = [("pga", "t1", "postgresql", "15"), ("pgb", "demo", "postgresql", "15"),
             ("mya", "t1", "mariadb", "10.11"), ("myb", "demo", "mariadb", "10.11")]
    ids = {}
    for name, user, ds, version in specs:
        ids[name] = cloud.cli_json("database", "instance", "create", name, "--flavor", "d2",
                                   "--size", "1", "--databases", "db" + name,
                                   "--users", f"u{name}:Pw-{name}-0", "--datastore", ds,
                                   "--datastore-version", version, "--is-public",
                                   user=user)["id"]
    got = {name: Inst(cloud, ids[name], name, user) for name, user, _, _ in specs}
    pgb, myb = got["pgb"], got["myb"]
    out = psql(pgb.ip, "upgb", "Pw-pgb-0", "dbpgb",
               f"CREATE TABLE s (v text); INSERT INTO s VALUES ({lit(SECRET)}); SELECT v FROM s")
    assert out.returncode == 0 and out.stdout.strip() == SECRET, out.stderr
    out = mariadb(myb.ip, "umyb", "Pw-myb-0",
                  f"CREATE TABLE dbmyb.s (v text); INSERT INTO dbmyb.s VALUES ({lit(SECRET)});"
                  " SELECT v FROM dbmyb.s")
    assert out.returncode == 0 and out.stdout.strip() == SECRET, out.stderr
    return got


def root_on(cloud, inst):
    status, _, body = cloud.api("POST", f"/instances/{inst.id}/root", user=inst.tenant)
    assert status == 200, body
    return body["user"]["password"]


def assert_b_unchanged_pg(cloud, b):
    out = psql(b.ip, "upgb", "Pw-pgb-0", "dbpgb", "SELECT v FROM s")
    assert out.returncode == 0 and out.stdout.strip() == SECRET, out.stderr
    users = cloud.api("GET", f"/instances/{b.id}/users", user="demo")[2]["users"]
    assert [u["name"] for u in users] == ["upgb"]
    assert cloud.api("GET", f"/instances/{b.id}/root", user="demo")[2]["rootEnabled"] is False


def assert_b_unchanged_mdb(cloud, b):
    out = mariadb(b.ip, "umyb", "Pw-myb-0", "SELECT v FROM dbmyb.s")
    assert out.returncode == 0 and out.stdout.strip() == SECRET, out.stderr
    users = cloud.api("GET", f"/instances/{b.id}/users", user="demo")[2]["users"]
    assert [u["name"] for u in users] == ["umyb"]
    assert cloud.api("GET", f"/instances/{b.id}/root", user="demo")[2]["rootEnabled"] is False
    assert not list(b.data.glob("data/pwn*")) and not list(b.run.glob("**/pwn*"))


# -- the machine's side --------------------------------------------------------------


def test_each_instance_runs_as_its_own_identity(cloud, two):
    ids = {name: i.os_user for name, i in two.items()}
    assert len({u.pw_uid for u in ids.values()}) == 4
    for name, inst in two.items():
        u = ids[name]
        assert u.pw_name == f"ct-{inst.id[:29]}" and u.pw_gecos == f"ctrove instance {inst.id}"
        assert u.pw_uid >= 70000 and u.pw_shell == "/usr/sbin/nologin"
        pidfile = (inst.data / "data" / "postmaster.pid" if name.startswith("pg")
                   else inst.run / "mysqld" / "mysqld.pid")
        pid = int(pidfile.read_text().split()[0])
        assert os.stat(f"/proc/{pid}").st_uid == u.pw_uid
        # The server's files are its own, 0700/0600; guest.conf (the RPC key,
        # the broker's URL) is root's alone; the run directories list nothing.
        for path in [inst.data, inst.data / "data"]:
            st = path.stat()
            assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (u.pw_uid, 0o700), path
        conf = inst.run / ("postgresql.conf" if name.startswith("pg") else "my.cnf")
        st = conf.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (u.pw_uid, 0o600)
        st = inst.guest_conf.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600)
        assert stat.S_IMODE(inst.run.stat().st_mode) == 0o711
        st = (inst.run / "credentials").stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o700)
    assert stat.S_IMODE(cloud.run_root.stat().st_mode) == 0o711
    # The shared templates are root's: instances copy them, never read them.
    for tmpl in (cloud.local / "templates").iterdir():
        st = tmpl.stat()
        assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) & 0o007 == 0, tmpl


# -- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_root(cloud, two):
    return root_on(cloud, two["pga"])


def program(a, pw, cmd):
    """Run cmd from inside A's server (COPY FROM PROGRAM, as A's superuser):
    its output and exit status."""
    # CSV with control characters as delimiter and quote: any output is one column.
    sql = (f"CREATE TEMP TABLE o (line text); COPY o FROM PROGRAM {lit(cmd + ' 2>&1; echo rc=$?')}"
           " WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02');"
           " SELECT coalesce(string_agg(line, E'\\n'), '') FROM o")
    out = psql(a.ip, "root", pw, "postgres", sql)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_pg_copy_to_program_runs_as_a_own_identity(cloud, two, pg_root):
    a, b = two["pga"], two["pgb"]
    assert program(a, pg_root, "id -un") == f"{a.os_user.pw_name}\nrc=0"
    out = psql(a.ip, "root", pg_root, "postgres",
               "COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'")
    assert out.returncode == 0, out.stderr
    # A program started there reaches A's own data over TCP as A's user: the
    # probes below would see a success.
    own = program(a, pg_root, f"PGPASSWORD=Pw-pga-0 psql -h {a.ip} -U upga -d dbpga -tAc 'SELECT 42'")
    assert own == "42\nrc=0"
    assert b.os_user.pw_name not in program(a, pg_root, "id")


def test_pg_cannot_log_in_to_b_over_its_socket(cloud, two, pg_root):
    a, b = two["pga"], two["pgb"]
    alter = f"ALTER ROLE upgb PASSWORD {lit('pwned-1')}"
    for user in ("postgres", "os_admin", "upgb"):
        out = program(a, pg_root, f"psql -h {b.run}/socket -U {user} -d postgres -c \"{alter}\"")
        assert "rc=0" not in out and "ALTER ROLE" not in out, out
        assert "Permission denied" in out or "failed" in out, out
    # Not even A's own socket admits what A's server starts: only the agent.
    out = program(a, pg_root, f"psql -h {a.run}/socket -U postgres -d postgres -tAc 'SELECT 1'")
    assert "rc=0" not in out, out
    assert psql(b.ip, "upgb", "pwned-1", "dbpgb", "SELECT 1").returncode != 0
    assert_b_unchanged_pg(cloud, b)


def test_pg_cannot_read_or_write_b_files(cloud, two, pg_root):
    a, b = two["pga"], two["pgb"]
    # Own data: readable and writable (Trove-strong root).
    assert program(a, pg_root, f"cat {a.data}/data/PG_VERSION") == "15\nrc=0"
    assert program(a, pg_root, f"touch {a.data}/pwn-own") == "rc=0"
    assert (a.data / "pwn-own").stat().st_uid == a.os_user.pw_uid
    (a.data / "pwn-own").unlink()
    for path in (f"{b.data}/data/PG_VERSION", f"{b.data}/data/global/pg_control",
                 str(b.guest_conf), str(a.guest_conf), f"{b.run}/credentials/os_admin.cnf",
                 f"{b.run}/postgresql.conf", f"{b.run}/pg_hba.conf"):
        out = program(a, pg_root, f"cat {path}")
        assert "Permission denied" in out and "rc=1" in out, (path, out)
        assert "instance_rpc_encr_key" not in out and "password" not in out
    for d in (b.data, b.run, cloud.run_root, cloud.local / "instances"):
        out = program(a, pg_root, f"ls {d}")
        assert "Permission denied" in out and "rc=2" in out, (d, out)
    for path in (f"{b.data}/pwn", f"{b.data}/data/pwn", f"{b.run}/pwn", f"{b.run}/socket/pwn"):
        out = program(a, pg_root, f"touch {path}")
        assert "Permission denied" in out, (path, out)
    assert not list(b.data.glob("**/pwn")) and not list(b.run.glob("**/pwn"))
    # The control plane's state_path (0711, what ctrove keeps there 0600: the
    # RPC master keys, the token key) and this harness's config and database.
    for path in (cloud.local / "rpc_master_keys", cloud.local / "token.key", cloud.conf,
                 cloud.root / "trove.sqlite"):
        assert path.exists(), path
        out = program(a, pg_root, f"cat {path}")
        assert "Permission denied" in out and "rc=1" in out, (path, out)
    out = program(a, pg_root, f"ls {cloud.local}")
    assert "Permission denied" in out, out
    assert_b_unchanged_pg(cloud, b)


def test_pg_cannot_signal_b_server(cloud, two, pg_root):
    a, b = two["pga"], two["pgb"]
    a_pid = int((a.data / "data" / "postmaster.pid").read_text().split()[0])
    b_pid = int((b.data / "data" / "postmaster.pid").read_text().split()[0])
    assert program(a, pg_root, f"kill -0 {a_pid}") == "rc=0"
    out = program(a, pg_root, f"kill -TERM {b_pid}")
    assert "not permitted" in out and "rc=0" not in out, out
    time.sleep(0.3)
    assert os.stat(f"/proc/{b_pid}").st_uid == b.os_user.pw_uid
    assert_b_unchanged_pg(cloud, b)


def test_pg_read_file_and_ls_dir_stop_at_a(cloud, two, pg_root):
    a, b = two["pga"], two["pgb"]
    own = psql(a.ip, "root", pg_root, "postgres",
               f"SELECT pg_read_file({lit(str(a.data / 'data' / 'PG_VERSION'))})")
    assert own.returncode == 0 and own.stdout.strip() == "15", own.stderr
    own = psql(a.ip, "root", pg_root, "postgres",
               f"SELECT count(*) > 0 FROM pg_ls_dir({lit(str(a.data / 'data'))})")
    assert own.stdout.strip() == "t", own.stderr
    for sql in (f"SELECT pg_read_file({lit(str(b.data / 'data' / 'PG_VERSION'))})",
                f"SELECT pg_read_binary_file({lit(str(b.data / 'data' / 'global' / 'pg_control'))})",
                f"SELECT pg_read_file({lit(str(b.guest_conf))})",
                f"SELECT pg_ls_dir({lit(str(b.data / 'data'))})",
                f"SELECT pg_ls_dir({lit(str(b.run))})",
                f"SELECT pg_ls_dir({lit(str(cloud.run_root))})",
                f"COPY (SELECT 'x') TO {lit(str(b.data / 'data' / 'pwn'))}"):
        out = psql(a.ip, "root", pg_root, "postgres", sql)
        assert out.returncode != 0 and "Permission denied" in out.stderr, (sql, out)
    assert_b_unchanged_pg(cloud, b)


# -- MariaDB -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def my_root(cloud, two):
    return root_on(cloud, two["mya"])


def test_mdb_into_outfile_only_into_a_own_directory(cloud, two, my_root):
    a, b = two["mya"], two["myb"]
    probe = a.data / "files" / "probe"
    out = mariadb(a.ip, "root", my_root, f"SELECT 'own' INTO OUTFILE {lit(str(probe))}")
    assert out.returncode == 0, out.stderr
    assert probe.read_text() == "own\n" and probe.stat().st_uid == a.os_user.pw_uid
    for target in (b.data / "data" / "pwn", b.data / "files" / "pwn", b.run / "pwn",
                   b.run / "mysqld" / "pwn", a.data / "data" / "pwn", Path("/tmp/pwn-ctrove")):
        out = mariadb(a.ip, "root", my_root, f"SELECT 'x' INTO OUTFILE {lit(str(target))}")
        assert out.returncode != 0 and "secure-file-priv" in out.stderr, (target, out)
        assert not target.exists()
    out = mariadb(a.ip, "root", my_root,
                  f"SELECT 'x' INTO DUMPFILE {lit(str(b.data / 'data' / 'pwn'))}")
    assert out.returncode != 0
    assert_b_unchanged_mdb(cloud, b)


def test_mdb_load_file_only_from_a_own_directory(cloud, two, my_root):
    a, b = two["mya"], two["myb"]
    probe = a.data / "files" / "probe2"
    assert mariadb(a.ip, "root", my_root,
                   f"SELECT 'mine' INTO OUTFILE {lit(str(probe))}").returncode == 0
    own = mariadb(a.ip, "root", my_root, f"SELECT LOAD_FILE({lit(str(probe))})")
    assert own.returncode == 0 and own.stdout.strip() == "mine\\n", own
    for path in (b.guest_conf, b.run / "my.cnf", b.run / "credentials" / "os_admin.cnf",
                 b.data / "data" / "mysql" / "global_priv.MAD", Path("/etc/shadow")):
        out = mariadb(a.ip, "root", my_root, f"SELECT LOAD_FILE({lit(str(path))}) IS NULL")
        assert out.returncode == 0 and out.stdout.strip() == "1", (path, out)
        out = mariadb(a.ip, "root", my_root,
                      f"CREATE TABLE IF NOT EXISTS dbmya.l (v text); "
                      f"LOAD DATA INFILE {lit(str(path))} INTO TABLE dbmya.l")
        assert out.returncode != 0 and "secure-file-priv" in out.stderr, (path, out)
    assert_b_unchanged_mdb(cloud, b)


def test_mdb_no_local_infile(cloud, two, my_root, tmp_path):
    a, b = two["mya"], two["myb"]
    local = tmp_path / "rows.txt"
    local.write_text("x\n")
    out = mariadb(a.ip, "root", my_root,
                  f"CREATE TABLE IF NOT EXISTS dbmya.l (v text); "
                  f"LOAD DATA LOCAL INFILE {lit(str(local))} INTO TABLE dbmya.l",
                  "--local-infile=1")
    assert out.returncode != 0, out
    assert mariadb(a.ip, "root", my_root, "SELECT @@local_infile").stdout.strip() == "0"
    assert mariadb(a.ip, "root", my_root, "SELECT count(*) FROM dbmya.l").stdout.strip() == "0"
    assert_b_unchanged_mdb(cloud, b)


def test_mdb_install_soname_only_from_the_plugin_dir(cloud, two, my_root):
    a, b = two["mya"], two["myb"]
    lib = a.data / "files" / "evil.so"
    assert mariadb(a.ip, "root", my_root,
                   f"SELECT 'not a library' INTO DUMPFILE {lit(str(lib))}").returncode == 0
    for soname in (str(lib), f"../../../..{lib}", "evil"):
        out = mariadb(a.ip, "root", my_root, f"INSTALL SONAME {lit(soname)}")
        assert out.returncode != 0, (soname, out)
    plugins = mariadb(a.ip, "root", my_root, "SELECT count(*) FROM mysql.plugin")
    assert plugins.stdout.strip() == "0", plugins
    # Nor is the admin account reachable from anywhere but A's own socket.
    out = mariadb(a.ip, "root", my_root,
                  "SELECT count(*) FROM mysql.user WHERE user = 'os_admin' AND host <> 'localhost'")
    assert out.stdout.strip() == "0"
    assert_b_unchanged_mdb(cloud, b)


def living(uid):
    """Processes of uid that are not zombies (a killed process's zombie waits
    for whoever adopted it: nothing of it runs or holds anything)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid and \
                        (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(entry.name)
            except (OSError, IndexError):
                pass
    return found


def test_delete_frees_the_identity(cloud, two, pg_root, my_root):
    """Last: the users go with the instances, with what they left in /tmp."""
    a = two["pga"]
    assert program(a, pg_root, "touch /tmp/ctrove-sealed-left-$(id -u)") == "rc=0"
    left = Path(f"/tmp/ctrove-sealed-left-{a.os_user.pw_uid}")
    assert left.exists()
    for name, inst in two.items():
        cloud.cli("database", "instance", "delete", name, user=inst.tenant)
    for inst in two.values():
        deadline = time.time() + 60
        while cloud.api("GET", f"/instances/{inst.id}", user=inst.tenant)[0] != 404:
            assert time.time() < deadline, f"{inst.name} is not deleted"
            time.sleep(0.2)
    passwd = Path("/etc/passwd").read_text()
    for inst in two.values():
        assert f"ctrove instance {inst.id}" not in passwd
        assert not living(inst.os_user.pw_uid)
    assert not left.exists()
