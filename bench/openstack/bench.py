"""bench/openstack: create->ACTIVE on the cloud path (compute_driver = nova)
beside the local driver's, with the same control plane and broker.

Needs a running OpenStack (CTROVE_OS_STATE, the state directory whose openrc
gives admin credentials — /work/os-state or scripts/check_openstack.sh's); the
part is skipped with the reason printed when there is none (a bench, not a
test). It makes a service user, image, flavor, management network and groups
of its own (tests/openstack/nova_lib.py, the suite's helpers) and removes them.

Nova runs the fake virt driver, so nothing boots: for each instance the bench
does what the image's boot unit would, as the suite does (docs/openstack.md):
reads the server's user data back through Nova's API as admin, writes the files
and starts ctrove-guestagent on the host with the host overlay. Figures per
create (one warm-up first, as bench/provision does), p50 over N:
  * driver_s: the taskmanager's "server ACTIVE after" (Glance, Neutron, Cinder,
    Nova: everything the driver does);
  * active_s: POST /instances -> ACTIVE (includes reading the user data back,
    ~0.1 s, and the guest's prepare);
and the local driver's POST -> ACTIVE on the same machine right after.

environment: BENCH_OPENSTACK_N (3), BENCH_OPENSTACK_TIMEOUT (600 s per create)
"""
import base64
import json
import os
import re
import sys
import time
import traceback
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "provision"))
sys.path.insert(0, str(HERE.parent.parent / "tests" / "openstack"))
from benchlib import Procs, free_port, log  # noqa: E402
import bench as provision  # noqa: E402  (bench/provision/bench.py)


def os_state():
    state = os.environ.get("CTROVE_OS_STATE", "")
    if not state or not (Path(state) / "openrc").exists():
        return None
    return Path(state)


class NovaControl(provision.Control):
    """bench/provision's control plane with the suite's nova configuration."""

    def __init__(self, ctrove, work, ledger, procs, extra):
        super().__init__(ctrove, work, ledger, procs)
        self.extra = extra

    def write_conf(self):
        super().write_conf()
        self.conf.write_text(self.conf.read_text() + self.extra)


class Admin:
    """Nova's API as the OpenStack admin, over plain HTTP (no CLI start-up)."""

    def __init__(self, openstack):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": openstack.env_vars["OS_USERNAME"], "domain": {"name": "Default"},
            "password": openstack.admin_password}}}, "scope": {"project": {
                "name": openstack.env_vars.get("OS_PROJECT_NAME", "admin"),
                "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(openstack.auth_url.rstrip("/") + "/auth/tokens",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            self.token = r.headers["X-Subject-Token"]
            catalog = json.load(r)["token"]["catalog"]
        self.nova = next(e["url"] for s in catalog if s["type"] == "compute"
                         for e in s["endpoints"] if e["interface"] == "public")

    def get(self, path):
        req = urllib.request.Request(self.nova + path, headers={
            "X-Auth-Token": self.token, "OpenStack-API-Version": "compute 2.3",
            "X-OpenStack-Nova-API-Version": "2.3"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    def user_data(self, instance_id):
        """The server's user data once it is ACTIVE, else None."""
        found = self.get(f"/servers/detail?all_tenants=1&name=%5Etrove-{instance_id}%24")
        servers = [s for s in found["servers"] if s["status"] == "ACTIVE"]
        if not servers:
            return None
        return base64.b64decode(servers[0]["OS-EXT-SRV-ATTR:user_data"]).decode()


def run_host_agent(ctl, iid, text, nova_lib):
    first, _, rest = text.partition("\n")
    assert first == "#cloud-config"
    prefix = ctl.local / "instances" / f"{iid}-vm"
    prefix.mkdir(parents=True)
    nova_lib.write_guest_files(json.loads(rest), prefix)
    octet = 1 + free_port() % 250
    overlay = nova_lib.host_overlay(prefix, ctl.run_root / iid[:8], f"127.78.0.{octet}",
                                    free_port(), cache_dir=str(ctl.local / "templates"))
    return nova_lib.start_host_agent(prefix, overlay)


def create(ctl, name, flavor, timeout, on_server=None):
    """POST -> ACTIVE seconds; on_server(iid) is polled until it returns true."""
    t0 = time.monotonic()
    status, body = ctl.api("POST", "/instances", {"instance": {
        "name": name, "flavorRef": flavor, "volume": {"size": 1},
        "datastore": {"type": "mariadb", "version": "10.11"}}})
    if status != 200:
        raise provision.Failed(f"create answered {status}: {body}")
    iid = body["instance"]["id"]
    served = on_server is None
    while True:
        if not served:
            served = on_server(iid)
        _, b = ctl.api("GET", f"/instances/{iid}")
        st = b["instance"]["status"]
        if st == "ACTIVE":
            return iid, time.monotonic() - t0
        if st != "BUILD":
            raise provision.Failed(f"{iid} went {st}: {b['instance'].get('fault')}")
        if time.monotonic() > t0 + timeout:
            raise provision.Failed(f"{iid} not ACTIVE within {timeout} s")
        time.sleep(0.05)


def delete_all(ctl, ids, timeout):
    for iid in ids:
        ctl.api("DELETE", f"/instances/{iid}")
    for iid in ids:
        provision.wait_until(f"delete of {iid}", time.monotonic() + timeout,
                             lambda: True if ctl.api("GET", f"/instances/{iid}")[0] == 404
                             else None)


def driver_times(log_path):
    return [float(m) for m in re.findall(r"server ACTIVE after ([0-9.]+) s",
                                         Path(log_path).read_text(errors="replace"))]


def run_openstack(ctrove, work, ledger):
    state = os_state()
    if not state:
        reason = "no running OpenStack (set CTROVE_OS_STATE to its state directory)"
        log(f"openstack: skipped: {reason}")
        return {"skipped": reason}
    # The suite's helpers start ctrove-guestagent from beside CTROVE_BIN.
    os.environ["CTROVE_BIN"] = os.path.realpath(ctrove)
    import conftest  # noqa: E402  (tests/openstack: the suite's admin CLI)
    import nova_lib  # noqa: E402
    n = int(os.environ.get("BENCH_OPENSTACK_N", "3"))
    timeout = int(os.environ.get("BENCH_OPENSTACK_TIMEOUT", "600"))
    openstack = conftest.OpenStack(state)
    out = {"settings": {"n": n, "timeout_s": timeout, "os_state": str(state)}}
    procs = Procs(ledger)
    user = res = None
    agents = []
    try:
        log("openstack: service user, image, flavor, network, groups (CLI)")
        user = nova_lib.ServiceUser(openstack, prefix="novabench")
        res = nova_lib.CloudResources(openstack, user, work)
        ctl = NovaControl(os.path.realpath(ctrove), work, ledger, procs,
                          # The embedded identity, as the local run below: the
                          # bench's client logs in there (the suite covers Keystone).
                          nova_lib.cloud_conf(user, res, keystone=False))
        try:
            ctl.start(["mariadb"])
            ctl.manage("flavor_create", res.flavor_id, res.flavor_id, "512", "1", "1")
            ctl.manage("datastore_version_update", "mariadb", "10.11", "mariadb", "", "", "1",
                       "--image-tags", res.image_tags)
            admin = Admin(openstack)

            def start_agent(iid):
                text = admin.user_data(iid)
                if text:
                    agents.append(run_host_agent(ctl, iid, text, nova_lib))
                return bool(text)

            ids, actives = [], []
            for i in range(n + 1):
                iid, took = create(ctl, f"nb{i}", res.flavor_id, timeout, start_agent)
                ids.append(iid)
                if i:
                    actives.append(took)
                log(f"openstack: nova create {i} ACTIVE in {took:.2f} s")
            drivers = driver_times(work / "prov-ctrove.log")[1:]
            delete_all(ctl, ids, timeout)
            out["nova"] = {"active_s": actives, "driver_s": drivers,
                           "active_p50_s": provision.pct(actives, 50),
                           "driver_p50_s": provision.pct(drivers, 50)}
        finally:
            ctl.stop()
        log("openstack: the local driver on the same machine")
        local = provision.Control(os.path.realpath(ctrove), work / "local", ledger, procs)
        (work / "local").mkdir(exist_ok=True)
        try:
            local.start(["mariadb"])
            ids, actives = [], []
            for i in range(n + 1):
                iid, took = create(local, f"lb{i}", "11", timeout)
                ids.append(iid)
                if i:
                    actives.append(took)
            delete_all(local, ids, timeout)
            out["local"] = {"active_s": actives, "active_p50_s": provision.pct(actives, 50)}
        finally:
            local.stop()
    except Exception as e:  # a bench reports what it could not measure
        log(f"openstack: failed: {e!r}\n{traceback.format_exc()}")
        out["error"] = repr(e)
    finally:
        for a in agents:
            if a.poll() is None:
                a.kill()
                a.wait()
        procs.stop_all()
        if res:
            res.remove()
        if user:
            user.remove()
    out["load_average"] = os.getloadavg()
    return out


def print_openstack(r):
    if r.get("skipped"):
        print(f"openstack: skipped: {r['skipped']}")
        return
    nova, local = r.get("nova", {}), r.get("local", {})

    def f(v):
        return "-" if v is None else f"{v:.2f} s"
    print(f"create -> ACTIVE, mariadb, p50 of {r['settings']['n']} (load average "
          f"{r['load_average'][0]:.1f}):")
    print(f"  nova driver (Glance+Neutron+Cinder+Nova, fake virt): {f(nova.get('driver_p50_s'))}")
    print(f"  nova path, POST -> ACTIVE (host-run agent):           {f(nova.get('active_p50_s'))}")
    print(f"  local driver, POST -> ACTIVE:                         {f(local.get('active_p50_s'))}")
    if r.get("error"):
        print(f"  error: {r['error']}")
