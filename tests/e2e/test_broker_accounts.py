"""Each guest's own broker account (issue 10), on the real RabbitMQ: with guest A's
credentials, read from its guest.conf as an attacker who took over A would, A can
use its own queues and publish to the conductor, and nothing else — another
guest's queue, the taskmanager's topic and bindings with others' keys are refused
by the broker; what the broker cannot refuse (the default exchange, which replies
need) the taskmanager refuses because it is not sealed with its key. Each refusal
is preceded by its allowed counterpart, so a refusal is never just a message that
went nowhere. A's account is gone once A is deleted. (A ctrove that cannot give
a guest an account: test_broker_accounts_failures.py.)
"""
import json
import os
import socket
import stat
import time

import pytest

from buslib import (conf_value, guest_request, login, management, master_keys, plain_request,
                    sealed_request)
from conftest import Cloud, serve


def guest_conf(cloud, instance_id):
    return cloud.local / "instances" / instance_id / "guest.conf"


def connect(url):
    import amqp

    user, password, host = login(url)
    conn = amqp.Connection(host=host, userid=user, password=password, confirm_publish=True)
    conn.connect()
    return conn


class Guest:
    def __init__(self, cloud, name):
        inst = cloud.wait_status(name, "ACTIVE", operating="HEALTHY")
        self.id = inst["id"]
        self.name = name
        self.conf = guest_conf(cloud, self.id)
        self.url = conf_value(self.conf, "transport_url")
        self.key = conf_value(self.conf, "instance_rpc_encr_key")
        self.user = login(self.url)[0]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    yield from serve(Cloud(tmp_path_factory.mktemp("accounts"), broker))


@pytest.fixture(scope="module")
def pair(cloud):
    for name in ("ba", "bb"):
        cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
                  "--datastore", "mariadb", "--is-public")
    return Guest(cloud, "ba"), Guest(cloud, "bb")


@pytest.fixture
def as_a(pair):
    """A connection with A's credentials; every test gets a fresh one."""
    conn = connect(pair[0].url)
    yield conn
    try:
        conn.close()
    except Exception:
        pass


def refused(fn):
    """True when the broker refuses fn with 403 ACCESS_REFUSED."""
    import amqp

    try:
        fn()
    except amqp.exceptions.AccessRefused:
        return True
    return False


def test_each_guest_has_an_account_of_its_own(cloud, pair):
    a, b = pair
    control_user, control_password, _ = login(conf_value(cloud.conf, "transport_url"))
    assert a.user == f"ctrove-guest-{a.id}" and b.user == f"ctrove-guest-{b.id}"
    for g in pair:
        text = g.conf.read_text()
        assert control_password not in text and f"{control_user}:" not in text
        assert stat.S_IMODE(os.stat(g.conf).st_mode) == 0o600
    assert login(a.url)[1] != login(b.url)[1]
    status, perms = management(cloud, "GET", f"permissions/%2F/{a.user}")
    assert status == 200, status
    assert a.id in perms["configure"] and b.id not in perms["configure"]
    status, topic = management(cloud, "GET", f"topic-permissions/%2F/{a.user}")
    assert status == 200 and topic[0]["write"] == "^trove-conductor$", topic
    # The agent is on the bus as itself (the API lists connections a few seconds late).
    users = set()
    deadline = time.time() + 30
    while not {a.user, b.user} <= users and time.time() < deadline:
        status, conns = management(cloud, "GET", "connections")
        assert status == 200
        users = {c["user"] for c in conns}
        time.sleep(0.5)
    assert a.user in users and b.user in users, users
    # Passwords never reach the log.
    log = cloud.log.read_text(errors="replace") + cloud.guest_logs()
    assert login(a.url)[1] not in log and control_password not in log


def test_the_agent_works_with_its_own_account(cloud, pair):
    a, _ = pair
    # Heartbeats reach the conductor (the status comes from them).
    cloud.wait_status(a.name, "ACTIVE", operating="HEALTHY")
    status, _, body = cloud.api("POST", f"/instances/{a.id}/databases",
                                {"databases": [{"name": "accounts_db"}]})
    assert status == 202, body
    status, _, body = cloud.api("GET", f"/instances/{a.id}/databases")
    assert status == 200 and "accounts_db" in [d["name"] for d in body["databases"]], body


def test_a_guest_cannot_read_or_bind_another_guests_queue(cloud, pair, as_a):
    a, b = pair
    exchange = conf_value(cloud.conf, "control_exchange")
    ch = as_a.channel()
    # Allowed: its own queues, bindings with its own keys, consuming its own queue.
    ch.queue_bind(f"guestagent.{a.id}", exchange, f"guestagent.{a.id}")
    own = f"guestagent.{a.id}_fanout_test"
    ch.queue_declare(own, auto_delete=True)
    ch.basic_consume(own, callback=lambda m: None)
    # Refused: B's queue, B's routing key on its own queue, a catch-all, a queue of B's name.
    assert refused(lambda: as_a.channel().basic_consume(f"guestagent.{b.id}",
                                                        callback=lambda m: None))
    assert refused(lambda: as_a.channel().queue_bind(f"guestagent.{b.id}", exchange,
                                                     f"guestagent.{b.id}"))
    assert refused(lambda: as_a.channel().queue_bind(f"guestagent.{a.id}", exchange,
                                                     f"guestagent.{b.id}"))
    assert refused(lambda: as_a.channel().queue_bind(f"guestagent.{a.id}", exchange, "#"))
    assert refused(lambda: as_a.channel().queue_declare(f"guestagent.{b.id}_fanout_x"))
    assert refused(lambda: as_a.channel().queue_declare("taskmanager", passive=False))
    # B still gets its messages: its agent answers.
    status, _, body = cloud.api("GET", f"/instances/{b.id}/databases")
    assert status == 200, body


def test_a_guest_cannot_publish_to_the_taskmanager_topic(cloud, pair, as_a):
    import amqp

    a, b = pair
    exchange = conf_value(cloud.conf, "control_exchange")
    ch = as_a.channel()  # publishes wait for the broker's confirm (confirm_publish)
    # Allowed: the conductor's topic (a heartbeat sealed with A's own key).
    beat = guest_request("heartbeat", {"instance_id": a.id, "payload": {
        "service_status": "running"}, "sent": time.time()}, a.key, a.id)
    ch.basic_publish(amqp.Message(json.dumps({"oslo.version": "2.0",
                                              "oslo.message": json.dumps(beat)})),
                     exchange=exchange, routing_key="trove-conductor")
    forged = guest_request("delete_instance", {"instance_id": b.id}, a.key, a.id)
    body = amqp.Message(json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(forged)}))
    assert refused(lambda: as_a.channel().basic_publish(body, exchange=exchange,
                                                        routing_key="taskmanager") or
                   as_a.drain_events(timeout=2))
    time.sleep(1)
    assert cloud.api("GET", f"/instances/{b.id}")[0] == 200


def test_the_default_exchange_path_is_refused_by_the_taskmanager(cloud, pair, as_a):
    import amqp

    a, b = pair
    cloud.cli("database", "instance", "create", "bc", "--flavor", "d2", "--size", "1",
              "--datastore", "mariadb")
    c = Guest(cloud, "bc")
    ch = as_a.channel()

    def publish(inner):
        # confirm_publish: returns once the broker has taken it.
        ch.basic_publish(amqp.Message(json.dumps({"oslo.version": "2.0",
                                                  "oslo.message": json.dumps(inner)})),
                         exchange="", routing_key="taskmanager")

    before = cloud.log.read_text(errors="replace").count(
        "refusing cast delete_instance on taskmanager")
    # The broker lets A write to the default exchange (replies need it), so these
    # reach the taskmanager's queue: plain, A's key, A's guest form.
    publish(plain_request("delete_instance", {"instance_id": b.id}))
    publish(sealed_request("delete_instance", {"instance_id": b.id}, a.key))
    publish(guest_request("delete_instance", {"instance_id": b.id}, a.key, a.id))
    # The allowed counterpart, through the same path: sealed with the taskmanager's
    # own key it is acted on (for C); it comes last, so once C is gone the
    # forgeries have been handled.
    tm_key = master_keys(cloud.local)["taskmanager_rpc_encr_key"]
    publish(sealed_request("delete_instance", {"instance_id": c.id}, tm_key))
    assert cloud.wait_deleted(c.id, 60)
    assert cloud.api("GET", f"/instances/{b.id}")[0] == 200
    cloud.wait_status(b.name, "ACTIVE", operating="HEALTHY")
    after = cloud.log.read_text(errors="replace").count(
        "refusing cast delete_instance on taskmanager")
    assert after - before >= 3


def test_the_account_is_gone_with_the_instance(cloud, pair):
    import amqp

    a, b = pair
    for g in pair:
        assert management(cloud, "GET", f"users/{g.user}")[0] == 200
        connect(g.url).close()  # the login works while the instance exists
    # Something of A's that outlived its agent, still connected with A's login.
    leftover = connect(a.url)
    for g in pair:
        cloud.cli("database", "instance", "delete", g.name)
    for g in pair:
        assert cloud.wait_deleted(g.id, 60)
        assert management(cloud, "GET", f"users/{g.user}")[0] == 404
        with pytest.raises((amqp.exceptions.AccessRefused, ConnectionError, socket.error)):
            connect(g.url)
    # ... is cut off: the broker closed its connection.
    with pytest.raises((amqp.exceptions.AMQPError, ConnectionError, OSError)):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                leftover.drain_events(timeout=0.5)
            except socket.timeout:
                pass
            leftover.channel()
