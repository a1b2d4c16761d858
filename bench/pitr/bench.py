"""bench/pitr: point-in-time recovery (issue 16), per datastore, on a `ctrove all`
with the local compute driver and the local backup store (bench/provision's
Control), driven through the REST API:

  recovery point     a steady write load (BENCH_PITR_RATE commits/s for
                     BENCH_PITR_WRITE_S seconds): for each commit, the time from
                     its commit (client side, after it returned) until the
                     instance's recoverable window (GET .../recoverable_window,
                     polled every 0.2 s) reaches it; p50, p99, max
  restore to a time  a base of ~BENCH_PITR_MB MiB (full backup) plus the
                     writes above, restored to the last write (restorePoint
                     instanceRef + time) until ACTIVE, beside restoring the base
                     alone (restorePoint backupRef) until ACTIVE; the restored
                     rows checked against the writer's log

Trove 18 has no PITR: its column is "n/a". No assertion on speed: the target
(recovery point p99 <= 5 s) is reported met / not met.
A part of `make bench` (BENCH_PARTS=pitr); bench/pitr/run.sh runs it alone.

environment: BENCH_PITR_MB (base dataset, 64; the issue's figure is 1024),
  BENCH_PITR_WRITE_S (seconds of writes after the base, 60; the issue's is 600),
  BENCH_PITR_RATE (commits/s, 10), BENCH_DATASTORES ("mariadb postgresql")
"""
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import benchlib  # noqa: E402
from benchlib import fmt_num, log, table  # noqa: E402

TARGET_P99_S = 5.0
# Without any archive progress for this long the guest side does not archive.
NO_PROGRESS_S = 60


def backup_module():
    mod = sys.modules.get("backup_bench")
    if mod is None:
        spec = importlib.util.spec_from_file_location("backup_bench",
                                                      HERE.parent / "backup/bench.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules["backup_bench"] = mod
        spec.loader.exec_module(mod)
    return mod


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def unix(text):
    import calendar
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def archived_until(ctl, iid):
    status, body = ctl.api("GET", f"/instances/{iid}/recoverable_window")
    w = (body or {}).get("recoverable_window") if status == 200 else None
    return unix(w["to"]) if w else None


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Poller(threading.Thread):
    """(poll time, archived_until) every 0.2 s while the writer runs."""

    def __init__(self, ctl, iid):
        super().__init__(daemon=True)
        self.ctl, self.iid, self.seen, self.stop = ctl, iid, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                until = archived_until(self.ctl, self.iid)
            except Exception:  # a slow answer under load is not a result
                until = None
            if until is not None:
                self.seen.append((time.time(), until))
            self.stop.wait(0.2)


def lags(log_rows, seen):
    """For each commit (id, before, after): the first poll at or after the commit
    whose archived_until covers it, minus the commit time."""
    out = []
    j = 0
    for _, _, after in log_rows:
        while j < len(seen) and seen[j][0] < after:
            j += 1
        k = j
        while k < len(seen) and seen[k][1] < after:
            k += 1
        if k < len(seen):
            out.append(seen[k][0] - after)
    return out


def write_load(src, seconds, rate):
    period = 1.0 / rate
    rows, i, end = [], 0, time.time() + seconds
    while time.time() < end:
        i += 1
        before = time.time()
        src.sql(f"INSERT INTO w (id, at) VALUES ({i}, {before:.3f})")
        rows.append((i, before, time.time()))
        pause = period - (time.time() - before)
        if pause > 0:
            time.sleep(pause)
    return rows


def measure(ctl, bk, datastore, mb, write_s, rate):
    res = {"datastore": datastore}
    size_gb = max(4, mb * 6 // 1024)
    iid, _ = bk.api_instance(ctl, "pitr-src", datastore, size_gb)
    made = [iid]
    try:
        src = bk.ApiInstance(ctl, iid, datastore)
        log(f"  {datastore}: loading ~{mb} MiB")
        rows, size = (bk.load_postgresql if datastore == "postgresql" else bk.load_mariadb)(
            src, mb)
        src.sql("CREATE TABLE w (id int PRIMARY KEY, at double precision)")
        res.update(rows=rows, dataset_bytes=size)
        log(f"  {datastore}: base backup")
        full, why = bk.api_backup(ctl, iid)
        if not full:
            res["error"] = why
            return res
        res["base_backup_s"] = full["seconds"]
        deadline = time.time() + NO_PROGRESS_S
        while archived_until(ctl, iid) is None:
            if time.time() > deadline:
                res["error"] = (f"no recoverable window {NO_PROGRESS_S} s after the base "
                                "backup: the guest does not archive")
                return res
            time.sleep(0.5)
        log(f"  {datastore}: {write_s} s of writes at {rate}/s, polling the window")
        poller = Poller(ctl, iid)
        poller.start()
        try:
            wrote = write_load(src, write_s, rate)
            t = int(wrote[-1][2])
            deadline = time.time() + 120
            while (archived_until(ctl, iid) or 0) < t and time.time() < deadline:
                time.sleep(0.2)
        finally:
            poller.stop.set()
            poller.join()
        lag = lags(wrote, poller.seen)
        res["recovery_point"] = {"commits": len(wrote), "covered": len(lag),
                                 "p50_s": percentile(lag, 50), "p99_s": percentile(lag, 99),
                                 "max_s": max(lag) if lag else None}
        log(f"  {datastore}: restore to {iso(t)} (base + {write_s} s of writes)")
        body_point = {"instanceRef": iid, "time": iso(t)}
        rid, res["restore_to_time_s"] = restore(ctl, bk, datastore, size_gb, body_point)
        made.append(rid)
        got = int(bk.ApiInstance(ctl, rid, datastore).sql("SELECT count(*) FROM w"))
        want = sum(1 for _, _, after in wrote if after <= t)
        never = sum(1 for _, before, _ in wrote if before >= t + 1)
        res["restore_to_time_rows_ok"] = want <= got <= len(wrote) - never
        bk.api_delete(ctl, rid)
        made.remove(rid)
        log(f"  {datastore}: restore of the base alone")
        rid, res["restore_base_s"] = bk.api_instance(ctl, "pitr-base", datastore, size_gb,
                                                     full["id"])
        made.append(rid)
        return res
    finally:
        for i in made:
            try:
                bk.api_delete(ctl, i)
            except Exception as exc:
                log(f"  {datastore}: delete of {i}: {exc}")


def restore(ctl, bk, datastore, size_gb, point):
    body = {"name": "pitr-r", "flavorRef": "11", "volume": {"size": size_gb},
            "datastore": {"type": datastore, "version": bk.VERSIONS[datastore]},
            "restorePoint": point}
    t0 = time.monotonic()
    status, resp = ctl.api("POST", "/instances", {"instance": body})
    if status != 200:
        raise RuntimeError(f"POST /instances (restorePoint) answered {status}: {resp}")
    rid = resp["instance"]["id"]

    def active():
        _, b = ctl.api("GET", f"/instances/{rid}")
        st = b["instance"]["status"]
        if st == "ACTIVE":
            return True
        if st not in ("BUILD", "BACKUP"):
            raise RuntimeError(f"restore to a time went {st}: {b['instance'].get('fault')}")
        return None
    bk.api_wait(ctl, "restore to a time", active)
    return rid, time.monotonic() - t0


def run_pitr(ctrove, work, ledger):
    bk = backup_module()
    prov = bk.provision_module()
    mb = int(os.environ.get("BENCH_PITR_MB", "64"))
    write_s = int(os.environ.get("BENCH_PITR_WRITE_S", "60"))
    rate = float(os.environ.get("BENCH_PITR_RATE", "10"))
    datastores = os.environ.get("BENCH_DATASTORES", "mariadb postgresql").split()
    procs = benchlib.Procs(ledger)
    ctl = prov.Control(ctrove, Path(work), ledger, procs)
    out = {"dataset_mb": mb, "write_s": write_s, "rate": rate, "rows": []}
    try:
        ctl.start(datastores)
        for ds in datastores:
            try:
                out["rows"].append(measure(ctl, bk, ds, mb, write_s, rate))
            except Exception as exc:  # report it; the other datastore still runs
                out["rows"].append({"datastore": ds, "error": str(exc)[-800:]})
    finally:
        ctl.stop()
        procs.stop_all()
    return out


def targets(res):
    out = []
    for r in res.get("rows", []):
        rp = r.get("recovery_point")
        name = f"PITR recovery point p99 <= {TARGET_P99_S:.0f} s ({r['datastore']})"
        if not rp or rp["p99_s"] is None:
            out.append((name, None, r.get("error", "not measured")[:200]))
        else:
            out.append((name, rp["p99_s"] <= TARGET_P99_S,
                        f"p50 {rp['p50_s']:.2f} s, p99 {rp['p99_s']:.2f} s over "
                        f"{rp['covered']} of {rp['commits']} commits"))
    return out


def print_pitr(res):
    print(f"== point-in-time recovery: a ~{res['dataset_mb']} MiB base, then "
          f"{res['write_s']} s of writes at {res['rate']:g} commits/s (Trove 18: no PITR)")
    rows = []
    for r in res["rows"]:
        ds = r["datastore"]
        if "error" in r:
            rows.append([ds, "error: " + r["error"][:100], "n/a", ""])
            continue
        rp = r["recovery_point"]
        rows.append([f"{ds}: recovery point p50 / p99 / max (s)",
                     f"{fmt_num(rp['p50_s'], 2)} / {fmt_num(rp['p99_s'], 2)} / "
                     f"{fmt_num(rp['max_s'], 2)}", "n/a",
                     f"{rp['covered']} of {rp['commits']} commits covered"])
        rows.append([f"{ds}: restore base + {res['write_s']} s of writes to a time (s)",
                     fmt_num(r["restore_to_time_s"]), "n/a",
                     "rows ok" if r["restore_to_time_rows_ok"] else "ROWS WRONG"])
        rows.append([f"{ds}: restore of the base alone (s)", fmt_num(r["restore_base_s"]),
                     "n/a", ""])
    print(table(["step", "ctrove", "Trove 18", "check"], rows))
    print("targets:")
    for name, ok, fig in targets(res):
        print(f"  {'met' if ok else 'n/a' if ok is None else 'NOT MET':8} {name}: {fig}")
