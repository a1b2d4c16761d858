"""bench/soak/soak.py: `make soak` (scripts/soak.sh runs it) — a bounded soak
of one `ctrove all`: SOAK_INSTANCES instances (both datastores; SOAK_CHURN of
them deleted and created again all run long), then SOAK_SECONDS of mixed
traffic from the tenant `soak` (bench/soak/traffic.py) with the tenant
`intruder`'s hostile requests mixed in (bench/soak/hostile.py), while the
RSS of the control plane and of every guest agent is sampled
(bench/soak/watch.py). It passes when: no request failed (client.py's
classes), the control plane's RSS slope over the second half is under
SOAK_RSS_BOUND_KIB per 10 min (runs of 300 s or more), every instance is ACTIVE or deleted within
SOAK_SETTLE_SECONDS after the traffic stops, no sanitizer report was written,
and ctrove exits 0 on SIGTERM (LeakSanitizer runs at exit). Prints a summary
and exits non-zero when any criterion fails.

usage: soak.py CTROVE WORK   (WORK: a scratch directory, its ledger replayed
by scripts/soak.sh's trap)
environment: SOAK_SECONDS (600), SOAK_INSTANCES (20), SOAK_CHURN (4),
  SOAK_SAMPLE_SECONDS (10, fewer for short runs), SOAK_RSS_BOUND_KIB (1024; 32768
  for an ASan build),
  SOAK_SETTLE_SECONDS (180), SOAK_BACKUPS (1), SOAK_SEED (random),
  SOAK_RESULT (a file for the summary as JSON)
"""
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from benchlib import Ledger, log, on_signals  # noqa: E402
from client import Tally  # noqa: E402
from cloud import Cloud  # noqa: E402
from hostile import Hostile  # noqa: E402
from traffic import OP_TIMEOUT, Fleet, Soak  # noqa: E402
from watch import Sampler, second_half, slope_kib_per_10min  # noqa: E402


RSS_MIN_SECONDS = 300  # shorter runs print the RSS slope without judging it


def env_int(name, default):
    return int(os.environ.get(name, default))


def start_fleet(soak, count, churn):
    """count instances, half MariaDB and half PostgreSQL, 10 at a time."""
    datastores = ["mariadb", "postgresql"]
    plan = [(datastores[i % 2], i >= count - churn) for i in range(count)]
    for first in range(0, count, 10):
        batch = [threading.Thread(target=soak.create_instance, args=p)
                 for p in plan[first:first + 10]]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
    ready = sum(1 for v in soak.fleet.instances.values() if v["ready"])
    if ready != count:
        raise RuntimeError(f"only {ready} of {count} instances became ACTIVE")


def settle(soak, timeout):
    """Every instance the soak tenant has ACTIVE and HEALTHY, every one it
    deleted gone; the names of those that are not, after the timeout."""
    end = time.monotonic() + timeout
    pending = {}
    while True:
        ans = soak.api("settle", "GET", "/instances")
        pending = {}
        if ans.ok:
            for inst in ans.body["instances"]:
                if not (inst["status"] == "ACTIVE" and inst.get("operating_status") == "HEALTHY"):
                    pending[inst["id"]] = (inst["name"], inst["status"],
                                           inst.get("operating_status"))
            for iid in soak.fleet.deleted:
                if soak.api("settle", "GET", f"/instances/{iid}",
                            expect=(200, 404)).status != 404:
                    pending[iid] = ("deleted", "still shown", None)
        if not pending or time.monotonic() > end:
            return pending
        time.sleep(1)


def delete_all(soak):
    ans = soak.api("teardown", "GET", "/instances")
    ids = [i["id"] for i in ans.body["instances"]] if ans.ok else []
    for iid in ids:
        soak.api("teardown", "DELETE", f"/instances/{iid}", expect=(202,))
    end = time.monotonic() + OP_TIMEOUT
    left = set(ids)
    while left and time.monotonic() < end:
        left = {i for i in left if soak.api("teardown", "GET", f"/instances/{i}",
                                             expect=(200, 404)).status != 404}
        time.sleep(0.5)
    for group in soak.groups.values():
        soak.api("teardown", "DELETE", f"/configurations/{group}", expect=(202,))
    return left


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def main():
    on_signals()
    ctrove, work = sys.argv[1], Path(sys.argv[2])
    seconds = env_int("SOAK_SECONDS", 600)
    count = env_int("SOAK_INSTANCES", 20)
    churn = min(env_int("SOAK_CHURN", 4), count)
    every = float(os.environ.get("SOAK_SAMPLE_SECONDS", min(10.0, max(1.0, seconds / 30))))
    # ASan's quarantine (16 MiB here) and allocator metadata grow with the
    # run in every process, so an ASan build gets a wider bound; it still
    # fails a leak of ~1 KiB per request at the soak's rate. A release build
    # (SOAK_BIN=) is judged at 1 MiB per 10 min.
    asan = b"__asan_init" in Path(ctrove).read_bytes()
    bound = float(os.environ.get("SOAK_RSS_BOUND_KIB", 32768 if asan else 1024))
    settle_s = env_int("SOAK_SETTLE_SECONDS", 180)
    seed = env_int("SOAK_SEED", random.randrange(1 << 30))
    ledger = Ledger(work)
    cloud = Cloud(ctrove, work, ledger)
    verdicts = []  # (criterion, passed, detail)
    summary = {"seconds": seconds, "instances": count, "churn": churn, "seed": seed,
               "rss_bound_kib_per_10min": bound, "sample_seconds": every, "ctrove": ctrove,
               "asan": asan}
    try:
        log(f"soak: {seconds} s, {count} instances ({churn} churned), seed {seed}, work {work}")
        cloud.start()
        tally = Tally("127.0.0.1", cloud.port)
        fleet = Fleet()
        soak = Soak(cloud, tally, fleet, float("inf"), seed)
        soak.make_groups()
        t = time.monotonic()
        start_fleet(soak, count, churn)
        summary["fleet_create_s"] = round(time.monotonic() - t, 1)
        log(f"soak: {count} instances ACTIVE in {summary['fleet_create_s']} s; traffic starts")
        hostile = Hostile(soak)
        hostile.learn()

        sampler = Sampler(cloud.proc.pid, work, every)
        sampler_thread = threading.Thread(target=sampler.run, daemon=True)
        sampler_thread.start()
        t_start = time.monotonic() - sampler.t0
        soak.deadline = time.monotonic() + seconds
        workers = [(soak.reader, 0), (soak.reader, 1), (soak.churn, 0), (soak.databases, 0),
                   (soak.databases, 1), (soak.root_and_groups, 0), (hostile.worker, 0),
                   (hostile.worker, 1)]
        if env_int("SOAK_BACKUPS", 1):
            workers.append((soak.backups, 0))
        threads = [threading.Thread(target=f, args=(n,), daemon=True) for f, n in workers]
        for th in threads:
            th.start()
        while time.monotonic() < soak.deadline:
            time.sleep(min(30, max(0.1, soak.deadline - time.monotonic())))
            if cloud.proc.poll() is not None:
                break
            log(f"soak: {int(soak.deadline - time.monotonic())} s left; "
                f"{sum(tally.by_class.values())} requests, {len(tally.failures)} failures, "
                f"ctrove RSS {mib(sampler.control[-1][1]) if sampler.control else '-'}")
        for th in threads:
            th.join(max(1, soak.deadline + 400 - time.monotonic()))
        hung = [f.__name__ for (f, _), th in zip(workers, threads) if th.is_alive()]
        verdicts.append(("workers finished their last operation", not hung,
                         f"still running: {hung}" if hung else "all"))
        t_end = time.monotonic() - sampler.t0
        sampler.sample()
        sampler.stop.set()
        alive = cloud.proc.poll() is None
        verdicts.append(("ctrove all alive through the run", alive,
                         "yes" if alive else f"exited {cloud.proc.returncode}"))

        pending = settle(soak, settle_s) if alive else {"ctrove": "dead"}
        for iid, what in pending.items():
            tally.note_failure("stuck", f"{iid}: {what} {settle_s} s after the traffic")
        verdicts.append((f"every instance ACTIVE or deleted within {settle_s} s", not pending,
                         f"{len(pending)} not" if pending else
                         f"{len(fleet.instances)} ACTIVE, {len(fleet.deleted)} deleted"))

        control = sampler.control
        half = second_half(control, t_start, t_end)
        slope = slope_kib_per_10min(half)
        summary["control_rss_kib"] = control
        summary["control_rss_slope_kib_per_10min"] = slope
        # A short run's second half is still warm-up (ASan's quarantine, the
        # page caches): its slope is printed, not judged.
        judged = seconds >= RSS_MIN_SECONDS
        verdicts.append((f"ctrove all RSS slope (second half) < {bound:.0f} KiB per 10 min",
                         not judged or (slope is not None and slope < bound),
                         (f"{slope:.0f} KiB per 10 min" if slope is not None else
                          "too few samples")
                         + ("" if judged else f" (not judged: a run under {RSS_MIN_SECONDS} s)")))
        agents = sampler.long_lived_agents(t_start, t_end)
        agent_slopes = {pid: slope_kib_per_10min(second_half(s, t_start, t_end))
                        for pid, s in agents.items()}
        agent_slopes = {p: s for p, s in agent_slopes.items() if s is not None}
        summary["agent_rss_slopes_kib_per_10min"] = agent_slopes
        summary["agent_rss_kib"] = {str(p): s for p, s in agents.items()}

        left = delete_all(soak) if alive else set()
        verdicts.append(("every instance deleted at the end", not left,
                         f"{len(left)} left" if left else "yes"))
        rc = cloud.stop_control_plane()
        verdicts.append(("ctrove all exits 0 on SIGTERM (LeakSanitizer at exit)", rc == 0,
                         f"exit status {rc}"))
        time.sleep(1)
        reports = cloud.sanitizer_reports()
        verdicts.append(("no sanitizer report (ctrove, guest agents)", not reports,
                         "; ".join(f for f, _ in reports) or "none"))
        for f, text in reports[:5]:
            print(f"--- {f}\n{text}")
        verdicts.insert(0, ("no request failed (5xx, reset, timeout, unexpected status, stuck)",
                            not tally.failures, f"{len(tally.failures)} failures"))

        # ---- summary
        summary.update(requests=dict(tally.by_class), by_kind=dict(tally.by_kind),
                       failures=tally.failures, ops=dict(fleet.ops),
                       slowest=tally.slowest,
                       load_avg=[x for _, x in sampler.load])
        print_summary(summary, tally, fleet, sampler, agent_slopes, verdicts, t_start, t_end)
    except Exception as e:  # the verdict is FAILED; the ledger still cleans up
        log(f"soak: {type(e).__name__}: {e}")
        verdicts.append(("the soak ran to its end", False, f"{type(e).__name__}: {e}"))
        print_verdicts(verdicts)
    finally:
        cloud.cleanup()
    if os.environ.get("SOAK_RESULT"):
        summary["verdicts"] = verdicts
        Path(os.environ["SOAK_RESULT"]).write_text(json.dumps(summary, indent=1, default=str))
    return 0 if verdicts and all(ok for _, ok, _ in verdicts) else 1


def print_verdicts(verdicts):
    for what, ok, detail in verdicts:
        print(f"  {'PASS' if ok else 'FAIL'}  {what}: {detail}")
    print("soak: " + ("PASSED" if verdicts and all(ok for _, ok, _ in verdicts) else "FAILED"))


def print_summary(summary, tally, fleet, sampler, agent_slopes, verdicts, t_start, t_end):
    print("\n==== soak summary")
    print(f"{summary['seconds']} s of traffic, {summary['instances']} instances "
          f"({summary['churn']} churned), seed {summary['seed']}, ctrove {summary['ctrove']}"
          + (" (ASan+UBSan)" if summary["asan"] else ""))
    loads = summary["load_avg"]
    if loads:
        print(f"machine load (1-min average) during the run: min {min(loads):.1f}, "
              f"median {statistics.median(loads):.1f}, max {max(loads):.1f} on {os.cpu_count()} CPUs")
    total = sum(tally.by_class.values())
    print(f"requests: {total} ({total / max(1, summary['seconds']):.0f}/s); by class: "
          + ", ".join(f"{k} {v}" for k, v in sorted(tally.by_class.items())))
    hostile = sum(v for k, v in tally.by_kind.items() if k.startswith("hostile"))
    print(f"hostile requests: {hostile}; slowest answer {tally.slowest[0]:.2f} s "
          f"({tally.slowest[1][:100]})")
    print("operations done: " + ", ".join(f"{k} {v}" for k, v in sorted(fleet.ops.items())))
    control = sampler.control
    if control:
        print(f"ctrove all RSS: start {mib(control[0][1])}, end {mib(control[-1][1])}, "
              f"max {mib(max(v for _, v in control))}; slope over the second half "
              + (f"{summary['control_rss_slope_kib_per_10min']:.0f} KiB per 10 min"
                 if summary['control_rss_slope_kib_per_10min'] is not None else "-"))
        print("ctrove all RSS series (s: MiB): " + ", ".join(
            f"{t - t_start:.0f}: {v / 1024:.1f}" for t, v in control))
    if agent_slopes:
        s = sorted(agent_slopes.values())
        agents = sampler.long_lived_agents(t_start, t_end)
        starts = [v[0][1] for v in agents.values()]
        ends = [v[-1][1] for v in agents.values()]
        print(f"guest agents alive all run: {len(s)}; RSS median start {mib(statistics.median(starts))}, "
              f"end {mib(statistics.median(ends))}; second-half slope median {statistics.median(s):.0f}, "
              f"max {s[-1]:.0f} KiB per 10 min")
    if tally.failures:
        print(f"failures ({len(tally.failures)}, first 30):")
        for when, kind, req, what in tally.failures[:30]:
            print(f"  {when} [{kind}] {req}\n      -> {what}")
    print_verdicts(verdicts)


if __name__ == "__main__":
    sys.exit(main())
