"""A broker restart in the middle of a stream of casts (ctrove client -> ctrove server).

The queues are durable here (amqp_durable_queues = true, on a separate exchange so the
default non-durable "openstack" exchange of the other tests is not re-declared), so a
cast the broker confirmed survives the restart. Both peers must reconnect within 10 s of
the broker being back (retries are 1 s apart; the rest is room for a loaded machine, where
5 s flaked), and every cast the client saw confirmed ("ACK n") must be handled
exactly once; a cast reported lost ("LOST n") at most once.
"""
import calendar
import re
import subprocess
import threading
import time

import pytest

CONF = """
[oslo_messaging_rabbit]
amqp_durable_queues = true
rabbit_retry_interval = 1
rabbit_retry_backoff = 1
rabbit_interval_max = 1
"""

LOG_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) ")


def log_epoch(line):
    m = LOG_TIME.match(line)
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000.0


def reconnected_at(lines, after):
    times = [log_epoch(l) for l in lines if "connected to AMQP server" in l and LOG_TIME.match(l)]
    times = [t for t in times if t > after]
    return min(times) if times else None


def test_broker_restart_during_casts(broker, c_server, peer_bin, tmp_path):
    if not broker.restartable:
        pytest.skip("RPC_TEST_URL broker: not ours to restart")
    conf = tmp_path / "stream.conf"
    conf.write_text(CONF)
    srv = c_server("it-restart", "--exchange", "ctrove-restart", conf=CONF)

    stream = subprocess.Popen(
        [peer_bin, "--conf", str(conf), "--url", broker.url, "--exchange", "ctrove-restart",
         "--topic", "it-restart", "--count", "400", "--interval-ms", "10", "stream"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = [], []
    seen_50 = threading.Event()

    def read(stream_, into, watch):
        for line in stream_:
            into.append(line.rstrip("\n"))
            if watch and line.startswith("ACK 50"):
                seen_50.set()

    readers = [threading.Thread(target=read, args=(stream.stdout, out, True), daemon=True),
               threading.Thread(target=read, args=(stream.stderr, err, False), daemon=True)]
    for r in readers:
        r.start()

    assert seen_50.wait(30), "\n".join(err)
    down_at = time.time()
    broker.stop()
    broker.start()
    back_at = time.time()

    try:
        stream.wait(timeout=180)
    except subprocess.TimeoutExpired:
        stream.kill()
        raise
    for r in readers:
        r.join(5)
    assert stream.returncode == 0, "\n".join(err[-30:])
    assert out and out[-1].startswith("DONE 400"), out[-5:]

    acked = [int(l.split()[1]) for l in out if l.startswith("ACK ")]
    lost = [int(l.split()[1]) for l in out if l.startswith("LOST ")]
    assert len(acked) + len(lost) == 400
    srv.wait_for(lambda lines: set(acked) <= set(srv.handled()), timeout=30)
    handled = srv.handled()
    missing = [n for n in acked if handled.count(n) == 0]
    doubled = [n for n in set(handled) if handled.count(n) > 1]
    assert not missing, "acknowledged but never handled: %s" % missing[:20]
    assert not doubled, "handled more than once: %s" % doubled[:20]
    assert all(handled.count(n) <= 1 for n in lost)

    # Both sides were cut off and came back within 10 s of the broker being back.
    server_back = reconnected_at(srv.stderr, down_at)
    client_back = reconnected_at(err, down_at)
    assert server_back is not None, "\n".join(srv.stderr[-20:])
    assert client_back is not None, "\n".join(err[-20:])
    assert server_back - back_at < 10.0, (server_back, back_at)
    assert client_back - back_at < 10.0, (client_back, back_at)
    print("\nrestart: %d acked, %d lost, server back %+.2f s, client back %+.2f s "
          "after await_startup" % (len(acked), len(lost), server_back - back_at,
                                   client_back - back_at))
