"""Helpers of the nova driver's cloud tests (tests/openstack/test_session.py,
test_nova_driver.py): a Keystone project and service user of their own in the
shared OpenStack (named nova-<hex>, removed afterwards), and the one place a
ctrove configuration for the cloud path is written (`cloud_conf`), so that
switching the suite to `auth_strategy = keystone` is one edit."""
import base64
import json
import os
import secrets
import subprocess
from pathlib import Path

from conftest import CTROVE, e2e, sanitizer_env
from keystone_lib import keystone_conf, keystone_request

SANITIZER_RE = e2e.SANITIZER


class ServiceUser:
    """A project and a user with the admin role on it (Trove's service user
    owns its instances' servers, volumes, ports and security groups)."""

    def __init__(self, openstack, prefix="nova"):
        self.openstack = openstack
        tag = secrets.token_hex(4)
        self.project = f"{prefix}-{tag}"
        self.username = f"{prefix}-svc-{tag}"
        self.password = "p" + secrets.token_urlsafe(16)
        self.project_id = openstack.cli_json(
            "project", "create", "--domain", "Default", self.project)["id"]
        self.user_id = openstack.cli_json(
            "user", "create", "--domain", "Default", "--project", self.project,
            "--password", self.password, self.username)["id"]
        openstack.cli("role", "add", "--project", self.project, "--user", self.username,
                      "admin")

    def env(self):
        """The CLI's environment as this user on its project."""
        return self.openstack.env(OS_USERNAME=self.username, OS_PASSWORD=self.password,
                                  OS_PROJECT_NAME=self.project)

    def cli_json(self, *args):
        return self.openstack.cli_json(*args, env=self.env())

    def conf(self, auth_url=None, password=None):
        """The [service_credentials] section for this user."""
        return ("[service_credentials]\n"
                f"auth_url = {auth_url or self.openstack.auth_url}\n"
                f"username = {self.username}\n"
                f"password = {password or self.password}\n"
                f"project_name = {self.project}\n"
                "user_domain_name = Default\nproject_domain_name = Default\n"
                f"region_name = {self.openstack.region}\n"
                "timeout = 120\n")  # a loaded shared machine: nova-api may take 20 s

    def remove(self):
        self.openstack.cli("user", "delete", self.user_id, check=False)
        self.openstack.cli("project", "delete", self.project_id, check=False)


def openstack_check(conf_path):
    """`ctrove openstack-check` with that config: (returncode, stdout JSON or None, stderr)."""
    proc = subprocess.run([CTROVE, "--config-file", str(conf_path), "openstack-check"],
                          capture_output=True, text=True, timeout=120, env=sanitizer_env())
    out = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


class CloudResources:
    """What an operator sets up for the nova driver, made by the service user
    (owned by its project) or the admin where only an admin may: a tiny image
    tagged `trove,<tag>`, a Nova flavor, a management network with a --no-dhcp
    subnet, a management security group, a keypair and a volume type. All
    named after the service user's project, all removed by remove()."""

    def __init__(self, openstack, user, scratch):
        self.openstack, self.user = openstack, user
        tag = user.project  # nova-<hex>: unique per run
        self.tag = tag
        self.image_tags = f"trove,{tag}"
        blob = scratch / "image.raw"
        blob.write_bytes(b"\0" * 1024 * 1024)
        self.image_id = user.cli_json("image", "create", "--disk-format", "raw",
                                      "--container-format", "bare", "--file", str(blob),
                                      "--tag", "trove", "--tag", tag, f"{tag}-image")["id"]
        self.flavor_id = f"{tag}-flavor"
        openstack.cli("flavor", "create", "--id", self.flavor_id, "--ram", "512", "--disk", "1",
                      "--vcpus", "1", self.flavor_id)
        self.bigger_flavor_id = f"{tag}-bigger"  # a flavor resize's target
        openstack.cli("flavor", "create", "--id", self.bigger_flavor_id, "--ram", "1024",
                      "--disk", "1", "--vcpus", "1", self.bigger_flavor_id)
        self.network_id = user.cli_json("network", "create", f"{tag}-mgmt")["id"]
        octet = int(tag[-4:], 16) % 250 + 1
        self.subnet_id = user.cli_json("subnet", "create", "--network", self.network_id,
                                       "--subnet-range", f"10.{octet}.0.0/24", "--no-dhcp",
                                       f"{tag}-mgmt-subnet")["id"]
        self.mgmt_sg_id = user.cli_json("security", "group", "create", f"{tag}-mgmt-sg")["id"]
        self.keypair = f"{tag}-key"
        user.cli_json("keypair", "create", "--private-key", str(scratch / "key"), self.keypair)
        self.volume_type = f"{tag}-type"
        openstack.cli("volume", "type", "create", self.volume_type)

    def sweep(self):
        """Whatever a failed test left in the service project (servers,
        volumes, ports, security groups named by the driver)."""
        o, pid = self.openstack, self.user.project_id
        for s in o.cli_json("server", "list", "--all-projects", "--project", pid) or []:
            o.cli("server", "delete", "--wait", s["ID"], check=False)
        for v in o.cli_json("volume", "list", "--all-projects", "--project", pid) or []:
            o.cli("volume", "delete", "--force", v["ID"], check=False)
        for p in o.cli_json("port", "list", "--project", pid) or []:
            if p["Name"].startswith("trove-"):
                o.cli("port", "delete", p["ID"], check=False)
        for g in o.cli_json("security", "group", "list", "--project", pid) or []:
            if g["Name"].startswith("trove_sg-"):
                o.cli("security", "group", "delete", g["ID"], check=False)

    def remove(self):
        u, o = self.user, self.openstack
        self.sweep()
        o.cli("image", "delete", self.image_id, check=False)
        o.cli("flavor", "delete", self.flavor_id, check=False)
        o.cli("flavor", "delete", self.bigger_flavor_id, check=False)
        o.cli("subnet", "delete", self.subnet_id, check=False)
        o.cli("network", "delete", self.network_id, check=False)
        o.cli("security", "group", "delete", self.mgmt_sg_id, check=False)
        o.cli("keypair", "delete", self.keypair, env=u.env(), check=False)
        o.cli("volume", "type", "delete", self.volume_type, check=False)


def cloud_conf(user, res, extra="", keystone=True):
    """The ONE place the cloud path's ctrove configuration is written: tokens
    validated by the shared Keystone (keystone_lib.keystone_conf, the service
    user doing the validating; keystone=False keeps the embedded identity, for
    bench/openstack, whose client logs in there), the nova driver on the same
    service user, the operator's options of the install guide, and a short
    usage_timeout."""
    return ((keystone_conf(user.openstack, user) if keystone
             else "[DEFAULT]\nauth_strategy = embedded\n")
            + "[DEFAULT]\n"
            "compute_driver = nova\n"
            f"management_networks = {res.network_id}\n"
            f"management_security_groups = {res.mgmt_sg_id}\n"
            f"nova_keypair = {res.keypair}\n"
            "use_nova_server_config_drive = true\n"
            f"cinder_volume_type = {res.volume_type}\n"
            "usage_timeout = 600\n"  # the host agent initialises MariaDB; a loaded machine
            "report_interval = 2\n"
            + user.conf() + extra)


def read_user_data(openstack, server_id):
    """The server's user data as Nova's API shows it to an admin (2.3+),
    decoded: (the #cloud-config line, the parsed JSON document)."""
    shown = openstack.cli_json("--os-compute-api-version", "2.3", "server", "show", server_id)
    text = base64.b64decode(shown["OS-EXT-SRV-ATTR:user_data"]).decode()
    first, _, rest = text.partition("\n")
    return first, json.loads(rest)


def write_guest_files(document, prefix):
    """Contract part 2 on the host: every write_files entry under prefix, with
    its mode. Returns {path in the VM: path on the host}."""
    written = {}
    for f in document["write_files"]:
        assert f["encoding"] == "b64" and f["path"].startswith("/etc/ctrove/"), f
        target = Path(str(prefix) + f["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(f["content"]))
        os.chmod(target, int(f["permissions"], 8))
        written[f["path"]] = target
    return written


def host_overlay(prefix, run_dir, address, port, cache_dir=""):
    """The host overlay (docs/openstack.md): only what a host cannot give a
    guest as its VM would — paths under prefix, a loopback address and port,
    a directory instead of the Cinder volume (mount_device = false). Written beside
    the files."""
    data = Path(prefix) / "data"
    data.mkdir(mode=0o711, exist_ok=True)
    os.chmod(prefix, 0o711)
    overlay = Path(prefix) / "host-overlay.conf"
    text = ("[DEFAULT]\n"
            f"log_file = {prefix}/guestagent.log\n"

            "[guest_agent]\n"
            f"data_dir = {data}\n"
            # No Cinder device on the host: nothing to mount, and resize_fs
            # has no file system to grow.
            "mount_device = false\n"
            f"run_dir = {run_dir}\n"
            f"bind_address = {address}\n"
            f"port = {port}\n"
            f"cache_dir = {cache_dir}\n")
    guest_conf = (Path(prefix) / "etc/ctrove/guest.conf").read_text()
    if "ssl_ca_file = /etc/ctrove/bus-ca.pem" in guest_conf:
        text += f"[oslo_messaging_rabbit]\nssl_ca_file = {prefix}/etc/ctrove/bus-ca.pem\n"
    overlay.write_text(text)
    return overlay


def start_host_agent(prefix, overlay):
    """ctrove-guestagent exactly as the image's boot unit starts it, plus the overlay."""
    agent = str(Path(CTROVE).parent / "ctrove-guestagent")
    log = open(Path(prefix) / "agent.stderr", "ab")
    proc = subprocess.Popen([agent, "--config-file", f"{prefix}/etc/ctrove/guest.conf",
                             "--config-file", str(overlay)],
                            stdout=log, stderr=log, env=sanitizer_env(), cwd=str(prefix))
    log.close()
    return proc


class KeystoneCloud(e2e.Cloud):
    """e2e.Cloud whose clients authenticate with the shared Keystone instead
    of ctrove's embedded identity: `cli`, `api`, `wait_status` and
    `wait_deleted` act as `users[name]` (a keystone_lib.Member, or the
    OpenStack admin for "admin"), and find ctrove in a Keystone region of its
    own (register_endpoint), as a Trove client finds Trove."""

    def __init__(self, root, broker, openstack, users, extra_conf=""):
        super().__init__(root, broker, extra_conf=extra_conf)
        self.openstack = openstack
        admin = openstack.env_vars
        self.users = {"admin": (admin["OS_USERNAME"], admin["OS_PASSWORD"],
                                admin["OS_PROJECT_NAME"])}
        for name, member in users.items():
            self.users[name] = (member.username, member.password, member.project)
        self.region = None
        self._endpoint = None
        self.acting = "admin"  # whom cli/api act as when no user is named

    def cli(self, *args, user=None, **kw):
        return super().cli(*args, user=user or self.acting, **kw)

    def cli_json(self, *args, user=None):
        return super().cli_json(*args, user=user or self.acting)

    def api(self, method, path, body=None, user=None, **kw):
        return super().api(method, path, body, user=user or self.acting, **kw)

    def register_endpoint(self):
        """The database endpoint (Trove's /v1.0/%(tenant_id)s) in a new region."""
        o = self.openstack
        self.region = "ctrove-" + secrets.token_hex(4)
        o.cli("region", "create", self.region)
        services = o.cli_json("service", "list", "--long") or []
        ids = [s["ID"] for s in services if s.get("Type") == "database"]
        if not ids:
            ids = [o.cli_json("service", "create", "--name", "trove", "database")["id"]]
        self._endpoint = o.cli_json("endpoint", "create", "--region", self.region, ids[0],
                                    "public", f"{self.url}/v1.0/%(tenant_id)s")["id"]

    def unregister_endpoint(self):
        if self._endpoint:
            self.openstack.cli("endpoint", "delete", self._endpoint, check=False)
            self.openstack.cli("region", "delete", self.region, check=False)
            self._endpoint = None

    def env(self, user="admin", project=None):
        username, password, own_project = self.users[user]
        return self.openstack.env(OS_USERNAME=username, OS_PASSWORD=password,
                                  OS_PROJECT_NAME=project or own_project,
                                  OS_USER_DOMAIN_NAME="Default",
                                  OS_PROJECT_DOMAIN_NAME="Default",
                                  OS_REGION_NAME=self.region)

    def token(self, user="admin"):
        """(Keystone token, project id) for user, cached."""
        if user not in self._tokens:
            username, password, project = self.users[user]
            body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": username, "domain": {"name": "Default"}, "password": password}}},
                "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
            status, headers, reply = keystone_request(self.openstack, "POST", "/auth/tokens",
                                                      body)
            assert status == 201, reply
            self._tokens[user] = (headers["X-Subject-Token"], reply["token"]["project"]["id"])
        return self._tokens[user]
