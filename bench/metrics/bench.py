"""bench/metrics: the time of a GET /metrics scrape with N instances (1000 by
default; issue 14's target is under 20 ms). ctrove api starts on its own
scratch directory with N instances seeded the way bench/compare seeds them,
each with what its heartbeats would have recorded (service status, volume
usage, server counters) and one completed backup, so every per-instance family
is written. Then BENCH_SCRAPES scrapes (200) one after another, after a
warm-up; p50/p99/max in ms, the body's size, and a check that every instance is
in it. Run as a part of `make bench` (BENCH_PARTS=metrics) or alone:
    bench/metrics/run.sh [path/to/ctrove]
"""
import os
import secrets
import sqlite3
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from benchlib import Procs, free_port, log, run  # noqa: E402

ID_NS = uuid.UUID("2f1c0a7e-0000-4000-8000-00000000e14a")


def request(url, token=None, body=None):
    req = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if body:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def seed(db, n):
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    with sqlite3.connect(db) as c:
        dsv = c.execute("SELECT v.id FROM datastore_versions v JOIN datastores d"
                        " ON d.default_version_id = v.id WHERE d.name = 'mariadb'").fetchone()[0]
        project = c.execute("SELECT id FROM ctrove_projects WHERE name = 'admin'").fetchone()[0]
        rows = [(str(uuid.uuid5(ID_NS, f"instance-{i}")), f"inst-{i:04d}") for i in range(n)]
        c.executemany(
            "INSERT INTO instances (id, created, updated, name, compute_instance_id, task_id,"
            " task_description, flavor_id, volume_size, tenant_id, server_status, deleted,"
            " datastore_version_id, region_id) VALUES (?, ?, ?, ?, ?, 1,"
            " 'No tasks for the instance.', '1', 1, ?, 'ACTIVE', 0, ?, 'RegionOne')",
            [(i, now, now, name, i, project, dsv) for i, name in rows])
        c.executemany(
            "INSERT INTO service_statuses (id, instance_id, status_id, status_description,"
            " updated_at) VALUES (?, ?, 33, 'healthy', ?)",
            [(str(uuid.uuid5(ID_NS, f"status-{i}")), i, now) for i, _ in rows])
        c.executemany(
            "INSERT INTO ctrove_volume_usage (instance_id, used_gb, total_gb, updated_at)"
            " VALUES (?, 0.12, 0.98, ?)", [(i, now) for i, _ in rows])
        c.executemany(
            "INSERT INTO ctrove_guest_metrics (instance_id, connections, queries,"
            " queries_per_second, replication_lag, sampled_at, updated_at)"
            " VALUES (?, 3, 123456, 42.5, NULL, ?, ?)", [(i, time.time(), now) for i, _ in rows])
        c.executemany(
            "INSERT INTO backups (id, name, tenant_id, state, instance_id, deleted, created,"
            " updated) VALUES (?, 'b', ?, 'COMPLETED', ?, 0, ?, ?)",
            [(str(uuid.uuid5(ID_NS, f"backup-{i}")), project, i, now, now) for i, _ in rows])


def server_side(text):
    """(sum, count) of the /metrics route in the endpoint's own histogram."""
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith('ctrove_api_request_duration_seconds_sum{route="/metrics"}'):
            total = float(line.split()[-1])
        elif line.startswith('ctrove_api_request_duration_seconds_count{route="/metrics"}'):
            count = float(line.split()[-1])
    return total, count


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run_metrics(binary, work, ledger, n=None, scrapes=None):
    n = int(os.environ.get("BENCH_METRICS_N", "1000")) if n is None else n
    scrapes = int(os.environ.get("BENCH_SCRAPES", "200")) if scrapes is None else scrapes
    d = Path(work) / "metrics"
    d.mkdir()
    port = free_port()
    conf = d / "trove.conf"
    conf.write_text(
        "[DEFAULT]\nbind_host = 127.0.0.1\n"
        f"bind_port = {port}\nstate_path = {d}\nlog_file = {d / 'ctrove.log'}\n"
        # No bus: the API alone answers /metrics (a scrape calls no guest).
        f"transport_url = rabbit://nobody:x@127.0.0.1:{free_port()}/\n"
        f"[database]\nconnection = sqlite:///{d / 'trove.sqlite'}\n")
    password = secrets.token_hex(12)
    pw_file = d / "admin-password"
    pw_file.write_text(password + "\n")
    pw_file.chmod(0o600)

    def manage(*args):
        run([binary, "--config-file", str(conf), "manage", *args], 120, out=d / "manage.out")

    manage("db_sync")
    manage("identity_bootstrap", "--password-file", str(pw_file))
    manage("datastore_update", "mariadb", "")
    manage("datastore_version_update", "mariadb", "10.11", "mariadb", "", "", "1")
    manage("datastore_update", "mariadb", "10.11")
    seed(d / "trove.sqlite", n)
    procs = Procs(ledger)
    proc = procs.start([binary, "--config-file", str(conf), "api"], d / "ctrove.out")
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                request(base + "/")
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("ctrove api exited; see its log")
                time.sleep(0.05)
        auth = ('{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":'
                '"admin","domain":{"id":"default"},"password":"%s"}}},"scope":{"project":'
                '{"name":"admin","domain":{"id":"default"}}}}}' % password).encode()
        _, hdrs, _ = request(base + "/identity/v3/auth/tokens", body=auth)
        token = {k.lower(): v for k, v in hdrs.items()}["x-subject-token"]
        status, _, body = request(base + "/metrics", token)
        present = body.decode().count("ctrove_instance_status{")
        if status != 200 or present != n:
            raise SystemExit(f"/metrics answered {status} with {present} of {n} instances")
        for _ in range(20):
            request(base + "/metrics", token)
        s0, c0 = server_side(request(base + "/metrics", token)[2].decode())
        times = []
        for _ in range(scrapes):
            t0 = time.perf_counter()
            _, _, body = request(base + "/metrics", token)
            times.append((time.perf_counter() - t0) * 1000)
        s1, c1 = server_side(body.decode())
        return {"instances": n, "scrapes": scrapes, "bytes": len(body),
                "p50_ms": round(statistics.median(times), 3), "p99_ms": round(pct(times, 99), 3),
                "max_ms": round(max(times), 3),
                # The dispatcher's own time (the endpoint's histogram): no HTTP, no client.
                "server_mean_ms": round((s1 - s0) / (c1 - c0) * 1000, 3) if c1 > c0 else None}
    finally:
        procs.stop_all()


def print_metrics(r):
    print(f"== GET /metrics (admin token, {r['instances']} instances, every family written; "
          f"{r['scrapes']} scrapes one after another, client's wall time over loopback)")
    print(f"  p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.2f} ms; "
          f"{r['bytes'] / 1024:.0f} KiB a scrape; in the server (its own histogram) "
          f"{r['server_mean_ms']} ms on average")


if __name__ == "__main__":
    from benchlib import Ledger, replay  # noqa: E402

    work = Path(sys.argv[2])
    ledger = Ledger(work)
    try:
        print_metrics(run_metrics(sys.argv[1], work, ledger))
    finally:
        replay(work)
