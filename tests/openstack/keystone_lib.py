"""The ctrove configuration of `auth_strategy = keystone` against the shared
Keystone, in one place (`keystone_conf`), for test_keystone_auth.py and for
the nova engineer's suite to switch to; and Keystone users of a test's own
(named keystone-<hex>, removed afterwards)."""
import json
import secrets
import urllib.error
import urllib.request


def keystone_conf(openstack, service_user, cache_time=300, cache_size=10000, auth_url=None):
    """trove.conf lines for auth_strategy = keystone with service_user
    (anything with username, password and project, like nova_lib.ServiceUser)
    validating the tokens."""
    url = auth_url or openstack.auth_url
    return ("[DEFAULT]\nauth_strategy = keystone\n"
            "[keystone_authtoken]\n"
            f"www_authenticate_uri = {url}\n"
            f"auth_url = {url}\n"
            f"username = {service_user.username}\n"
            f"password = {service_user.password}\n"
            f"project_name = {service_user.project}\n"
            "user_domain_name = Default\nproject_domain_name = Default\n"
            f"region_name = {openstack.region}\n"
            "http_connect_timeout = 30\n"
            f"token_cache_time = {cache_time}\n"
            f"token_cache_size = {cache_size}\n")


class Member:
    """A project of its own with one user holding the member role on it."""

    def __init__(self, openstack, prefix):
        self.openstack = openstack
        tag = secrets.token_hex(4)
        self.project = f"{prefix}-{tag}"
        self.username = f"{prefix}-user-{tag}"
        self.password = "p" + secrets.token_urlsafe(16)
        self.project_id = openstack.cli_json(
            "project", "create", "--domain", "Default", self.project)["id"]
        self.user_id = openstack.cli_json(
            "user", "create", "--domain", "Default", "--project", self.project,
            "--password", self.password, self.username)["id"]
        openstack.cli("role", "add", "--project", self.project, "--user", self.username,
                      "member")

    def env(self, region):
        return self.openstack.env(OS_USERNAME=self.username, OS_PASSWORD=self.password,
                                  OS_PROJECT_NAME=self.project, OS_REGION_NAME=region,
                                  OS_USER_DOMAIN_NAME="Default",
                                  OS_PROJECT_DOMAIN_NAME="Default")

    def token(self):
        """A new Keystone token for this user on its project (one POST)."""
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": self.username, "domain": {"name": "Default"},
            "password": self.password}}},
            "scope": {"project": {"name": self.project, "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(self.openstack.auth_url + "/auth/tokens",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers["X-Subject-Token"]

    def remove(self):
        self.openstack.cli("user", "delete", self.user_id, check=False)
        self.openstack.cli("project", "delete", self.project_id, check=False)
