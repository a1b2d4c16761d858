"""Swift authenticated through Keystone (issue 19, docs/storage.md): a private
Swift proxy whose pipeline is keystonemiddleware's authtoken + Swift's
keystoneauth against the shared Keystone (scripts/swift.sh's Keystone mode),
its object-store endpoint registered under a region of this test's own; ctrove
with [swift] auth_url empty and [service_credentials] finds Swift in the
catalog, and a MariaDB instance is backed up into it (through the guest, with
the token the control plane hands it) and restored from it. Everything this
test makes in Keystone (project, two users, service, endpoint, region) is
named notify-<hex> and removed at the end."""
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, e2e

PASSWORD = "SwKsPassw0rd"
SEGMENT = 256 * 1024


def keystone_root(auth_url):
    """http://host:5000 from http://host:5000/v3."""
    return auth_url.rstrip("/").rsplit("/v3", 1)[0]


@pytest.fixture(scope="module")
def keystone_swift(openstack):
    tag = "notify-" + secrets.token_hex(4)
    made = {"tag": tag, "region": tag}
    swift_pw = "s" + secrets.token_urlsafe(16)
    ctrove_pw = "c" + secrets.token_urlsafe(16)
    where = Path(tempfile.mkdtemp(prefix="ctrove-notify-swift-", dir="/tmp"))
    port = e2e.free_port_block(5)
    script = str(REPO / "scripts" / "swift.sh")
    try:
        made["project_id"] = openstack.cli_json("project", "create", tag)["id"]
        for user, pw in ((f"{tag}-swift", swift_pw), (f"{tag}-ctrove", ctrove_pw)):
            openstack.cli_json("user", "create", user, "--password", pw, "--project", tag)
            made.setdefault("users", []).append(user)
        # The proxy's user validates tokens (Keystone's service role); ctrove's
        # service user works in its project's Swift account (an operator role).
        openstack.cli("role", "add", "--project", tag, "--user", f"{tag}-swift", "service")
        openstack.cli("role", "add", "--project", tag, "--user", f"{tag}-ctrove", "member")
        env = dict(os.environ, SWIFT_KEYSTONE_AUTH_URL=keystone_root(openstack.auth_url),
                   SWIFT_KEYSTONE_USER=f"{tag}-swift", SWIFT_KEYSTONE_PASSWORD=swift_pw,
                   SWIFT_KEYSTONE_PROJECT=tag)
        subprocess.run([script, "start", str(where), str(port)], check=True, timeout=900,
                       env=env, capture_output=True)
        made["swift_dir"] = where
        openstack.cli("region", "create", tag)
        made["service_id"] = openstack.cli_json("service", "create", "--name", tag,
                                                "object-store")["id"]
        made["endpoint_id"] = openstack.cli_json(
            "endpoint", "create", "--region", tag, made["service_id"], "public",
            f"http://127.0.0.1:{port}/v1/AUTH_%(project_id)s")["id"]
        made.update(port=port, ctrove_user=f"{tag}-ctrove", ctrove_password=ctrove_pw,
                    auth_url=openstack.auth_url)
        yield made
    finally:
        subprocess.run([script, "stop", str(where)], timeout=60, capture_output=True)
        shutil.rmtree(where, ignore_errors=True)
        if "endpoint_id" in made:
            openstack.cli("endpoint", "delete", made["endpoint_id"], check=False)
        if "service_id" in made:
            openstack.cli("service", "delete", made["service_id"], check=False)
        openstack.cli("region", "delete", tag, check=False)
        for user in made.get("users", []):
            openstack.cli("user", "delete", user, check=False)
        if "project_id" in made:
            openstack.cli("project", "delete", made["project_id"], check=False)


def service_credentials(ks, password=None):
    return ("[service_credentials]\n"
            f"auth_url = {ks['auth_url']}\nusername = {ks['ctrove_user']}\n"
            f"password = {password or ks['ctrove_password']}\nproject_name = {ks['tag']}\n"
            "user_domain_name = Default\nproject_domain_name = Default\n"
            f"region_name = {ks['region']}\ninterface = public\n")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker, keystone_swift):
    srv = e2e.Cloud(tmp_path_factory.mktemp("cloud"), broker, extra_conf=(
        "[DEFAULT]\nstorage_strategy = swift\n"
        f"backup_segment_max_size = {SEGMENT}\nhttp_get_rate = 1000000\n"
        + service_credentials(keystone_swift)))
    yield from e2e.serve(srv)


def mariadb(address, sql):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", "userA",
           f"-p{PASSWORD}", "-N", "-B", "test", "-e", sql]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def create(cloud, name, *extra):
    cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore", "mariadb",
              "--datastore-version", "10.11", "--is-public", *extra)
    inst = cloud.wait_status(name, "ACTIVE", timeout=180)
    return cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]


def wait_backup(cloud, backup_id, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, body = cloud.api("GET", f"/backups/{backup_id}")
        assert status == 200, body
        b = body["backup"]
        if b["status"] == "COMPLETED":
            return b
        assert b["status"] != "FAILED", (b, cloud.log.read_text()[-3000:])
        time.sleep(0.5)
    raise AssertionError(f"backup {backup_id} not COMPLETED in {timeout} s")


def swift_as_ctrove_user(ks, method, path):
    """A request to the project's Swift account with a token of ctrove's service
    user from Keystone (not from ctrove): what is really stored there."""
    env = dict(os.environ, PATH="/usr/bin:/bin", OS_AUTH_URL=ks["auth_url"],
               OS_IDENTITY_API_VERSION="3", OS_USERNAME=ks["ctrove_user"],
               OS_PASSWORD=ks["ctrove_password"], OS_PROJECT_NAME=ks["tag"],
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
    token = subprocess.run(["/usr/bin/openstack", "token", "issue", "-f", "value", "-c", "id"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    url = f"http://127.0.0.1:{ks['port']}/v1/AUTH_{ks['project_id']}/{path}"
    req = urllib.request.Request(url, method=method, headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_swift_refuses_what_keystone_did_not_issue(keystone_swift):
    url = f"http://127.0.0.1:{keystone_swift['port']}/v1/AUTH_{keystone_swift['project_id']}"
    req = urllib.request.Request(url, headers={"X-Auth-Token": "not-a-keystone-token"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 401
    assert swift_as_ctrove_user(keystone_swift, "GET", "")[0] in (200, 204)


def test_backup_and_restore_through_keystone_swift(cloud, keystone_swift):
    src = create(cloud, "ks-src")
    addr = src["ip"][0]
    mariadb(addr, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
    # Enough to need several segments of SEGMENT bytes even compressed.
    mariadb(addr, "INSERT INTO t SELECT seq, SHA2(seq, 512) FROM seq_1_to_20000")
    out = cloud.cli_json("database", "backup", "create", "ks-full", "--instance", src["id"])
    done = wait_backup(cloud, out["id"])
    container, name = done["locationRef"].split("/", 1)
    # The objects are in the service project's account, reachable with a token
    # Keystone issues (not tempauth): the manifest and its segments.
    status, listing = swift_as_ctrove_user(keystone_swift, "GET", container)
    assert status == 200, listing
    names = listing.split()
    assert any(n.startswith(name) for n in names), names
    assert len(names) >= 3, names  # manifest + at least two segments

    cloud.cli("database", "instance", "create", "ks-restored", "--flavor", "d2", "--size", "1",
              "--datastore", "mariadb", "--datastore-version", "10.11", "--backup", out["id"])
    restored = cloud.wait_status("ks-restored", "ACTIVE", timeout=180)
    raddr = cloud.api("GET", f"/instances/{restored['id']}")[2]["instance"]["ip"][0]
    assert mariadb(raddr, "SELECT COUNT(*), MAX(id) FROM t") == "20000\t20000"

    for inst in (restored["id"], src["id"]):
        cloud.api("DELETE", f"/instances/{inst}")
        assert cloud.wait_deleted(inst, timeout=60)
    cloud.cli("database", "backup", "delete", out["id"])
    deadline = time.time() + 60
    while time.time() < deadline:
        status, listing = swift_as_ctrove_user(keystone_swift, "GET", container)
        if status in (200, 204) and not any(n.startswith(name) for n in listing.split()):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"backup objects left in Swift: {listing}")
    log = cloud.log.read_text(errors="replace")
    assert keystone_swift["ctrove_password"] not in log and PASSWORD not in log


def test_wrong_service_password_fails_the_backup_cleanly(tmp_path_factory, broker,
                                                         keystone_swift):
    srv = e2e.Cloud(tmp_path_factory.mktemp("badpw"), broker, peer="badpw", extra_conf=(
        "[DEFAULT]\nstorage_strategy = swift\n"
        + service_credentials(keystone_swift, password="wrong-" + secrets.token_hex(4))))
    for cloud in e2e.serve(srv):
        inst = create(cloud, "ks-bad")
        status, _, body = cloud.api("POST", "/backups", {"backup": {
            "name": "nope", "instance": inst["id"]}})
        if status == 202:
            bid = body["backup"]["id"]
            deadline = time.time() + 60
            while time.time() < deadline:
                b = cloud.api("GET", f"/backups/{bid}")[2]["backup"]
                if b["status"] == "FAILED":
                    break
                time.sleep(0.5)
            assert b["status"] == "FAILED", b
        else:
            assert status in (500, 503), body
        # The instance is unharmed and the service password never logged.
        assert cloud.wait_status("ks-bad", "ACTIVE", timeout=30)
        assert "wrong-" not in cloud.log.read_text(errors="replace")
        cloud.api("DELETE", f"/instances/{inst['id']}")
        assert cloud.wait_deleted(inst["id"], timeout=60)
