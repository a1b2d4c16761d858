"""Admin APIs and policy: datastore versions, parameters, quotas, datastores."""


def create_version(server, name, ds="percona", default=False, active=True):
    body = {"version": {"name": name, "datastore_name": ds, "datastore_manager": "mysql",
                        "image_tags": ["trove"], "packages": ["pkg-a", "pkg-b"],
                        "active": active, "default": default}}
    status, _, reply = server.api("POST", "/mgmt/datastore-versions", body)
    assert status == 202, reply
    return next(v for v in server.api("GET", "/mgmt/datastore-versions")[2]["versions"]
                if v["name"] == name and v["datastore_name"] == ds)


def test_mgmt_version_views(server):
    v = create_version(server, "8.0", default=True)
    assert v["packages"] == ["pkg-a", "pkg-b"] and v["image_tags"] == ["trove"]
    assert v["image"] is None and v["default"] is True and v["active"] is True
    status, _, shown = server.api("GET", f"/mgmt/datastore-versions/{v['id']}")
    assert status == 200 and shown["version"] == v
    # Admins see the admin fields on the public routes, members do not.
    admin_view = server.api("GET", "/datastores/percona/versions/8.0")[2]["version"]
    assert admin_view["active"] is True and admin_view["packages"] == "pkg-a,pkg-b"
    member_view = server.api("GET", "/datastores/percona/versions/8.0", user="demo")[2]["version"]
    assert "active" not in member_view and member_view["id"] == v["id"]
    ds = server.api("GET", "/datastores/percona", user="demo")[2]["datastore"]
    assert ds["default_version"] == v["id"]


def test_inactive_versions_are_hidden_from_members(server):
    v = create_version(server, "5.6", ds="hidden-ds", active=False)
    member = {d["name"] for d in server.api("GET", "/datastores", user="demo")[2]["datastores"]}
    admin = {d["name"] for d in server.api("GET", "/datastores")[2]["datastores"]}
    assert "hidden-ds" in admin and "hidden-ds" not in member
    # PATCH activates it (202, empty body), and members see it.
    status, _, body = server.api("PATCH", f"/mgmt/datastore-versions/{v['id']}", {"active": True})
    assert status == 202 and body is None
    member = {d["name"] for d in server.api("GET", "/datastores", user="demo")[2]["datastores"]}
    assert "hidden-ds" in member


def test_version_set_and_delete_through_cli(server):
    v = create_version(server, "9.1", ds="cli-ds")
    server.cli("datastore", "version", "set", v["id"], "--image-tags", "a,b", "--default")
    shown = server.api("GET", f"/mgmt/datastore-versions/{v['id']}")[2]["version"]
    assert shown["image_tags"] == ["a", "b"] and shown["default"] is True
    assert shown["image"] == ""
    server.cli("datastore", "version", "delete", v["id"])
    status, _, reply = server.api("GET", f"/mgmt/datastore-versions/{v['id']}")
    assert status == 400
    # The datastore is left without versions; deleting it now works.
    server.cli("datastore", "delete", "cli-ds")
    assert server.api("GET", "/datastores/cli-ds")[0] == 404


def test_datastore_with_versions_cannot_be_deleted(server):
    create_version(server, "1.0", ds="busy-ds")
    status, _, reply = server.api("DELETE", "/datastores/busy-ds")
    assert status == 400
    assert reply["badRequest"]["message"].startswith("Datastore versions exist for datastore")


def test_members_are_refused_admin_routes(server):
    status, headers, reply = server.api("GET", "/mgmt/datastore-versions", user="demo")
    assert status == 401
    assert reply["unauthorized"]["message"] == "User does not have admin privileges."
    assert "WWW-Authenticate" in headers
    status, _, reply = server.api("DELETE", "/datastores/percona", user="demo")
    assert status == 403
    assert reply["forbidden"]["message"] == "Policy doesn't allow datastore:delete to be performed."
    before = server.api("GET", "/datastores")[2]
    proc = server.cli("datastore", "version", "create", "2.0", "x", "mysql", "",
                      "--image-tags", "t", "--active", user="demo", check=False)
    assert proc.returncode != 0
    assert "admin privileges" in proc.stderr
    assert server.api("GET", "/datastores")[2] == before


def test_mgmt_parameters_crud(server):
    v = create_version(server, "8.4", ds="params-ds")
    base = f"/mgmt/datastores/versions/{v['id']}/parameters"
    body = {"configuration-parameter": {"name": "max_connections", "restart_required": 0,
                                        "data_type": "integer", "min_size": 1,
                                        "max_size": 1000}}
    status, _, p = server.api("POST", base, body)
    assert status == 200 and p["max_size"] == 1000 and p["restart_required"] is False
    assert server.api("POST", base, body)[0] == 400  # duplicate
    bad = {"configuration-parameter": dict(body["configuration-parameter"], max_size=None)}
    assert server.api("POST", base, bad)[0] == 400
    body["configuration-parameter"]["max_size"] = 5000
    status, _, p = server.api("PUT", f"{base}/max_connections", body)
    assert status == 200 and p["max_size"] == 5000
    public = server.api("GET", f"/datastores/versions/{v['id']}/parameters/max_connections",
                        user="demo")[2]
    assert public["max"] == 5000 and public["min"] == 1
    status, _, body = server.api("DELETE", f"{base}/max_connections")
    assert status == 204 and body is None
    status, _, reply = server.api("DELETE", f"{base}/max_connections")
    assert status == 400
    assert reply["badRequest"]["message"] == "Parameter max_connections does not exist in the database."


def test_quotas_show_and_update(server):
    _, demo = server.token("demo")
    out = server.cli_json("database", "quota", "show", demo)
    assert {q["Resource"] for q in out} == {"backups", "instances", "ram", "volumes"}
    server.cli("database", "quota", "update", demo, "instances", "3")
    shown = {q["resource"]: q for q in server.api("GET", f"/mgmt/quotas/{demo}", user="demo")[2]["quotas"]}
    assert shown["instances"]["limit"] == 3
    limits = server.api("GET", "/limits", user="demo")[2]["limits"]
    assert limits[0]["verb"] == "ABSOLUTE" and limits[0]["max_instances"] == 3
    # A member may read only its own project's quotas and may not change them.
    _, admin = server.token("admin")
    status, _, reply = server.api("GET", f"/mgmt/quotas/{admin}", user="demo")
    assert status == 403
    assert server.api("PUT", f"/mgmt/quotas/{demo}", {"quotas": {"instances": 9}},
                      user="demo")[0] == 401


def test_not_yet_implemented_routes_say_so(server):
    # Replicas are implemented (issue 15): an unknown source is Trove's 404.
    status, _, reply = server.api("POST", "/instances", {"instance": {
        "name": "x", "replica_of": "00000000-0000-0000-0000-000000000000"}})
    assert status == 404, reply
    assert "cannot be found" in reply["itemNotFound"]["message"]
    status, _, reply = server.api("GET", "/clusters")
    assert status == 501
    proc = server.cli("database", "cluster", "list", check=False)
    assert proc.returncode != 0 and "HTTP 501" in proc.stderr


def test_manage_flavor_and_volume_type_associations(server):
    v = create_version(server, "3.3", ds="assoc-ds")

    def flavors():
        status, _, reply = server.api("GET", f"/datastores/assoc-ds/versions/{v['id']}/flavors")
        assert status == 200, reply
        return sorted(str(f["id"]) for f in reply["flavors"])

    def manage_fails(*args):
        done = server.manage(*args, check=False)
        assert done.returncode != 0
        return done.stderr

    everything = flavors()
    assert {"1", "2", "11"} <= set(everything)
    server.manage("datastore_version_flavor_add", "assoc-ds", "3.3", "1, 2")
    assert flavors() == ["1", "2"]
    assert "error: flavor 2 is already associated." in manage_fails(
        "datastore_version_flavor_add", "assoc-ds", "3.3", "2")
    server.manage("datastore_version_flavor_delete", "assoc-ds", "3.3", "1")
    assert flavors() == ["2"]
    assert "error: flavor 1 is not associated." in manage_fails(
        "datastore_version_flavor_delete", "assoc-ds", "3.3", "1")
    # The last association gone, every flavor is allowed again; one added
    # back is the same row revived.
    server.manage("datastore_version_flavor_delete", "assoc-ds", "3.3", "2")
    assert flavors() == everything
    server.manage("datastore_version_flavor_add", "assoc-ds", "3.3", "2")
    assert flavors() == ["2"]

    def volume_types():
        return server.manage("datastore_version_volume_type_list", "assoc-ds", "3.3").stdout.split()

    assert volume_types() == []
    server.manage("datastore_version_volume_type_add", "assoc-ds", "3.3", "ssd,hdd")
    assert volume_types() == ["hdd", "ssd"]
    server.manage("datastore_version_volume_type_delete", "assoc-ds", "3.3", "ssd")
    assert volume_types() == ["hdd"]
    assert "error: volume_type ssd is not associated." in manage_fails(
        "datastore_version_volume_type_delete", "assoc-ds", "3.3", "ssd")
