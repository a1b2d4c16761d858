"""The ctrove configuration of `auth_strategy = keystone` against the shared
Keystone, in one place (`keystone_conf`), for test_keystone_auth.py and for
the nova engineer's suite to switch to; and Keystone projects and users of a
test's own (named keystone-<hex>, removed afterwards), made through
Keystone's REST API as admin (one request each: the CLI costs seconds of
Python start-up per call on a loaded machine; the tests use the real CLI
where the CLI is what is tested)."""
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


def keystone_request(openstack, method, path, body=None, token=None, subject=None):
    """(status, headers, JSON or None) of one Keystone v3 call."""
    req = urllib.request.Request(openstack.auth_url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    if subject:
        req.add_header("X-Subject-Token", subject)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, headers, payload = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, payload = e.code, e.headers, e.read()
    return status, headers, (json.loads(payload) if payload else None)


def password_token(openstack, user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    status, headers, reply = keystone_request(openstack, "POST", "/auth/tokens", body)
    assert status == 201, reply
    return headers["X-Subject-Token"]


def admin_token(openstack):
    env = openstack.env_vars
    return password_token(openstack, env["OS_USERNAME"], env["OS_PASSWORD"],
                          env["OS_PROJECT_NAME"])


class Member:
    """A project of its own with one user holding `role` on it."""

    def __init__(self, openstack, prefix, role="member"):
        self.openstack = openstack
        self.admin = admin_token(openstack)
        tag = secrets.token_hex(4)
        self.project = f"{prefix}-{tag}"
        self.username = f"{prefix}-user-{tag}"
        self.password = "p" + secrets.token_urlsafe(16)
        self.project_id = self._create("/projects", "project", {
            "name": self.project, "domain_id": "default"})
        self.user_id = self._create("/users", "user", {
            "name": self.username, "domain_id": "default", "password": self.password,
            "default_project_id": self.project_id})
        status, _, roles = keystone_request(openstack, "GET", f"/roles?name={role}",
                                            token=self.admin)
        assert status == 200 and roles["roles"], roles
        status, _, reply = keystone_request(
            openstack, "PUT", f"/projects/{self.project_id}/users/{self.user_id}/roles/"
            f"{roles['roles'][0]['id']}", token=self.admin)
        assert status == 204, reply

    def _create(self, path, kind, fields):
        status, _, reply = keystone_request(self.openstack, "POST", path, {kind: fields},
                                            token=self.admin)
        assert status == 201, reply
        return reply[kind]["id"]

    def env(self, region):
        """The real CLI's environment as this user, finding ctrove in region."""
        return self.openstack.env(OS_USERNAME=self.username, OS_PASSWORD=self.password,
                                  OS_PROJECT_NAME=self.project, OS_REGION_NAME=region,
                                  OS_USER_DOMAIN_NAME="Default",
                                  OS_PROJECT_DOMAIN_NAME="Default")

    def token(self):
        """A new Keystone token for this user on its project."""
        return password_token(self.openstack, self.username, self.password, self.project)

    def remove(self):
        self.admin = admin_token(self.openstack)
        keystone_request(self.openstack, "DELETE", f"/users/{self.user_id}", token=self.admin)
        keystone_request(self.openstack, "DELETE", f"/projects/{self.project_id}",
                         token=self.admin)
