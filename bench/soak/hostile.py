"""bench/soak/hostile.py: the tenant `intruder`'s requests — the fuzz
corpus (tests/fuzz/corpus, the layout of tests/fuzz/fuzz_api.c) replayed and
mutated over HTTP, and generated attacks: malformed JSON, huge headers and
bodies, bad UTF-8, wrong and unknown methods, path traversal, lying framing,
missing and forged tokens, and the tenant `soak`'s ids. Every one of them
must get a clear 4xx (or 501 where ctrove says notImplemented); a 2xx is
fine only for what is the intruder's own, never for anything naming the
soak tenant's project or resources. Owns nothing but the intruder's
resources; reads the corpus, never writes it.
"""
import random
import time
import uuid
from pathlib import Path

from benchlib import TOP

CORPUS = TOP / "tests/fuzz/corpus"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "GET", "POST"]
CLIENT_ERRORS = tuple(range(400, 500))


def load_corpus():
    seeds = []
    for f in sorted(Path(CORPUS).iterdir()):
        data = f.read_bytes()
        if data:
            seeds.append((f.name, data))
    return seeds


def mutate(data, rng):
    """A few of libFuzzer's byte-level mutations."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and b:
            del b[pos:pos + rng.randint(1, 8)]
        elif op == 3:
            b[pos:pos] = rng.choice([b'"', b"{", b"}", b"[", b"\\u0000", b"\xc3\x28", b"%00",
                                     b"/../", b"\xff", b"9" * 30, b"\x00"])
        else:
            b = b[:pos]
    return bytes(b)


class Hostile:
    def __init__(self, soak):
        self.soak = soak
        self.cloud = soak.cloud
        self.tally = soak.tally
        self.seeds = load_corpus()
        self.ids = {}  # filled by learn(): versions, datastore

    def learn(self):
        """The ids the corpus names (@V, @W, @D)."""
        ans = self.soak.api("read", "GET", "/datastores", user="intruder")
        for ds in ans.body["datastores"]:
            if ds["name"] == "mariadb":
                self.ids["D"] = ds["id"]
                self.ids["V"] = ds["versions"][0]["id"]
        self.ids["W"] = str(uuid.uuid4())

    def victim_ids(self):
        """Ids of the soak tenant: instances, its groups, deleted instances."""
        fleet = self.soak.fleet
        ids = fleet.ids() + list(self.soak.groups.values())
        with fleet.lock:
            ids += fleet.deleted[-5:]
        return ids

    # -- one request -------------------------------------------------------
    def send(self, kind, method, path, body=None, raw_body=None, token="intruder",
             victim=False, headers=None, allow_501=True, allow_reset=False):
        """A well-framed hostile request. victim: it names the soak tenant's
        project or resources, so only a 4xx is right."""
        tok = self.cloud.token(token) if token in ("intruder", "admin", "soak") else token
        # (300: Keystone's version discovery at /identity, a public route)
        expect = CLIENT_ERRORS if victim else CLIENT_ERRORS + tuple(range(200, 301))
        return self.tally.call(kind, method, path, body=body, raw_body=raw_body, token=tok,
                               expect=expect, headers=headers, allow_501=allow_501,
                               allow_reset=allow_reset)

    def raw(self, kind, text, expect=CLIENT_ERRORS, allow_close=False):
        data = text if isinstance(text, bytes) else text.encode()
        return self.tally.raw(kind, data, expect, allow_close=allow_close)

    # -- the corpus --------------------------------------------------------
    def replay(self, rng):
        name, data = rng.choice(self.seeds)
        if rng.random() < 0.6:
            data = mutate(data, rng)
        if not data:
            return
        sel = data[0]
        rest = data[1:]
        path, _, body = rest.partition(b"\0")
        body = body if b"\0" in rest else None
        victims = self.victim_ids()
        victim = False
        expanded = path
        for key, value in (("V", self.ids["V"]), ("W", self.ids["W"]), ("D", self.ids["D"])):
            expanded = expanded.replace(b"@" + key.encode(), value.encode())
        if b"@I" in expanded and victims:
            expanded = expanded.replace(b"@I", rng.choice(victims).encode())
            victim = True
        own = self.cloud.project("intruder")
        if b"@P" in expanded:
            target = own if rng.random() < 0.5 else self.cloud.project("soak")
            victim = victim or target != own
            expanded = expanded.replace(b"@P", target.encode())
        if body:
            for key, value in (("V", self.ids["V"]), ("W", self.ids["W"]), ("D", self.ids["D"])):
                body = body.replace(b"@" + key.encode(), value.encode())
            if b"@I" in body and victims:
                body = body.replace(b"@I", rng.choice(victims).encode())
                victim = True
        if any(v.encode() in (expanded + (body or b"")) for v in victims):
            victim = True
        method = METHODS[sel & 7]
        caller = (sel >> 3) & 3
        token = {0: "intruder", 1: "intruder", 2: None, 3: "forged-" + uuid.uuid4().hex}[caller]
        suffix = expanded.lstrip(b"/") if not (sel & 0x20) else expanded
        raw_path = suffix if sel & 0x20 else b"/v1.0/" + own.encode() + b"/" + suffix
        if not raw_path.startswith(b"/"):
            raw_path = b"/" + raw_path
        # Bytes that cannot go on a request line as they are go %-escaped,
        # the way a client library would send them.
        safe = bytes(c for c in range(33, 127) if c not in b"%#")
        quoted = "".join(chr(c) if c in safe else f"%{c:02X}" for c in raw_path)
        headers = {"Content-Type": "text/plain"} if sel & 0x40 else None
        self.send(f"hostile corpus {name}", method, quoted, raw_body=body,
                  token=token, victim=victim, headers=headers)

    # -- generated ---------------------------------------------------------
    def generated(self, rng):
        own = self.cloud.project("intruder")
        soak_project = self.cloud.project("soak")
        base = f"/v1.0/{own}"
        victims = self.victim_ids() or [str(uuid.uuid4())]
        vid = rng.choice(victims)
        host = f"Host: 127.0.0.1:{self.cloud.port}\r\n"
        tok = self.cloud.token("intruder")
        attacks = [
            # malformed and hostile JSON
            lambda: self.send("hostile json", "POST", f"{base}/instances", raw_body=b"{"),
            lambda: self.send("hostile json", "POST", f"{base}/instances",
                              raw_body=b'{"instance": {"name": "x", "flavorRef": '),
            lambda: self.send("hostile json", "POST", f"{base}/configurations",
                              raw_body=b"[" * 5000 + b"]" * 5000),
            lambda: self.send("hostile json", "POST", f"{base}/configurations",
                              raw_body=b'{"configuration": {"name": "\xff\xfe\xc3\x28", '
                                       b'"values": {}, "datastore": {"type": "mariadb"}}}'),
            lambda: self.send("hostile json", "POST", f"{base}/instances",
                              raw_body=b'{"instance": {"name": "a\\u0000b", "flavorRef": "11",'
                                       b' "volume": {"size": 1e999}}}'),
            lambda: self.send("hostile json", "POST", f"{base}/instances",
                              body={"instance": {"name": "n", "flavorRef": "11",
                                                 "volume": {"size": 1},
                                                 "datastore": {"type": "mariadb"},
                                                 "configuration": self.soak.groups["mariadb"]}},
                              victim=True),
            lambda: self.send("hostile json", "PUT", f"{base}/mgmt/quotas/{own}",
                              body={"quotas": {"instances": 10 ** 30}}),
            lambda: self.send("hostile json", "POST", "/identity/v3/auth/tokens",
                              raw_body=b'{"auth": {"identity": {"methods": ["password"], '
                                       b'"password": {"user": {"name": "\xc0\xaf", "password": 1}}}}}'),
            # huge headers and bodies
            lambda: self.send("hostile huge", "GET", f"{base}/instances",
                              headers={"X-Junk": "a" * 9000}),
            lambda: self.raw("hostile huge", f"GET {base}/instances HTTP/1.1\r\n{host}"
                             f"X-Auth-Token: {tok}\r\nX-Junk: {'b' * 20000}\r\n"
                             "Connection: close\r\n\r\n"),
            lambda: self.raw("hostile huge", f"GET {base}/flavors HTTP/1.1\r\n{host}"
                             + "".join(f"X-H{i}: {i}\r\n" for i in range(600))
                             + "Connection: close\r\n\r\n", allow_close=True),
            lambda: self.send("hostile huge", "POST", f"{base}/configurations",
                              raw_body=b'{"configuration": {"name": "' + b"x" * 200000 + b'"}}'),
            lambda: self.send("hostile huge", "GET", f"{base}/instances?" + "limit=1&" * 100),
            # libmicrohttpd 0.9.75 keeps every query argument and header in the
            # connection's 16 KiB pool (server.c): past about 130 of them, or a
            # head over 15 KiB, it closes without an answer (its 431 page no
            # longer fits) — a known limit, not a ctrove answer to judge.
            lambda: self.send("hostile huge", "GET", f"{base}/instances?" + "limit=1&" * 400,
                              allow_reset=True),
            lambda: self.send("hostile huge", "GET", f"{base}/instances?" + "limit=1&" * 4000,
                              allow_reset=True),
            # bad UTF-8 and control bytes
            lambda: self.send("hostile utf8", "GET", f"{base}/instances/%FF%FE%00"),
            lambda: self.raw("hostile utf8", b"GET /v1.0/" + own.encode() +
                             b"/instances/\xff\xc3\x28 HTTP/1.1\r\n" + host.encode() +
                             b"X-Auth-Token: " + tok.encode() + b"\r\nConnection: close\r\n\r\n"),
            lambda: self.raw("hostile utf8", b"GET /v1.0/" + own.encode() + b"/flavors HTTP/1.1\r\n"
                             + host.encode() + b"X-Auth-Token: \xff\xfe\r\nConnection: close\r\n\r\n"),
            lambda: self.send("hostile utf8", "POST", f"{base}/instances/{vid}/databases",
                              raw_body=b'{"databases": [{"name": "\xed\xa0\x80"}]}', victim=True),
            # wrong and unknown methods
            lambda: self.send("hostile method", "PATCH", f"{base}/flavors"),
            lambda: self.send("hostile method", "DELETE", f"{base}/datastores"),
            lambda: self.send("hostile method", "PUT", f"{base}/limits", body={}),
            lambda: self.raw("hostile method", f"BREW {base}/instances HTTP/1.1\r\n{host}"
                             f"X-Auth-Token: {tok}\r\nConnection: close\r\n\r\n",
                             expect=CLIENT_ERRORS + (501,)),
            lambda: self.raw("hostile method", f"TRACE {base}/instances HTTP/1.1\r\n{host}"
                             f"X-Auth-Token: {tok}\r\nConnection: close\r\n\r\n",
                             expect=CLIENT_ERRORS + (501,)),
            # (a head that is not HTTP may be closed without an answer)
            lambda: self.raw("hostile method", "GARBAGE\r\n\r\n", allow_close=True),
            lambda: self.raw("hostile method", f"GET {base}/flavors HTTP/9.9\r\n{host}\r\n",
                             expect=CLIENT_ERRORS + (505,)),
            # path traversal
            lambda: self.send("hostile traversal", "GET", f"{base}/../../../../etc/passwd"),
            lambda: self.send("hostile traversal", "GET", "/v1.0/%2e%2e/%2e%2e/etc/passwd"),
            lambda: self.send("hostile traversal", "GET", f"{base}/backups/..%2f..%2ftrove.sqlite"),
            lambda: self.send("hostile traversal", "GET",
                              f"/v1.0/{own}/instances/..%2F{vid}", victim=True),
            lambda: self.send("hostile traversal", "GET", "//etc/passwd"),
            lambda: self.send("hostile traversal", "GET",
                              f"/v1.0/{own}/instances/{vid}/log?name=../../../../etc/shadow",
                              victim=True),
            # lying framing
            lambda: self.raw("hostile framing", f"POST {base}/configurations HTTP/1.1\r\n{host}"
                             f"X-Auth-Token: {tok}\r\nContent-Type: application/json\r\n"
                             "Content-Length: 1000\r\n\r\n{\"configuration\":", allow_close=True),
            lambda: self.raw("hostile framing", f"POST {base}/configurations HTTP/1.1\r\n{host}"
                             f"X-Auth-Token: {tok}\r\nTransfer-Encoding: chunked\r\n"
                             "Content-Length: 4\r\n\r\nzz\r\nnot chunked\r\n\r\n", allow_close=True),
            lambda: self.raw("hostile framing", f"GET {base}/flav", allow_close=True),
            lambda: self.raw("hostile framing", f"POST {base}/instances HTTP/1.1\r\n{host}"
                             f"X-Auth-Token: {tok}\r\nContent-Length: -5\r\n"
                             "Connection: close\r\n\r\n", allow_close=True),
            # tokens
            lambda: self.send("hostile token", "GET", f"{base}/instances", token=None),
            lambda: self.send("hostile token", "GET", f"{base}/instances",
                              token="gAAAA" + "x" * 180),
            lambda: self.send("hostile token", "GET", f"{base}/instances", token=tok[:-3] + "AAA"),
            lambda: self.send("hostile token", "POST", "/identity/v3/auth/tokens",
                              body={"auth": {"identity": {"methods": ["password"], "password": {
                                  "user": {"name": f"nobody{rng.randrange(1000)}",
                                           "domain": {"name": "Default"}, "password": "x"}}}}}),
            lambda: self.send("hostile token", "GET", "/identity/v3/users"),
            lambda: self.send("hostile token", "POST", "/identity/v3/projects",
                              body={"project": {"name": "mine"}}, victim=True),
            # the soak tenant's project and resources
            lambda: self.send("hostile tenant", "GET", f"/v1.0/{soak_project}/instances",
                              victim=True),
            lambda: self.send("hostile tenant", "GET", f"{base}/instances/{vid}", victim=True),
            lambda: self.send("hostile tenant", "DELETE", f"{base}/instances/{vid}", victim=True),
            lambda: self.send("hostile tenant", "PUT", f"{base}/instances/{vid}",
                              body={"instance": {"name": "mine"}}, victim=True),
            lambda: self.send("hostile tenant", "POST", f"{base}/instances/{vid}/action",
                              body={"restart": {}}, victim=True),
            lambda: self.send("hostile tenant", "GET", f"{base}/instances/{vid}/users",
                              victim=True),
            lambda: self.send("hostile tenant", "POST", f"{base}/instances/{vid}/root",
                              victim=True),
            lambda: self.send("hostile tenant", "POST", f"{base}/backups",
                              body={"backup": {"name": "b", "instance": vid}}, victim=True),
            lambda: self.send("hostile tenant", "GET", f"{base}/configurations/{vid}",
                              victim=True),
            lambda: self.send("hostile tenant", "DELETE",
                              f"/v1.0/{soak_project}/instances/{vid}", victim=True),
            lambda: self.send("hostile tenant", "GET", f"{base}/instances?marker={vid}",
                              victim=False),
            lambda: self.send("hostile tenant", "GET", f"{base}/mgmt/quotas/{soak_project}",
                              victim=True),
            lambda: self.send("hostile tenant", "PUT", f"{base}/mgmt/quotas/{soak_project}",
                              body={"quotas": {"instances": 0}}, victim=True),
        ]
        rng.choice(attacks)()

    def worker(self, n):
        rng = random.Random(self.soak.seed + 500 + n)
        while self.soak.running():
            if rng.random() < 0.5:
                self.replay(rng)
            else:
                self.generated(rng)
            self.soak.fleet.done("hostile")
            time.sleep(0.02)
