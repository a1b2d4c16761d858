"""Notifications on the bus (issue 19, docs/notifications.md): a real
oslo.messaging notification listener on the run's broker sees Trove's events
from `ctrove all` — dbaas.instance_create.start/end, trove.instance.create,
dbaas.instance_delete.start/end, trove.instance.delete and the periodic
trove.instance.exists — with Trove's payload fields, each message_id once and
no password anywhere. With driver noop nothing is published; with the
notifications' bus down, operations go on as fast as before and the log says
what was dropped."""
import json
import os
import threading
import time
import uuid

import pytest

from conftest import Cloud, free_port, serve

PASSWORD = "Notif1Passw0rd"


class Listener:
    """oslo_messaging.get_notification_listener on (exchange, topic): every
    notification it is handed, kept in order."""

    def __init__(self, url, exchange, topic):
        import oslo_messaging
        from oslo_config import cfg

        self.seen = []
        self.lock = threading.Lock()
        conf = cfg.ConfigOpts()
        conf([], project="ctrove-notify-test")
        self.transport = oslo_messaging.get_notification_transport(conf, url=url)
        listener = self

        class Endpoint:
            def info(self, ctxt, publisher_id, event_type, payload, metadata):
                with listener.lock:
                    listener.seen.append({"ctxt": ctxt, "publisher_id": publisher_id,
                                          "event_type": event_type, "payload": payload,
                                          "metadata": metadata, "priority": "info"})

            def warn(self, ctxt, publisher_id, event_type, payload, metadata):
                with listener.lock:
                    listener.seen.append({"event_type": event_type, "priority": "warn"})

            error = warn

        self.server = oslo_messaging.get_notification_listener(
            self.transport, [oslo_messaging.Target(exchange=exchange, topic=topic)],
            [Endpoint()], executor="threading")
        self.server.start()

    def events(self, event_type=None):
        with self.lock:
            return [e for e in self.seen if event_type is None or e["event_type"] == event_type]

    def wait(self, event_type, match=lambda e: True, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [e for e in self.events(event_type) if match(e)]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no {event_type} within {timeout} s; seen: "
                             f"{[e['event_type'] for e in self.events()]}")

    def close(self):
        self.server.stop()
        self.server.wait()
        self.transport.cleanup()


TOPIC = f"notif_{os.getpid()}"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, broker):
    srv = Cloud(tmp_path_factory.mktemp("cloud"), broker, extra_conf=(
        "[DEFAULT]\n"
        "exists_notification_transformer = "
        "trove.extensions.mgmt.instances.models.NotificationTransformer\n"
        "exists_notification_interval = 2\n"
        "[oslo_messaging_notifications]\n"
        "driver = messagingv2\n"
        f"topics = {TOPIC}\n"))
    yield from serve(srv)


def exchange_of(cloud):
    for line in cloud.conf.read_text().splitlines():
        if line.startswith("control_exchange = "):
            return line.split("= ", 1)[1].strip()
    raise AssertionError("the cloud has no control_exchange")


@pytest.fixture(scope="module")
def listener(cloud, broker):
    lst = Listener(str(broker), exchange_of(cloud), TOPIC)
    yield lst
    lst.close()


STATE = {}


def create(cloud, name):
    cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore", "mariadb",
              "--datastore-version", "10.11", "--is-public")
    return cloud.wait_status(name, "ACTIVE", timeout=120)


def test_create_start_end_and_usage(cloud, listener):
    inst = create(cloud, "notif1")
    STATE["id"] = iid = inst["id"]
    project = cloud.token()[1]
    for_me = lambda e: e["payload"].get("instance_id") == iid  # noqa: E731

    start = listener.wait("dbaas.instance_create.start", for_me)
    assert start["publisher_id"].startswith("api.")
    p = start["payload"]
    for trait in ("tenant_id", "client_ip", "server_ip", "server_type", "request_id", "name",
                  "flavor_id", "datastore", "datastore_version", "image_id",
                  "availability_zone", "region_name"):
        assert trait in p, (trait, p)
    assert p["server_type"] == "api" and p["tenant_id"] == project
    assert p["name"] == "notif1" and p["flavor_id"] == "12" and p["datastore"] == "mariadb"
    assert p["volume_size"] == 1 and p["client_ip"] == "127.0.0.1"
    assert p["request_id"].startswith("req-")

    usage = listener.wait("trove.instance.create", for_me)
    u = usage["payload"]
    assert u["tenant_id"] == project and u["instance_name"] == "notif1" and u["name"] == "notif1"
    assert u["instance_type_id"] == "12" and u["instance_type"] == "d2"
    assert u["instance_size"] > 0 and u["volume_size"] == 1
    assert u["state"] == "active" and u["state_description"] == "active"
    assert u["created_at"].endswith("Z") and u["launched_at"] == u["created_at"]
    assert u["service_id"] == "7a4f82cc-10d2-4bc6-aadc-d9aacc2a3cb5"  # Trove's mariadb id
    for field in ("region", "nova_instance_id", "user_id", "availability_zone"):
        assert field in u, field

    end = listener.wait("dbaas.instance_create.end", for_me)
    assert end["publisher_id"].startswith("taskmanager.")
    e = end["payload"]
    assert e["server_type"] == "taskmanager" and e["tenant_id"] == project
    # The taskmanager names the API request it finishes.
    assert e["request_id"] == p["request_id"]
    for meta in (start, usage, end):
        assert meta["priority"] == "info"
        uuid.UUID(meta["metadata"]["message_id"])
        assert len(meta["metadata"]["timestamp"]) == len("2026-12-07 05:39:50.123456")


def test_exists_audit(cloud, listener):
    iid = STATE["id"]
    # Rounds during the build said "build"; the instance is ACTIVE now.
    ev = listener.wait("trove.instance.exists", lambda e: e["payload"]["instance_id"] == iid
                       and e["payload"]["state"] == "active", timeout=30)
    p = ev["payload"]
    assert p["tenant_id"] == cloud.token()[1] and p["instance_name"] == "notif1"
    assert p["display_name"] == "notif1" and p["state"] == "active"
    assert p["volume_size"] == 1 and p["instance_type_id"] == "12"
    begin, end = p["audit_period_beginning"], p["audit_period_ending"]
    assert begin < end and end.endswith("Z")
    assert ev["publisher_id"].startswith("taskmanager.")
    # Periodic: a second round comes (interval 2 s), with a new message_id.
    first = ev["metadata"]["message_id"]
    listener.wait("trove.instance.exists", lambda e: e["payload"]["instance_id"] == iid
                  and e["metadata"]["message_id"] != first, timeout=30)


def test_resize_volume_start_end(cloud, listener):
    iid = STATE["id"]
    status, _, body = cloud.api("POST", f"/instances/{iid}/action",
                                {"resize": {"volume": {"size": 2}}})
    assert status == 202, body
    for_me = lambda e: e["payload"].get("instance_id") == iid  # noqa: E731
    start = listener.wait("dbaas.instance_resize_volume.start", for_me)
    assert start["payload"]["new_size"] == 2
    end = listener.wait("dbaas.instance_resize_volume.end", for_me, timeout=120)
    assert end["payload"]["new_size"] == 2
    cloud.wait_status("notif1", "ACTIVE", timeout=120)


def test_delete_start_end_and_usage(cloud, listener):
    iid = STATE["id"]
    cloud.cli("database", "instance", "delete", iid)
    assert cloud.wait_deleted(iid, timeout=60)
    for_me = lambda e: e["payload"].get("instance_id") == iid  # noqa: E731
    assert listener.wait("dbaas.instance_delete.start", for_me)["publisher_id"].startswith("api.")
    usage = listener.wait("trove.instance.delete", for_me)
    assert usage["payload"]["state"] == "deleted" and usage["payload"]["deleted_at"].endswith("Z")
    assert usage["payload"]["volume_size"] == 2
    listener.wait("dbaas.instance_delete.end", for_me)
    # Exists stops for a deleted instance: none names it after the delete's end.
    time.sleep(4.5)
    n_after = len([e for e in listener.events("trove.instance.exists")
                   if e["payload"]["instance_id"] == iid])
    time.sleep(4.5)
    assert len([e for e in listener.events("trove.instance.exists")
                if e["payload"]["instance_id"] == iid]) == n_after


def test_every_message_once_and_no_secret(cloud, listener):
    seen = listener.events()
    assert len(seen) >= 8
    ids = [e["metadata"]["message_id"] for e in seen]
    assert len(ids) == len(set(ids)), "a message_id came twice"
    assert all(e["priority"] == "info" for e in seen)
    text = json.dumps(seen)
    for secret in (PASSWORD, cloud.passwords["admin"], cloud.token()[0]):
        assert secret not in text
    log = cloud.log.read_text(errors="replace")
    assert PASSWORD not in log and "dropped" not in log


@pytest.fixture(scope="module")
def quiet_cloud(tmp_path_factory, broker):
    """A second cloud with Trove's default (no driver: noop)."""
    yield from serve(Cloud(tmp_path_factory.mktemp("quiet"), broker, peer="quiet"))


def test_noop_publishes_nothing_and_a_dead_bus_blocks_nothing(quiet_cloud, broker):
    lst = Listener(str(broker), exchange_of(quiet_cloud), "notifications")
    try:
        inst = create(quiet_cloud, "quiet1")
        quiet_cloud.cli("database", "instance", "delete", inst["id"])
        assert quiet_cloud.wait_deleted(inst["id"], timeout=60)
        time.sleep(2)
        assert lst.events() == []
    finally:
        lst.close()
    # Notifications on, but their bus is a port nobody listens on.
    quiet_cloud.stop()
    with quiet_cloud.conf.open("a") as conf:
        conf.write("\n[oslo_messaging_notifications]\ndriver = messagingv2\n"
                   f"transport_url = rabbit://guest:guest@127.0.0.1:{free_port()}/\n")
    quiet_cloud.start()
    started = time.time()
    status, _, body = quiet_cloud.api("POST", "/instances", {"instance": {
        "name": "quiet2", "flavorRef": "12", "volume": {"size": 1},
        "datastore": {"type": "mariadb", "version": "10.11"}}})
    answered = time.time() - started
    assert status == 200, body
    # The start notification waits for nothing: a blocking publish would take
    # the notifier's 5 s reconnect window.
    assert answered < 3, answered
    inst = quiet_cloud.wait_status("quiet2", "ACTIVE", timeout=120)
    started = time.time()
    status, _, body = quiet_cloud.api("DELETE", f"/instances/{inst['id']}")
    assert status == 202 and time.time() - started < 3, body
    assert quiet_cloud.wait_deleted(inst["id"], timeout=60)
    deadline = time.time() + 30
    while "dropped" not in quiet_cloud.log.read_text(errors="replace"):
        assert time.time() < deadline, "nothing logged about dropped notifications"
        time.sleep(0.5)
