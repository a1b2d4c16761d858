"""Helpers of the nova driver's cloud tests (tests/openstack/test_session.py,
test_nova_driver.py): a Keystone project and service user of their own in the
shared OpenStack (named nova-<hex>, removed afterwards), and the one place a
ctrove configuration for the cloud path is written (`cloud_conf`), so that
switching the suite to `auth_strategy = keystone` is one edit."""
import json
import secrets
import subprocess

from conftest import CTROVE, e2e, sanitizer_env

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
                "timeout = 20\n")

    def remove(self):
        self.openstack.cli("user", "delete", self.user_id, check=False)
        self.openstack.cli("project", "delete", self.project_id, check=False)


def openstack_check(conf_path):
    """`ctrove openstack-check` with that config: (returncode, stdout JSON or None, stderr)."""
    proc = subprocess.run([CTROVE, "--config-file", str(conf_path), "openstack-check"],
                          capture_output=True, text=True, timeout=120, env=sanitizer_env())
    out = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr
