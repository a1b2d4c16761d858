"""Configuration groups end to end (issue 13), MariaDB and PostgreSQL, with the
real CLI: groups are created, checked against the version's rules, attached
at create and to running instances, applied live where the server allows it
and after a restart where it does not (RESTART_REQUIRED), followed by every
attached instance when they change, and detached back to the flavor's values.
Every bad input answers a clear 4xx and changes nothing."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "etc" / "validation-rules"
PASSWORD = "Passw0rd"


def mariadb(address, sql):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", "userA",
           f"-p{PASSWORD}", "-N", "-B", "test", "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def psql(address, sql):
    env = dict(os.environ, PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="5")
    return subprocess.run(["psql", "-h", address, "-U", "userA", "-d", "test", "-tA",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=30)


def maria_var(address, name):
    out = mariadb(address, f"SHOW GLOBAL VARIABLES LIKE '{name}'")
    assert out.returncode == 0, out.stderr
    return out.stdout.split("\t")[1].strip()


def pg_var(address, name):
    out = psql(address, f"SHOW {name}")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def eventually(read, wanted, timeout=20):
    deadline = time.time() + timeout
    seen = None
    while time.time() < deadline:
        seen = read()
        if seen == wanted:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{seen!r}, not {wanted!r} after {timeout} s")


def detail(cloud, name):
    body = cloud.api("GET", "/instances")[2]
    found = [i for i in body["instances"] if i["name"] == name]
    assert found, body
    return cloud.api("GET", f"/instances/{found[0]['id']}")[2]["instance"]


def groups(cloud):
    return cloud.api("GET", "/configurations")[2]["configurations"]


def create_instance(cloud, name, datastore, version, *extra):
    cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore",
              datastore, "--datastore-version", version, *extra)
    cloud.wait_status(name, "ACTIVE", operating="HEALTHY")
    return detail(cloud, name)


def wait_restart_required(cloud, name):
    return cloud.wait_status(name, "RESTART_REQUIRED", timeout=30)


def restart(cloud, name):
    cloud.cli("database", "instance", "restart", name)
    cloud.wait_status(name, "ACTIVE", operating="HEALTHY")


@pytest.fixture(scope="module", autouse=True)
def registered(cloud):
    cloud.register("postgresql", "15")
    cloud.manage("db_load_datastore_config_parameters", "mariadb", "10.11",
                 str(RULES / "mariadb-10.11.json"))
    cloud.manage("db_load_datastore_config_parameters", "postgresql", "15",
                 str(RULES / "postgresql-15.json"))


# --- bad input: a clear 4xx, nothing created or changed ----------------------

BAD_VALUES = [
    ({"nosuch": 1}, 422, "The configuration parameter nosuch is not supported for this "
     "datastore: mariadb 10.11."),
    ({"shared_buffers": 128}, 422, "shared_buffers is not supported"),
    ({"max_connections": "many"}, 422, "max_connections is not of type integer."),
    ({"max_connections": 1.5}, 422, "is not of type integer."),
    ({"max_connections": 9}, 422, "less than the minimum allowed: 10"),
    ({"max_connections": 100001}, 422, "greater than the maximum allowed: 100000"),
    ({"autocommit": 1}, 422, "autocommit is not of type boolean."),
    ({"sql_mode": 7}, 422, "sql_mode is not of type string."),
    ({"sql_mode": "ANSI\ninit_file=/tmp/x"}, 422, "may not contain"),
    ({"sql_mode": "ANSI\rx"}, 422, "may not contain"),
    ({"sql_mode": "ANSI\" init_file=\"/tmp/x"}, 422, "may not contain"),
    ({"sql_mode": "ANSI' x"}, 422, "may not contain"),
    ({"sql_mode": "ANSI # x"}, 422, "may not contain"),
    ({"sql_mode": "ANSI; SET GLOBAL x=1"}, 422, "may not contain"),
    ({"sql_mode": "ANSI\\"}, 422, "may not contain"),
]


@pytest.mark.parametrize("values,status,message", BAD_VALUES)
def test_bad_values_are_refused(cloud, values, status, message):
    before = groups(cloud)
    code, _, body = cloud.api("POST", "/configurations", {"configuration": {
        "name": "bad", "values": values,
        "datastore": {"type": "mariadb", "version": "10.11"}}})
    assert code == status, body
    assert message in json.dumps(body), body
    assert groups(cloud) == before


@pytest.mark.parametrize("body,status,message", [
    ({"configuration": {"values": {}}}, 400, "'name' is a required property"),
    ({"configuration": {"name": "x"}}, 400, "'values' is a required property"),
    ({"configuration": {"name": "x", "values": [1]}}, 400, "is not of type 'object'"),
    ({"configuration": {"name": "", "values": {}}}, 400, "Validation error"),
    ({"configuration": {"name": "x" * 65, "values": {}}}, 400, "longer than 64"),
    ({"configuration": {"name": "x", "values": {},
                        "datastore": {"type": "nosuch", "version": "1"}}}, 404,
     "Datastore 'nosuch' cannot be found."),
    ({"configuration": {"name": "x", "values": {},
                        "datastore": {"type": "mariadb", "version": "9.9"}}}, 400,
     "Datastore version '9.9' cannot be found."),
    ({"configuration": {"name": "x", "values": {"max_connections": 50}}}, 400,
     "Please specify datastore."),
    ("not json at all", 400, ""),
])
def test_bad_bodies_are_refused(cloud, body, status, message):
    before = groups(cloud)
    code, _, answer = cloud.api("POST", "/configurations", body)
    assert code == status, answer
    assert message in json.dumps(answer), answer
    assert groups(cloud) == before


def test_unknown_group_is_404(cloud):
    code, _, body = cloud.api("GET", "/configurations/00000000-0000-0000-0000-000000000000")
    assert code == 404
    assert body["itemNotFound"]["message"] == (
        "Configuration group with ID 00000000-0000-0000-0000-000000000000 could not be found.")
    for method in ("PUT", "PATCH", "DELETE"):
        code, _, _ = cloud.api(method, "/configurations/00000000-0000-0000-0000-000000000000",
                               {"configuration": {"values": {}}})
        assert code == 404, method
    proc = cloud.cli("database", "configuration", "show", "nosuch", check=False)
    assert proc.returncode != 0


def test_create_with_unknown_group_creates_nothing(cloud):
    before = cloud.api("GET", "/instances")[2]["instances"]
    proc = cloud.cli("database", "instance", "create", "never", "--flavor", "d2", "--size",
                     "1", "--datastore", "mariadb", "--datastore-version", "10.11",
                     "--configuration", "00000000-0000-0000-0000-000000000000", check=False)
    assert proc.returncode != 0
    assert "could not be found" in proc.stderr
    assert cloud.api("GET", "/instances")[2]["instances"] == before


# --- MariaDB -------------------------------------------------------------------

STATE = {}


def test_mariadb_group_create_list_show(cloud):
    made = cloud.cli_json("database", "configuration", "create", "mgroup",
                          '{"max_connections": 150, "back_log": 77}', "--datastore",
                          "mariadb", "--datastore-version", "10.11", "--description",
                          "for the e2e")
    STATE["mgroup"] = made["id"]
    assert made["name"] == "mgroup"
    listed = cloud.cli_json("database", "configuration", "list")
    assert [g["ID"] for g in listed if g["Name"] == "mgroup"] == [made["id"]]
    shown = cloud.cli_json("database", "configuration", "show", "mgroup")
    assert json.loads(shown["values"]) if isinstance(shown["values"], str) else shown["values"]
    body = cloud.api("GET", f"/configurations/{made['id']}")[2]["configuration"]
    assert body["values"] == {"max_connections": 150, "back_log": 77}
    assert body["datastore_name"] == "mariadb"
    assert body["datastore_version_name"] == "10.11"
    assert body["instance_count"] == 0
    assert body["description"] == "for the e2e"


def test_groups_page_by_id(cloud):
    made = [cloud.api("POST", "/configurations", {"configuration": {
        "name": f"page{i}", "values": {"wait_timeout": 100 + i},
        "datastore": {"type": "mariadb", "version": "10.11"}}})[2]["configuration"]["id"]
        for i in range(3)]
    every = sorted(g["id"] for g in groups(cloud))
    seen, marker = [], None
    for _ in range(10):
        query = "?limit=2" + (f"&marker={marker}" if marker else "")
        code, _, body = cloud.api("GET", f"/configurations{query}")
        assert code == 200, body
        assert len(body["configurations"]) <= 2
        seen += [g["id"] for g in body["configurations"]]
        if "links" not in body:
            break
        href = body["links"][0]["href"]
        assert body["links"][0]["rel"] == "next" and "limit=2" in href
        marker = href.split("marker=")[1]
    assert seen == every
    assert cloud.api("GET", "/configurations?limit=0")[0] == 400
    for cid in made:
        assert cloud.api("DELETE", f"/configurations/{cid}")[0] == 202
    assert sorted(g["id"] for g in groups(cloud)) == sorted(set(every) - set(made))


def test_groups_belong_to_their_project(cloud):
    cloud.cli("project", "create", "cfg-other")
    cloud.passwords["cfg-user"] = "Cfg-Passw0rd-1"
    cloud.projects["cfg-user"] = "cfg-other"
    cloud.cli("user", "create", "cfg-user", "--project", "cfg-other", "--password",
              "Cfg-Passw0rd-1")
    cloud.cli("role", "add", "--project", "cfg-other", "--user", "cfg-user", "member")
    cid = STATE["mgroup"]
    assert cloud.api("GET", "/configurations", user="cfg-user")[2]["configurations"] == []
    for method, path, body in (("GET", f"/configurations/{cid}", None),
                               ("GET", f"/configurations/{cid}/instances", None),
                               ("PATCH", f"/configurations/{cid}",
                                {"configuration": {"values": {"max_connections": 11}}}),
                               ("PUT", f"/configurations/{cid}",
                                {"configuration": {"values": {}}}),
                               ("DELETE", f"/configurations/{cid}", None)):
        code, _, answer = cloud.api(method, path, body, user="cfg-user")
        assert code == 404, (method, path, answer)
    assert cloud.api("GET", f"/configurations/{cid}")[2]["configuration"]["values"] == {
        "max_connections": 150, "back_log": 77}
    # The admin lists every project's groups.
    code, _, own = cloud.api("POST", "/configurations", {"configuration": {
        "name": "theirs", "values": {}, "datastore": {"type": "mariadb", "version": "10.11"}}},
        user="cfg-user")
    assert code == 200, own
    assert own["configuration"]["id"] in {g["id"] for g in groups(cloud)}
    assert cloud.api("DELETE", f"/configurations/{own['configuration']['id']}",
                     user="cfg-user")[0] == 202


@pytest.mark.parametrize("method,body,status,message", [
    ("PUT", {"configuration": {"values": {}, "foo": 1}}, 400, "'foo' was unexpected"),
    ("PATCH", {"configuration": {"name": "x"}}, 400, "'name' was unexpected"),
    ("PATCH", {"configuration": {}}, 400, "'values' is a required property"),
    ("PATCH", {"configuration": {"values": {"nosuch": 1}}}, 422, "nosuch is not supported"),
    ("PUT", {"configuration": {"values": {"back_log": 70000}}}, 422, "maximum allowed: 65535"),
    ("PUT", {"configuration": {"name": "", "values": {}}}, 400, "Validation error"),
    ("PUT", {"nothing": {}}, 400, "'configuration' is a required property"),
])
def test_bad_changes_change_nothing(cloud, method, body, status, message):
    path = f"/configurations/{STATE['mgroup']}"
    before = cloud.api("GET", path)[2]
    code, _, answer = cloud.api(method, path, body)
    assert code == status, answer
    assert message in json.dumps(answer), answer
    after = cloud.api("GET", path)[2]
    assert after == before


def test_mariadb_create_with_group_starts_with_its_values(cloud):
    inst = create_instance(cloud, "m1", "mariadb", "10.11", "--configuration", STATE["mgroup"])
    assert inst["configuration"]["id"] == STATE["mgroup"]
    assert inst["configuration"]["name"] == "mgroup"
    ip = inst["ip"][0]
    assert maria_var(ip, "max_connections") == "150"
    assert maria_var(ip, "back_log") == "77"
    # The flavor's memory settings stay: d2 has 512 MB, so 150 MB of buffer pool.
    assert maria_var(ip, "innodb_buffer_pool_size") == str(150 * 1024 * 1024)


def test_mariadb_attach_applies_live_and_asks_for_restart(cloud):
    inst = create_instance(cloud, "m2", "mariadb", "10.11")
    ip = inst["ip"][0]
    assert maria_var(ip, "max_connections") == "100"  # the flavor's
    back_log = maria_var(ip, "back_log")
    assert back_log != "77"
    # Refused: another datastore's group, an unknown group, a bad id.
    pg = cloud.cli_json("database", "configuration", "create", "pgwrong", '{"work_mem": 2048}',
                        "--datastore", "postgresql", "--datastore-version", "15")
    for ref, status in ((pg["id"], 400), ("00000000-0000-0000-0000-000000000000", 404),
                        ("not-a-uuid", 400)):
        code, _, body = cloud.api("PUT", f"/instances/{inst['id']}",
                                  {"instance": {"configuration": ref}})
        assert code == status, body
    assert "configuration" not in detail(cloud, "m2")
    cloud.cli("database", "configuration", "delete", "pgwrong")

    cloud.cli("database", "configuration", "attach", "m2", STATE["mgroup"])
    wait_restart_required(cloud, "m2")
    assert maria_var(ip, "max_connections") == "150"  # live
    assert maria_var(ip, "back_log") == back_log  # waits for the restart
    # Attaching again is refused while one is attached.
    code, _, body = cloud.api("PUT", f"/instances/{inst['id']}",
                              {"instance": {"configuration": STATE["mgroup"]}})
    assert code == 400
    assert "already has a Configuration Group attached" in body["badRequest"]["message"]
    restart(cloud, "m2")
    assert maria_var(ip, "back_log") == "77"
    assert maria_var(ip, "max_connections") == "150"
    attached = cloud.cli_json("database", "configuration", "instances", "mgroup")
    assert {i["Name"] for i in attached} == {"m1", "m2"}
    default = cloud.cli_json("database", "configuration", "default", "m2")
    values = {row["Name"]: row["Value"] for row in default} if isinstance(default, list) \
        else default
    assert str(values["max_connections"]) == "150"
    assert values["innodb_buffer_pool_size"] == "150M"


def test_mariadb_group_change_follows_to_every_instance(cloud):
    ips = [detail(cloud, n)["ip"][0] for n in ("m1", "m2")]
    # parameter set and set send the group as given: an id (spec §10).
    cloud.cli("database", "configuration", "parameter", "set", STATE["mgroup"],
              '{"max_connections": 175}')
    for ip in ips:
        eventually(lambda: maria_var(ip, "max_connections"), "175")
    for name in ("m1", "m2"):
        assert detail(cloud, name)["status"] == "ACTIVE"
    body = cloud.api("GET", f"/configurations/{STATE['mgroup']}")[2]["configuration"]
    assert body["values"] == {"max_connections": 175, "back_log": 77}
    assert body["instance_count"] == 2
    # A bad change is refused and changes nothing.
    proc = cloud.cli("database", "configuration", "parameter", "set", STATE["mgroup"],
                     '{"max_connections": 5}', check=False)
    assert proc.returncode != 0 and "minimum allowed" in proc.stderr
    assert cloud.api("GET", f"/configurations/{STATE['mgroup']}")[2]["configuration"][
        "values"] == {"max_connections": 175, "back_log": 77}


def test_mariadb_failed_apply_is_that_instance_fault(cloud):
    m1 = detail(cloud, "m1")
    m2 = detail(cloud, "m2")
    pid = subprocess.run(["pgrep", "-f", f"mariadbd.*{cloud.run_root}/{m1['id']}"],
                         capture_output=True, text=True).stdout.split()
    assert pid
    os.kill(int(pid[0]), signal.SIGKILL)
    cloud.wait_status("m1", "ACTIVE", operating="SHUTDOWN", timeout=20)
    cloud.cli("database", "configuration", "parameter", "set", STATE["mgroup"],
              '{"max_connections": 180}')
    eventually(lambda: maria_var(m2["ip"][0], "max_connections"), "180")
    eventually(lambda: "fault" in detail(cloud, "m1"), True)
    assert "not running" in detail(cloud, "m1")["fault"]["message"]
    assert "fault" not in detail(cloud, "m2")
    # The value was written: the restart brings it.
    restart(cloud, "m1")
    assert maria_var(m1["ip"][0], "max_connections") == "180"


def test_mariadb_delete_attached_group_is_refused(cloud):
    proc = cloud.cli("database", "configuration", "delete", "mgroup", check=False)
    assert proc.returncode != 0
    assert "cannot be deleted if it is associated" in proc.stderr
    assert any(g["id"] == STATE["mgroup"] for g in groups(cloud))


def test_mariadb_detach_restores_the_flavor_values(cloud):
    ip = detail(cloud, "m2")["ip"][0]
    cloud.cli("database", "configuration", "detach", "m2")
    wait_restart_required(cloud, "m2")  # back_log needs a restart to go back
    assert maria_var(ip, "max_connections") == "100"
    assert "configuration" not in detail(cloud, "m2")
    restart(cloud, "m2")
    assert maria_var(ip, "back_log") != "77"
    assert maria_var(ip, "max_connections") == "100"
    # Detaching what is not attached changes nothing.
    cloud.cli("database", "configuration", "detach", "m2")
    assert detail(cloud, "m2")["status"] == "ACTIVE"


def test_mariadb_instance_update_attaches_and_removes(cloud):
    dyn = cloud.cli_json("database", "configuration", "create", "mdyn",
                         '{"wait_timeout": 777, "sql_mode": "ANSI_QUOTES,STRICT_ALL_TABLES"}',
                         "--datastore", "mariadb", "--datastore-version", "10.11")
    m2 = detail(cloud, "m2")
    ip = m2["ip"][0]
    cloud.cli("database", "instance", "update", "m2", "--configuration", dyn["id"])
    eventually(lambda: maria_var(ip, "wait_timeout"), "777")
    eventually(lambda: maria_var(ip, "sql_mode"), "ANSI_QUOTES,STRICT_ALL_TABLES")
    cloud.wait_status("m2", "ACTIVE")
    # Written quoted into the override file, whatever the value says.
    text = (cloud.run_root / m2["id"] / "conf.d" / "20-user-001-common.cnf").read_text()
    assert 'sql_mode = "ANSI_QUOTES,STRICT_ALL_TABLES"' in text
    # PUT replaces the whole set; the name changes too.
    cloud.cli("database", "configuration", "set", dyn["id"], '{"wait_timeout": 555}',
              "--name", "mdyn2")
    eventually(lambda: maria_var(ip, "wait_timeout"), "555")
    eventually(lambda: maria_var(ip, "sql_mode"), maria_var(detail(cloud, "m1")["ip"][0],
                                                            "sql_mode"))
    assert cloud.api("GET", f"/configurations/{dyn['id']}")[2]["configuration"]["name"] == "mdyn2"
    cloud.cli("database", "instance", "update", "m2", "--remove-configuration")
    eventually(lambda: maria_var(ip, "wait_timeout"), "120")  # the base config's
    cloud.wait_status("m2", "ACTIVE")
    assert not (cloud.run_root / m2["id"] / "conf.d" / "20-user-001-common.cnf").exists()
    cloud.cli("database", "configuration", "delete", dyn["id"])
    assert all(g["id"] != dyn["id"] for g in groups(cloud))


# --- PostgreSQL ----------------------------------------------------------------


def test_postgresql_group_attach_apply_restart_change_detach(cloud):
    made = cloud.cli_json("database", "configuration", "create", "pgroup",
                          '{"work_mem": 8192, "max_connections": 60, '
                          '"log_line_prefix": "include_dir = x"}',
                          "--datastore", "postgresql", "--datastore-version", "15")
    p1 = create_instance(cloud, "p1", "postgresql", "15", "--configuration", made["id"])
    ip1 = p1["ip"][0]
    assert pg_var(ip1, "work_mem") == "8MB"
    assert pg_var(ip1, "max_connections") == "60"
    # Quoted: a value that spells a directive stays a value.
    assert pg_var(ip1, "log_line_prefix") == "include_dir = x"
    assert pg_var(ip1, "shared_buffers") == "128MB"  # the flavor's, kept

    p2 = create_instance(cloud, "p2", "postgresql", "15")
    ip2 = p2["ip"][0]
    base_work_mem = pg_var(ip2, "work_mem")
    assert pg_var(ip2, "max_connections") == "100"
    # A MariaDB group does not go on a PostgreSQL instance.
    mg = cloud.cli_json("database", "configuration", "create", "mwrong",
                        '{"max_connections": 50}', "--datastore", "mariadb",
                        "--datastore-version", "10.11")
    code, _, body = cloud.api("PUT", f"/instances/{p2['id']}",
                              {"instance": {"configuration": mg["id"]}})
    assert code == 400 and "does not match" in body["badRequest"]["message"]
    cloud.cli("database", "configuration", "delete", "mwrong")

    cloud.cli("database", "configuration", "attach", "p2", made["id"])
    wait_restart_required(cloud, "p2")
    assert pg_var(ip2, "work_mem") == "8MB"
    assert pg_var(ip2, "max_connections") == "100"
    restart(cloud, "p2")
    assert pg_var(ip2, "max_connections") == "60"

    cloud.cli("database", "configuration", "parameter", "set", made["id"],
              '{"work_mem": 16384}')
    for ip in (ip1, ip2):
        eventually(lambda: pg_var(ip, "work_mem"), "16MB")
    code, _, body = cloud.api("PATCH", f"/configurations/{made['id']}",
                              {"configuration": {"values": {"work_mem": 10}}})
    assert code == 422 and "minimum allowed: 64" in body["unprocessableEntity"]["message"]
    code, _, body = cloud.api("PATCH", f"/configurations/{made['id']}",
                              {"configuration": {"values": {"log_line_prefix": "a'\nb"}}})
    assert code == 422
    assert pg_var(ip1, "work_mem") == "16MB"

    cloud.cli("database", "instance", "update", "p2", "--remove-configuration")
    wait_restart_required(cloud, "p2")
    assert pg_var(ip2, "work_mem") == base_work_mem
    restart(cloud, "p2")
    assert pg_var(ip2, "max_connections") == "100"
    assert {i["Name"] for i in cloud.cli_json("database", "configuration", "instances",
                                              "pgroup")} == {"p1"}


def test_cleanup_deletes_instances_then_groups(cloud):
    for name in ("m1", "m2", "p1", "p2"):
        iid = detail(cloud, name)["id"]
        cloud.cli("database", "instance", "delete", name)
        assert cloud.wait_deleted(iid, timeout=60)
    for name in ("mgroup", "pgroup"):
        cloud.cli("database", "configuration", "delete", name)
    assert groups(cloud) == []
