"""auth_strategy = keystone against the shared Keystone: ctrove `all` (local
compute driver) validates every token with Keystone through a service user of
its own; its endpoint is registered in a region of its own, and the real
`openstack database ...` CLI, authenticated by that Keystone, creates, lists,
shows and deletes an instance. Another project's token cannot see or delete
it (404). A token revoked in Keystone (the call `openstack token revoke` makes) is
still accepted while cached and refused once token_cache_time has passed, as
is a deleted user's; garbage, empty and oversized tokens are 401 with
Trove's body and Keystone's WWW-Authenticate; an unreachable Keystone is 503;
the embedded identity is not served; no token reaches the log."""
import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import CTROVE, e2e, free_port, sanitizer_env
from keystone_lib import Member, admin_token, keystone_conf, keystone_request

CACHE_TIME = 30
UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                          "message": "The request you have made requires authentication."}}


@pytest.fixture(scope="module")
def service_user(openstack):
    """ctrove's service user: Keystone lets the admin role validate tokens."""
    user = Member(openstack, "keystone-svc", role="admin")
    yield user
    user.remove()


@pytest.fixture(scope="module")
def members(openstack):
    made = [Member(openstack, "keystone-a"), Member(openstack, "keystone-b")]
    yield made
    for m in made:
        m.remove()


@pytest.fixture(scope="module")
def ks_cloud(tmp_path_factory, broker, openstack, service_user):
    cloud = e2e.Cloud(tmp_path_factory.mktemp("keystone"), broker,
                      extra_conf=keystone_conf(openstack, service_user, cache_time=CACHE_TIME))
    yield from e2e.serve(cloud)


def instances(cloud, member, token=None, project=None):
    return cloud.http("GET", f"/v1.0/{project or member.project_id}/instances",
                      token=token or member.token())


def wait_active(cloud, member, token, name, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, body = instances(cloud, member, token)
        assert status == 200, body
        found = [i for i in body["instances"] if i["name"] == name]
        if found and found[0]["status"] == "ACTIVE":
            return found[0]
        assert not found or found[0]["status"] != "ERROR", cloud.guest_logs()[-3000:]
        time.sleep(0.3)
    raise AssertionError(f"{name} not ACTIVE after {timeout} s")


def cli(openstack, member, region, *args, check=True):
    return openstack.cli(*args, env=member.env(region), check=check)


def test_cli_through_keystone_and_project_isolation(ks_cloud, members, openstack,
                                                    database_region):
    a, b = members
    region = database_region(f"{ks_cloud.url}/v1.0/%(tenant_id)s")
    created = json.loads(cli(openstack, a, region, "database", "instance", "create",
                             "keystone-db", "--flavor", "d2", "--size", "1",
                             "--datastore", "mariadb", "--datastore-version", "10.11",
                             "-f", "json").stdout)
    token_a = a.token()
    iid = wait_active(ks_cloud, a, token_a, "keystone-db")["id"]
    assert iid == created["id"]
    listed = json.loads(cli(openstack, a, region, "database", "instance", "list",
                            "-f", "json").stdout)
    assert [i["ID"] for i in listed] == [iid]
    shown = json.loads(cli(openstack, a, region, "database", "instance", "show", iid,
                           "-f", "json").stdout)
    assert shown["status"] == "ACTIVE" and shown["name"] == "keystone-db"

    # The other project sees nothing, and cannot show or delete it.
    assert json.loads(cli(openstack, b, region, "database", "instance", "list",
                          "-f", "json").stdout) == []
    for verb, says in (("show", "No instance with a name or ID"), ("delete", "(HTTP 404)")):
        proc = cli(openstack, b, region, "database", "instance", verb, iid, check=False)
        assert proc.returncode != 0, verb
        assert says in proc.stdout + proc.stderr, (proc.stdout, proc.stderr)
    token_b = b.token()
    for method in ("GET", "DELETE"):
        status, _, body = ks_cloud.http(method, f"/v1.0/{b.project_id}/instances/{iid}",
                                        token=token_b)
        assert status == 404, (method, body)
    # B's token on A's URL: Trove's tenant check.
    status, _, body = ks_cloud.http("GET", f"/v1.0/{a.project_id}/instances", token=token_b)
    assert status == 403 and body["code"] == "403 Forbidden", body

    # The owner deletes it with the CLI.
    cli(openstack, a, region, "database", "instance", "delete", iid)
    deadline = time.time() + 60
    while ks_cloud.http("GET", f"/v1.0/{a.project_id}/instances/{iid}",
                        token=token_a)[0] != 404:
        assert time.time() < deadline, "instance not deleted in 60 s"
        time.sleep(0.3)
    log = ks_cloud.log.read_text()
    for secret in (token_a, token_b, a.password, b.password):
        assert secret not in log


def revoke(openstack, admin, token):
    """What `openstack token revoke` sends."""
    assert keystone_request(openstack, "DELETE", "/auth/tokens", token=admin,
                            subject=token)[0] == 204


def validate(openstack, admin, token):
    return keystone_request(openstack, "GET", "/auth/tokens", token=admin, subject=token)[0]


def test_revoked_token_refused_within_cache_time(ks_cloud, members, openstack):
    a, _ = members
    token = a.token()
    # The CLI's own token is taken first: `openstack token revoke` then makes
    # one call, quick even on a loaded machine, inside the cache time.
    admin = admin_token(openstack)
    first = time.time()
    assert instances(ks_cloud, a, token)[0] == 200  # validated and cached now
    revoke(openstack, admin, token)
    # ctrove still trusts its cached answer: that is what token_cache_time allows.
    assert instances(ks_cloud, a, token)[0] == 200
    assert time.time() < first + CACHE_TIME - 1, "the machine is too slow for this cache time"
    # Keystone itself refuses it now.
    assert validate(openstack, admin, token) == 404
    # Every request sent after the cache time is refused. Keystone answers slowly
    # on a loaded machine, so the bound is on when a request was sent, not
    # answered.
    refused_sent = None
    while refused_sent is None:
        sent = time.time()
        status, headers, body = instances(ks_cloud, a, token)
        if status == 401:
            refused_sent = sent
            assert body == UNAUTHORIZED
            break
        assert status == 200, body
        assert sent <= first + CACHE_TIME + 3, \
            f"a revoked token was still accepted {sent - first:.1f} s after it was cached"
        time.sleep(0.25)
    assert refused_sent >= first + CACHE_TIME - 2, refused_sent - first
    # And stays refused (the refusal is cached, Keystone not asked again and again).
    assert instances(ks_cloud, a, token)[0] == 401
    assert token not in ks_cloud.log.read_text()


def test_bad_tokens_get_troves_401(ks_cloud, members, openstack):
    a, _ = members
    path = f"/v1.0/{a.project_id}/instances"
    for token in (None, "", "gAAAAABnot-a-real-fernet-token", "x" * 5000, "two words"):
        status, headers, body = ks_cloud.http("GET", path, token=token,
                                              headers={"X-Auth-Token": token}
                                              if token == "" else None)
        assert status == 401, (token and token[:40], body)
        assert body == UNAUTHORIZED
        assert headers["WWW-Authenticate"] == f'Keystone uri="{openstack.auth_url}"'
    # A token revoked with the real CLI before ctrove ever saw it: refused at once.
    _, b = members
    token = b.token()
    openstack.cli("token", "revoke", token)
    assert instances(ks_cloud, b, token)[0] == 401
    # A token of a user deleted since: Keystone no longer knows it.
    gone = Member(openstack, "keystone-gone")
    token = gone.token()
    assert instances(ks_cloud, gone, token)[0] == 200
    gone.remove()
    deadline = time.time() + CACHE_TIME + 3
    while True:
        sent = time.time()
        if instances(ks_cloud, gone, token)[0] == 401:
            break
        assert sent < deadline, "a deleted user's token is still accepted"
        time.sleep(0.5)


def test_embedded_identity_is_not_served(ks_cloud, members):
    a, _ = members
    for method, path in (("GET", "/identity/v3"), ("POST", "/identity/v3/auth/tokens"),
                         ("GET", "/identity/v3/projects")):
        status, _, _ = ks_cloud.http(method, path, body={} if method == "POST" else None,
                                     token=a.token())
        assert status == 404, (method, path)


def plain_status(srv, path, token):
    """The status of GET path (a text answer, not JSON)."""
    req = urllib.request.Request(srv.url + path)
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_unreachable_keystone_is_503(tmp_path, openstack, service_user):
    closed = free_port()
    srv = e2e.Server(tmp_path, extra=keystone_conf(
        openstack, service_user, auth_url=f"http://127.0.0.1:{closed}/v3"))
    srv.manage("db_sync")
    srv.start()
    try:
        status, _, body = srv.http("GET", "/v1.0/any/instances", token="gAAAAABsome-token")
        assert status == 503, body
        assert body == {"error": {"code": 503, "title": "Service Unavailable",
                                  "message": "The Keystone service is temporarily "
                                             "unavailable."}}
        # No token at all is still the caller's problem: 401.
        assert srv.http("GET", "/v1.0/any/instances")[0] == 401
        # The scrape and the guests' object store answer the same way.
        for path in ("/metrics", "/object-store/v1/AUTH_any/backups/x"):
            assert plain_status(srv, path, "gAAAAABsome-token") == 503, path
            assert plain_status(srv, path, None) == 401, path
        srv.assert_healthy()
    finally:
        srv.stop()
    assert "not reachable yet" in srv.log.read_text()
    assert service_user.password not in srv.log.read_text()


def test_refused_service_credentials_stop_start_up(tmp_path, openstack, service_user):
    class Wrong:
        username = service_user.username
        password = "not-the-password"
        project = service_user.project

    srv = e2e.Server(tmp_path, extra=keystone_conf(openstack, Wrong))
    srv.manage("db_sync")
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "api"],
                          capture_output=True, text=True, timeout=60, env=sanitizer_env())
    assert proc.returncode == 1
    assert f"refused the service credentials of user {service_user.username}" in \
        srv.log.read_text() + proc.stderr
    assert "not-the-password" not in srv.log.read_text() + proc.stderr
