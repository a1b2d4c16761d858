"""Database logs end to end (issue 14), MariaDB and PostgreSQL, with the real
CLI: `openstack database log list/show/set/save/tail`. The slow-query log is
enabled on the running server, a slow query lands in it, publish copies it to
the backup store and `log save` / `log tail` read it back unchanged through
python-swiftclient, which finds ctrove's read-only object-store endpoint in the
embedded identity's catalog. Bad input answers a clear 4xx and changes
nothing; a project never reads another project's published logs."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest

PASSWORD = "Passw0rd"
MARKER = "ctrove_slow_marker_4242"


def mariadb(address, sql):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", "userA",
           f"-p{PASSWORD}", "-N", "-B", "test", "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def psql(address, sql):
    env = dict(os.environ, PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="5")
    return subprocess.run(["psql", "-h", address, "-U", "userA", "-d", "test", "-tA",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=60)


def raw(cloud, method, path, token):
    """(status, headers, bytes) of one request outside the Trove API."""
    req = urllib.request.Request(cloud.url + path, method=method)
    req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def create(cloud, name, datastore, version):
    cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore",
              datastore, "--datastore-version", version, "--is-public",
              "--allowed-cidr", "127.0.0.0/8")
    inst = cloud.wait_status(name, "ACTIVE", timeout=120, operating="HEALTHY")
    detail = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]
    return detail["id"], detail["ip"][0]


def logs_by_name(cloud, iid, user="admin"):
    return {log["Name"]: log for log in cloud.cli_json("database", "log", "list", iid,
                                                       user=user)}


def log_set(cloud, iid, name, *flags):
    return cloud.cli_json("database", "log", "set", iid, name, *flags)


@pytest.fixture(scope="module")
def maria(cloud):
    return create(cloud, "logs-maria", "mariadb", "10.11")


@pytest.fixture(scope="module")
def pg(cloud):
    cloud.register("postgresql", "15")
    return create(cloud, "logs-pg", "postgresql", "15")


def test_list_shows_error_slow_query_and_general(cloud, maria):
    iid, _ = maria
    logs = logs_by_name(cloud, iid)
    assert set(logs) == {"error", "slow_query", "general"}, logs
    assert logs["error"]["Type"] == "SYS"
    assert logs["error"]["Status"] in ("Ready", "Enabled"), logs["error"]
    assert logs["slow_query"]["Type"] == "USER"
    assert logs["slow_query"]["Status"] == "Disabled"
    assert logs["slow_query"]["Container"] == "None"
    shown = cloud.cli_json("database", "log", "show", iid, "slow_query")
    assert shown["name"] == "slow_query" and shown["status"] == "Disabled", shown
    assert shown["metafile"] == f"{iid}/mariadb-slow_query_metafile"


def test_slow_query_enabled_live_published_saved_and_tailed(cloud, maria, tmp_path):
    iid, address = maria
    enabled = log_set(cloud, iid, "slow_query", "--enable")
    assert enabled["status"] in ("Enabled", "Ready"), enabled
    out = mariadb(address, "SELECT @@global.slow_query_log, @@global.long_query_time")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1.000000"], out.stdout
    out = mariadb(address, f"SELECT SLEEP(1.3), '{MARKER}'")
    assert out.returncode == 0, out.stderr

    ready = cloud.cli_json("database", "log", "show", iid, "slow_query")
    assert ready["status"] == "Ready" and ready["pending"] > 0, ready
    published = log_set(cloud, iid, "slow_query", "--publish")
    assert published["status"] == "Published", published
    assert published["published"] > 0 and published["pending"] == 0, published
    assert published["container"] == "database_logs"
    assert published["prefix"] == f"{iid}/mariadb-slow_query/"

    saved = tmp_path / "slow.log"
    out = cloud.cli("database", "log", "save", iid, "slow_query", "--file", str(saved))
    assert str(saved) in out.stdout, out.stdout
    text = saved.read_text()
    assert MARKER in text and "Query_time" in text, text
    assert len(text.encode()) == published["published"]

    tail = cloud.cli("database", "log", "tail", iid, "slow_query", "--lines", "3")
    assert MARKER in tail.stdout, tail.stdout
    assert len(tail.stdout.strip().splitlines()) == 3, tail.stdout

    # A second query and a second publish: a second part, both saved in order.
    out = mariadb(address, f"SELECT SLEEP(1.3), '{MARKER}_two'")
    assert out.returncode == 0, out.stderr
    again = log_set(cloud, iid, "slow_query", "--publish")
    assert again["published"] > published["published"], again
    cloud.cli("database", "log", "save", iid, "slow_query", "--file", str(saved))
    text = saved.read_text()
    assert text.index(MARKER) < text.index(f"{MARKER}_two"), text


def test_discard_then_disable(cloud, maria, tmp_path):
    iid, address = maria
    discarded = log_set(cloud, iid, "slow_query", "--discard")
    assert discarded["published"] == 0 and discarded["container"] == "None", discarded
    out = cloud.cli("database", "log", "save", iid, "slow_query", "--file",
                    str(tmp_path / "gone.log"), check=False)
    assert out.returncode != 0 or "No published" in out.stdout + out.stderr, out
    disabled = log_set(cloud, iid, "slow_query", "--disable")
    assert disabled["status"] == "Disabled", disabled
    out = mariadb(address, "SELECT @@global.slow_query_log")
    assert out.stdout.strip() == "0", out.stdout


def test_general_log_enable_and_disable(cloud, maria):
    iid, address = maria
    assert log_set(cloud, iid, "general", "--enable")["status"] in ("Enabled", "Ready")
    assert mariadb(address, "SELECT @@global.general_log").stdout.strip() == "1"
    assert log_set(cloud, iid, "general", "--disable")["status"] == "Disabled"
    assert mariadb(address, "SELECT @@global.general_log").stdout.strip() == "0"


def test_error_log_publishes(cloud, maria):
    iid, _ = maria
    published = log_set(cloud, iid, "error", "--publish")
    assert published["status"] == "Published" and published["published"] > 0, published


@pytest.mark.parametrize("body, status, words", [
    ({"name": "nope"}, 404, "not defined"),
    ({"name": "slow_query", "enable": 1, "disable": 1}, 400, "enable and disable"),
    ({"name": "error", "enable": 1}, 400, "SYS"),
    ({"name": "slow_query", "enable": "yes"}, 400, "enable"),
    ({"name": "slow_query", "publish": 2}, 400, "publish"),
    ({"enable": 1}, 400, "name"),
    ({"name": ""}, 400, "name"),
    ({"name": "../../etc"}, 400, "name"),
    ([1, 2], 400, "name"),
])
def test_bad_log_actions_answer_4xx_and_change_nothing(cloud, maria, body, status, words):
    iid, _ = maria
    before = cloud.api("GET", f"/instances/{iid}/log")[2]
    got, _, fault = cloud.api("POST", f"/instances/{iid}/log", body)
    assert got == status, fault
    assert words in json.dumps(fault), fault
    assert cloud.api("GET", f"/instances/{iid}/log")[2] == before


def test_unknown_instance_is_404(cloud):
    status, _, _ = cloud.api("GET", "/instances/00000000-0000-0000-0000-000000000000/log")
    assert status == 404


def test_published_logs_are_project_scoped(cloud, maria):
    iid, _ = maria
    log_set(cloud, iid, "error", "--publish")
    admin_token, admin_project = cloud.token("admin")
    demo_token, demo_project = cloud.token("demo")
    base = "/object-store/v1"
    listing = f"/database_logs?format=json&prefix={iid}/mariadb-error/"
    status, _, body = raw(cloud, "GET", f"{base}/AUTH_{admin_project}{listing}", admin_token)
    assert status == 200 and json.loads(body), body
    name = json.loads(body)[0]["name"]
    status, hdrs, _ = raw(cloud, "HEAD", f"{base}/AUTH_{admin_project}/database_logs/{name}",
                          admin_token)
    assert status == 200 and int(hdrs["X-Object-Meta-Lines"]) > 0, hdrs
    # Another project: not through the owner's URL, not through its own.
    assert raw(cloud, "GET", f"{base}/AUTH_{admin_project}{listing}", demo_token)[0] == 403
    status, _, body = raw(cloud, "GET", f"{base}/AUTH_{demo_project}{listing}", demo_token)
    assert status == 200 and json.loads(body) == [], body
    assert raw(cloud, "GET", f"{base}/AUTH_{demo_project}/database_logs/{name}",
               demo_token)[0] == 404
    # Read-only, the log container only, and never without a token.
    assert raw(cloud, "DELETE", f"{base}/AUTH_{admin_project}/database_logs/{name}",
               admin_token)[0] == 405
    assert raw(cloud, "GET", f"{base}/AUTH_{admin_project}/backups?format=json",
               admin_token)[0] == 404
    assert raw(cloud, "GET", f"{base}/AUTH_{admin_project}{listing}", "bogus")[0] == 401


def test_postgresql_slow_query_log(cloud, pg, tmp_path):
    iid, address = pg
    logs = logs_by_name(cloud, iid)
    assert set(logs) == {"error", "slow_query", "general"}, logs
    assert log_set(cloud, iid, "slow_query", "--enable")["status"] != "Disabled"
    out = psql(address, "SHOW log_min_duration_statement")
    assert out.stdout.strip() == "1s", out
    out = psql(address, f"SELECT pg_sleep(1.3), '{MARKER}'")
    assert out.returncode == 0, out.stderr
    published = log_set(cloud, iid, "slow_query", "--publish")
    assert published["status"] == "Published", published
    saved = tmp_path / "pg-slow.log"
    cloud.cli("database", "log", "save", iid, "slow_query", "--file", str(saved))
    text = saved.read_text()
    assert MARKER in text and "duration:" in text, text
    assert log_set(cloud, iid, "slow_query", "--disable")["status"] == "Disabled"
    assert psql(address, "SHOW log_min_duration_statement").stdout.strip() == "-1"
