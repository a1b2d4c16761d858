"""Tenants made the Keystone way (issue 10): the admin creates two projects and
a member user in each with the real CLI; each user logs in with the CLI; an
instance created in project 1 is invisible to project 2's user (404 on list,
show and delete) and fully usable by project 1's; its project cannot be
deleted while it exists."""
import json
import re
import secrets
import time
from pathlib import Path

import pytest

NAME = "tenant1-db"


def make_tenant(cloud, project, user):
    cloud.cli("project", "create", project, "--description", f"{project} of the test")
    password = secrets.token_urlsafe(12)
    # One argument: a password starting with "-" would otherwise read as an option.
    cloud.cli("user", "create", user, "--project", project, f"--password={password}")
    cloud.cli("role", "add", "--project", project, "--user", user, "member")
    cloud.passwords[user] = password
    cloud.projects[user] = project


def wait_active(cloud, user, name, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, body = cloud.api("GET", "/instances", user=user)
        assert status == 200, body
        found = [i for i in body["instances"] if i["name"] == name]
        if found and found[0]["status"] == "ACTIVE":
            return found[0]
        if found and found[0]["status"] == "ERROR":
            raise AssertionError(f"{name} went to ERROR:\n{cloud.guest_logs()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"{name} not ACTIVE after {timeout} s")


@pytest.fixture(scope="module")
def tenants(cloud):
    make_tenant(cloud, "tenant-one", "user-one")
    make_tenant(cloud, "tenant-two", "user-two")
    return cloud


def test_each_user_logs_in_with_the_cli(tenants):
    for user, project in (("user-one", "tenant-one"), ("user-two", "tenant-two")):
        token = json.loads(tenants.cli("token", "issue", "-f", "json", user=user).stdout)
        assert token["project_id"] == tenants.cli_json("project", "show", project)["id"]
        assert json.loads(tenants.cli("database", "instance", "list", "-f", "json",
                                      user=user).stdout) == []


def test_an_instance_belongs_to_its_project_only(tenants):
    created = json.loads(tenants.cli(
        "database", "instance", "create", NAME, "--flavor", "d2", "--size", "1",
        "--datastore", "mariadb", "--datastore-version", "10.11", "--databases", "app",
        "--users", "appuser:App-Passw0rd", "-f", "json", user="user-one").stdout)
    inst = wait_active(tenants, "user-one", NAME)
    assert inst["id"] == created["id"]
    iid = inst["id"]

    # Project 2's user: not in the list, and show/delete are 404, by the CLI
    # and by raw HTTP under their own project.
    listed = json.loads(tenants.cli("database", "instance", "list", "-f", "json",
                                    user="user-two").stdout)
    assert listed == []
    # (show turns the 404 into "No instance ..."; delete reports the 404.)
    for verb, says in (("show", "No instance with a name or ID"), ("delete", "(HTTP 404)")):
        proc = tenants.cli("database", "instance", verb, iid, user="user-two", check=False)
        assert proc.returncode != 0, verb
        assert says in proc.stdout + proc.stderr, (proc.stdout, proc.stderr)
    for method in ("GET", "DELETE"):
        status, _, body = tenants.api(method, f"/instances/{iid}", user="user-two")
        assert status == 404, (method, body)
    for path in ("/databases", "/users", "/root"):
        assert tenants.api("GET", f"/instances/{iid}{path}", user="user-two")[0] == 404
    # Project 2's token on project 1's URL is Trove's tenant check: 403.
    token_two, _ = tenants.token("user-two")
    _, project_one = tenants.token("user-one")
    status, _, _ = tenants.http("GET", f"/v1.0/{project_one}/instances/{iid}", token=token_two)
    assert status == 403

    # Project 1's user sees and uses it.
    shown = tenants.cli_json("database", "instance", "show", iid, user="user-one")
    assert shown["status"] == "ACTIVE" and shown["name"] == NAME
    dbs = json.loads(tenants.cli("database", "db", "list", iid, "-f", "json",
                                 user="user-one").stdout)
    assert "app" in [d["Name"] for d in dbs]


def test_a_project_with_instances_is_not_deleted(tenants):
    refused = tenants.cli("project", "delete", "tenant-one", check=False)
    assert refused.returncode != 0 and "HTTP 409" in refused.stderr, refused.stderr
    assert "still owns 1 instance" in refused.stderr
    assert tenants.cli_json("project", "show", "tenant-one")["name"] == "tenant-one"
    assert wait_active(tenants, "user-one", NAME)["name"] == NAME


def test_the_guest_agent_runs_without_core_dumps(tenants):
    iid = wait_active(tenants, "user-one", NAME)["id"]
    agents = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "ctrove-guestagent" in cmdline and iid in cmdline:
            agents.append(proc)
    assert agents, "no guest agent process found for the instance"
    for proc in agents:
        limits = (proc / "limits").read_text()
        assert re.search(r"^Max core file size\s+0\s+0\s", limits, re.M), limits


def test_the_owner_deletes_it_and_then_the_project(tenants):
    iid = wait_active(tenants, "user-one", NAME)["id"]
    tenants.cli("database", "instance", "delete", iid, user="user-one")
    deadline = time.time() + 60
    while time.time() < deadline:
        if tenants.api("GET", f"/instances/{iid}", user="user-one")[0] == 404:
            break
        time.sleep(0.2)
    assert tenants.api("GET", f"/instances/{iid}", user="user-one")[0] == 404
    tenants.cli("project", "delete", "tenant-one")
    # Its user's tokens went with it.
    token_one, project_one = tenants.token("user-one")
    assert tenants.http("GET", f"/v1.0/{project_one}/flavors", token=token_one)[0] == 401
    tenants.cli("user", "delete", "user-one")
    tenants.cli("user", "delete", "user-two")
    tenants.cli("project", "delete", "tenant-two")
