"""Python oslo.messaging (Debian's python3-oslo.messaging, as Trove's own guest
would use it) talking to ctrove's conductor on the real broker: casts change an
instance's service status, calls get results and typed failures."""
import time
import uuid

import pytest


@pytest.fixture(scope="module")
def oslo(cloud):
    from oslo_config import cfg
    import oslo_messaging

    exchange = [line.split("=", 1)[1].strip() for line in cloud.conf.read_text().splitlines()
                if line.startswith("control_exchange")][0]
    url = [line.split("=", 1)[1].strip() for line in cloud.conf.read_text().splitlines()
           if line.startswith("transport_url")][0]
    oslo_messaging.set_transport_defaults(exchange)
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=url)
    target = oslo_messaging.Target(topic="trove-conductor", version="1.0")
    client = oslo_messaging.get_rpc_client(transport, target, timeout=10)
    yield oslo_messaging, client
    transport.cleanup()


def test_python_heartbeats_drive_the_service_status(cloud, oslo):
    oslo_messaging, client = oslo
    cloud.cli("database", "instance", "create", "hb", "--flavor", "d2", "--size", "1",
              "--datastore", "mariadb")
    inst = cloud.wait_status("hb", "ACTIVE", operating="HEALTHY")
    # A heartbeat "sent" in the near future: the guest's own (older) ones are
    # then stale and ignored until that moment passes.
    client.cast({}, "heartbeat", instance_id=inst["id"],
                payload={"service_status": "shutdown"}, sent=time.time() + 4)
    cloud.wait_status("hb", "ACTIVE", operating="SHUTDOWN", timeout=4)
    cloud.wait_status("hb", "ACTIVE", operating="HEALTHY", timeout=15)
    # Volume usage reported with a heartbeat is what the instance shows.
    client.cast({}, "heartbeat", instance_id=inst["id"],
                payload={"service_status": "healthy", "volume": {"used": 0.42, "total": 1.0}},
                sent=time.time() + 4)
    deadline = time.time() + 5
    while time.time() < deadline:
        detail = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]
        if detail["volume"].get("used") == 0.42:
            break
        time.sleep(0.1)
    assert detail["volume"]["used"] == 0.42
    time.sleep(4)
    # An older heartbeat is dropped, as Trove's conductor_lastseen check does.
    client.cast({}, "heartbeat", instance_id=inst["id"],
                payload={"service_status": "shutdown"}, sent=time.time() - 3600)
    time.sleep(1.5)
    assert cloud.wait_status("hb", "ACTIVE", operating="HEALTHY", timeout=1)


def test_python_calls_get_results_and_typed_failures(cloud, oslo):
    oslo_messaging, client = oslo
    inst = cloud.wait_status("hb", "ACTIVE")
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
    oslo_messaging, client = oslo
    nobody = client.prepare(topic=f"guestagent.{uuid.uuid4()}", timeout=1)
    with pytest.raises(oslo_messaging.MessagingTimeout):
        nobody.call({}, "rpc_ping")
    cloud.cli("database", "instance", "delete", "hb")
