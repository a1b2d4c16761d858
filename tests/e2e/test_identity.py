"""The embedded Keystone v3 subset: discovery, tokens, scope, expiry of trust."""


def test_discovery_documents(server):
    status, _, body = server.http("GET", "/identity/v3")
    assert status == 200
    assert body["version"]["id"].startswith("v3")
    assert body["version"]["links"][0]["href"].endswith("/identity/v3/")
    status, _, body = server.http("GET", "/identity")
    assert status == 300
    assert body["versions"]["values"][0]["status"] == "stable"


def test_password_token_has_catalog_with_database_endpoint(server):
    token, project = server.token("demo")
    status, headers, body = server.http("GET", "/identity/v3/auth/tokens", token=token,
                                        headers={"X-Subject-Token": token})
    assert status == 200
    catalog = {s["type"]: s for s in body["token"]["catalog"]}
    urls = {e["interface"]: e["url"] for e in catalog["database"]["endpoints"]}
    assert urls["public"] == f"{server.url}/v1.0/{project}"
    assert [r["name"] for r in body["token"]["roles"]] == ["member"]
    assert body["token"]["expires_at"].endswith("Z")


def test_wrong_password_is_401_without_detail(server):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"name": "Default"}, "password": "wrong"}}},
        "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}}
    status, _, reply = server.http("POST", "/identity/v3/auth/tokens", body)
    assert status == 401
    assert reply["error"]["code"] == 401
    body["auth"]["identity"]["password"]["user"]["name"] = "nosuchuser"
    status2, _, reply2 = server.http("POST", "/identity/v3/auth/tokens", body)
    assert status2 == 401 and reply2 == reply


def test_user_cannot_scope_to_a_project_without_a_role(server):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"name": "Default"}, "password": server.passwords["demo"]}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    status, _, _ = server.http("POST", "/identity/v3/auth/tokens", body)
    assert status == 401


def test_api_requires_a_valid_token(server):
    _, project = server.token("demo")
    status, headers, body = server.http("GET", f"/v1.0/{project}/datastores")
    assert status == 401
    assert body["error"]["message"] == "The request you have made requires authentication."
    assert headers["WWW-Authenticate"].startswith("Keystone uri=")
    token, _ = server.token("demo")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    status, _, _ = server.http("GET", f"/v1.0/{project}/datastores", token=forged)
    assert status == 401
    status, _, _ = server.http("GET", f"/v1.0/{project}/datastores", token="garbage")
    assert status == 401


def test_token_of_another_project_is_403(server):
    token, _ = server.token("demo")
    _, admin_project = server.token("admin")
    status, _, body = server.http("GET", f"/v1.0/{admin_project}/datastores", token=token)
    assert status == 403
    assert body["code"] == "403 Forbidden"
    assert "cannot access this resource" in body["message"]
    # /v1.0/ itself and /v1.0/{p} alone are always 403 (Trove's tenant check).
    status, _, _ = server.http("GET", "/v1.0/", token=token)
    assert status == 403


def test_token_auth_method_rescopes(server):
    token, project = server.token("admin")
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
                     "scope": {"project": {"id": project}}}}
    status, headers, reply = server.http("POST", "/identity/v3/auth/tokens", body)
    assert status == 201
    assert headers["X-Subject-Token"] != token
    assert reply["token"]["project"]["id"] == project


def test_project_lookup_for_quota_by_name(server):
    token, project = server.token("admin")
    status, _, body = server.http("GET", "/identity/v3/projects?name=demo", token=token)
    assert status == 200 and body["projects"][0]["name"] == "demo"
    status, _, body = server.http("GET", f"/identity/v3/projects/{project}", token=token)
    assert status == 200 and body["project"]["name"] == "admin"


def test_tokens_survive_a_restart_and_expiry_is_enforced(server, tmp_path):
    token, project = server.token("demo")
    server.stop()
    server.start()
    status, _, _ = server.http("GET", f"/v1.0/{project}/flavors", token=token)
    assert status == 200
    # A server whose tokens live 1 second: a token is refused once it expired.
    import time
    server.stop()
    conf = server.conf.read_text()
    server.conf.write_text(conf + "[token]\nexpiration = 1\n")
    server.start()
    try:
        server._tokens.clear()
        short, _ = server.token("demo")
        assert server.http("GET", f"/v1.0/{project}/flavors", token=short)[0] == 200
        time.sleep(2.2)
        assert server.http("GET", f"/v1.0/{project}/flavors", token=short)[0] == 401
    finally:
        server.stop()
        server.conf.write_text(conf)
        server._tokens.clear()
        server.start()


def test_passwords_and_tokens_never_reach_the_log(server):
    token, _ = server.token("demo")
    server.cli("datastore", "list", user="demo")
    log = server.log.read_text()
    assert "issued token for user" in log
    for secret in (server.passwords["admin"], server.passwords["demo"], token):
        assert secret not in log
    assert secret not in server.stderr_text()
