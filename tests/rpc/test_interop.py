"""ctrove RPC <-> Python oslo.messaging 14 on a real RabbitMQ node, both directions.

Python RPCClient -> ctrove server (rpc_peer serve): call results, remote failures,
NoSuchMethod, wrong argument types, casts, fanout casts, <topic>.<server> targets and
Trove's secure serializer. ctrove client (rpc_peer call/cast) -> Python RPC server: the
same, plus timeouts. Garbage published raw with py-amqp (non-JSON, wrong envelopes,
unknown methods, bad arguments, a 10 MB body) must not hurt the C server, and every
request that names a reply queue gets an oslo failure reply.
"""
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

# Trove's payload encryption (trove/common/crypto_utils.py), the test oracle, and the
# raw py-amqp publisher are the e2e suite's: one copy of each for both.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from buslib import Bus, decrypt, encrypt  # noqa: E402

KEY = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"



def secure_serializer(oslo_messaging, key):
    """trove/common/rpc/secure_serializer.py, with a dict context."""

    class SecureSerializer(oslo_messaging.NoOpSerializer):
        def serialize_entity(self, ctxt, entity):
            return encrypt(key, entity)

        def deserialize_entity(self, ctxt, entity):
            try:
                return decrypt(key, entity)
            except (ValueError, TypeError):
                return entity

        def serialize_context(self, ctxt):
            return {"context": encrypt(key, ctxt)}

        def deserialize_context(self, ctxt):
            try:
                return decrypt(key, ctxt["context"])
            except (ValueError, TypeError, KeyError):
                return ctxt

    return SecureSerializer()


def client(oslo, topic, timeout=10, server=None, serializer=None):
    oslo_messaging, transport = oslo
    target = oslo_messaging.Target(topic=topic, server=server, version="1.0")
    return oslo_messaging.get_rpc_client(transport, target, timeout=timeout,
                                         serializer=serializer)


CTX = {"request_id": "req-" + str(uuid.uuid4()), "user": "u-1", "project_id": "p-1",
       "roles": ["member"], "is_admin": False}


# ---- Python client -> ctrove server ---------------------------------------------------

def test_python_calls_ctrove(oslo, c_server):
    c_server("it-echo")
    cl = client(oslo, "it-echo")
    values = [{"a": [1, 2.5, None, True], "b": {"c": "d"}}, [1, "two"], "héllo ✓", 42,
              1.25, None, False, "", {}]
    for v in values:
        assert cl.call(CTX, "echo", value=v) == v
    # the context arrives as _context_* keys
    ctx = cl.call(CTX, "context")
    assert ctx["request_id"] == CTX["request_id"] and ctx["roles"] == ["member"]


def test_python_sees_remote_failures(oslo, c_server):
    oslo_messaging, _ = oslo
    c_server("it-fail")
    cl = client(oslo, "it-fail")
    with pytest.raises(oslo_messaging.RemoteError) as e:
        cl.call(CTX, "fail", message="boom", status=404)
    assert e.value.exc_type == "NotFound" and "boom" in e.value.value
    # builtins are re-raised as themselves
    with pytest.raises(NotImplementedError, match="unimplemented is not implemented"):
        cl.call(CTX, "unimplemented")
    with pytest.raises(oslo_messaging.RemoteError) as e:
        cl.call(CTX, "no_such_method")
    assert e.value.exc_type == "NoSuchMethod"
    with pytest.raises(oslo_messaging.RemoteError) as e:
        cl.call(CTX, "_private")
    assert e.value.exc_type == "NoSuchMethod"
    with pytest.raises(TypeError, match="message"):
        cl.call(CTX, "fail", message=123)
    with pytest.raises(TypeError, match="unexpected keyword"):
        cl.call(CTX, "echo", value=1, extra=2)
    with pytest.raises(TypeError, match="missing"):
        cl.call(CTX, "echo")
    with pytest.raises(oslo_messaging.RemoteError) as e:
        cl.prepare(version="1.5").call(CTX, "echo", value=1)
    assert e.value.exc_type == "UnsupportedVersion"
    # still serving
    assert cl.call(CTX, "echo", value="ok") == "ok"


def test_python_casts_to_ctrove(oslo, c_server):
    srv = c_server("it-cast")
    cl = client(oslo, "it-cast")
    for n in range(5):
        cl.cast(CTX, "count", n=n)
    cl.prepare(fanout=True).cast(CTX, "count", n=100)
    assert srv.wait_for(lambda lines: len([l for l in lines if l.startswith("HANDLED")]) >= 6)
    assert sorted(srv.handled()) == [0, 1, 2, 3, 4, 100]


def test_python_targets_ctrove_server(oslo, c_server):
    a = c_server("it-host", "--server", "host-a")
    b = c_server("it-host", "--server", "host-b")
    client(oslo, "it-host", server="host-b").cast(CTX, "count", n=7)
    assert b.wait_for(lambda lines: "HANDLED 7" in lines)
    assert client(oslo, "it-host", server="host-a").call(CTX, "echo", value="a") == "a"
    # fanout reaches both
    client(oslo, "it-host").prepare(fanout=True).cast(CTX, "count", n=9)
    assert a.wait_for(lambda lines: "HANDLED 9" in lines)
    assert b.wait_for(lambda lines: "HANDLED 9" in lines)
    assert 7 not in a.handled()


def test_python_secure_serializer_to_ctrove(oslo, c_server):
    oslo_messaging, _ = oslo
    c_server("it-secure", "--key", KEY)
    cl = client(oslo, "it-secure", serializer=secure_serializer(oslo_messaging, KEY))
    v = {"name": "bob", "host": "%", "databases": []}
    assert cl.call(CTX, "echo", value=v) == v
    assert cl.call(CTX, "context")["request_id"] == CTX["request_id"]
    # a failure stays plain text
    with pytest.raises(oslo_messaging.RemoteError) as e:
        cl.call(CTX, "fail", message="sealed", status=404)
    assert "sealed" in e.value.value


def test_keyed_ctrove_refuses_what_is_not_sealed(oslo, c_server):
    """Where a key is configured nothing unverified is read (Python would pass plain
    values through): a plain client, or one with another key, gets Forbidden."""
    oslo_messaging, _ = oslo
    srv = c_server("it-sealed", "--key", KEY)
    for serializer in (None, secure_serializer(oslo_messaging, "Not" + KEY[3:])):
        cl = client(oslo, "it-sealed", serializer=serializer)
        with pytest.raises(oslo_messaging.RemoteError) as e:
            cl.call(CTX, "echo", value="unsealed")
        assert e.value.exc_type == "Forbidden" and "not encrypted" in e.value.value
        cl.cast(CTX, "count", n=41)
    # the same cast sealed right is handled, and only it
    sealed = client(oslo, "it-sealed", serializer=secure_serializer(oslo_messaging, KEY))
    sealed.cast(CTX, "count", n=42)
    assert srv.wait_for(lambda lines: "HANDLED 42" in lines)
    assert srv.handled() == [42]


# ---- ctrove client -> Python server ---------------------------------------------------

class Endpoint:
    def __init__(self, oslo_messaging):
        self.target = oslo_messaging.Target(version="1.0")
        self.casts = []
        self.contexts = []
        self.event = threading.Event()

    def echo(self, ctxt, value):
        self.contexts.append(ctxt)
        return value

    def fail(self, ctxt, message):
        raise ValueError(message)

    def record(self, ctxt, n):
        self.casts.append(n)
        self.event.set()


@pytest.fixture
def py_server(oslo):
    oslo_messaging, transport = oslo
    servers = []

    def start(topic, server="py-host", serializer=None):
        ep = Endpoint(oslo_messaging)
        target = oslo_messaging.Target(topic=topic, server=server)
        s = oslo_messaging.get_rpc_server(transport, target, [ep], executor="threading",
                                          serializer=serializer)
        s.start()
        servers.append(s)
        time.sleep(0.3)  # let the consumers attach
        return ep

    yield start
    for s in servers:
        s.stop()
        s.wait()


def test_ctrove_calls_python(py_server, run_peer):
    ep = py_server("it-py")
    r = run_peer("call", "it-py", "--method", "echo", "--args",
                 json.dumps({"value": {"x": [1, 2, {"y": None}]}}))
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == {"x": [1, 2, {"y": None}]}
    assert ep.contexts[-1]["project_id"] == "p-test"
    r = run_peer("call", "it-py", "--method", "fail", "--args", '{"message": "bad thing"}')
    assert r.returncode == 1
    assert r.stdout.startswith("ERROR 400 ValueError bad thing"), r.stdout
    r = run_peer("call", "it-py", "--method", "nope")
    assert r.stdout.startswith("ERROR 501 NoSuchMethod"), r.stdout
    r = run_peer("call", "it-py", "--method", "echo", "--server", "py-host", "--args",
                 '{"value": 5}')
    assert r.stdout.strip() == "5"


def test_ctrove_casts_to_python(py_server, run_peer):
    ep = py_server("it-pycast")
    r = run_peer("cast", "it-pycast", "--method", "record", "--args", '{"n": 3}')
    assert r.returncode == 0 and r.stdout.strip() == "OK", r.stdout + r.stderr
    assert ep.event.wait(10)
    ep.event.clear()
    r = run_peer("cast", "it-pycast", "--fanout", "--method", "record", "--args", '{"n": 4}')
    assert r.returncode == 0
    assert ep.event.wait(10)
    assert ep.casts == [3, 4]


def test_ctrove_secure_call_to_python(oslo, py_server, run_peer):
    oslo_messaging, _ = oslo
    ep = py_server("it-pysecure", serializer=secure_serializer(oslo_messaging, KEY))
    r = run_peer("call", "it-pysecure", "--key", KEY, "--method", "echo", "--args",
                 '{"value": {"name": "bob"}}')
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == {"name": "bob"}
    assert ep.contexts[-1]["user"] == "ctrove-peer"


def test_ctrove_refuses_a_result_that_is_not_sealed(oslo, py_server, run_peer):
    """A keyed call whose reply is plain text, or sealed with another key, fails
    instead of returning what anyone on the bus could have sent."""
    oslo_messaging, _ = oslo

    class PlainAnswers(oslo_messaging.NoOpSerializer):
        def deserialize_entity(self, ctxt, entity):
            return decrypt(KEY, entity)

        def deserialize_context(self, ctxt):
            return decrypt(KEY, ctxt["context"])

    class OtherKeyAnswers(PlainAnswers):
        def serialize_entity(self, ctxt, entity):
            return encrypt("Not" + KEY[3:], entity)

    for topic, serializer in (("it-pyplain", PlainAnswers()),
                              ("it-pyother", OtherKeyAnswers())):
        py_server(topic, serializer=serializer)
        r = run_peer("call", topic, "--key", KEY, "--method", "echo", "--args",
                     '{"value": {"name": "bob"}}')
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout.startswith("ERROR 500") and "refused" in r.stdout, r.stdout
        assert "bob" not in r.stdout + r.stderr


def test_ctrove_call_times_out(run_peer):
    t0 = time.monotonic()
    r = run_peer("call", "it-nobody-home", "--method", "echo", "--args", '{"value": 1}',
                 "--timeout", "2")
    elapsed = time.monotonic() - t0
    assert r.returncode == 1
    assert r.stdout.startswith("ERROR 504 MessagingTimeout"), r.stdout
    assert 1.9 < elapsed < 6, elapsed


def test_python_call_to_missing_server_times_out(oslo):
    oslo_messaging, _ = oslo
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client(oslo, "it-nobody", timeout=1).call(CTX, "echo", value=1)


# ---- garbage on the bus ---------------------------------------------------------------

class Raw(Bus):
    """The e2e suite's py-amqp publisher on the "openstack" exchange; requests as
    these tests build them (a _unique_id, no _timeout)."""

    def __init__(self, url):
        super().__init__(url, "openstack")

    def request(self, inner, topic, reply=True):
        msg_id = uuid.uuid4().hex
        inner = dict(inner)
        inner.setdefault("_unique_id", uuid.uuid4().hex)
        if reply:
            inner["_msg_id"] = msg_id
            inner["_reply_q"] = self.queue
        self.publish(json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}),
                     topic)
        return msg_id

    def wait(self, msg_id, timeout=15):
        return self.wait_reply(msg_id, timeout)


def failure_of(reply):
    assert reply is not None, "no reply"
    assert reply["ending"] is True and reply["result"] is None
    return json.loads(reply["failure"])


def test_garbage_does_not_hurt_ctrove(broker, oslo, c_server):
    srv = c_server("it-garbage")
    raw = Raw(broker.url)
    try:
        # No reply is possible for these: dropped and logged.
        for body in [b"not json at all", b"\xff\xfe\x00\x01", b"[1, 2, 3]", b"{}",
                     b'{"oslo.version": "9.0", "oslo.message": "{}"}',
                     b'{"oslo.version": "2.0", "oslo.message": "not json"}',
                     b'{"oslo.version": "2.0", "oslo.message": {"method": "echo"}}', b""]:
            raw.publish(body, "it-garbage")
        # Everything below names a reply queue and must be answered with a failure.
        f = failure_of(raw.wait(raw.request({"args": {}}, "it-garbage")))
        assert f["class"] == "BadRequest" and "no method" in f["message"]
        f = failure_of(raw.wait(raw.request({"method": "nope", "args": {}}, "it-garbage")))
        assert f["class"] == "NoSuchMethod" and f["module"] == "oslo_messaging.rpc.dispatcher"
        f = failure_of(raw.wait(raw.request({"method": "echo", "args": [1]}, "it-garbage")))
        assert f["class"] == "BadRequest"
        f = failure_of(raw.wait(raw.request(
            {"method": "fail", "args": {"message": {"not": "a string"}}}, "it-garbage")))
        assert f["class"] == "TypeError" and f["module"] == "builtins"
        f = failure_of(raw.wait(raw.request(
            {"method": "sleep", "args": {"seconds": "soon"}}, "it-garbage")))
        assert f["class"] == "TypeError"
        f = failure_of(raw.wait(raw.request(
            {"method": "echo", "args": {"value": 1}, "version": "2.0"}, "it-garbage")))
        assert f["class"] == "UnsupportedVersion"
        big = raw.request({"method": "echo", "args": {"value": "x" * (10 * 1024 * 1024)}},
                          "it-garbage")
        f = failure_of(raw.wait(big, timeout=30))
        assert "exceeds the limit" in f["message"]
        # a bare (pre-envelope) message is still a message
        bare_id = uuid.uuid4().hex
        raw.publish(json.dumps({"method": "echo", "args": {"value": "bare"},
                                "_msg_id": bare_id, "_reply_q": raw.queue,
                                "_unique_id": uuid.uuid4().hex}), "it-garbage")
        r = raw.wait(bare_id)
        assert r and r["result"] == "bare" and r["failure"] is None
        # a repeated _unique_id is dropped
        dup = {"method": "count", "args": {"n": 555}, "_unique_id": uuid.uuid4().hex}
        raw.request(dup, "it-garbage", reply=False)
        raw.request(dup, "it-garbage", reply=False)
    finally:
        raw.close()
    assert srv.alive()
    assert client(oslo, "it-garbage").call(CTX, "echo", value="still here") == "still here"
    assert srv.handled().count(555) == 1
    err = "\n".join(srv.stderr)
    assert "dropping a message on it-garbage" in err
    assert "password" not in err
    assert broker.url.split("://", 1)[1].split("@")[0].split(":", 1)[1] not in err


def test_latency(c_server, run_peer):
    """Not an assertion of speed: prints the round trip for the report."""
    c_server("it-bench")
    r = run_peer("bench", "it-bench", "--count", "500")
    assert r.returncode == 0, r.stdout + r.stderr
    print("\nctrove->ctrove call:", r.stdout.strip())
