#!/usr/bin/python3
"""bench/main.py: the driver of `make bench` (started by bench/run.sh, which
installs what is missing and cleans up whatever happens). Runs the parts,
prints one report and writes it as one JSON file under bench/results/.

parts (BENCH_PARTS, default "api provision backup metrics failover pitr density openstack"):
  api        ctrove's API beside Python Trove 18's (bench/compare/bench.py),
             and the memory of both control planes, idle and after the load
  provision  create->ACTIVE and delete with the local driver beside the floor,
             ctrove-guestagent's memory beside Debian's Python trove-guestagent
             (bench/provision/bench.py, bench/provision/trove_guestagent.py)
  backup     backup and restore of ~1 GiB per datastore beside the bare tools, and
             an incremental after a 1 % change (bench/backup/bench.py)
  metrics    the GET /metrics scrape time with 1000 instances (bench/metrics/bench.py)
  failover   replica create->ACTIVE, replication lag under writes, automatic failover
             time (kill -9 -> first write on the new source), p50 over 5 runs per
             datastore, beside Trove 18's manual-only path (bench/failover/bench.py)
  pitr       point-in-time recovery: recovery point under a steady write load, and
             restore to a time beside restoring the base alone (bench/pitr/bench.py;
             BENCH_PITR_MB / BENCH_PITR_WRITE_S for the issue's 1 GiB + 10 min)
  density    N instances on one machine (BENCH_DENSITY_N, 10; the issue's 100): all
             ACTIVE at once, PSS and idle CPU per instance, control plane RSS and
             GET /instances p99 with them running, nothing left after
             (bench/density/bench.py)
  openstack  create->ACTIVE with compute_driver = nova beside the local driver
             (bench/openstack/bench.py; skipped, saying why, without CTROVE_OS_STATE)

No assertion on speed: the targets of issue #6 are reported met / not met.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "provision"))
import benchlib  # noqa: E402
from benchlib import TOP, Ledger, Procs, fmt_num, log, table  # noqa: E402


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


compare = load("compare_api", HERE / "compare/bench.py")
provision = load("provision_bench", HERE / "provision/bench.py")
pyguest = load("trove_guestagent", HERE / "provision/trove_guestagent.py")
backup = load("backup_bench", HERE / "backup/bench.py")
failover = load("failover_bench", HERE / "failover/bench.py")
metrics_bench = load("metrics_bench", HERE / "metrics/bench.py")
openstack_bench = load("openstack_bench", HERE / "openstack/bench.py")
pitr_bench = load("pitr_bench", HERE / "pitr/bench.py")
density_bench = load("density_bench", HERE / "density/bench.py")


def machine():
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "mem_total_kb": int(mem), "load_avg_at_start": os.getloadavg()}


def mib(kb):
    return None if kb is None else kb / 1024


def fmt_mib(kb):
    return "n/a" if kb is None else f"{kb / 1024:.1f}"


# ---------------------------------------------------------------- memory


def memory_rows(result):
    """[label, procs, idle RSS, idle PSS, loaded RSS, loaded PSS] in MiB."""
    rows = []
    api = result.get("api")
    if api:
        idle, loaded = api["memory"]["idle"], api["memory"]["after_load"]
        tot = {"idle": [0, 0], "loaded": [0, 0], "procs": 0, "complete": True}
        for key, label in (("trove-api", f"Trove 18 trove-api ({api['trove_workers']} workers "
                                          "+ parent)"),
                           ("trove-taskmanager", "Trove 18 trove-taskmanager"),
                           ("trove-conductor", "Trove 18 trove-conductor (workers + parent)")):
            if key not in idle:
                tot["complete"] = False
                continue
            i, a = idle[key], loaded[key]
            if a.get("rss_kb") is None:
                tot["complete"] = False
                rows.append([label, "0", "exited", "", "", ""])
                continue
            rows.append([label, str(a["procs"]), fmt_mib(i["rss_kb"]), fmt_mib(i["pss_kb"]),
                         fmt_mib(a["rss_kb"]), fmt_mib(a["pss_kb"])])
            tot["procs"] += a["procs"]
            tot["idle"][0] += i["rss_kb"] or 0
            tot["idle"][1] += i["pss_kb"] or 0
            tot["loaded"][0] += a["rss_kb"]
            tot["loaded"][1] += a["pss_kb"]
        rows.append(["Trove 18 control plane" + ("" if tot["complete"] else " (incomplete)"),
                     str(tot["procs"]), fmt_mib(tot["idle"][0]), fmt_mib(tot["idle"][1]),
                     fmt_mib(tot["loaded"][0]), fmt_mib(tot["loaded"][1])])
        c_i, c_a = idle["ctrove all"], loaded["ctrove all"]
        rows.append(["ctrove all (api + taskmanager + conductor)", str(c_a["procs"]),
                     fmt_mib(c_i["rss_kb"]), fmt_mib(c_i["pss_kb"]), fmt_mib(c_a["rss_kb"]),
                     fmt_mib(c_a["pss_kb"])])
    return rows


def guest_rows(result):
    rows = []
    prov = result.get("provision")
    if not prov:
        return rows
    for ds, r in prov["datastores"].items():
        if "guest_agent_rss_kb" in r:
            rows.append([f"ctrove-guestagent ({ds}, median of {r['n'] + 1} live instances)",
                         fmt_mib(r["guest_agent_rss_kb"]), fmt_mib(r["guest_agent_pss_kb"]), ""])
    g = prov.get("python_guest")
    if g:
        note = g.get("status", "")
        if g.get("reason"):
            note += f": {g['reason'][:160]}"
        if g.get("rss_kb") is None and g.get("peak_rss_kb"):
            note += f" (largest RSS seen before that: {fmt_mib(g['peak_rss_kb'])} MiB)"
        rows.append([f"trove-guestagent (Python, Trove 18, mysql manager, idle "
                     f"{g.get('settle_s', 0):.0f} s)", fmt_mib(g.get("rss_kb")),
                     fmt_mib(g.get("pss_kb")), note])
    return rows


# ---------------------------------------------------------------- targets


def targets(result):
    out = []

    def add(name, ok, figure):
        out.append({"target": name, "met": ok, "figure": figure})

    api = result.get("api")
    rows = {(r["endpoint"], r["n"]): r for r in (api or {}).get("rows", [])}

    def ratio(key):
        r = rows.get(key)
        if not r or not r["trove"]["rps"]:
            return None, None
        return r["ctrove"]["rps"] / r["trove"]["rps"], r

    x, r = ratio(("GET /instances", 100))
    add("GET /instances (N=100) >= 500x Trove's req/s with p99 < 5 ms",
        None if x is None else (x >= 500 and r["ctrove"]["p99_ms"] is not None
                                and r["ctrove"]["p99_ms"] < 5),
        "not measured" if x is None else
        f"{x:.0f}x ({r['ctrove']['rps']:.0f} vs {r['trove']['rps']:.0f} req/s), "
        f"p99 {fmt_num(r['ctrove']['p99_ms'])} ms")
    h = (api or {}).get("https")
    add(f"GET /instances (N={h['n'] if h else 100}) over HTTPS >= 80 % of HTTP's req/s "
        "(keep-alive)", None if not h or h["ratio"] is None else h["ratio"] >= 0.8,
        "not measured" if not h or h["ratio"] is None else
        f"{h['ratio'] * 100:.0f} % ({h['https']['rps']:.0f} vs {h['http']['rps']:.0f} req/s)")
    for key, label in ((("GET /datastores", 0), "GET /datastores"),
                       (("GET /instances/{id}", 100), "GET /instances/{id} (N=100)"),
                       (("GET /instances/{id}", 1000), "GET /instances/{id} (N=1000)")):
        x, r = ratio(key)
        if x is None and key[1] == 1000:
            continue
        add(f"{label} >= 50x Trove's req/s", None if x is None else x >= 50,
            "not measured" if x is None else
            f"{x:.0f}x ({r['ctrove']['rps']:.0f} vs {r['trove']['rps']:.0f} req/s)")
    if api:
        m = api["memory"]["after_load"]["ctrove all"]
        n = api["memory"]["after_load_n"]
        add("ctrove's whole control plane RSS < 30 MiB with 1000 instances",
            m["rss_kb"] / 1024 < 30 if n >= 1000 else None,
            f"{m['rss_kb'] / 1024:.1f} MiB (`ctrove all`, N = {n}"
            + (", not 1000: BENCH_NS" if n < 1000 else "") + ")")
    else:
        add("ctrove's whole control plane RSS < 30 MiB with 1000 instances", None,
            "not measured (BENCH_PARTS without api)")
    prov = result.get("provision")
    if prov:
        for ds, r in prov["datastores"].items():
            if "guest_agent_rss_kb" in r:
                add(f"guest agent RSS < 5 MiB ({ds})", r["guest_agent_rss_kb"] / 1024 < 5,
                    f"{r['guest_agent_rss_kb'] / 1024:.1f} MiB (PSS "
                    f"{r['guest_agent_pss_kb'] / 1024:.1f} MiB)")
            else:
                add(f"guest agent RSS < 5 MiB ({ds})", None, "not measured: provisioning failed")
        for ds in ("mariadb", "postgresql"):
            r = prov["datastores"].get(ds)
            if r and r.get("create_p50_s") is not None:
                add(f"create->ACTIVE p50 < 1 s ({ds})", r["create_p50_s"] < 1,
                    f"{r['create_p50_s']:.3f} s (p95 {r['create_p95_s']:.3f} s)")
            else:
                add(f"create->ACTIVE p50 < 1 s ({ds})", None,
                    "not measured" + (f": {r['error']}" if r and "error" in r else ""))
        for ds in ("mariadb", "postgresql"):
            f = (prov["datastores"].get(ds) or {}).get("configuration_follow")
            name = f"configuration set -> live on 10 instances < 1 s ({ds})"
            if f and "error" not in f:
                add(name, f["all_live_s"] < 1,
                    f"{f['all_live_s']:.3f} s on {f['instances']} instances ({f['parameter']})")
            else:
                add(name, None, "not measured" + (f": {f['error']}" if f else ""))
    else:
        add("guest agent RSS < 5 MiB", None, "not measured (BENCH_PARTS without provision)")
        add("create->ACTIVE p50 < 1 s (mariadb, postgresql)", None,
            "not measured (BENCH_PARTS without provision)")
    scrape = result.get("metrics")
    if scrape and scrape.get("instances") == 1000:
        add("GET /metrics with 1000 instances < 20 ms", scrape["p50_ms"] < 20,
            f"p50 {scrape['p50_ms']:.2f} ms, p99 {scrape['p99_ms']:.2f} ms")
    else:
        add("GET /metrics with 1000 instances < 20 ms", None,
            "not measured" + ("" if scrape else " (BENCH_PARTS without metrics)"))
    return out


# ---------------------------------------------------------------- report


def print_report(result):
    m = result["machine"]
    print()
    print(f"######## make bench: ctrove {result['ctrove_git']} beside Trove "
          f"{result.get('trove_version', '?')}, {m['cpus']} CPUs ({m['cpu_model']}), "
          f"load at start {m['load_avg_at_start'][0]:.2f}, {result['elapsed_s'] / 60:.1f} min")
    api = result.get("api")
    if api:
        print()
        compare.print_api(api, m)
    prov = result.get("provision")
    if prov:
        print()
        provision.print_provision(prov)
    if result.get("metrics"):
        print()
        metrics_bench.print_metrics(result["metrics"])
    if api:
        print()
        print(f"== memory of the control planes (MiB; VmRSS summed over the processes, Pss "
              f"from smaps_rollup; idle = 5 s after start without instances, loaded = after "
              f"the last wrk run, N = {api['memory']['after_load_n']} instances; the broker "
              f"is not counted)")
        print(table(["control plane", "procs", "idle RSS", "idle PSS", "loaded RSS",
                     "loaded PSS"], memory_rows(result)))
        if prov:
            for ds, r in prov["datastores"].items():
                c = r.get("ctrove_all_with_instances")
                if c:
                    print(f"ctrove all while {c['instances']} {ds} instances were live "
                          f"(provisioning): RSS {fmt_mib(c['rss_kb'])}, PSS "
                          f"{fmt_mib(c['pss_kb'])}")
    if prov:
        print()
        print("== memory of the guest agents (MiB)")
        print(table(["guest agent", "RSS", "PSS", "state"], guest_rows(result)))
    if result.get("backup"):
        print()
        backup.print_backup(result["backup"])
    if result.get("openstack"):
        print()
        print("== the cloud path (compute_driver = nova; bench/openstack)")
        openstack_bench.print_openstack(result["openstack"])
    if result.get("failover"):
        print()
        failover.print_failover(result["failover"])
    if result.get("pitr"):
        print()
        pitr_bench.print_pitr(result["pitr"])
    if result.get("density"):
        print()
        density_bench.print_density(result["density"])
    print()
    print("== targets (issue #6; backup: issue 12; failover: issue 15; pitr: issue 16; "
          "density: issue 18)")
    for t in result["targets"]:
        mark = {True: "met    ", False: "NOT MET", None: "n/a    "}[t["met"]]
        print(f"  {mark}  {t['target']}: {t['figure']}")
    print()
    print("== what each side skipped")
    for side, items in result["skipped"].items():
        for s in items:
            print(f"  {side}: {s}")
    if result["notes"]:
        print()
        print("== notes")
        for n in result["notes"]:
            print("  - " + n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ctrove", default=str(TOP / "build/src/ctrove"))
    ap.add_argument("--work", required=True, help="an empty scratch directory (run.sh's)")
    ap.add_argument("--results", default=str(TOP / "bench/results"))
    args = ap.parse_args()
    benchlib.on_signals()
    t0 = time.monotonic()
    work = Path(args.work)
    ledger = Ledger(work)
    parts = os.environ.get("BENCH_PARTS",
                           "api provision backup metrics failover pitr density openstack").split()
    for p in parts:
        if p not in ("api", "provision", "backup", "metrics", "failover", "pitr", "density",
                     "openstack"):
            raise SystemExit(f"BENCH_PARTS: unknown part {p} (api, provision, backup, metrics, "
                             f"failover, pitr, density, openstack)")
    git = subprocess.run(["git", "-C", str(TOP), "describe", "--always", "--dirty"],
                         capture_output=True, text=True, timeout=30).stdout.strip()
    result = {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "ctrove_git": git,
        "ctrove_binary": str(Path(args.ctrove).resolve()),
        "machine": machine(),
        "parts": parts,
        "skipped": {"trove": [], "ctrove": []},
        "notes": [],
    }
    try:
        if "api" in parts:
            log("== part api: ctrove beside Trove 18")
            api = compare.run_api(args.ctrove, work, ledger)
            result["api"] = api
            result["trove_version"] = api["trove_version"]
            for side in ("trove", "ctrove"):
                result["skipped"][side] += api["skipped"][side]
            result["notes"] += api["notes"]
        if "provision" in parts:
            log("== part provision: local instances, guest agents, floors")
            procs = Procs(ledger)
            want_py = os.environ.get("BENCH_PYGUEST", "1") != "0"
            result["provision"] = provision.run_provision(
                args.ctrove, work, ledger,
                (lambda url: pyguest.measure(procs, work, url)) if want_py else None)
            procs.stop_all()
            result["skipped"]["ctrove"].append(
                "provisioning: nothing; the local driver's real path (loop-mounted xfs "
                "volume, guest agent, database server, users and databases)")
            result["skipped"]["trove"].append(
                "provisioning: not measured; Trove 18 standalone has no Nova/Cinder/Glance")
            g = result["provision"].get("python_guest")
            if g:
                result["skipped"]["trove"].append(
                    "trove-guestagent: runs as nobody with a logging no-op `sudo` first on its "
                    "PATH (it would add a user and format a volume as root), [mysql] "
                    "device_path = proc (already mounted, so nothing is formatted), and a "
                    "stand-in Docker API on a unix socket (404 for every container); no "
                    "database is prepared")
        if "backup" in parts:
            log("== part backup: backup and restore beside the bare tools (issue 12)")
            result["backup"] = backup.run_backup(args.ctrove, work, ledger)
            result["notes"].append(f"backup: ctrove driven through the {backup.VIA}")
        if "failover" in parts:
            log("== part failover: replicas and automatic failover (issue 15)")
            result["failover"] = failover.run_failover(args.ctrove, work, ledger)
            result["skipped"]["trove"].append(
                "failover: Trove 18 fails over only by hand (eject-replica-source); not run")
        if "metrics" in parts:
            log("== part metrics: GET /metrics with 1000 instances")
            result["metrics"] = metrics_bench.run_metrics(args.ctrove, work, ledger)
        if "pitr" in parts:
            log("== part pitr: point-in-time recovery (issue 16)")
            result["pitr"] = pitr_bench.run_pitr(args.ctrove, work, ledger)
        if "density" in parts:
            log("== part density: N instances on one machine (issue 18)")
            result["density"] = density_bench.run_density(args.ctrove, work, ledger)
            result["skipped"]["trove"].append(
                "density: Trove 18 cannot run instances here (no Nova); its control plane's "
                "RSS and GET /instances (N=100 seeded rows) from ../shared/peer/RESULTS.md")
        if "openstack" in parts:
            log("== part openstack: create->ACTIVE with compute_driver = nova (issue 19)")
            result["openstack"] = openstack_bench.run_openstack(args.ctrove, work, ledger)
        result["elapsed_s"] = round(time.monotonic() - t0, 1)
        result["targets"] = targets(result)
        if result.get("backup"):
            result["targets"] += [{"target": n, "met": ok, "figure": fig}
                                  for n, ok, fig in backup.targets(result["backup"])]
        if result.get("failover"):
            result["targets"] += [{"target": n, "met": ok, "figure": fig}
                                  for n, ok, fig in failover.targets(result["failover"])]
        if result.get("pitr"):
            result["targets"] += [{"target": n, "met": ok, "figure": fig}
                                  for n, ok, fig in pitr_bench.targets(result["pitr"])]
        if result.get("density"):
            result["targets"] += [{"target": n, "met": ok, "figure": fig}
                                  for n, ok, fig in density_bench.targets(result["density"])]
        print_report(result)
        results = Path(args.results)
        results.mkdir(parents=True, exist_ok=True)
        out = results / (time.strftime("%Y%m%dT%H%M%S") + ".json")
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        os.replace(tmp, out)
        print(f"\nwritten: {out.relative_to(TOP) if out.is_relative_to(TOP) else out}")
    finally:
        benchlib.replay(work)


if __name__ == "__main__":
    main()
