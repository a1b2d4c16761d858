# test_boot.py — the guest image (scripts/build_guest_image.sh) booted in
# qemu-system-x86_64 under TCG with a config drive (ISO 9660, label config-2,
# openstack/latest/user_data) holding the cloud contract's bundle, as Nova would
# give it: the image's boot unit writes /etc/ctrove/ from it, the agent in the
# VM connects to a private RabbitMQ on the host (qemu's user network: the host's
# 127.0.0.1 is 10.0.2.2 from the guest), answers a sealed `prepare` from this
# test as the taskmanager would send it, heartbeats the conductor topic with
# the instance's key, and the MariaDB it started serves the user from the
# bundle's prepare through a forwarded port.
# Run by `make check-image` (scripts/check_image.sh): CTROVE_IMAGE names the
# qcow2 to boot (never modified: the VM writes to an overlay),
# CTROVE_TEST_TRANSPORT_URL the broker. Owns its scratch directory, its VM and
# its exchange.
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from buslib import Bus, decrypt, sealed_request  # noqa: E402

PASSWORD = "Im4ge-Passw0rd"
# TCG on a shared 2-core machine: boot to the agent took 343 s at load 26,
# prepare (mariadb-install-db in the VM) minutes more.
BOOT_TIMEOUT = int(os.environ.get("CTROVE_IMAGE_BOOT_TIMEOUT", "900"))
PREPARE_TIMEOUT = int(os.environ.get("CTROVE_IMAGE_PREPARE_TIMEOUT", "900"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Vm:
    """One qemu-system-x86_64 (TCG) booting an overlay of the image with a
    config drive; the serial console goes to a file the test reads."""

    def __init__(self, image, work, user_data, forward_port):
        self.work = work
        self.console = os.path.join(work, "console.log")
        overlay = os.path.join(work, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                        os.path.abspath(image), overlay], check=True)
        drive = os.path.join(work, "config-drive")
        os.makedirs(os.path.join(drive, "openstack", "latest"))
        with open(os.path.join(drive, "openstack", "latest", "user_data"), "w") as f:
            f.write(user_data)
        iso = os.path.join(work, "config-2.iso")
        subprocess.run(["genisoimage", "-quiet", "-o", iso, "-V", "config-2", "-r", "-J",
                        drive], check=True)
        shutil.rmtree(drive)
        self.proc = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1",
             "-nographic", "-no-reboot", "-monitor", "none", "-serial", "file:" + self.console,
             "-drive", "file=%s,if=virtio,format=qcow2" % overlay,
             "-drive", "file=%s,if=virtio,format=raw,readonly=on" % iso,
             "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:3306" % forward_port,
             "-device", "virtio-net-pci,netdev=n0"],
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(work, "qemu.log"), "wb"),
            stderr=subprocess.STDOUT)

    def text(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for(self, needle, deadline):
        while needle not in self.text():
            assert self.proc.poll() is None, "qemu exited:\n" + self.text()[-6000:]
            assert time.time() < deadline, "no %r on the console:\n%s" % (
                needle, self.text()[-6000:])
            time.sleep(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def image():
    path = os.environ.get("CTROVE_IMAGE")
    if not path or not os.path.isfile(path):
        pytest.fail("CTROVE_IMAGE does not name a built image (scripts/check_image.sh builds it)")
    return path


@pytest.fixture
def url():
    u = os.environ.get("CTROVE_TEST_TRANSPORT_URL")
    if not u:
        pytest.fail("CTROVE_TEST_TRANSPORT_URL is not set (scripts/check_image.sh sets it)")
    return u


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="ctrove-image-boot-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Conductor:
    """The control plane's side of the bus: a private exchange, a queue on the
    conductor topic collecting the guest's casts, a reply queue for calls."""

    def __init__(self, url):
        self.exchange = "ctrove-image-test-%d" % os.getpid()
        self.topic = "ctrove-image-conductor-%d" % os.getpid()
        self.url = url
        self.bus = Bus(url, self.exchange)
        ch = self.bus.ch
        ch.exchange_declare(self.exchange, "topic", durable=False, auto_delete=False)
        ch.queue_declare(self.topic, exclusive=True, auto_delete=True)
        ch.queue_bind(self.topic, self.exchange, routing_key=self.topic)
        self.casts = []
        ch.basic_consume(self.topic, callback=self._on_cast, no_ack=True)

    def _on_cast(self, msg):
        self.casts.append(json.loads(json.loads(msg.body)["oslo.message"]))

    def queue_exists(self, name):
        import amqp

        ch = self.bus.conn.channel()
        try:
            ch.queue_declare(name, passive=True)
            return True
        except amqp.exceptions.NotFound:
            return False
        finally:
            try:
                ch.close()
            except Exception:
                pass

    def close(self):
        try:
            self.bus.ch.exchange_delete(self.exchange)
        except Exception:
            pass
        self.bus.close()


@pytest.fixture
def conductor(url):
    c = Conductor(url)
    yield c
    c.close()


def bundle(conductor, guest_id, key):
    """The user data the nova driver injects (docs/openstack.md): the agent's
    guest.conf with in-VM paths and the broker as the VM sees it."""
    creds, host = conductor.url.split("://", 1)[1].rstrip("/").split("@", 1)
    port = host.rsplit(":", 1)[1]
    scheme = conductor.url.split("://", 1)[0]
    guest_url = "%s://%s@10.0.2.2:%s/" % (scheme, creds, port)
    conf = ("[DEFAULT]\nguest_id = %s\ndatastore_manager = mariadb\ndatastore_version = 10.11\n"
            "tenant_id = image-test\ninstance_rpc_encr_key = %s\ntransport_url = %s\n"
            "control_exchange = %s\nconductor_queue = %s\nreport_interval = 3\n\n"
            "[guest_agent]\ndata_dir = /var/lib/ctrove\nbind_address = 0.0.0.0\nport = 3306\n"
            "memory_mb = 512\nservice_user = mysql\n"
            % (guest_id, key, guest_url, conductor.exchange, conductor.topic))
    files = [{"path": "/etc/ctrove/guest.conf", "permissions": "0600", "owner": "root:root",
              "encoding": "b64", "content": b64(conf)},
             {"path": "/etc/ctrove/notes/boot-test", "permissions": "0644",
              "owner": "root:root", "encoding": "b64", "content": b64("image boot test\n")}]
    return "#cloud-config\n" + json.dumps({"write_files": files}) + "\n"


def test_boot_connect_prepare(image, work, conductor):
    guest_id = str(uuid.uuid4())
    key = base64.b64encode(os.urandom(24)).decode()
    forward = free_port()
    started = time.time()
    vm = Vm(image, work, bundle(conductor, guest_id, key), forward)
    try:
        deadline = started + BOOT_TIMEOUT
        # The boot unit found the config drive and wrote the bundle's files
        # with their modes (it prints names and modes, never contents).
        vm.wait_for("user data from the config drive", deadline)
        vm.wait_for("wrote /etc/ctrove/guest.conf (0600,", deadline)
        vm.wait_for("wrote /etc/ctrove/notes/boot-test (0644, 16 bytes)", deadline)
        # The agent in the VM is on the bus: its queue appears on the host's node.
        while not conductor.queue_exists("guestagent." + guest_id):
            assert vm.proc.poll() is None, vm.text()[-6000:]
            assert time.time() < deadline, "no agent queue; console:\n" + vm.text()[-6000:]
            time.sleep(2)
        connected = time.time() - started
        print("\nboot to the agent's queue: %.1f s (TCG)" % connected)

        # prepare, sealed with the instance's key, as the taskmanager sends it.
        args = {"packages": [], "memory_mb": 512, "device_path": None, "mount_point": None,
                "backup_info": None, "config_contents": "", "root_password": None,
                "overrides": None, "cluster_config": None, "snapshot": None, "modules": None,
                "ds_version": "10.11",
                "databases": [{"_name": "imagedb", "_character_set": None, "_collate": None}],
                "users": [{"_name": "imageuser", "_password": PASSWORD, "_host": "%",
                           "_databases": [{"_name": "imagedb"}], "_is_root": False}]}
        bus = conductor.bus
        msg_id = bus.send("guestagent." + guest_id, sealed_request("prepare", args, key),
                          call=True)
        reply = bus.wait_reply(msg_id, timeout=PREPARE_TIMEOUT)
        assert reply is not None, "prepare: no answer; console:\n" + vm.text()[-6000:]
        assert not reply.get("failure"), reply["failure"]
        print("boot to prepared: %.1f s" % (time.time() - started))

        # Heartbeats reach the conductor topic, sealed with the bundle's key.
        statuses = []
        while not statuses:
            bus.wait_reply("none", timeout=2)
            for c in conductor.casts:
                if c.get("method") == "heartbeat" and \
                        c.get("_context_csz-instance-id") == guest_id:
                    payload = decrypt(key, json.loads(c["args"]["payload"])["entity"])
                    statuses.append(payload["service_status"])
            assert time.time() < deadline + PREPARE_TIMEOUT + 60, \
                "no heartbeat: %s" % conductor.casts[-5:]
        assert statuses[-1] in ("running", "healthy"), statuses

        # The server in the VM serves the prepared user and database.
        msg_id = bus.send("guestagent." + guest_id,
                          sealed_request("list_databases", {"limit": None, "marker": None,
                                                            "include_marker": False}, key),
                          call=True)
        reply = bus.wait_reply(msg_id, timeout=120)
        assert reply is not None and not reply.get("failure"), reply
        assert "imagedb" in json.dumps(decrypt(key, reply["result"])
                                       if isinstance(reply["result"], str) else reply["result"])
        p = subprocess.run(["mariadb", "-h", "127.0.0.1", "-P", str(forward), "--skip-ssl",
                            "-u", "imageuser", "-p" + PASSWORD, "-N", "-B", "-e",
                            "CREATE TABLE t (x INT); INSERT INTO t VALUES (42); "
                            "SELECT x FROM t", "imagedb"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "42"
        # Secrets stay out of the console (and so out of the journal's copy).
        broker_password = conductor.url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        console = vm.text()
        assert PASSWORD not in console and key not in console
        assert broker_password not in console
    finally:
        vm.stop()
