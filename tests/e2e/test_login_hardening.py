"""POST /identity/v3/auth/tokens against guessing: failed logins are limited
per user name and per client address (429 with Retry-After, whatever the
password), an unknown user costs the same time as a wrong password, and a new
password voids the tokens issued before it. Its own server: small limits and
a realistic password hash cost."""
import http.client
import json
import secrets
import statistics
import time

import pytest

from conftest import Server, free_port

ROUNDS = 200000  # ~0.1 s of PBKDF2 per check: far above the noise of a request


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("guarded"), extra=(
        "[DEFAULT]\n"
        f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n"
        "[identity]\n"
        f"password_hash_rounds = {ROUNDS}\n"
        "login_failures_per_user = 4\n"
        "login_failures_per_source = 10\n"))
    srv.bootstrap()
    srv.start()
    yield srv
    srv.stop()


def login(server, user, password, source="127.0.0.1"):
    """One password login from `source` (any 127/8 address is ours on lo)."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60,
                                      source_address=(source, 0))
    try:
        conn.request("POST", "/identity/v3/auth/tokens", json.dumps(body),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        return r.status, dict(r.getheaders()), json.loads(data) if data else None
    finally:
        conn.close()


def fail_until_refused(server, names, source, limit):
    """Wrong passwords (for each of `names` in turn) until the first 429: at
    least `limit` 401s come first (a few more when the bucket leaked a unit
    during slow attempts), then the refusal."""
    answers = []
    for i in range(limit + 6):
        status = login(server, names[i % len(names)], f"guess-{i}", source=source)[0]
        answers.append(status)
        if status == 429:
            break
    assert answers[-1] == 429, answers
    assert answers[:-1] == [401] * (len(answers) - 1) and len(answers) - 1 >= limit, answers


def add_member(server, name):
    password = "p" + secrets.token_urlsafe(12)
    server.manage("user_create", name, "demo", "member", stdin=password + "\n")
    server.passwords[name] = password
    server.projects[name] = "demo"
    return password


def test_failed_logins_per_user_are_limited(guarded):
    add_member(guarded, "victim")
    add_member(guarded, "bystander")
    fail_until_refused(guarded, ["victim"], "127.0.0.2", 4)
    # The bucket is full: even the right password is refused, unchecked.
    status, headers, body = login(guarded, "victim", guarded.passwords["victim"],
                                  source="127.0.0.3")
    assert status == 429
    assert body["error"]["code"] == 429 and body["error"]["title"] == "Too Many Requests"
    assert 1 <= int(headers["Retry-After"]) <= 60
    # Another user from the same address is not affected.
    assert login(guarded, "bystander", guarded.passwords["bystander"],
                 source="127.0.0.2")[0] == 201
    # An unknown name is limited exactly like a known one (no user enumeration).
    fail_until_refused(guarded, ["no-such-user"], "127.0.0.4", 4)


def test_failed_logins_per_source_are_limited(guarded):
    add_member(guarded, "roamer")
    # Wrong passwords for many names, each under its own limit.
    fail_until_refused(guarded, [f"spray-{i}" for i in range(16)], "127.0.0.9", 10)
    status, headers, _ = login(guarded, "roamer", guarded.passwords["roamer"],
                               source="127.0.0.9")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    # The same user from another address logs in.
    assert login(guarded, "roamer", guarded.passwords["roamer"], source="127.0.0.10")[0] == 201


def test_successful_logins_are_not_limited(guarded):
    add_member(guarded, "busy")
    for _ in range(8):  # twice the per-user limit
        assert login(guarded, "busy", guarded.passwords["busy"], source="127.0.0.11")[0] == 201


def test_unknown_user_costs_as_much_as_a_wrong_password(guarded):
    names = [f"timed-{i}" for i in range(5)]
    for name in names:
        add_member(guarded, name)

    def elapsed(user, source):
        start = time.perf_counter()
        status, _, _ = login(guarded, user, "wrong-password", source=source)
        assert status == 401
        return time.perf_counter() - start

    # One attempt per name (each under its limit), alternating, from two addresses.
    known, unknown = [], []
    for i, name in enumerate(names):
        known.append(elapsed(name, "127.0.0.20"))
        unknown.append(elapsed(f"ghost-{i}", "127.0.0.21"))
    k, u = statistics.median(known), statistics.median(unknown)
    # Without the dummy hash an unknown name answers in about 1% of the time.
    assert u > 0.6 * k, f"unknown user {u * 1000:.1f} ms vs wrong password {k * 1000:.1f} ms"
    assert k > 0.02, f"a wrong password took {k * 1000:.1f} ms: is the hash cost applied?"


def test_password_change_revokes_earlier_tokens(guarded):
    add_member(guarded, "changer")
    token, project = guarded.token("changer")
    path = f"/v1.0/{project}/flavors"
    assert guarded.http("GET", path, token=token)[0] == 200
    guarded.cli("user", "set", "changer", "--password", "a-new-Passw0rd")
    # The token issued before the change is refused at once, by the API and
    # by token validation, and cannot be rescoped into a fresh one.
    assert guarded.http("GET", path, token=token)[0] == 401
    admin_token = guarded.token("admin")[0]
    assert guarded.http("GET", "/identity/v3/auth/tokens", token=admin_token,
                        headers={"X-Subject-Token": token})[0] == 404
    rescope = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
                        "scope": {"project": {"id": project}}}}
    assert guarded.http("POST", "/identity/v3/auth/tokens", rescope)[0] == 401
    # The old password is gone; a token made with the new one works.
    assert login(guarded, "changer", guarded.passwords["changer"], source="127.0.0.30")[0] == 401
    guarded.passwords["changer"] = "a-new-Passw0rd"
    guarded._tokens.pop("changer")
    fresh, _ = guarded.token("changer")
    assert guarded.http("GET", path, token=fresh)[0] == 200


def test_manage_password_reset_revokes_tokens_too(guarded):
    add_member(guarded, "reset-me")
    token, project = guarded.token("reset-me")
    assert guarded.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 200
    add_member(guarded, "reset-me")  # user_create on an existing user sets a new password
    # Another process changed it: seen within [token] revocation_cache_time (1 s).
    time.sleep(1.2)
    assert guarded.http("GET", f"/v1.0/{project}/flavors", token=token)[0] == 401


def test_no_password_reaches_the_log(guarded):
    log = guarded.log.read_text()
    assert "refused: too many failures" in log
    for secret in list(guarded.passwords.values()) + ["a-new-Passw0rd"]:
        assert secret not in log and secret not in guarded.stderr_text()
