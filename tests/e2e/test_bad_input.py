"""Bad input over HTTP gets Trove's status and error body, and changes nothing."""
import json
import socket

import pytest

VALID = {"version": {"name": "10.6", "datastore_name": "mariadb",
                     "datastore_manager": "mariadb", "image_tags": ["trove"],
                     "packages": [], "active": True, "default": False}}


def versions_snapshot(server):
    status, _, body = server.api("GET", "/mgmt/datastore-versions")
    assert status == 200
    return sorted((v["datastore_name"], v["name"], v["active"], v["default"])
                  for v in body["versions"])


def stores_snapshot(server):
    return sorted(d["name"] for d in server.api("GET", "/datastores")[2]["datastores"])


def with_version(**changes):
    body = {"version": dict(VALID["version"])}
    for key, value in changes.items():
        if value is KeyError:
            del body["version"][key]
        else:
            body["version"][key] = value
    return body


@pytest.mark.parametrize("body, message", [
    (with_version(name=KeyError), "Validation error: version 'name' is a required property"),
    (with_version(active="yes"), "Validation error: version['active'] 'yes' is not of type 'boolean'"),
    (with_version(name=""), "Validation error: version['name'] '' is too short"),
    (with_version(name="x" * 256), "is too long"),
    (with_version(name="---"), "does not match"),
    (with_version(image="not-a-uuid"), "Validation error: version['image']"),
    (with_version(image_tags=["a", "a"]), "has non-unique elements"),
    (with_version(image_tags=["t1", "t2", "t3", "t4", "t5", "t6"]), "is too long"),
    (with_version(image_tags=[7]), "7 is not of type 'string'"),
    (with_version(surprise=1), "Additional properties are not allowed ('surprise' was unexpected)"),
    (with_version(image_tags=[]), "Image must be specified."),
    ({"version": []}, "is not of type 'object'"),
    ({"versions": VALID["version"]}, "'version' is a required property"),
    ([1, 2], "is not of type 'object'"),
])
def test_datastore_version_create_rejects_bad_bodies(server, body, message):
    before = (versions_snapshot(server), stores_snapshot(server))
    status, _, reply = server.api("POST", "/mgmt/datastore-versions", body)
    assert status == 400, reply
    assert reply["badRequest"]["code"] == 400
    assert message in reply["badRequest"]["message"]
    assert (versions_snapshot(server), stores_snapshot(server)) == before


def test_valid_create_then_duplicate(server):
    status, headers, body = server.api("POST", "/mgmt/datastore-versions", VALID)
    assert status == 202 and body is None
    assert headers["Content-Type"] == "application/json"
    before = versions_snapshot(server)
    status, _, reply = server.api("POST", "/mgmt/datastore-versions", VALID)
    assert status == 400
    assert reply["badRequest"]["message"] == "The datastore version '10.6(10.6)' already exists."
    assert versions_snapshot(server) == before


@pytest.mark.parametrize("raw, content_type, status, title", [
    (b"{not json", "application/json", 400, "Bad Request"),
    (b'{"version": ', "application/json", 400, "Bad Request"),
    (b"\xff\xfe\x00garbage", "application/json", 400, "Bad Request"),
    (b'{"version": {}}', "text/plain", 415, "Unsupported Media Type"),
    (b'{"version": {}}', "application/x-www-form-urlencoded", 415, "Unsupported Media Type"),
])
def test_malformed_bodies_get_webob_errors(server, raw, content_type, status, title):
    before = versions_snapshot(server)
    token, project = server.token("admin")
    got, _, reply = server.http("POST", f"/v1.0/{project}/mgmt/datastore-versions",
                                token=token, raw=raw, headers={"Content-Type": content_type})
    assert got == status
    assert reply["title"] == title
    assert versions_snapshot(server) == before


def test_body_over_the_size_limit_is_413(server):
    before = versions_snapshot(server)
    big = with_version(packages=["p%d" % i for i in range(20000)])
    status, _, reply = server.api("POST", "/mgmt/datastore-versions", big)
    assert status == 413
    assert reply["overLimit"]["code"] == 413
    assert versions_snapshot(server) == before


def raw_request(server, method, path, headers, body=b""):
    """One request written byte for byte on a socket, read until the server
    closes or the body is in: (status, {lower-case header: value}, body)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert b"\r\n\r\n" in data, f"no response, got {data[:200]!r}"
    top, _, payload = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    return status, fields, payload


# Trove's fault for webob's HTTPRequestHeaderFieldsTooLarge.
HEADERS_TOO_LARGE = {"requestHeaderFieldsTooLarge": {
    "code": 431, "message": "The request header fields were too large"}}


@pytest.mark.parametrize("pad", [9 * 1024, 11 * 1024, 13 * 1024])
def test_oversized_request_headers_get_a_json_fault(server, pad):
    token, project = server.token()
    before = versions_snapshot(server)
    for method, path, body in [
            ("GET", f"/v1.0/{project}/datastores", b""),
            ("POST", f"/v1.0/{project}/mgmt/datastore-versions", json.dumps(VALID).encode())]:
        status, fields, payload = raw_request(
            server, method, path, {"X-Auth-Token": token, "X-Pad": "a" * pad}, body)
        assert status == 431, payload[:300]
        assert fields["content-type"] == "application/json"
        assert fields["x-openstack-request-id"].startswith("req-")
        assert json.loads(payload) == HEADERS_TOO_LARGE
    assert versions_snapshot(server) == before
    assert token not in server.log.read_text()


def test_headers_under_the_limit_are_served(server):
    token, project = server.token()
    # 7 KiB in many lines, as a client with a big token or cookie sends them.
    pads = {f"X-Pad-{i}": "b" * 1000 for i in range(7)}
    status, fields, payload = raw_request(
        server, "GET", f"/v1.0/{project}/datastores", {"X-Auth-Token": token, **pads})
    assert status == 200, payload[:300]
    assert "datastores" in json.loads(payload)
    status, _, payload = raw_request(
        server, "GET", f"/v1.0/{project}/datastores",
        {"X-Auth-Token": token, **pads, "X-Pad-Last": "c" * 2000})
    assert status == 431 and json.loads(payload) == HEADERS_TOO_LARGE


@pytest.mark.parametrize("method, path", [
    ("GET", "/nosuch"),
    ("GET", "/datastores/nosuch/versions/x/y/z/w"),
    ("PUT", "/datastores/mariadb"),
    ("POST", "/datastores"),
    ("PATCH", "/flavors"),
    ("GET", "/flavors/999999"),
    ("GET", "/instances/00000000-0000-0000-0000-000000000000"),
])
def test_unknown_routes_methods_and_ids_are_404(server, method, path):
    status, _, reply = server.api(method, path, {} if method in ("PUT", "POST", "PATCH") else None)
    assert status == 404
    assert reply["itemNotFound"]["code"] == 404


def test_paths_outside_the_api_are_404(server):
    status, _, reply = server.http("GET", "/v2.0/whatever")
    assert status == 404 and "itemNotFound" in reply


def test_unknown_datastore_and_version_errors(server):
    status, _, reply = server.api("GET", "/datastores/nosuch")
    assert status == 404
    assert reply["itemNotFound"]["message"] == "Datastore 'nosuch' cannot be found."
    status, _, reply = server.api("GET", "/datastores/mariadb/versions/9.9")
    assert status == 400
    assert reply["badRequest"]["message"] == "Datastore version '9.9' cannot be found."
    status, _, _ = server.api("GET", "/datastores/versions/not-a-uuid")
    assert status == 400


def test_quota_update_bad_input(server):
    _, project = server.token("demo")
    before = server.api("GET", f"/mgmt/quotas/{project}")[2]
    for body, status, fault in [
        ({"quotas": {"instances": "ten"}}, 400, "badRequest"),
        ({"quotas": {"instances": -2}}, 400, "badRequest"),
        ({"quotas": {"cpus": 3}}, 404, "itemNotFound"),
        ({"quotas": {"instances": 5, "cpus": 3}}, 404, "itemNotFound"),
        ({"quotas": []}, 400, "badRequest"),
        ({}, 400, "badRequest"),
    ]:
        got, _, reply = server.api("PUT", f"/mgmt/quotas/{project}", body)
        assert (got, list(reply)) == (status, [fault]), (body, reply)
    assert server.api("GET", f"/mgmt/quotas/{project}")[2] == before


def test_injection_shaped_names_are_data(server):
    name = "x'); DROP TABLE datastores; --"
    status, _, _ = server.api("POST", "/mgmt/datastore-versions",
                              with_version(name=name, datastore_name="evil`ds\"\\"))
    assert status == 202
    versions = server.api("GET", "/datastores/evil`ds\"\\/versions")[2]["versions"]
    assert [v["name"] for v in versions] == [name]
    assert "mariadb" in stores_snapshot(server)


def test_rate_limit_answers_413_with_retry_after(server):
    server.stop()
    conf = server.conf.read_text()
    server.conf.write_text(conf.replace("[DEFAULT]\n", "[DEFAULT]\nhttp_get_rate = 3\n"))
    server.start()
    try:
        statuses = [server.api("GET", "/flavors")[0] for _ in range(4)]
        assert statuses[:3] == [200, 200, 200]
        status, headers, reply = server.api("GET", "/flavors")
        assert status == 413
        assert reply["overLimit"]["message"] == "This request was rate-limited."
        assert int(headers["Retry-After"]) >= 1
    finally:
        server.stop()
        server.conf.write_text(conf)
        server.start()


def test_version_negotiation_and_document(server):
    status, _, body = server.http("GET", "/")
    assert status == 200
    assert body["versions"][0]["id"] == "v1.0"
    assert body["versions"][0]["links"][0]["href"] == f"{server.url}/v1.0/"
    status, _, body = server.http(
        "GET", "/", headers={"Accept": "application/vnd.openstack.trove+json;version=2.0"})
    assert status == 406 and body == {"notAcceptable": {"code": 406,
                                                         "message": "version not supported"}}


def create_body(**changes):
    body = {"instance": {"name": "q1", "flavorRef": 12, "volume": {"size": 1},
                         "datastore": {"type": "mariadb", "version": "10.6"}}}
    body["instance"].update(changes)
    return body


def instance_count(server, user):
    return len(server.api("GET", "/instances", user=user)[2]["instances"])


@pytest.mark.parametrize("changes, status, fragment", [
    ({"flavorRef": 999}, 400, "Resource 999 cannot be found."),
    ({"flavorRef": None}, 400, "is not valid under any of the given schemas"),
    ({"volume": None}, 400, "is not of type 'object'"),
    ({"volume": {"size": 11}}, 413,
     "Volume 'size' cannot exceed maximum of 10 GB, 11 cannot be accepted."),
    ({"volume": {"size": 1, "type": "ssd"}}, 400,
     "Volume type ssd is not supported by the local compute driver."),
    ({"datastore": {"type": "nosuch"}}, 404, "Datastore 'nosuch' cannot be found."),
    ({"datastore": {"type": "mariadb", "version": "9.9"}}, 400,
     "Datastore version '9.9' cannot be found."),
    ({"users": [{"name": "root", "password": "x"}]}, 400, "reserved list"),
    ({"databases": [{"name": "a"}]}, 400, "'a' is not a valid schema name."),
    ({"restorePoint": {"backupRef": "00000000-0000-0000-0000-000000000000"}}, 404,
     "Resource 00000000-0000-0000-0000-000000000000 cannot be found."),
])
def test_instance_create_bad_input_changes_nothing(server, changes, status, fragment):
    if changes.get("flavorRef", 0) is None:
        changes = {"flavorRef": {"bad": 1}}
    if "volume" in changes and changes["volume"] is None:
        changes = {"volume": "1"}
    before = instance_count(server, "demo")
    got, _, reply = server.api("POST", "/instances", create_body(**changes), user="demo")
    assert got == status, reply
    assert fragment in list(reply.values())[0]["message"]
    assert instance_count(server, "demo") == before


def test_instance_quota_is_enforced(server):
    _, demo = server.token("demo")
    assert server.api("PUT", f"/mgmt/quotas/{demo}", {"quotas": {"instances": 0}})[0] == 200
    status, _, reply = server.api("POST", "/instances", create_body(), user="demo")
    assert status == 413
    assert reply["overLimit"]["message"] == "Quota exceeded for resources: ['instances']."
    assert instance_count(server, "demo") == 0
    server.api("PUT", f"/mgmt/quotas/{demo}", {"quotas": {"instances": 10, "volumes": 0}})
    status, _, reply = server.api("POST", "/instances", create_body(), user="demo")
    assert status == 413 and "volumes" in reply["overLimit"]["message"]
    usage = {q["resource"]: q["in_use"] for q in
             server.api("GET", f"/mgmt/quotas/{demo}", user="demo")[2]["quotas"]}
    assert usage["instances"] == 0 and usage["volumes"] == 0


def test_instance_create_without_a_taskmanager_leaves_nothing(server):
    """No message bus in this module: the create is refused and rolled back."""
    _, demo = server.token("demo")
    server.api("PUT", f"/mgmt/quotas/{demo}", {"quotas": {"instances": 10, "volumes": 40}})
    status, _, reply = server.api("POST", "/instances", create_body(), user="demo")
    assert status == 503, reply
    assert instance_count(server, "demo") == 0
    usage = {q["resource"]: q["in_use"] for q in
             server.api("GET", f"/mgmt/quotas/{demo}", user="demo")[2]["quotas"]}
    assert usage["instances"] == 0
