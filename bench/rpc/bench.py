#!/usr/bin/python3
"""bench/rpc: RPC round-trip latency and cast throughput through one private
RabbitMQ node, ctrove <-> ctrove (tests/rpc's rpc_peer on src/rpc) beside
Python <-> Python (Debian's oslo.messaging, what Trove uses), in one run.
Prints a table; no assertion on speed.

usage: bench/rpc/bench.py [--peer build/tests/unit/rpc_peer] [--calls 2000] [--casts 5000]
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def free_block():
    for base in range(31700, 40000, 10):
        socks = []
        try:
            for p in range(base, base + 4):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def ctrove_side(peer, url, calls, casts):
    env = dict(os.environ)
    server = subprocess.Popen([peer, "--url", url, "serve", "--topic", "bench-c"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=env)
    assert server.stdout.readline().strip() == "READY"
    out = subprocess.run([peer, "--url", url, "bench", "--topic", "bench-c", "--count",
                          str(calls)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"median ([\d.]+) ms p90 ([\d.]+) ms p99 ([\d.]+) ms", out)
    latency = tuple(float(x) for x in m.groups())
    handled = 0
    t0 = time.monotonic()
    caster = subprocess.Popen([peer, "--url", url, "stream", "--topic", "bench-c", "--count",
                               str(casts)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for line in server.stdout:
        if line.startswith("HANDLED"):
            handled += 1
            if handled == casts:
                break
    elapsed = time.monotonic() - t0
    caster.wait()
    server.terminate()
    server.wait()
    return latency, casts / elapsed


def python_side(url, exchange, calls, casts):
    from oslo_config import cfg
    import oslo_messaging

    oslo_messaging.set_transport_defaults(exchange)
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=url)
    handled = threading.Semaphore(0)

    class Endpoint:
        def echo(self, ctxt, value):
            return value

        def count(self, ctxt, n):
            handled.release()

    target = oslo_messaging.Target(topic="bench-p", server="bench")
    server = oslo_messaging.get_rpc_server(transport, target, [Endpoint()],
                                           executor="threading")
    server.start()
    client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic="bench-p"),
                                           timeout=30)
    client.call({}, "echo", value=0)
    samples = []
    for i in range(calls):
        t0 = time.perf_counter()
        client.call({}, "echo", value=i)
        samples.append((time.perf_counter() - t0) * 1000)
    t0 = time.monotonic()
    for n in range(casts):
        client.cast({}, "count", n=n)
    for _ in range(casts):
        handled.acquire()
    elapsed = time.monotonic() - t0
    server.stop()
    server.wait()
    transport.cleanup()
    return (statistics.median(samples), pct(samples, 90), pct(samples, 99)), casts / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", default=str(TOP / "build/tests/unit/rpc_peer"))
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--casts", type=int, default=5000)
    args = ap.parse_args()
    port = free_block()
    rmq = Path(tempfile.mkdtemp(prefix="ctrove-bench-rmq-"))
    script = str(TOP / "scripts/rabbitmq.sh")
    subprocess.run([script, "start", str(rmq), str(port)], check=True, capture_output=True)
    url = (rmq / "control-account").read_text().strip()
    url = f"rabbit://{url}@127.0.0.1:{port}/"
    try:
        c_lat, c_casts = ctrove_side(args.peer, url, args.calls, args.casts)
        p_lat, p_casts = python_side(url, "openstack", args.calls, args.casts)
    finally:
        subprocess.run([script, "stop", str(rmq), str(port)], capture_output=True)
        shutil.rmtree(rmq, ignore_errors=True)
    print(f"\nRPC through RabbitMQ on loopback: {args.calls} calls, {args.casts} casts")
    print(f"{'':<22} {'call p50 ms':>12} {'p90 ms':>8} {'p99 ms':>8} {'casts/s':>10}")
    print(f"{'ctrove <-> ctrove':<22} {c_lat[0]:>12.3f} {c_lat[1]:>8.3f} {c_lat[2]:>8.3f} "
          f"{c_casts:>10.0f}")
    print(f"{'Python <-> Python':<22} {p_lat[0]:>12.3f} {p_lat[1]:>8.3f} {p_lat[2]:>8.3f} "
          f"{p_casts:>10.0f}")
    print(f"{'ratio (Python/ctrove)':<22} {p_lat[0] / c_lat[0]:>11.1f}x {'':>8} {'':>8} "
          f"{c_casts / p_casts:>9.1f}x")


if __name__ == "__main__":
    main()
