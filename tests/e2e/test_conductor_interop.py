"""Python oslo.messaging (Debian's python3-oslo.messaging, as Trove's own guest
would use it, with Trove's ConductorGuestSerializer and the instance's key) talking
to ctrove's conductor on the real broker: casts change an instance's service status,
calls get results and typed failures. The guest agent is paused (SIGSTOP) while the
test speaks for it, so that its own heartbeats do not race the test's."""
import os
import signal
import time
import uuid
from contextlib import contextmanager

import pytest

from buslib import conductor_guest_serializer, conf_value, instance_key


@pytest.fixture(scope="module")
def oslo(cloud):
    from oslo_config import cfg
    import oslo_messaging

    oslo_messaging.set_transport_defaults(conf_value(cloud.conf, "control_exchange"))
    transport = oslo_messaging.get_rpc_transport(cfg.CONF,
                                                 url=conf_value(cloud.conf, "transport_url"))
    cloud.cli("database", "instance", "create", "hb", "--flavor", "d2", "--size", "1",
              "--datastore", "mariadb")
    inst = cloud.wait_status("hb", "ACTIVE", operating="HEALTHY")
    target = oslo_messaging.Target(topic="trove-conductor", version="1.0")
    serializer = conductor_guest_serializer(oslo_messaging, instance_key(cloud, inst["id"]),
                                            inst["id"])
    client = oslo_messaging.get_rpc_client(transport, target, timeout=10, serializer=serializer)
    yield oslo_messaging, client, inst
    transport.cleanup()


@contextmanager
def agent_paused(cloud, instance_id):
    pid = int((cloud.local / "instances" / instance_id / "guestagent.pid").read_text().split()[0])
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def volume_used(cloud, instance_id):
    return cloud.api("GET", f"/instances/{instance_id}")[2]["instance"]["volume"].get("used")


def test_python_heartbeats_drive_the_service_status(cloud, oslo):
    oslo_messaging, client, inst = oslo
    with agent_paused(cloud, inst["id"]):
        client.cast({}, "heartbeat", instance_id=inst["id"],
                    payload={"service_status": "shutdown"}, sent=time.time())
        cloud.wait_status("hb", "ACTIVE", operating="SHUTDOWN", timeout=10)
        # Volume usage reported with a heartbeat is what the instance shows.
        client.cast({}, "heartbeat", instance_id=inst["id"],
                    payload={"service_status": "healthy",
                             "volume": {"used": 0.42, "total": 1.0}},
                    sent=time.time())
        cloud.wait_status("hb", "ACTIVE", operating="HEALTHY", timeout=10)
        assert volume_used(cloud, inst["id"]) == 0.42
        # An older heartbeat is dropped, as Trove's conductor_lastseen check does;
        # the newer one after it shows that it was handled.
        client.cast({}, "heartbeat", instance_id=inst["id"],
                    payload={"service_status": "shutdown"}, sent=time.time() - 2)
        client.cast({}, "heartbeat", instance_id=inst["id"],
                    payload={"service_status": "healthy",
                             "volume": {"used": 0.43, "total": 1.0}},
                    sent=time.time())
        deadline = time.time() + 10
        while volume_used(cloud, inst["id"]) != 0.43 and time.time() < deadline:
            time.sleep(0.1)
        assert volume_used(cloud, inst["id"]) == 0.43
        assert cloud.wait_status("hb", "ACTIVE", operating="HEALTHY", timeout=1)
    # the guest's own heartbeats take over again
    deadline = time.time() + 10
    while volume_used(cloud, inst["id"]) == 0.43 and time.time() < deadline:
        time.sleep(0.1)
    assert volume_used(cloud, inst["id"]) != 0.43


def test_python_calls_get_results_and_typed_failures(cloud, oslo):
    oslo_messaging, client, inst = oslo
    cloud.wait_status("hb", "ACTIVE")
    assert client.call({}, "heartbeat", instance_id=inst["id"],
                       payload={"service_status": "healthy"}, sent=time.time()) is None
    with pytest.raises(oslo_messaging.RemoteError) as info:
        client.call({}, "no_such_method")
    assert info.value.exc_type == "NoSuchMethod"
    with pytest.raises(Exception) as info:
        client.call({}, "heartbeat", instance_id=inst["id"], payload="not-an-object")
    assert "payload" in str(info.value)
    with pytest.raises(Exception) as info:
        client.call({}, "heartbeat", instance_id=inst["id"],
                    payload={"service_status": "on fire"}, sent=time.time())
    assert "service status" in str(info.value)
    # report_root is recorded: the API's root show reads it.
    client.cast({}, "report_root", instance_id=inst["id"])
    deadline = time.time() + 5
    while time.time() < deadline:
        if cloud.api("GET", f"/instances/{inst['id']}/root")[2]["rootEnabled"]:
            break
        time.sleep(0.1)
    assert cloud.api("GET", f"/instances/{inst['id']}/root")[2] == {"rootEnabled": True}


def test_timeout_is_reported_as_timeout(cloud, oslo):
    oslo_messaging, client, _ = oslo
    nobody = client.prepare(topic=f"guestagent.{uuid.uuid4()}", timeout=1)
    with pytest.raises(oslo_messaging.MessagingTimeout):
        nobody.call({}, "rpc_ping")
    cloud.cli("database", "instance", "delete", "hb")
