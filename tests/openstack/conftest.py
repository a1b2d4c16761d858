"""The cloud path's harness: a real OpenStack (scripts/check_openstack.sh brings
it up, or reuses the one CTROVE_OS_STATE names) and the e2e harness's fixtures
(ctrove servers, the private broker) re-exported from tests/e2e/conftest.py.

`openstack` gives the admin credentials from the state dir's openrc and runs the
real `openstack` CLI; `database_region` registers a ctrove API in Keystone's
catalog under a region of its own (removed at the end), so parallel runs sharing
one OpenStack never see each other's endpoints.
"""
import importlib.util
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

_E2E = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("ctrove_e2e_harness", _E2E)
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

# Fixtures the cloud tests share with the e2e suite.
broker = e2e.broker
sanitizer_env = e2e.sanitizer_env
free_port = e2e.free_port
REPO = e2e.REPO
CTROVE = e2e.CTROVE


class OpenStack:
    """Admin access to the running OpenStack."""

    def __init__(self, state: Path):
        self.state = state
        self.env_vars = {}
        for line in (state / "openrc").read_text().split("\n"):
            for word in line.replace("export ", "").split():
                if "=" in word:
                    key, value = word.split("=", 1)
                    self.env_vars[key] = value
        self.auth_url = self.env_vars["OS_AUTH_URL"]
        self.admin_password = self.env_vars["OS_PASSWORD"]
        self.region = self.env_vars.get("OS_REGION_NAME", "RegionOne")

    def env(self, **override):
        """The environment for the CLI as admin (or override some OS_* names)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"
        env.update(self.env_vars)
        env.update({k: str(v) for k, v in override.items()})
        return env

    def cli(self, *args, env=None, check=True, timeout=120):
        """Run `openstack ARGS -f json` (when the command prints data) as admin."""
        proc = subprocess.run(["/usr/bin/openstack", *args], env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed: {proc.stderr}")
        return proc

    def cli_json(self, *args, env=None):
        out = self.cli(*args, "-f", "json", env=env).stdout
        return json.loads(out) if out.strip() else None


@pytest.fixture(scope="session")
def openstack():
    state = os.environ.get("CTROVE_OS_STATE")
    if not state or not (Path(state) / "openrc").exists():
        pytest.fail("no running OpenStack: run these tests with `make check-openstack` "
                    "(scripts/check_openstack.sh), or set CTROVE_OS_STATE")
    return OpenStack(Path(state))


@pytest.fixture
def database_region(openstack):
    """register(url) → a new region whose 'database' endpoint is url (Trove's
    `/v1.0/%(tenant_id)s` shape is the caller's); removed at teardown."""
    made = []

    def register(url):
        region = "ctrove-" + secrets.token_hex(4)
        openstack.cli("region", "create", region)
        svc = openstack.cli_json("service", "list", "--long")
        ids = [s["ID"] for s in svc or [] if s.get("Type") == "database"]
        if not ids:
            ids = [openstack.cli_json("service", "create", "--name", "trove", "database")["id"]]
        ep = openstack.cli_json("endpoint", "create", "--region", region, ids[0], "public", url)
        made.append((region, ep["id"]))
        return region

    yield register
    for region, endpoint in made:
        openstack.cli("endpoint", "delete", endpoint, check=False)
        openstack.cli("region", "delete", region, check=False)
