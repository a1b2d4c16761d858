"""The private Swift the e2e run shares (fixture `swift`, scripts/swift.sh) and a
ctrove configured to keep its backups there (fixture `cloud_swift`): the real
`swift` CLI (python3-swiftclient) reaches the account with the harness's
tempauth user, ctrove all starts and serves with storage_strategy = swift, and
the key is in no log. The backup scenarios run over this fixture too."""
import subprocess


def swift_cli(swift, *args):
    return subprocess.run(["swift", "-A", swift["auth_url"], "-U", swift["user"], "-K",
                           swift["key"], *args], capture_output=True, text=True, timeout=60)


def test_swift_cli_reaches_the_account(swift, tmp_path):
    out = swift_cli(swift, "stat")
    assert out.returncode == 0, out.stderr
    assert "Account: AUTH_ctrove" in out.stdout
    # A segmented upload with Swift's own client: the SLO middleware is in the
    # proxy's pipeline, as ctrove's store needs.
    data = tmp_path / "blob"
    data.write_bytes(b"x" * 3000)
    container = f"e2e-harness-{tmp_path.name}"
    out = swift_cli(swift, "upload", "--use-slo", "--segment-size", "1000",
                    "--object-name", "blob", container, str(data))
    assert out.returncode == 0, out.stderr
    out = swift_cli(swift, "stat", container, "blob")
    assert "X-Static-Large-Object: True" in out.stdout, out.stdout
    assert "Content Length: 3000" in out.stdout, out.stdout
    assert swift_cli(swift, "delete", container).returncode == 0


def test_ctrove_serves_with_the_swift_store(cloud_swift):
    status, _, body = cloud_swift.api("GET", "/datastores")
    assert status == 200, body
    assert any(d["name"] == "mariadb" for d in body["datastores"])
    conf = cloud_swift.conf.read_text()
    assert "storage_strategy = swift" in conf
    assert cloud_swift.swift["key"] not in cloud_swift.log.read_text()
