"""[DEFAULT] compute_driver: the default is the local driver, and a value
ctrove does not know stops it at start-up with a clear error instead of
serving requests it cannot carry out."""
import subprocess

from conftest import CTROVE, Server, sanitizer_env


def test_unknown_compute_driver_stops_start_up(tmp_path):
    srv = Server(tmp_path, extra="[DEFAULT]\ncompute_driver = xen\n")
    srv.manage("db_sync")
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "api"],
                          capture_output=True, text=True, timeout=30, env=sanitizer_env())
    assert proc.returncode == 1
    assert "Unknown compute_driver 'xen' (ctrove has: local, nova)." in srv.log.read_text()


def test_help_config_lists_the_option():
    out = subprocess.run([CTROVE, "--help-config"], capture_output=True, text=True,
                         check=True).stdout
    line = next(l for l in out.splitlines() if "compute_driver" in l)
    assert "local" in line


def test_bad_instance_uid_range_stops_the_taskmanager(tmp_path):
    """Every create would fail: the taskmanager refuses to start instead."""
    srv = Server(tmp_path, extra="[local]\ninstance_uid_range = 500-900\n")
    srv.manage("db_sync")
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "taskmanager"],
                          capture_output=True, text=True, timeout=30, env=sanitizer_env())
    assert proc.returncode == 1
    assert "[local] instance_uid_range must be first-last with 1000 <= first" in \
        srv.log.read_text()
