"""The bus trusts nothing it cannot verify (issue 10): the forged messages of the
attack, replayed against the real ctrove, real guest agents and MariaDB on the real
broker, each refused with nothing changed — and each first shown, correctly sealed,
to be acted on, so that a refusal is not just a message that never arrived.

Ordering makes the refusals observable: the conductor, the taskmanager and a guest
each handle their queue in order, so once a later, genuine message has taken effect
every forged one before it has been handled. Guest agents are paused (SIGSTOP) while
their instance's status is being forged, so that their own heartbeats do not mask
what the conductor did.
"""
import json
import os
import signal
import subprocess
import time
from contextlib import contextmanager

import pytest

from buslib import (Bus, conf_value, encrypt, guest_request, instance_key, master_keys,
                    plain_request, sealed_request)

PUBLISHED_TASKMANAGER_KEY = "bzH6y0SGmjuoY0FNSTptrhgieGXNDX6PIhvz"


def mariadb(address, user, password, sql="SELECT 1"):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", user,
           f"-p{password}", "-N", "-B", "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


class Instance:
    def __init__(self, cloud, name):
        inst = cloud.wait_status(name, "ACTIVE", operating="HEALTHY")
        self.id = inst["id"]
        self.name = name
        self.key = instance_key(cloud, self.id)
        self.ip = cloud.api("GET", f"/instances/{self.id}")[2]["instance"]["ip"][0]


@pytest.fixture(scope="module")
def bus(cloud):
    b = Bus(conf_value(cloud.conf, "transport_url"), conf_value(cloud.conf, "control_exchange"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def pair(cloud):
    for name in ("ta", "tb"):
        cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
                  "--datastore", "mariadb", "--users", "userA:Passw0rd", "--is-public")
    return Instance(cloud, "ta"), Instance(cloud, "tb")


@contextmanager
def paused(cloud, *instances):
    """Stop the guest agents' own heartbeats while a test forges their status."""
    pids = [int((cloud.local / "instances" / i.id / "guestagent.pid").read_text().split()[0])
            for i in instances]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def shown(cloud, inst):
    """(status, operating_status, volume used) as the API shows the instance."""
    for i in cloud.api("GET", "/instances")[2]["instances"]:
        if i["id"] == inst.id:
            status, _, body = cloud.api("GET", f"/instances/{inst.id}")
            assert status == 200, (status, body)
            detail = body["instance"]
            return i["status"], i.get("operating_status"), detail["volume"].get("used")
    return None


def wait_shown(cloud, inst, wanted, timeout=15):
    """Until the instance shows `wanted` (None in it: any value)."""
    deadline = time.time() + timeout
    seen = None
    while time.time() < deadline:
        seen = shown(cloud, inst)
        if seen and all(w is None or w == v for w, v in zip(wanted, seen)):
            return
        time.sleep(0.2)
    raise AssertionError(f"{inst.name} shows {seen}, not {wanted}")


def heartbeat(status, used, sent=None):
    return {"payload": {"service_status": status, "volume": {"used": used, "total": 1.0}},
            "sent": time.time() if sent is None else sent}


def log_text(cloud):
    return cloud.log.read_text(errors="replace")


def test_heartbeat_sealed_by_another_instance_is_refused(cloud, bus, pair):
    a, b = pair
    with paused(cloud, a, b):
        # B's own key, naming B: acted on.
        bus.send("trove-conductor", guest_request(
            "heartbeat", {"instance_id": b.id, **heartbeat("shutdown", 0.11)}, b.key, b.id))
        wait_shown(cloud, b, ("ACTIVE", "SHUTDOWN", 0.11))
        bus.send("trove-conductor", guest_request(
            "heartbeat", {"instance_id": b.id, **heartbeat("healthy", 0.12)}, b.key, b.id))
        wait_shown(cloud, b, ("ACTIVE", "HEALTHY", 0.12))

        forged = heartbeat("shutdown", 0.99)
        refusals_before = log_text(cloud).count("refusing")
        # A's guest, with A's key, naming B: the attack.
        bus.send("trove-conductor", guest_request(
            "heartbeat", {"instance_id": b.id, **forged}, a.key, a.id))
        # Claiming to be B without B's key.
        bus.send("trove-conductor", guest_request(
            "heartbeat", {"instance_id": b.id, **forged}, a.key, b.id))
        # Plain text, with and without a claimed sender.
        bus.send("trove-conductor", plain_request(
            "heartbeat", {"instance_id": b.id, **forged}))
        plain_claim = plain_request("heartbeat", {"instance_id": b.id, **forged})
        plain_claim["_context_csz-instance-id"] = b.id
        bus.send("trove-conductor", plain_claim)
        # A genuine heartbeat of A after them all: once it shows, they were handled.
        bus.send("trove-conductor", guest_request(
            "heartbeat", {"instance_id": a.id, **heartbeat("healthy", 0.33)}, a.key, a.id))
        wait_shown(cloud, a, ("ACTIVE", "HEALTHY", 0.33))
        assert shown(cloud, b) == ("ACTIVE", "HEALTHY", 0.12)
    log = log_text(cloud)
    assert log.count("refusing") - refusals_before >= 4, log[-3000:]
    assert f"sealed with the key of instance {a.id} but names instance {b.id}" in log


def test_far_future_sent_cannot_freeze_an_instance(cloud, bus, pair):
    a, b = pair
    with paused(cloud, a, b):
        # Sealed with B's own key (B's guest lying): a year ahead is refused ...
        bus.send("trove-conductor", guest_request(
            "heartbeat",
            {"instance_id": b.id, **heartbeat("shutdown", 0.21, sent=time.time() + 365 * 86400)},
            b.key, b.id))
        bus.send("trove-conductor", guest_request(
            "heartbeat", {"instance_id": a.id, **heartbeat("healthy", 0.34)}, a.key, a.id))
        wait_shown(cloud, a, ("ACTIVE", "HEALTHY", 0.34))
        assert shown(cloud, b)[1] == "HEALTHY"
        # ... four minutes ahead is within the window and applied, but recorded as now.
        bus.send("trove-conductor", guest_request(
            "heartbeat", {"instance_id": b.id, **heartbeat("shutdown", 0.22, sent=time.time() + 240)},
            b.key, b.id))
        wait_shown(cloud, b, ("ACTIVE", "SHUTDOWN", 0.22))
    # B's real heartbeats (every second, sent = now) apply again at once; before the
    # window they were all "older" than the forged one for four minutes.
    wait_shown(cloud, b, ("ACTIVE", "HEALTHY", None), timeout=10)
    assert "argument sent is more than 300 seconds from the conductor's clock" in log_text(cloud)


def test_unencrypted_root_enable_to_a_guest_is_refused(cloud, bus, pair):
    a, b = pair
    topic = f"guestagent.{b.id}"
    password = "Forged-r00t-pw"
    assert mariadb(b.ip, "root", password).returncode != 0
    bus.send(topic, plain_request("enable_root_with_password", {"root_password": password}))
    # sealed with another instance's key: refused too
    bus.send(topic, sealed_request("enable_root_with_password", {"root_password": password},
                                   a.key))
    # a call gets a failure reply instead of a result
    reply = bus.wait_reply(bus.send(
        topic, plain_request("enable_root_with_password", {"root_password": password}),
        call=True))
    assert reply and reply["failure"], reply
    failure = json.loads(reply["failure"])
    assert failure["class"] == "Forbidden" and "not encrypted" in failure["message"], failure
    # the guest handles its queue in order: this sealed call answered, the casts were handled
    reply = bus.wait_reply(bus.send(topic, sealed_request("is_root_enabled", {}, b.key),
                                    call=True))
    assert reply and not reply["failure"], reply
    assert mariadb(b.ip, "root", password).returncode != 0
    guest_log = (cloud.local / "instances" / b.id / "guestagent.log").read_text()
    assert "refusing cast enable_root_with_password" in guest_log
    assert password not in guest_log and password not in log_text(cloud)

    # The same cast sealed with B's key is what the control plane sends: acted on.
    good = "Sealed-r00t-pw"
    bus.send(topic, sealed_request("enable_root_with_password", {"root_password": good}, b.key))
    deadline = time.time() + 20
    while mariadb(b.ip, "root", good).returncode != 0 and time.time() < deadline:
        time.sleep(0.2)
    assert mariadb(b.ip, "root", good).returncode == 0
    assert mariadb(b.ip, "root", password).returncode != 0


def test_forged_delete_instance_to_the_taskmanager_is_refused(cloud, bus, pair):
    a, b = pair
    cloud.cli("database", "instance", "create", "tc", "--flavor", "d2", "--size", "1",
              "--datastore", "mariadb")
    c = Instance(cloud, "tc")
    tm_key = master_keys(cloud.local)["taskmanager_rpc_encr_key"]
    assert tm_key != PUBLISHED_TASKMANAGER_KEY and len(tm_key) >= 32
    bus.send("taskmanager", plain_request("delete_instance", {"instance_id": b.id}))
    # with a guest's credentials: B's own key, A's key
    bus.send("taskmanager", sealed_request("delete_instance", {"instance_id": b.id}, b.key))
    bus.send("taskmanager", guest_request("delete_instance", {"instance_id": b.id}, a.key, a.id))
    # with Trove's published default
    bus.send("taskmanager", sealed_request("delete_instance", {"instance_id": b.id},
                                           PUBLISHED_TASKMANAGER_KEY))
    reply = bus.wait_reply(bus.send(
        "taskmanager", plain_request("delete_instance", {"instance_id": b.id}), call=True))
    assert reply and json.loads(reply["failure"])["class"] == "Forbidden", reply
    # Sealed with the taskmanager's key, delete_instance is acted on (for C); it comes
    # after the forgeries, so once C is gone they have been handled.
    bus.send("taskmanager", sealed_request("delete_instance", {"instance_id": c.id}, tm_key))
    deadline = time.time() + 60
    while time.time() < deadline:
        if c.id not in [i["id"] for i in cloud.api("GET", "/instances")[2]["instances"]]:
            break
        time.sleep(0.2)
    ids = [i["id"] for i in cloud.api("GET", "/instances")[2]["instances"]]
    assert c.id not in ids
    assert b.id in ids
    assert cloud.wait_status("tb", "ACTIVE", operating="HEALTHY")
    assert mariadb(b.ip, "userA", "Passw0rd").returncode == 0
    status, _, body = cloud.api("GET", f"/instances/{b.id}/databases")
    assert status == 200, body
    assert log_text(cloud).count("refusing cast delete_instance on taskmanager") >= 4


def test_cleanup(cloud, pair):
    for inst in pair:
        cloud.cli("database", "instance", "delete", inst.name)
    deadline = time.time() + 60
    while cloud.api("GET", "/instances")[2]["instances"] and time.time() < deadline:
        time.sleep(0.2)
    assert cloud.api("GET", "/instances")[2]["instances"] == []
