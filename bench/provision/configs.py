"""bench/provision/configs.py: how long a configuration-group change takes to
be live on every attached instance (issue 13's target: under 1 s for a
dynamic parameter on 10 instances). Used by bench/provision/bench.py while its
instances are up: one group is attached to all of them, then one PATCH
changes a dynamic parameter, and a thread per instance polls the server
(`SHOW`) until it answers the new value. Owns nothing but its group, which it
detaches and deletes."""
import os
import subprocess
import threading
import time

# A dynamic parameter per datastore: (name, first value, changed value, as SHOW says it)
DYNAMIC = {
    "mariadb": ("max_connections", 150, 175, "175"),
    "postgresql": ("work_mem", 8192, 16384, "16MB"),
}
RULES = {"mariadb": "mariadb-10.11.json", "postgresql": "postgresql-15.json"}


def show(datastore, address, name):
    if datastore == "mariadb":
        cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", "userA",
               "-pPassw0rd", "-N", "-B", "test", "-e", f"SHOW GLOBAL VARIABLES LIKE '{name}'"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        return out.split("\t")[1].strip() if "\t" in out else None
    env = dict(os.environ, PGPASSWORD="Passw0rd", PGCONNECT_TIMEOUT="5")
    out = subprocess.run(["psql", "-h", address, "-U", "userA", "-d", "test", "-tA", "-c",
                          f"SHOW {name}"], capture_output=True, text=True, env=env, timeout=30)
    return out.stdout.strip()


def wait_quiet(ctl, ids, deadline):
    """Every instance ACTIVE with no task (operating status shown)."""
    while time.monotonic() < deadline:
        states = [ctl.api("GET", f"/instances/{i}")[1]["instance"] for i in ids]
        if all(s["status"] == "ACTIVE" and s.get("operating_status") for s in states):
            return
        time.sleep(0.02)
    raise RuntimeError("instances did not settle after the attach")


def measure(ctl, datastore, ids, timeout):
    """Seconds from PATCH /configurations/{id} to the value live on all ids."""
    name, first, changed, shown = DYNAMIC[datastore]
    status, body = ctl.api("POST", "/configurations", {"configuration": {
        "name": f"bench-{datastore}", "values": {name: first},
        "datastore": {"type": datastore, "version": ctl.versions[datastore]}}})
    if status != 200:
        raise RuntimeError(f"configuration create answered {status}: {body}")
    cid = body["configuration"]["id"]
    try:
        for i in ids:
            status, body = ctl.api("PUT", f"/instances/{i}", {"instance": {"configuration": cid}})
            if status != 202:
                raise RuntimeError(f"attach answered {status}: {body}")
        wait_quiet(ctl, ids, time.monotonic() + timeout)
        addresses = [ctl.api("GET", f"/instances/{i}")[1]["instance"]["ip"][0] for i in ids]
        seen = {}

        def poll(address, t0):
            end = t0 + timeout
            while time.monotonic() < end:
                if show(datastore, address, name) == shown:
                    seen[address] = time.monotonic() - t0
                    return
                time.sleep(0.01)

        t0 = time.monotonic()
        status, body = ctl.api("PATCH", f"/configurations/{cid}",
                               {"configuration": {"values": {name: changed}}})
        if status != 200:
            raise RuntimeError(f"configuration edit answered {status}: {body}")
        threads = [threading.Thread(target=poll, args=(a, t0)) for a in addresses]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if len(seen) != len(addresses):
            raise RuntimeError(f"{len(addresses) - len(seen)} instance(s) never showed "
                               f"{name} = {shown}")
        return {"instances": len(ids), "parameter": name, "all_live_s": max(seen.values()),
                "first_live_s": min(seen.values())}
    finally:
        for i in ids:
            ctl.api("PUT", f"/instances/{i}", {"instance": {"configuration": None}})
        try:
            wait_quiet(ctl, ids, time.monotonic() + timeout)
        except RuntimeError:
            pass
        ctl.api("DELETE", f"/configurations/{cid}")
