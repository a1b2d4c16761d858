"""The Prometheus endpoint end to end (issue 14): GET /metrics with an admin
token, parsed with python3-prometheus-client's text parser. Every instance is
there with its status, volume size and use, server up, connections, queries
and queries/s (from the heartbeats: a scrape calls no guest), replication lag
and last backup age absent when there is none; the control plane's request
counts and latencies by route and its RPC calls. A non-admin gets 403, no
token 401, and a deleted instance leaves the scrape."""
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

PASSWORD = "Passw0rd"
GIB = 1024 ** 3


def scrape(cloud, token, header="X-Auth-Token"):
    req = urllib.request.Request(cloud.url + "/metrics")
    if token is not None:
        req.add_header(header, token if header == "X-Auth-Token" else f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(text):
    """{metric name: [(labels, value)]} from the text format."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def of(parsed, name, iid):
    found = [v for labels, v in parsed.get(name, []) if labels.get("instance_id") == iid]
    assert len(found) <= 1, (name, found)
    return found[0] if found else None


def create(cloud, name, datastore, version):
    cloud.cli("database", "instance", "create", name, "--flavor", "d2", "--size", "1",
              "--databases", "test", "--users", f"userA:{PASSWORD}", "--datastore",
              datastore, "--datastore-version", version, "--is-public",
              "--allowed-cidr", "127.0.0.0/8")
    inst = cloud.wait_status(name, "ACTIVE", timeout=120, operating="HEALTHY")
    detail = cloud.api("GET", f"/instances/{inst['id']}")[2]["instance"]
    return detail["id"], detail["ip"][0]


@pytest.fixture(scope="module")
def instances(cloud):
    cloud.register("postgresql", "15")
    return {"mariadb": create(cloud, "metrics-maria", "mariadb", "10.11"),
            "postgresql": create(cloud, "metrics-pg", "postgresql", "15")}


def wait_for_counters(cloud, iids, timeout=30):
    token = cloud.token("admin")[0]
    deadline = time.time() + timeout
    while True:
        status, _, text = scrape(cloud, token)
        assert status == 200, text
        parsed = samples(text)
        if all(of(parsed, "ctrove_instance_queries_total", i) is not None for i in iids):
            return parsed
        assert time.time() < deadline, text[-3000:]
        time.sleep(0.5)


def test_every_instance_with_its_values(cloud, instances):
    (maria, maria_ip), (pg, pg_ip) = instances["mariadb"], instances["postgresql"]
    queries = ";".join(["SELECT 1"] * 200)
    out = subprocess.run(["mariadb", "--ssl=0", "-h", maria_ip, "-u", "userA",
                          f"-p{PASSWORD}", "test", "-e", queries],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    before = wait_for_counters(cloud, [maria, pg])
    queries_before = of(before, "ctrove_instance_queries_total", maria)
    out = subprocess.run(["mariadb", "--ssl=0", "-h", maria_ip, "-u", "userA",
                          f"-p{PASSWORD}", "test", "-e", queries],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    subprocess.run(["psql", "-h", pg_ip, "-U", "userA", "-d", "test", "-c", "SELECT 1"],
                   env=env, capture_output=True, timeout=60, check=True)
    time.sleep(2.5)  # two heartbeats (guest_report_interval = 1)
    parsed = wait_for_counters(cloud, [maria, pg])

    statuses = {labels["instance_id"]: labels for labels, _ in parsed["ctrove_instance_status"]}
    for iid, name, datastore in ((maria, "metrics-maria", "mariadb"),
                                 (pg, "metrics-pg", "postgresql")):
        assert statuses[iid]["status"] == "ACTIVE", statuses[iid]
        assert statuses[iid]["name"] == name and statuses[iid]["datastore"] == datastore
        assert of(parsed, "ctrove_instance_volume_size_bytes", iid) == 1 * GIB
        used = of(parsed, "ctrove_instance_volume_used_bytes", iid)
        assert used is not None and 0 < used < GIB, used
        assert of(parsed, "ctrove_instance_server_up", iid) == 1
        assert 0 <= of(parsed, "ctrove_instance_heartbeat_age_seconds", iid) < 30
        assert of(parsed, "ctrove_instance_connections", iid) >= 1
        assert of(parsed, "ctrove_instance_queries_per_second", iid) >= 0
        assert of(parsed, "ctrove_instance_queries_total", iid) > 0
        # No replicas and no backups here: those series are absent, not 0.
        assert of(parsed, "ctrove_instance_replication_lag_seconds", iid) is None
        assert of(parsed, "ctrove_instance_last_backup_age_seconds", iid) is None
    assert of(parsed, "ctrove_instance_queries_total", maria) >= queries_before + 200
    assert of(parsed, "ctrove_instance_queries_per_second", maria) > 0
    assert parsed["ctrove_instances"][0][1] == len(statuses)


def test_control_plane_counters(cloud, instances):
    maria, _ = instances["mariadb"]
    status, _, body = cloud.api("GET", f"/instances/{maria}/databases")
    assert status == 200, body
    parsed = samples(scrape(cloud, cloud.token("admin")[0])[2])
    requests = {(l["route"], l["code"]): v for l, v in parsed["ctrove_api_requests_total"]}
    assert requests[("GET /instances", "2xx")] >= 1, requests
    assert requests[("GET /instances/*/databases", "2xx")] >= 1, requests
    assert requests[("/identity", "2xx")] >= 1, requests
    count = [v for l, v in parsed["ctrove_api_request_duration_seconds_count"]
             if l["route"] == "GET /instances"]
    inf = [v for l, v in parsed["ctrove_api_request_duration_seconds_bucket"]
           if l["route"] == "GET /instances" and l["le"] == "+Inf"]
    assert count and inf and count[0] == inf[0] >= 1
    assert parsed["ctrove_rpc_calls_total"][0][1] >= 1
    assert parsed["ctrove_rpc_casts_total"][0][1] >= 1
    assert parsed["ctrove_rpc_calls_in_flight"][0][1] == 0
    assert parsed["ctrove_api_guest_wait_queue"][0][1] == 0


def test_admin_only(cloud, instances):
    status, ctype, text = scrape(cloud, cloud.token("admin")[0], header="Authorization")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    assert samples(text)["ctrove_instances"]
    status, _, text = scrape(cloud, cloud.token("demo")[0])
    assert status == 403 and "ctrove_instance" not in text, text
    assert scrape(cloud, None)[0] == 401
    assert scrape(cloud, "not-a-token")[0] == 401


def test_deleted_instance_leaves(cloud, instances):
    pg, _ = instances["postgresql"]
    cloud.cli("database", "instance", "delete", pg)
    assert cloud.wait_deleted(pg, timeout=60)
    parsed = samples(scrape(cloud, cloud.token("admin")[0])[2])
    assert all(l["instance_id"] != pg for l, _ in parsed["ctrove_instance_status"])
    assert of(parsed, "ctrove_instance_queries_total", pg) is None
