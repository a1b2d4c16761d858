"""An operator's policy.yaml (oslo.policy's shape, [oslo_policy] policy_file
beside trove.conf) decides who may do what: a file that forbids
`instance:delete` to members gives a member Trove's 403 through the real CLI
while the admin still deletes; a rule the file does not name keeps Trove's
default; a broken file stops ctrove at start-up naming its line."""
import json
import subprocess
import time

import pytest

from conftest import CTROVE, Cloud, Server, sanitizer_env, serve

POLICY = """# members may create and use instances but not delete them
"instance:delete": "rule:admin"
# a custom rule referred to by another
"may_restart": "role:admin or (role:member and project_id:%(tenant)s)"
"instance:restart": "rule:may_restart"
"""


@pytest.fixture(scope="module")
def policed(tmp_path_factory, broker):
    root = tmp_path_factory.mktemp("policy")
    (root / "policy.yaml").write_text(POLICY)
    yield from serve(Cloud(root, broker))


def wait_active(cloud, user, name, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, body = cloud.api("GET", "/instances", user=user)
        assert status == 200, body
        found = [i for i in body["instances"] if i["name"] == name]
        if found and found[0]["status"] == "ACTIVE":
            return found[0]
        assert not found or found[0]["status"] != "ERROR", cloud.guest_logs()[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"{name} not ACTIVE after {timeout} s")


def test_policy_file_forbids_members_delete(policed):
    assert "built-in rules overridden by" in policed.log.read_text()
    created = json.loads(policed.cli(
        "database", "instance", "create", "policed-db", "--flavor", "d2", "--size", "1",
        "--datastore", "mariadb", "--datastore-version", "10.11", "-f", "json",
        user="demo").stdout)
    iid = wait_active(policed, "demo", "policed-db")["id"]
    assert iid == created["id"]

    # The member: the CLI reports Trove's 403, and the instance stays.
    proc = policed.cli("database", "instance", "delete", iid, user="demo", check=False)
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr
    assert "Policy doesn't allow instance:delete to be performed. (HTTP 403)" in said, said
    status, _, body = policed.api("DELETE", f"/instances/{iid}", user="demo")
    assert status == 403
    assert body == {"forbidden": {"code": 403, "message":
                                  "Policy doesn't allow instance:delete to be performed."}}
    status, _, body = policed.api("GET", f"/instances/{iid}", user="demo")
    assert status == 200 and body["instance"]["status"] == "ACTIVE"

    # Rules the file leaves alone keep Trove's defaults: the member still lists,
    # shows and restarts (through the file's custom rule); reset_status stays admin's.
    assert policed.api("POST", f"/instances/{iid}/action", {"restart": {}}, user="demo")[0] == 202
    wait_active(policed, "demo", "policed-db")
    status, _, body = policed.api("POST", f"/instances/{iid}/action", {"reset_status": {}},
                                  user="demo")
    assert status == 403, body
    assert body["forbidden"]["message"] == \
        "Policy doesn't allow instance:reset_status to be performed."

    # The admin may delete (Trove's admin_or_owner bypass of the tenant check
    # is by the admin's own project: the admin acts through its own URL).
    admin_token, admin_project = policed.token("admin")
    _, demo_project = policed.token("demo")
    assert admin_project != demo_project
    proc = policed.cli("database", "instance", "delete", iid, user="admin", check=False)
    assert proc.returncode == 0, proc.stderr
    assert policed.wait_deleted(iid, timeout=60)


def test_broken_policy_file_stops_start_up(tmp_path):
    srv = Server(tmp_path)
    (tmp_path / "policy.yaml").write_text('"instance:delete": "rule:admin"\n'
                                          '"instance:create": "role:admin or"\n')
    srv.manage("db_sync")
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "api"],
                          capture_output=True, text=True, timeout=30, env=sanitizer_env())
    assert proc.returncode == 1
    assert f"{tmp_path}/policy.yaml:2: instance:create: policy check ends where a check " \
           "was expected" in proc.stderr, proc.stderr
    assert "ERROR" in srv.log.read_text()


def test_help_policy_lists_troves_rules():
    out = subprocess.run([CTROVE, "--help-policy"], capture_output=True, text=True,
                         check=True).stdout
    assert '#"instance:delete": "rule:admin_or_owner"' in out
    assert '#"instance:reset_status": "rule:admin"' in out
    assert '#"backup:index:all_projects": "role:admin"' in out
    assert '#"datastore:index": ""' in out
