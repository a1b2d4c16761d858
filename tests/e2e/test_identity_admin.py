"""The embedded identity's Keystone v3 admin calls, driven by the real
`openstack project/user/role ...` commands, plus raw HTTP for Keystone's status
codes and bodies: admin only, 201/204/400/401/403/404/409, and tokens that die
with their user or project."""
import json
import os
import pty
import secrets
import select
import time

import pytest



def new_tenant(server, name):
    """A project and a member user of the same name, made with the CLI."""
    server.cli("project", "create", name)
    password = "p" + secrets.token_urlsafe(12)  # never a leading "-" (the CLI reads an option)
    server.cli("user", "create", name, "--project", name, "--password", password)
    server.cli("role", "add", "--project", name, "--user", name, "member")
    server.passwords[name] = password
    return password


def run_on_a_terminal(argv, env, answers, timeout=90):
    """Run argv with a pseudo-terminal as its controlling terminal, typing each
    reply after its prompt appears; returns (exit status, everything shown)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    shown, seen, pending = b"", 0, list(answers)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if not select.select([fd], [], [], 0.5)[0]:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if pending and pending[0][0].encode() in shown[seen:]:
                seen = len(shown)
                os.write(fd, pending.pop(0)[1].encode() + b"\n")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def user_token(server, user, password, project=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project or user, "domain": {"name": "Default"}}}}}
    status, headers, reply = server.http("POST", "/identity/v3/auth/tokens", body)
    return status, headers.get("X-Subject-Token"), reply


def test_project_create_list_show_set_delete(server):
    made = server.cli_json("project", "create", "proj-a", "--description", "first tenant")
    assert made["name"] == "proj-a" and made["description"] == "first tenant"
    assert made["enabled"] is True and made["domain_id"] == "default"
    assert len(made["id"]) == 32

    listed = server.cli_json("project", "list")
    assert {"ID": made["id"], "Name": "proj-a"} in listed
    assert server.cli_json("project", "show", "proj-a")["id"] == made["id"]
    assert server.cli_json("project", "show", made["id"])["name"] == "proj-a"

    server.cli("project", "set", "proj-a", "--description", "renamed", "--name", "proj-b")
    assert server.cli_json("project", "show", "proj-b")["description"] == "renamed"

    dup = server.cli("project", "create", "proj-b", check=False)
    assert dup.returncode != 0 and "HTTP 409" in dup.stderr
    # --or-show is the CLI's way around the 409.
    assert server.cli_json("project", "create", "proj-b", "--or-show")["id"] == made["id"]

    server.cli("project", "delete", "proj-b")
    assert made["id"] not in [p["ID"] for p in server.cli_json("project", "list")]
    gone = server.cli("project", "show", made["id"], check=False)
    assert gone.returncode != 0 and "No project with a name or ID" in gone.stderr


def test_project_calls_have_keystone_codes_and_bodies(server):
    token, _ = server.token("admin")
    status, _, body = server.http("POST", "/identity/v3/projects",
                                  {"project": {"name": "raw-proj"}}, token=token)
    assert status == 201 and body["project"]["name"] == "raw-proj"
    pid = body["project"]["id"]
    assert body["project"]["links"]["self"].endswith(f"/identity/v3/projects/{pid}")
    status, _, body = server.http("POST", "/identity/v3/projects",
                                  {"project": {"name": "raw-proj"}}, token=token)
    assert status == 409 and body["error"]["code"] == 409
    assert body["error"]["title"] == "Conflict"
    status, _, body = server.http("GET", "/identity/v3/projects?name=raw-proj", token=token)
    assert status == 200 and [p["id"] for p in body["projects"]] == [pid]
    assert body["links"]["self"].endswith("/identity/v3/projects")
    status, _, body = server.http("PATCH", f"/identity/v3/projects/{pid}",
                                  {"project": {"description": "d"}}, token=token)
    assert status == 200 and body["project"]["description"] == "d"
    status, _, body = server.http("DELETE", f"/identity/v3/projects/{pid}", token=token)
    assert status == 204 and body is None
    status, _, body = server.http("DELETE", f"/identity/v3/projects/{pid}", token=token)
    assert status == 404
    assert body["error"]["message"] == f"Could not find project: {pid}."
    status, _, body = server.http("GET", f"/identity/v3/projects/{pid}", token=token)
    assert status == 404 and body["error"]["title"] == "Not Found"


@pytest.mark.parametrize("body,why", [
    ({"project": {}}, "'name' is a required property"),
    ({"project": {"name": ""}}, "too short"),
    ({"project": {"name": "x" * 65}}, "too long"),
    ({"project": {"name": 5}}, "not a string"),
    ({"project": {"name": "ok", "enabled": "yes"}}, "not a boolean"),
    ({"project": "name"}, "Expecting to find project"),
    ({"projects": {"name": "ok"}}, "Expecting to find project"),
    ({"project": {"name": "ok", "parent_id": "abc"}}, "no project hierarchy"),
])
def test_bad_project_bodies_are_400_and_change_nothing(server, body, why):
    token, _ = server.token("admin")
    before = server.http("GET", "/identity/v3/projects", token=token)[2]["projects"]
    status, _, reply = server.http("POST", "/identity/v3/projects", body, token=token)
    assert status == 400, reply
    assert why in reply["error"]["message"]
    assert server.http("GET", "/identity/v3/projects", token=token)[2]["projects"] == before


def test_malformed_json_and_oversized_bodies(server):
    token, _ = server.token("admin")
    status, _, reply = server.http("POST", "/identity/v3/users", raw=b"{not json",
                                   token=token)
    assert status == 400 and reply["error"]["code"] == 400
    status, _, reply = server.http("POST", "/identity/v3/roles",
                                   raw=b'{"role": {"name": "' + b"x" * 200000 + b'"}}',
                                   token=token)
    assert status == 413 and reply["error"]["code"] == 413


def test_user_create_list_show_set_delete(server):
    server.cli("project", "create", "home-u1")
    made = server.cli_json("user", "create", "u1", "--project", "home-u1", "--password",
                           "first-Passw0rd", "--email", "u1@example.org",
                           "--description", "a user")
    assert made["name"] == "u1" and made["enabled"] is True
    assert made["email"] == "u1@example.org" and made["description"] == "a user"
    assert "password" not in json.dumps(made).lower().replace("password_expires_at", "")
    assert {"ID": made["id"], "Name": "u1"} in server.cli_json("user", "list")
    assert server.cli_json("user", "show", "u1")["id"] == made["id"]

    server.cli("role", "add", "--project", "home-u1", "--user", "u1", "member")
    assert user_token(server, "u1", "first-Passw0rd", "home-u1")[0] == 201

    server.cli("user", "set", "u1", "--password", "second-Passw0rd", "--email", "x@y.z")
    assert server.cli_json("user", "show", "u1")["email"] == "x@y.z"
    assert user_token(server, "u1", "first-Passw0rd", "home-u1")[0] == 401
    assert user_token(server, "u1", "second-Passw0rd", "home-u1")[0] == 201

    server.cli("user", "set", "u1", "--disable")
    assert server.cli_json("user", "show", "u1")["enabled"] is False
    assert user_token(server, "u1", "second-Passw0rd", "home-u1")[0] == 401
    server.cli("user", "set", "u1", "--enable")
    assert user_token(server, "u1", "second-Passw0rd", "home-u1")[0] == 201

    dup = server.cli("user", "create", "u1", "--password", "x", check=False)
    assert dup.returncode != 0 and "HTTP 409" in dup.stderr

    server.cli("user", "delete", "u1")
    assert "u1" not in [u["Name"] for u in server.cli_json("user", "list")]
    assert user_token(server, "u1", "second-Passw0rd", "home-u1")[0] == 401
    server.cli("project", "delete", "home-u1")


def test_user_create_with_password_prompt(server):
    server.cli("project", "create", "home-u2")
    status, shown = run_on_a_terminal(
        ["openstack", "user", "create", "u2", "--project", "home-u2", "--password-prompt",
         "-f", "json"], server.env(),
        [("User Password:", "prompted-Passw0rd"), ("Repeat User Password:", "prompted-Passw0rd")])
    assert status == 0, shown
    assert "prompted-Passw0rd" not in shown  # no echo
    server.cli("role", "add", "--project", "home-u2", "--user", "u2", "member")
    assert user_token(server, "u2", "prompted-Passw0rd", "home-u2")[0] == 201
    server.cli("user", "delete", "u2")
    server.cli("project", "delete", "home-u2")


def test_role_list_create_add_remove_and_assignments(server):
    new_tenant(server, "tenant-r")
    roles = {r["Name"] for r in server.cli_json("role", "list")}
    assert {"admin", "member", "reader"} <= roles
    made = server.cli_json("role", "create", "auditor")
    assert made["name"] == "auditor"
    assert "auditor" in {r["Name"] for r in server.cli_json("role", "list")}
    dup = server.cli("role", "create", "auditor", check=False)
    assert dup.returncode != 0 and "HTTP 409" in dup.stderr

    server.cli("role", "add", "--project", "tenant-r", "--user", "tenant-r", "auditor")
    rows = server.cli_json("role", "assignment", "list", "--user", "tenant-r",
                           "--project", "tenant-r", "--names")
    assert sorted(r["Role"] for r in rows) == ["auditor", "member"]
    assert {r["User"] for r in rows} == {"tenant-r@Default"}
    assert {r["Project"] for r in rows} == {"tenant-r@Default"}
    ids = server.cli_json("role", "assignment", "list", "--project", "tenant-r")
    assert {r["Role"] for r in ids} == {made["id"], server.cli_json("role", "show", "member")["id"]}
    everyone = server.cli_json("role", "assignment", "list", "--names")
    assert {"Role": "admin", "User": "admin@Default", "Project": "admin@Default"}.items() <= \
        next(r for r in everyone if r["Role"] == "admin").items()

    # The token names its roles; taking one away voids it.
    status, token, reply = user_token(server, "tenant-r", server.passwords["tenant-r"])
    assert sorted(r["name"] for r in reply["token"]["roles"]) == ["auditor", "member"]
    project = reply["token"]["project"]["id"]
    assert server.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 200
    server.cli("role", "remove", "--project", "tenant-r", "--user", "tenant-r", "auditor")
    assert server.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 401
    rows = server.cli_json("role", "assignment", "list", "--user", "tenant-r", "--names")
    assert [r["Role"] for r in rows] == ["member"]
    again = server.cli("role", "remove", "--project", "tenant-r", "--user", "tenant-r",
                       "auditor", check=False)
    assert again.returncode != 0 and "HTTP 404" in again.stderr
    server.cli("role", "delete", "auditor")
    assert "auditor" not in {r["Name"] for r in server.cli_json("role", "list")}


def test_grant_and_role_errors(server):
    token, _ = server.token("admin")
    new_tenant(server, "tenant-g")
    pid = server.cli_json("project", "show", "tenant-g")["id"]
    uid = server.cli_json("user", "show", "tenant-g")["id"]
    rid = server.cli_json("role", "show", "member")["id"]
    path = f"/identity/v3/projects/{pid}/users/{uid}/roles/{rid}"
    assert server.http("PUT", path, token=token)[0] == 204  # granting twice is fine
    assert server.http("HEAD", path, token=token)[0] == 204
    status, _, body = server.http("PUT", f"/identity/v3/projects/{pid}/users/nobody/roles/{rid}",
                                  token=token)
    assert status == 404 and body["error"]["message"] == "Could not find user: nobody."
    status, _, body = server.http("PUT", f"/identity/v3/projects/{pid}/users/{uid}/roles/nope",
                                  token=token)
    assert status == 404 and body["error"]["message"] == "Could not find role: nope."
    status, _, body = server.http("GET", f"/identity/v3/projects/{pid}/users/{uid}/roles",
                                  token=token)
    assert status == 200 and [r["name"] for r in body["roles"]] == ["member"]
    status, _, body = server.http("POST", "/identity/v3/roles",
                                  {"role": {"name": "x,admin"}}, token=token)
    assert status == 400 and "may not contain" in body["error"]["message"]
    status, _, body = server.http("GET", f"/identity/v3/role_assignments?group.id=g",
                                  token=token)
    assert status == 200 and body["role_assignments"] == []


def test_non_admin_is_refused_with_keystone_403(server):
    for args in (("project", "create", "by-demo"),
                 ("user", "create", "by-demo", "--password", "x"), ("user", "list"),
                 ("role", "create", "by-demo"), ("role", "list"),
                 ("role", "add", "--project", "demo", "--user", "demo", "admin"),
                 ("role", "assignment", "list")):
        proc = server.cli(*args, user="demo", check=False)
        assert proc.returncode != 0, args
        assert "HTTP 403" in proc.stderr or "You are not authorized" in proc.stderr, \
            (args, proc.stderr)
    token, project = server.token("demo")
    status, _, body = server.http("POST", "/identity/v3/projects",
                                  {"project": {"name": "by-demo"}}, token=token)
    assert status == 403
    assert body["error"] == {"code": 403, "title": "Forbidden", "message":
                             "You are not authorized to perform the requested action: "
                             "identity:create_project."}
    # What Keystone lets a member read: their own projects, project and user
    # (the CLI's project list falls back to /users/{self}/projects on 403).
    own = server.cli_json("project", "list", user="demo")
    assert [p["Name"] for p in own] == ["demo"]
    assert server.http("GET", "/identity/v3/projects", token=token)[0] == 403
    assert server.http("GET", f"/identity/v3/projects/{project}", token=token)[0] == 200
    admin_project = server.token("admin")[1]
    assert server.http("GET", f"/identity/v3/projects/{admin_project}", token=token)[0] == 403
    # And nothing changed.
    names = [p["Name"] for p in server.cli_json("project", "list")]
    assert "by-demo" not in names
    assert "by-demo" not in [u["Name"] for u in server.cli_json("user", "list")]


@pytest.mark.parametrize("method,path", [
    ("GET", "/identity/v3/projects"), ("POST", "/identity/v3/projects"),
    ("GET", "/identity/v3/users"), ("DELETE", "/identity/v3/users/x"),
    ("GET", "/identity/v3/roles"), ("GET", "/identity/v3/role_assignments"),
    ("PUT", "/identity/v3/projects/p/users/u/roles/r"),
])
def test_unauthenticated_is_401(server, method, path):
    body = {"project": {"name": "nope"}} if method == "POST" else None
    status, headers, reply = server.http(method, path, body)
    assert status == 401 and reply["error"]["code"] == 401
    status, _, _ = server.http(method, path, body, token="forged.token")
    assert status == 401


def test_deleting_a_user_or_project_revokes_its_tokens(server):
    new_tenant(server, "tenant-d")
    status, token, reply = user_token(server, "tenant-d", server.passwords["tenant-d"])
    project = reply["token"]["project"]["id"]
    assert server.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 200
    server.cli("user", "delete", "tenant-d")
    assert server.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 401
    assert server.http("GET", "/identity/v3/auth/tokens", token=server.token("admin")[0],
                       headers={"X-Subject-Token": token})[0] == 404

    new_tenant(server, "tenant-e")
    status, token, reply = user_token(server, "tenant-e", server.passwords["tenant-e"])
    project = reply["token"]["project"]["id"]
    assert server.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 200
    server.cli("project", "delete", "tenant-e")
    assert server.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 401
    # A rescoped token cannot bring it back either.
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
                     "scope": {"project": {"id": project}}}}
    assert server.http("POST", "/identity/v3/auth/tokens", body)[0] == 401


def test_new_tenant_logs_in_with_the_cli(server):
    new_tenant(server, "tenant-cli")
    out = server.cli("database", "instance", "list", "-f", "json", user="tenant-cli")
    assert json.loads(out.stdout) == []
    out = server.cli("datastore", "list", "-f", "json", user="tenant-cli")
    assert isinstance(json.loads(out.stdout), list)


def test_admin_calls_leave_no_password_in_the_log(server):
    log = server.log.read_text()
    for secret in ("first-Passw0rd", "second-Passw0rd", "prompted-Passw0rd",
                   *server.passwords.values()):
        assert secret not in log
        assert secret not in server.stderr_text()
    assert "created project" in log and "deleted user" in log
