"""Secrets on one machine: `ctrove manage` takes passwords from standard input or
a file, never from its command line (where `ps` shows them to every user), and
the control plane runs without core dumps (its memory holds the keys)."""
import re
import subprocess
import time

from conftest import CTROVE, sanitizer_env


def login_status(server, user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    return server.http("POST", "/identity/v3/auth/tokens", body)[0]


def test_user_create_reads_the_password_from_stdin(server):
    out = server.manage("user_create", "from-stdin", "stdin-project", "member",
                        stdin="stdin-Passw0rd\n")
    assert "has role member on project stdin-project" in out.stdout
    assert login_status(server, "from-stdin", "stdin-Passw0rd", "stdin-project") == 201


def test_user_create_reads_the_password_from_a_file(server, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("file-Passw0rd\nsecond line is ignored\n")
    secret.chmod(0o600)
    server.manage("user_create", "from-file", "file-project", "member",
                  "--password-file", str(secret))
    assert login_status(server, "from-file", "file-Passw0rd", "file-project") == 201


def test_identity_bootstrap_with_a_file_and_names(server, tmp_path):
    secret = tmp_path / "admin-pw"
    secret.write_text("boot-Passw0rd")  # no line end is fine too
    out = server.manage("identity_bootstrap", "--user", "root2", "--project", "ops",
                        "--password-file", str(secret))
    assert "user root2" in out.stdout and "admin of project ops" in out.stdout
    assert login_status(server, "root2", "boot-Passw0rd", "ops") == 201


def test_a_password_on_the_command_line_is_refused(server):
    # The old forms: identity_bootstrap PASSWORD, user_create NAME PASSWORD PROJECT ROLE.
    out = server.manage("identity_bootstrap", "argv-Passw0rd", check=False, stdin="x\n")
    assert out.returncode == 2 and "never an argument" in out.stderr
    out = server.manage("user_create", "argv-user", "argv-Passw0rd", "p", "member",
                        check=False, stdin="x\n")
    assert out.returncode == 2 and "never an argument" in out.stderr
    assert "argv-user" not in [u["Name"] for u in server.cli_json("user", "list")]
    assert "argv-Passw0rd" not in out.stderr


def test_empty_unreadable_or_huge_passwords_are_refused(server, tmp_path):
    for stdin in ("", "\n"):
        out = server.manage("user_create", "empty-pw", "p-empty", "member", check=False,
                            stdin=stdin)
        assert out.returncode == 1 and "must be 1 to 4096 bytes" in out.stderr
    out = server.manage("user_create", "empty-pw", "p-empty", "member", check=False,
                        stdin="x" * 5000 + "\n")
    assert out.returncode == 1 and "must be 1 to 4096 bytes" in out.stderr
    out = server.manage("user_create", "empty-pw", "p-empty", "member", "--password-file",
                        str(tmp_path / "missing"), check=False)
    assert out.returncode == 1 and "cannot read the password file" in out.stderr
    # Nothing was made.
    assert "empty-pw" not in [u["Name"] for u in server.cli_json("user", "list")]
    assert "p-empty" not in [p["Name"] for p in server.cli_json("project", "list")]


def core_limit(pid):
    limits = open(f"/proc/{pid}/limits").read()
    return re.search(r"^Max core file size\s+(\S+)\s+(\S+)", limits, re.M).groups()


def test_the_api_server_runs_without_core_dumps(server):
    assert core_limit(server.proc.pid) == ("0", "0")


def test_manage_runs_without_core_dumps_too(server, tmp_path):
    # A manage process waiting for its password on a pipe: look at it then.
    proc = subprocess.Popen([CTROVE, "--config-file", str(server.conf), "manage",
                             "user_create", "slow", "slow-project", "member"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=sanitizer_env(), text=True)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and core_limit(proc.pid) != ("0", "0"):
            time.sleep(0.05)
        assert core_limit(proc.pid) == ("0", "0")
    finally:
        out, err = proc.communicate("slow-Passw0rd\n", timeout=60)
    assert proc.returncode == 0, err
