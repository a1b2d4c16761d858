"""The seed's commands, through the real openstack CLI (issue 2, "Done when")."""
import functools
import json
import http.server
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "etc" / "validation-rules"


def register(server, name, version, rules_source):
    server.manage("datastore_update", name, "")
    server.manage("datastore_version_update", name, version, name, "", "", "1",
                  "--image-tags", f"trove,{name}")
    server.manage("datastore_update", name, version)
    out = server.manage("db_load_datastore_config_parameters", name, version, rules_source)
    return out.stdout


def test_register_datastores_with_rules_by_path_and_url(server):
    out = register(server, "mariadb", "10.11", str(RULES / "mariadb-10.11.json"))
    assert "Loaded" in out
    # The second datastore's rules come over HTTP, as the seed loads them by URL.
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(RULES))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/postgresql-15.json"
        out = register(server, "postgresql", "15", url)
    finally:
        httpd.shutdown()
    assert "Loaded" in out
    names = {d["Name"] for d in server.cli_json("datastore", "list")}
    assert {"mariadb", "postgresql"} <= names


def test_seed_datastore_version_create(server):
    proc = server.cli("datastore", "version", "create", "5.7.29", "mysql", "mysql", "",
                      "--image-tags", "trove,mysql", "--active", "--default")
    assert proc.returncode == 0
    versions = server.cli_json("datastore", "version", "list", "mysql")
    assert [v["Name"] for v in versions] == ["5.7.29"]
    shown = server.cli_json("datastore", "show", "mysql")
    assert shown["name"] == "mysql"
    # Creating the same version again is refused with Trove's message.
    again = server.cli("datastore", "version", "create", "5.7.29", "mysql", "mysql", "",
                       "--image-tags", "trove,mysql", "--active", check=False)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def test_seed_listing_commands(server):
    assert server.cli("datastore", "list").returncode == 0
    flavors = server.cli_json("database", "flavor", "list")
    assert any(f["Name"] == "m1.small" for f in flavors)
    assert server.cli_json("database", "instance", "list") == []
    # The CLI prints the ABSOLUTE element as a table whatever -f says, then the rates.
    out = server.cli("database", "limit", "list", "-f", "json").stdout
    assert "max_instances" in out and "ABSOLUTE" in out
    rates = json.loads(out[out.index("["):])
    assert {r["Verb"] for r in rates} >= {"GET", "POST", "PUT", "DELETE"}
    assert all(r["Value"] == 200 for r in rates)


def test_configuration_parameters_of_registered_versions(server):
    params = server.cli_json("database", "configuration", "parameter", "list", "10.11",
                             "--datastore", "mariadb")
    by_name = {p["Name"]: p for p in params}
    assert by_name["max_connections"]["Type"] == "integer"
    shown = server.cli_json("database", "configuration", "parameter", "show", "15",
                            "shared_buffers", "--datastore", "postgresql")
    assert shown["restart_required"] is True
    missing = server.cli("database", "configuration", "parameter", "show", "15", "nosuch",
                         "--datastore", "postgresql", check=False)
    assert missing.returncode != 0


def test_member_sees_registered_datastores(server):
    names = {d["Name"] for d in server.cli_json("datastore", "list", user="demo")}
    assert {"mariadb", "postgresql", "mysql"} <= names


def test_flavor_show_and_datastore_flavors(server):
    shown = server.cli_json("database", "flavor", "show", "m1.small")
    assert shown["ram"] == 2048
    version = server.cli_json("datastore", "version", "show", "10.11", "--datastore", "mariadb")
    flavors = server.cli_json("database", "flavor", "list", "--datastore-type", "mariadb",
                              "--datastore-version-id", version["id"])
    assert len(flavors) >= 4
