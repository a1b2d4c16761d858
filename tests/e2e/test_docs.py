"""Generated documents stay in step with the binary."""
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CTROVE = os.environ.get("CTROVE_BIN", str(REPO / "build" / "src" / "ctrove"))


def generated(flag):
    return subprocess.run([CTROVE, flag], capture_output=True, text=True, check=True).stdout


def test_config_reference_is_current():
    assert (REPO / "docs" / "config.md").read_text() == generated("--help-config"), \
        "docs/config.md is stale: ctrove --help-config > docs/config.md"


def test_route_reference_is_current():
    assert (REPO / "docs" / "api.md").read_text() == generated("--help-routes"), \
        "docs/api.md is stale: ctrove --help-routes > docs/api.md"


def test_policy_sample_is_current():
    assert (REPO / "docs" / "policy.yaml.sample").read_text() == generated("--help-policy"), \
        "docs/policy.yaml.sample is stale: ctrove --help-policy > docs/policy.yaml.sample"


def test_manage_lists_trove_manage_subcommands():
    out = subprocess.run([CTROVE, "manage", "help"], capture_output=True, text=True).stderr
    for sub in ("db_sync", "datastore_update", "datastore_version_update",
                "db_load_datastore_config_parameters", "datastore_version_flavor_add"):
        assert sub in out
