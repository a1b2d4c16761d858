"""bench/density: N instances on one machine (issue 18). A part of `make bench`
(BENCH_PARTS=density; bench/main.py loads it); `make bench-density` runs it
alone. Owns its own RabbitMQ node, `ctrove all`, instances, uid block,
address range and nftables table (started the way bench/provision starts
them); touches nothing of another run.

Steps: N instances (MariaDB and PostgreSQL half and half, the smallest flavor)
created through the REST API BENCH_DENSITY_BATCH (10) at a time; wait until
all are ACTIVE/HEALTHY at once; then, with all of them idle:
  - PSS per instance: its guest agent + every process of its database server
    (the processes of the instance's own OS user), from smaps_rollup;
  - idle CPU per instance over BENCH_DENSITY_IDLE_S (60) s, from /proc: the
    agent with its reaped workers (cutime) + the server's processes, and the
    control plane's and the broker's CPU in the same window (the heartbeat
    and worker cost of the idle fleet);
  - the control plane's RSS/PSS (`ctrove all` and any ctrove child);
  - GET /instances (a page of 20, as Trove) p50/p99 over BENCH_DENSITY_REQUESTS
    (500) keep-alive requests with a logged-in token;
then everything is deleted BENCH_DENSITY_BATCH at a time and the machine is
checked for leftovers (processes of the instances' users, mounts, loop
devices, instance directories, rows). No assertion on speed: the targets are
printed met / not met.

environment: BENCH_DENSITY_N (10), BENCH_DENSITY_BATCH (10), BENCH_DENSITY_IDLE_S
  (60), BENCH_DENSITY_REQUESTS (500), BENCH_DENSITY_TIMEOUT (s to reach all
  ACTIVE, 600), BENCH_DENSITY_CONF (extra trove.conf lines, "\\n" for newlines:
  for before/after comparisons)
"""
import http.client
import json
import os
import pwd
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "provision"))
from benchlib import (CLK_TCK, Procs, children, log, loops_under, memory_kb,  # noqa: E402
                      mounts_under, pids_with_arg, stat_fields, table)

DATASTORES = ("mariadb", "postgresql")
FLAVOR = "11"  # d1: 256 MB, the smallest of the local catalog

# Trove 18's side (../shared/peer/RESULTS.md: trove-api with its default 2
# workers, trove-conductor, trove-taskmanager; GET /instances with N = 100 seeded
# rows and zero-cost Nova/Neutron stand-ins). It cannot run 100 instances here: it
# has no Nova on this machine, and on a cloud each instance is a Nova VM.
PEER = {
    "source": "../shared/peer/RESULTS.md (median of 3 runs, default workers; 100 seeded "
              "instance rows, not running instances: Trove 18 has no local driver)",
    "control_rss_mib": (348.0 + 324.8 + 117.0) * 1000 / 1024,  # idle VmRSS sums (kB)
    "control_pss_mib": (135.0 + 128.5 + 110.0) * 1000 / 1024,
    "api_after_load_rss_mib": 390.0 * 1000 / 1024,
    "list_p50_ms": 1190.0,
    "list_p99_ms": 1440.0,
    "per_instance": "a Nova VM per instance (the flavor's RAM + a guest OS + the "
                    "Python trove-guestagent, ~98 MiB RSS measured by bench/provision)",
}


def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Api:
    """One keep-alive connection to ctrove's API with the control's token."""

    def __init__(self, ctl):
        self.ctl = ctl
        self.conn = None

    def call(self, method, path, body=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.ctl.port, timeout=60)
            try:
                self.conn.request(method, f"/v1.0/{self.ctl.project}{path}",
                                  body=json.dumps(body) if body is not None else None,
                                  headers={"X-Auth-Token": self.ctl.token,
                                           "Content-Type": "application/json",
                                           "Accept": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, json.loads(data) if data else None
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def all_instances(self):
        """Every instance, following the pages' `next` links (a page is sorted
        by creation, so its last entry is not the marker), each once."""
        out, marker = {}, None
        while True:
            status, body = self.call("GET", "/instances?limit=1000"
                                     + (f"&marker={marker}" if marker else ""))
            if status != 200:
                raise RuntimeError(f"GET /instances answered {status}: {body}")
            for inst in body["instances"]:
                out.setdefault(inst["id"], inst)
            nxt = [link["href"] for link in body.get("links") or [] if link.get("rel") == "next"]
            query = urllib.parse.urlparse(nxt[0]).query if nxt else ""
            marker = urllib.parse.parse_qs(query).get("marker", [None])[0]
            if not body["instances"] or not marker:
                return list(out.values())


# ---------------------------------------------------------------- /proc


def uid_of(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None


def pids_by_uid():
    by = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                by.setdefault(uid_of(d.name), []).append(int(d.name))
            except OSError:
                continue
    return by


def ticks(pids, reaped=True):
    """utime + stime (+ cutime + cstime: reaped children, i.e. workers and
    exited backends) of the processes, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            f = stat_fields(pid)
        except OSError:
            continue
        total += int(f[11]) + int(f[12])
        if reaped:
            total += int(f[13]) + int(f[14])
    return total


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


class Fleet:
    """The live instances' processes: agent pid and server uid per id."""

    def __init__(self, ctl, instances):
        self.items = []
        self.skipped = []
        for inst in instances:
            iid = inst["id"]
            d = ctl.local / "instances" / iid
            try:
                if inst["status"] != "ACTIVE":
                    raise ValueError(inst["status"])
                agent = int((d / "guestagent.pid").read_text().split()[0])
                user = None
                for line in (d / "guest.conf").read_text().splitlines():
                    if line.startswith("service_user"):
                        user = line.split("=", 1)[1].strip()
                uid = pwd.getpwnam(user).pw_uid
            except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
                self.skipped.append((iid, repr(e)))  # not measured: not a live instance
                continue
            self.items.append({"id": iid, "datastore": inst["datastore"]["type"],
                               "agent": agent, "uid": uid})

    def server_pids(self):
        by = pids_by_uid()
        return {it["id"]: by.get(it["uid"], []) for it in self.items}


def control_pids(ctl):
    exe = os.path.realpath(ctl.ctrove)
    pids = [ctl.proc.pid]
    for pid in descendants(ctl.proc.pid):
        try:
            if os.path.realpath(f"/proc/{pid}/exe") == exe:
                pids.append(pid)
        except OSError:
            continue
    return pids


# ---------------------------------------------------------------- steps


def create_all(ctl, api, n, batch, timeout):
    """One warm-up per datastore (it builds the template data directory),
    then the rest `batch` at a time, each batch until none is in BUILD."""
    names = [(f"dens{i:03d}", DATASTORES[i % 2]) for i in range(n)]
    versions = ctl.versions
    ids, failed, batches = [], [], []
    t0 = time.monotonic()

    def post(name, ds):
        status, body = api.call("POST", "/instances", {"instance": {
            "name": name, "flavorRef": FLAVOR, "volume": {"size": 1},
            "datastore": {"type": ds, "version": versions[ds]}}})
        if status != 200:
            raise RuntimeError(f"create of {name} answered {status}: {body}")
        ids.append(body["instance"]["id"])
        return body["instance"]["id"]

    def settle(group):
        end = time.monotonic() + timeout
        while True:
            left = []
            for iid in group:
                status, body = api.call("GET", f"/instances/{iid}")
                st = body["instance"]["status"] if status == 200 else f"HTTP {status}"
                if st == "BUILD":
                    left.append(iid)
                elif st != "ACTIVE":
                    failed.append((iid, st, (body or {}).get("instance", {}).get("fault")))
            if not left:
                return
            if time.monotonic() > end:
                raise RuntimeError(f"{len(left)} instances still in BUILD after {timeout} s")
            group = left
            time.sleep(0.2)

    warm = names[:2]
    tb = time.monotonic()
    settle([post(nm, ds) for nm, ds in warm])
    batches.append(time.monotonic() - tb)
    rest = names[2:]
    for k in range(0, len(rest), batch):
        tb = time.monotonic()
        settle([post(nm, ds) for nm, ds in rest[k:k + batch]])
        batches.append(time.monotonic() - tb)
        log(f"density: {len(ids)}/{n} created ({batches[-1]:.1f} s for the last batch)")
    return ids, failed, batches, time.monotonic() - t0


def wait_all_healthy(api, n, timeout):
    """Until all n are ACTIVE and HEALTHY in the same listing: (count at
    best, seconds until all were, or None)."""
    t0, best = time.monotonic(), 0
    while True:
        insts = api.all_instances()
        ok = sum(1 for i in insts if i["status"] == "ACTIVE"
                 and i.get("operating_status") == "HEALTHY")
        best = max(best, ok)
        if ok >= n:
            return ok, time.monotonic() - t0, insts
        if time.monotonic() - t0 > timeout:
            return best, None, insts
        time.sleep(1)


def pss_parts(pids):
    """Pss_Anon (private heap, buffers), Pss_File (binaries, libraries,
    templates: shared through the page cache) and Pss_Shmem summed."""
    out = {"Pss_Anon": 0, "Pss_File": 0, "Pss_Shmem": 0}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                f = line.split()
                if f and f[0].rstrip(":") in out:
                    out[f[0].rstrip(":")] += int(f[1])
        except OSError:
            continue
    return {"anon_kb": out["Pss_Anon"], "file_kb": out["Pss_File"],
            "shmem_kb": out["Pss_Shmem"]}


def memory_per_instance(fleet):
    servers = fleet.server_pids()
    rows = []
    for it in fleet.items:
        a = memory_kb([it["agent"]])
        s = memory_kb(servers[it["id"]])
        parts = pss_parts([it["agent"]] + servers[it["id"]])
        rows.append({"datastore": it["datastore"], "agent_pss_kb": a["pss_kb"],
                     "agent_rss_kb": a["rss_kb"], "server_pss_kb": s["pss_kb"],
                     "server_rss_kb": s["rss_kb"], "server_procs": s["procs"],
                     "pss_kb": a["pss_kb"] + s["pss_kb"], "pss_anon_kb": parts["anon_kb"],
                     "pss_file_kb": parts["file_kb"], "pss_shmem_kb": parts["shmem_kb"]})
    return rows


def summarise(rows, key):
    out = {}
    for ds in DATASTORES + ("all",):
        vals = [r[key] for r in rows if ds in ("all", r["datastore"])]
        if vals:
            out[ds] = {"mean": statistics.mean(vals), "max": max(vals), "n": len(vals)}
    return out


def idle_cpu(ctl, fleet, seconds):
    """CPU % of one core over `seconds` of idle: per instance (agent with
    its reaped workers, server), the control plane, the broker."""
    broker = pids_with_arg(str(ctl.rmq))
    ctrl = control_pids(ctl)

    def snap():
        servers = fleet.server_pids()
        return ({it["id"]: (ticks([it["agent"]]), ticks(servers[it["id"]]),
                            ticks([it["agent"]], reaped=False))
                 for it in fleet.items}, ticks(ctrl), ticks(broker), time.monotonic())

    a, c0, b0, t0 = snap()
    time.sleep(seconds)
    z, c1, b1, t1 = snap()
    wall = (t1 - t0) * CLK_TCK / 100  # ticks in 1 % of a core

    rows = []
    for it in fleet.items:
        (ag0, sv0, own0), (ag1, sv1, own1) = a[it["id"]], z[it["id"]]
        rows.append({"datastore": it["datastore"], "agent_pct": (ag1 - ag0) / wall,
                     "agent_own_pct": (own1 - own0) / wall,
                     "workers_pct": (ag1 - ag0 - own1 + own0) / wall,
                     "server_pct": (sv1 - sv0) / wall,
                     "cpu_pct": (ag1 - ag0 + sv1 - sv0) / wall})
    return {"seconds": round(t1 - t0, 1), "instances": rows,
            "control_pct": (c1 - c0) / wall, "broker_pct": (b1 - b0) / wall,
            "control_procs": len(ctrl), "broker_procs": len(broker)}


def list_latency(api, requests):
    for _ in range(min(50, requests)):
        api.call("GET", "/instances")
    lat = []
    for _ in range(requests):
        t = time.perf_counter()
        status, body = api.call("GET", "/instances")
        lat.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise RuntimeError(f"GET /instances answered {status}")
    return {"requests": requests, "page": len(body["instances"]), "p50_ms": pct(lat, 50),
            "p99_ms": pct(lat, 99), "max_ms": max(lat)}


def delete_all(ctl, api, ids, batch, timeout):
    t0 = time.monotonic()
    left = list(ids)
    for k in range(0, len(ids), batch):
        group = ids[k:k + batch]
        for iid in group:
            status, body = api.call("DELETE", f"/instances/{iid}")
            if status not in (202, 404):
                log(f"density: delete of {iid} answered {status}: {body}")
        end = time.monotonic() + timeout
        pending = list(group)
        while pending and time.monotonic() < end:
            pending = [i for i in pending if api.call("GET", f"/instances/{i}")[0] != 404]
            if pending:
                time.sleep(0.2)
        left = [i for i in left if i not in group or i in pending]
    return left, time.monotonic() - t0


def leftovers(ctl, api, uids):
    """What the deletes left on the machine (should be nothing)."""
    out = {}
    insts = api.all_instances()
    if insts:
        out["instances listed"] = len(insts)
    by = pids_by_uid()
    procs = sum(len(by.get(u, [])) for u in uids)
    if procs:
        out["processes of the instances' users"] = procs
    users = 0
    for u in uids:
        try:
            pwd.getpwuid(u)
            users += 1
        except KeyError:
            pass
    if users:
        out["instance OS users"] = users
    mounts = mounts_under(ctl.local) + mounts_under(ctl.run_root)
    if mounts:
        out["mounts"] = len(mounts)
    loops = loops_under(str(ctl.local))
    if loops:
        out["loop devices"] = len(loops)
    dirs = [p for p in (ctl.local / "instances").glob("*")] if (ctl.local / "instances").exists() \
        else []
    if dirs:
        out["instance directories"] = len(dirs)
    agents = [p for p in pids_with_arg(str(ctl.local / "instances"))]
    if agents:
        out["guest agents"] = len(agents)
    return out


# ---------------------------------------------------------------- run


def run_density(ctrove, work, ledger):
    provision = sys.modules.get("provision_bench")
    if provision is None:  # alone, not through bench/main.py
        import importlib.util
        spec = importlib.util.spec_from_file_location("provision_bench",
                                                      HERE.parent / "provision/bench.py")
        provision = importlib.util.module_from_spec(spec)
        sys.modules["provision_bench"] = provision
        spec.loader.exec_module(provision)

    n = int(os.environ.get("BENCH_DENSITY_N", "10"))
    batch = int(os.environ.get("BENCH_DENSITY_BATCH", "10"))
    idle_s = float(os.environ.get("BENCH_DENSITY_IDLE_S", "60"))
    requests = int(os.environ.get("BENCH_DENSITY_REQUESTS", "500"))
    timeout = int(os.environ.get("BENCH_DENSITY_TIMEOUT", "600"))
    extra = os.environ.get("BENCH_DENSITY_CONF", "").replace("\\n", "\n")
    if n < 2:
        raise SystemExit("BENCH_DENSITY_N must be at least 2 (one per datastore)")
    procs = Procs(ledger)
    ctl = provision.Control(os.path.realpath(ctrove), work, ledger, procs)
    base_uid = 81000 + (os.getpid() % 40) * 250
    plain_write = ctl.write_conf

    def write_conf():
        plain_write()
        with open(ctl.conf, "a") as f:
            # Its instances' OS users from a uid block of its own (Control's
            # quotas already allow 1000 instances).
            f.write(f"instance_uid_range = {base_uid}-{base_uid + 249}\n" + extra + "\n")

    ctl.write_conf = write_conf
    out = {"settings": {"n": n, "batch": batch, "idle_s": idle_s, "requests": requests,
                        "flavor": "d1 (256 MB)", "extra_conf": extra},
           "peer": PEER}
    ids = []
    api = None
    try:
        log(f"density: RabbitMQ and ctrove all, {n} instances {batch} at a time")
        ctl.start(list(DATASTORES))
        api = Api(ctl)
        out["control_idle"] = memory_kb(control_pids(ctl))
        ids, failed, batches, create_s = create_all(ctl, api, n, batch, timeout)
        out["create"] = {"seconds": round(create_s, 1), "batches_s": [round(b, 1) for b in batches],
                         "failed": failed}
        reached, healthy_s, insts = wait_all_healthy(api, n, timeout)
        out["reached"] = {"active_healthy": reached, "of": n,
                          "seconds_after_creates": healthy_s,
                          "seconds_from_first_post": None if healthy_s is None
                          else round(create_s + healthy_s, 1)}
        log(f"density: {reached}/{n} ACTIVE and HEALTHY at once")
        live = [i for i in insts if i["id"] in ids]
        fleet = Fleet(ctl, live)
        out["measured_instances"] = len(fleet.items)
        out["not_measured"] = fleet.skipped
        time.sleep(5)  # the last creates' guests settle (template copy, first archive round)
        mem = memory_per_instance(fleet)
        out["memory_rows"] = mem
        out["memory"] = {k: summarise(mem, k)
                         for k in ("pss_kb", "agent_pss_kb", "server_pss_kb", "agent_rss_kb",
                                   "pss_anon_kb", "pss_file_kb", "pss_shmem_kb")}
        log(f"density: idle CPU over {idle_s:.0f} s")
        cpu = idle_cpu(ctl, fleet, idle_s)
        live_n = max(1, len(fleet.items))
        out["cpu"] = {**{k: v for k, v in cpu.items() if k != "instances"},
                      "per_instance": {k: summarise(cpu["instances"], k)
                                       for k in ("cpu_pct", "agent_pct", "server_pct",
                                                 "agent_own_pct", "workers_pct")},
                      "control_pct_per_instance": cpu["control_pct"] / live_n,
                      "broker_pct_per_instance": cpu["broker_pct"] / live_n}
        out["control_loaded"] = memory_kb(control_pids(ctl))
        out["list"] = list_latency(api, requests)
        out["control_after_list"] = memory_kb(control_pids(ctl))
        log(f"density: GET /instances p50 {out['list']['p50_ms']:.2f} ms, p99 "
            f"{out['list']['p99_ms']:.2f} ms; control plane RSS "
            f"{out['control_after_list']['rss_kb'] / 1024:.1f} MiB")
        uids = [it["uid"] for it in fleet.items]
        left, delete_s = delete_all(ctl, api, ids, batch, timeout)
        ids = left
        out["delete"] = {"seconds": round(delete_s, 1), "not_deleted": left}
        out["leftovers"] = leftovers(ctl, api, uids)
        log(f"density: deleted in {delete_s:.1f} s; left: {out['leftovers'] or 'nothing'}")
    except (RuntimeError, OSError, KeyError, ValueError) as e:
        log(f"density: failed: {e!r}")
        out["error"] = repr(e)
    finally:
        if api and ids:
            try:
                delete_all(ctl, api, ids, batch, 120)
            except Exception as e:  # the cleanup below still runs
                log(f"density: cleanup delete: {e!r}")
        ctl.stop()
        procs.stop_all()
    return out


# ---------------------------------------------------------------- report


def _mib(kb):
    return "-" if kb is None else f"{kb / 1024:.1f}"


def targets(d):
    t = []
    n = d["settings"]["n"]
    r = d.get("reached")
    t.append((f"{n} instances ACTIVE and HEALTHY at once (density)",
              None if not r else r["active_healthy"] >= n,
              "not measured" if not r else
              f"{r['active_healthy']}/{n}" + ("" if r["seconds_from_first_post"] is None
                                              else f" in {r['seconds_from_first_post']:.0f} s "
                                                   "from the first POST")))
    c = d.get("control_after_list")
    t.append((f"control plane RSS < 30 MiB with {n} instances (density)",
              None if not c else c["rss_kb"] / 1024 < 30,
              "not measured" if not c else f"{c['rss_kb'] / 1024:.1f} MiB"))
    li = d.get("list")
    t.append((f"GET /instances p99 < 5 ms with {n} instances (density)",
              None if not li else li["p99_ms"] < 5,
              "not measured" if not li else
              f"p99 {li['p99_ms']:.2f} ms (p50 {li['p50_ms']:.2f} ms)"))
    left = d.get("leftovers")
    t.append(("nothing left after the deletes (density)", None if left is None else not left,
              "not measured" if left is None else (json.dumps(left) if left else "nothing")))
    return t


def print_density(d):
    s = d["settings"]
    print(f"== density: {s['n']} instances (MariaDB and PostgreSQL half and half, flavor "
          f"{s['flavor']}), created {s['batch']} at a time through the API"
          + (f"; extra config: {s['extra_conf']!r}" if s["extra_conf"] else ""))
    if "error" in d:
        print(f"!! density failed: {d['error']}")
    r = d.get("reached")
    if r:
        print(f"reached: {r['active_healthy']}/{r['of']} ACTIVE and HEALTHY at once"
              + ("" if r["seconds_from_first_post"] is None else
                 f", {r['seconds_from_first_post']:.1f} s from the first POST (creates "
                 f"{d['create']['seconds']:.1f} s)"))
    if d.get("create", {}).get("failed"):
        print(f"!! failed creates: {d['create']['failed'][:5]}")
    mem = d.get("memory")
    cpu = d.get("cpu")
    if mem and cpu:
        rows = []
        for ds in DATASTORES + ("all",):
            if ds not in mem["pss_kb"]:
                continue
            p, a, sv = mem["pss_kb"][ds], mem["agent_pss_kb"][ds], mem["server_pss_kb"][ds]
            c = cpu["per_instance"]
            rows.append([ds, str(p["n"]), _mib(p["mean"]), _mib(p["max"]), _mib(sv["mean"]),
                         _mib(a["mean"]), f"{c['cpu_pct'][ds]['mean']:.3f}",
                         f"{c['cpu_pct'][ds]['max']:.3f}", f"{c['server_pct'][ds]['mean']:.3f}",
                         f"{c['agent_own_pct'][ds]['mean']:.3f}",
                         f"{c['workers_pct'][ds]['mean']:.3f}"])
        print(f"per idle instance (PSS MiB from smaps_rollup; CPU % of one core over "
              f"{cpu['seconds']:.0f} s, from /proc, agent including its reaped workers):")
        print(table(["datastore", "n", "PSS mean", "PSS max", "server", "agent", "CPU % mean",
                     "max", "server", "agent", "workers"], rows))
        parts = [f"{ds} {_mib(mem['pss_anon_kb'][ds]['mean'])} / "
                 f"{_mib(mem['pss_file_kb'][ds]['mean'])} / {_mib(mem['pss_shmem_kb'][ds]['mean'])}"
                 for ds in DATASTORES if ds in mem.get("pss_anon_kb", {})]
        if parts:
            print("PSS per instance by kind, anonymous / file-backed (binaries, libraries, "
                  "shared through the page cache) / shared memory, MiB: " + "; ".join(parts))
        print(f"heartbeat and worker cost of the idle fleet: control plane "
              f"{cpu['control_pct']:.2f} % of a core ({cpu['control_pct_per_instance']:.4f} % "
              f"per instance), broker {cpu['broker_pct']:.2f} % "
              f"({cpu['broker_pct_per_instance']:.4f} % per instance)")
    li, c = d.get("list"), d.get("control_after_list")
    if li and c:
        peer = d["peer"]
        print(table(
            ["with the instances running", "ctrove", "Trove 18 (peer)"],
            [["control plane RSS MiB", _mib(c["rss_kb"]), f"{peer['control_rss_mib']:.0f}"],
             ["control plane PSS MiB", _mib(c["pss_kb"]), f"{peer['control_pss_mib']:.0f}"],
             [f"GET /instances p50 ms ({li['page']} per page)", f"{li['p50_ms']:.2f}",
              f"{peer['list_p50_ms']:.0f}"],
             ["GET /instances p99 ms", f"{li['p99_ms']:.2f}", f"{peer['list_p99_ms']:.0f}"],
             ["memory per instance", "above", "n/a"]]))
        print(f"Trove 18: {peer['source']}; per instance: {peer['per_instance']}.")
    if "delete" in d:
        print(f"deleted in {d['delete']['seconds']:.1f} s; left behind: "
              f"{json.dumps(d.get('leftovers')) if d.get('leftovers') else 'nothing'}")
