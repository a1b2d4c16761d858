"""Fixtures for the RPC interop tests: a private RabbitMQ node, the C peer, oslo.messaging.

Owns only what it starts: the broker node in a temporary directory (scripts/rabbitmq.sh,
127.0.0.1 only, port RPC_TEST_PORT or 25679) and the rpc_peer processes. Every C peer is
stopped with SIGTERM at the end of its test and must exit 0 without sanitizer reports.

Environment:
  RPC_PEER       path of the rpc_peer binary (meson sets it); else build*/tests/unit/rpc_peer
  RPC_TEST_PORT  AMQP port of the private node (its dist port is +1, its epmd +2, its
                 management API +3); default: the first free one of 25679, 25689, ...
The node has no guest login: the tests use the account scripts/rabbitmq.sh made
(DIR/control-account).
  RPC_TEST_URL   use this broker instead of starting one (no restart test then)
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RABBITMQ_SH = os.path.join(ROOT, "scripts", "rabbitmq.sh")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def _find_peer():
    env = os.environ.get("RPC_PEER")
    if env:
        return env
    found = sorted(glob.glob(os.path.join(ROOT, "build*", "tests", "unit", "rpc_peer")),
                   key=os.path.getmtime, reverse=True)
    if not found:
        pytest.skip("rpc_peer not built (ninja -C <build dir>)")
    return found[0]


def _control_url(directory, port):
    with open(os.path.join(directory, "control-account")) as f:
        return "rabbit://%s@127.0.0.1:%d/" % (f.read().strip(), port)


class Broker:
    def __init__(self, url, directory=None, port=None):
        self.url = url
        self.dir = directory
        self.port = port

    def _script(self, cmd):
        subprocess.run([RABBITMQ_SH, cmd, self.dir, str(self.port)], check=True,
                       stdout=subprocess.DEVNULL, timeout=180)

    def stop(self):
        self._script("stop")

    def start(self):
        self._script("start")

    @property
    def restartable(self):
        return self.dir is not None


def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _pick_port():
    """RPC_TEST_PORT, else the first of 25679, 25689, ... whose port to +3 are free."""
    if os.environ.get("RPC_TEST_PORT"):
        return int(os.environ["RPC_TEST_PORT"])
    for port in range(25679, 25999, 10):
        if all(_free(port + i) for i in range(4)):
            return port
    pytest.skip("no free port for a private RabbitMQ node")


@pytest.fixture(scope="session")
def broker():
    url = os.environ.get("RPC_TEST_URL")
    if url:
        yield Broker(url)
        return
    shared = os.environ.get("RPC_TEST_DIR")
    if shared and os.environ.get("RPC_TEST_PORT"):
        # The node `make check` started once for the whole run; the restart test
        # may restart it, and the caller stops it.
        port = int(os.environ["RPC_TEST_PORT"])
        b = Broker(None, shared, port)
        b.start()
        b.url = _control_url(shared, port)
        yield b
        return
    port = _pick_port()
    directory = tempfile.mkdtemp(prefix="ctrove-rmq-")
    b = Broker(None, directory, port)
    try:
        b.start()
        b.url = _control_url(directory, port)
        yield b
    finally:
        b.stop()
        shutil.rmtree(directory, ignore_errors=True)


class Peer:
    """A running `rpc_peer serve`; its stdout lines are collected."""

    def __init__(self, args):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.stderr = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr),
                         daemon=True).start()

    def _read(self, stream, into):
        for line in stream:
            with self.cond:
                into.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return predicate(self.lines)
                self.cond.wait(left)
            return True

    def handled(self):
        with self.cond:
            return [int(l.split()[1]) for l in self.lines if l.startswith("HANDLED ")]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("rpc_peer did not stop on SIGTERM")
        time.sleep(0.1)
        err = "\n".join(self.stderr)
        for marker in SANITIZER_MARKERS:
            assert marker not in err, err[-4000:]
        assert rc == 0, "rpc_peer exited %d:\n%s" % (rc, err[-4000:])
        return err


@pytest.fixture
def peer_bin():
    return _find_peer()


@pytest.fixture
def c_server(broker, peer_bin, tmp_path):
    """Start C RPC servers: c_server(topic, *extra_args) -> Peer (ready)."""
    peers = []

    def start(topic, *extra, conf=None):
        args = [peer_bin, "--url", broker.url]
        if conf:
            path = tmp_path / ("peer-%d.conf" % len(peers))
            path.write_text(conf)
            args += ["--conf", str(path), "--url", broker.url]
        args += ["--topic", topic, *extra, "serve"]
        p = Peer(args)
        peers.append(p)
        assert p.wait_for(lambda lines: "READY" in lines, 60), "\n".join(p.stderr)
        return p

    yield start
    for p in peers:
        p.stop()


@pytest.fixture
def run_peer(broker, peer_bin):
    """Run a one-shot rpc_peer command: run_peer(mode, topic, *args) -> CompletedProcess."""

    def run(mode, topic, *args, timeout=60):
        cmd = [peer_bin, "--url", broker.url, "--topic", topic, *args, mode]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        for marker in SANITIZER_MARKERS:
            assert marker not in proc.stderr, proc.stderr[-4000:]
        return proc

    return run


@pytest.fixture(scope="module")
def oslo(broker):
    """oslo.messaging with a transport on the private broker."""
    from oslo_config import cfg
    import oslo_messaging

    oslo_messaging.set_transport_defaults("openstack")
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=broker.url)
    yield oslo_messaging, transport
    transport.cleanup()
