"""bench/backup: backup and restore of a ~1 GiB dataset per datastore (issue
12), ctrove beside the bare tool run by hand on the same data in the same run:

  bare full backup   pg_basebackup -Ft -X fetch -c fast -D - | zstd -3 > file
                     mariabackup --backup --stream=xbstream | zstd -3 > file
  bare restore       zstd -dc file | tar -x + the server started on it until it
                     accepts connections (PostgreSQL) / zstd -dc file | mbstream -x
                     + mariabackup --prepare (MariaDB: unusable without)
  ctrove full        the guest manager's create_backup: the same tool, zstd 3 and
                     AES-256-GCM in the agent, the local store with SHA-256
  ctrove restore     prepare with backup_info on a new instance: fetch, verify,
                     decrypt, extract, then everything the bare restore does not
                     do (recovery to the backup's end, start, promote, secure)
  incremental        after changing 1 % of the rows: time and size beside the full

ctrove is driven through its REST API (POST /backups, GET /backups/{id} until
COMPLETED, POST /instances with restorePoint until ACTIVE) on a `ctrove all` with
the local compute driver and the local backup store, as bench/provision starts it;
BENCH_BACKUP_VIA=guest drives the guest manager directly instead (guest_cli, one
operation per process as the agent's worker runs them). The report says which.
A part of `make bench` (bench/main.py); bench/backup/run.sh (`make bench-backup`)
runs it alone.
Every process, mount and directory it makes is in the run's ledger.
No assertion on speed: the targets (full backup and restore within 1.2x the bare
tool; incremental <= 10 % of the full's time and size) are reported met / not met.

environment: BENCH_BACKUP_MB (dataset size, 1024), BENCH_DATASTORES
  ("mariadb postgresql"), BENCH_BACKUP_CHANGE_PCT (1), BENCH_BACKUP_VIA (api | guest)
"""
import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import benchlib  # noqa: E402
from benchlib import MARK, TOP, clear_tree, fmt_num, log, run, table  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"
CONTAINER = "database_backups"
VERSIONS = {"mariadb": "10.11", "postgresql": "15"}
TIMEOUT = 3600
VIA_GUEST = "guest manager (guest_cli), not the REST API"
VIA_API = "REST API (ctrove all, local compute driver, local backup store)"
VIA = VIA_API if os.environ.get("BENCH_BACKUP_VIA", "api") == "api" else VIA_GUEST


def guest_cli_path(ctrove):
    build = Path(ctrove).resolve().parent.parent
    for cand in (build / "tests/guest/guest_cli", TOP / "build-bench/tests/guest/guest_cli"):
        if os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("no guest_cli next to %s (bench/run.sh builds build-bench)" % ctrove)


class Instance:
    """One instance made through guest_cli on the run's XFS volume."""

    def __init__(self, cli, work, volume, manager, n):
        self.cli = str(cli)
        self.manager = manager
        base = Path(tempfile.mkdtemp(prefix=f"{manager[:2]}{n}-", dir=work))
        base.chmod(0o755)
        vol = Path(tempfile.mkdtemp(prefix=f"{manager[:2]}{n}-", dir=volume))
        vol.chmod(0o755)
        self.ip = f"127.93.{os.getpid() % 200 + 20}.{n + 2}"
        self.info = {"id": str(uuid.uuid4()), "manager": manager, "data_dir": str(vol / "vol"),
                     "run_dir": str(base / "run"), "cache_dir": str(Path(work) / "cache"),
                     "bind_address": self.ip, "port": 5432 if manager == "postgresql" else 3306,
                     "os_user": "postgres" if manager == "postgresql" else "mysql",
                     "memory_mb": 1024}
        Path(self.info["cache_dir"]).mkdir(mode=0o755, exist_ok=True)

    def call(self, method, **args):
        p = subprocess.run([self.cli, method], input=json.dumps({"instance": self.info,
                                                                "args": args}),
                           capture_output=True, text=True, timeout=TIMEOUT,
                           env={**os.environ, MARK: benchlib._run_mark or ""})
        try:
            out = json.loads(p.stdout)
        except ValueError:
            raise RuntimeError(f"guest_cli {method}: {p.stderr[-800:]}")
        if "error" in out:
            return False, out["error"]
        return True, out["result"]

    def ok(self, method, **args):
        ok, res = self.call(method, **args)
        if not ok:
            raise RuntimeError(f"{method} failed: {res}")
        return res

    def prepare(self, backup_info=None):
        users = [] if backup_info else [{"_name": "bench", "_password": "BenchPassw0rd",
                                         "_host": "%", "_databases": [{"_name": "bench"}],
                                         "_is_root": False}]
        dbs = [] if backup_info else [{"_name": "bench", "_character_set": None,
                                       "_collate": None}]
        return self.ok("prepare", packages=[], memory_mb=1024, device_path=None,
                       mount_point=None, backup_info=backup_info, config_contents="",
                       root_password=None, overrides=None, cluster_config=None, snapshot=None,
                       modules=None, ds_version="15" if self.manager == "postgresql" else "10.11",
                       databases=dbs, users=users)

    @property
    def run_dir(self):
        return Path(self.info["run_dir"])

    @property
    def datadir(self):
        return Path(self.info["data_dir"]) / "data"

    def sql(self, text):
        if self.manager == "postgresql":
            env = {**os.environ, "PGPASSWORD": "BenchPassw0rd", "PGSSLMODE": "disable"}
            cmd = ["psql", "-h", self.ip, "-p", "5432", "-U", "bench", "-d", "bench", "-XAtq",
                   "-v", "ON_ERROR_STOP=1", "-c", text]
        else:
            env = {**os.environ, "MYSQL_PWD": "BenchPassw0rd"}
            cmd = ["mariadb", "--skip-ssl", "-h", self.ip, "-P", "3306", "-u", "bench", "-N",
                   "-B", "bench", "-e", text]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        if p.returncode:
            raise RuntimeError(f"{text[:60]}: {p.stderr[-400:]}")
        return p.stdout.strip()

    def stop(self):
        self.call("stop_db")


def key():
    return base64.b64encode(os.urandom(32)).decode()


def backup_info(inst, store, parent=None):
    bid = str(uuid.uuid4())
    suffix = {"postgresql": (".tar.zst.enc", ".wal.tar.zst.enc"),
              "mariadb": (".xbstream.zst.enc", ".xbstream.zst.enc")}[inst.manager][bool(parent)]
    return {"id": bid, "name": "bench", "description": None, "instance_id": inst.info["id"],
            "backup_type": "incremental" if parent else "full", "checksum": None,
            "parent": ({k: parent[k] for k in ("id", "location", "checksum")}
                       if parent else None),
            "datastore": inst.manager, "datastore_version": "15" if inst.manager == "postgresql"
            else "10.11", "swift_container": CONTAINER,
            "location": f"{CONTAINER}/{bid}{suffix}", "encryption_key": key(), "store": store}


def restore_info(chain, store):
    last = chain[-1]
    return {"id": last["id"], "instance_id": "bench", "location": last["location"],
            "type": last["backup_type"], "checksum": last["checksum"],
            "chain": [{k: b[k] for k in ("id", "location", "checksum", "backup_type",
                                          "encryption_key")} for b in chain],
            "store": store}


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return time.monotonic() - t0, r


def ctrove_backup(inst, store, parent=None):
    info = backup_info(inst, store, parent)
    t, res = timed(lambda: inst.call("create_backup", backup_info=info))
    ok, out = res
    if not ok:
        return None, out["message"]
    return {"seconds": t, "bytes": out["size"], "id": info["id"], "location": out["location"],
            "checksum": out["checksum"], "backup_type": info["backup_type"],
            "encryption_key": info["encryption_key"]}, None


# ---------------------------------------------------------------- datasets


def load_postgresql(inst, mb):
    inst.sql("CREATE TABLE t (id bigint PRIMARY KEY, a text, b text, n int, at timestamptz)")
    batch, first = 400000, 1
    while int(inst.sql("SELECT pg_database_size('bench')")) < mb * 1024 * 1024:
        inst.sql(f"INSERT INTO t SELECT g, md5(g::text), md5((g * 7)::text) || "
                 f"repeat(chr(65 + (g % 26)), 40), g % 1000, now() FROM "
                 f"generate_series({first}, {first + batch - 1}) g")
        first += batch
    # A table in steady state, as a production one is: without this the
    # first backup after the load carries autovacuum's hint-bit and
    # visibility-map WAL (full-page images: the cluster has data checksums).
    inst.sql("VACUUM (FREEZE, ANALYZE) t")
    return first - 1, int(inst.sql("SELECT pg_database_size('bench')"))


def load_mariadb(inst, mb):
    inst.sql("CREATE TABLE t (id bigint PRIMARY KEY, a char(32), b varchar(80), n int, "
             "at datetime) ENGINE=InnoDB")
    batch, first = 400000, 1

    def size():
        return int(inst.sql("SELECT data_length + index_length FROM information_schema.tables "
                            "WHERE table_schema = 'bench' AND table_name = 't'") or 0)
    while size() < mb * 1024 * 1024:
        inst.sql(f"INSERT INTO t SELECT seq, md5(seq), concat(md5(seq * 7), "
                 f"repeat(char(65 + seq % 26), 40)), seq % 1000, now() FROM "
                 f"seq_{first}_to_{first + batch - 1}")
        first += batch
    return first - 1, size()


def change(inst, rows, pct):
    n = max(1, rows * pct // 100)
    inst.sql(f"UPDATE t SET n = n + 1, a = md5(a) WHERE id <= {n}")
    return n


# ---------------------------------------------------------------- bare tools


def bare_postgresql(inst, work):
    cred = parse_cnf(inst.run_dir / "credentials/os_admin.cnf")
    passfile = Path(work) / "bench.pgpass"
    fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, f"*:*:*:{cred['user']}:{cred['password']}\n".encode())
    os.close(fd)
    out = Path(work) / "bare-pg.tar.zst"
    cmd = (f"{PG_BIN}/pg_basebackup -h {inst.run_dir}/socket -p 5432 -U {cred['user']} -w "
           f"-Ft -X fetch -c fast -D - | zstd -q -3 > {out}")
    t_backup, _ = timed(lambda: sh(cmd, {"PGPASSFILE": str(passfile)}))
    passfile.unlink()
    # By hand, a restore is usable once the server is up on it: extract, then
    # start it (crash recovery from the backup's WAL, the data directory's
    # fsync) until it accepts connections.
    dest = Path(tempfile.mkdtemp(prefix="bare-pg-", dir=inst.info["data_dir"]))
    os.chown(dest, *pg_owner(inst))
    import pwd
    user = pwd.getpwuid(pg_owner(inst)[0]).pw_name
    sock = tempfile.mkdtemp(prefix="bpg", dir="/tmp")  # a socket path has 107 bytes
    ctl = (f"runuser -u {user} -- {PG_BIN}/pg_ctl -D {dest} -l {sock}/log -w -t 3600 "
           f"-o \"-c listen_addresses='' -c unix_socket_directories={sock} -p 5432 "
           f"-c config_file={inst.run_dir}/postgresql.conf -c data_directory={dest} "
           f"-c hba_file={inst.run_dir}/pg_hba.conf -c ident_file={inst.run_dir}/pg_ident.conf\"")
    os.chown(sock, *pg_owner(inst))
    try:
        t_restore, _ = timed(lambda: sh(f"zstd -q -dc {out} | runuser -u {user} -- "
                                        f"tar -x -C {dest} && "
                                        f"chmod 700 {dest} && {ctl} start >/dev/null"))
    except RuntimeError as exc:
        tail = Path(f"{sock}/log").read_text(errors="replace")[-600:]
        raise RuntimeError(f"bare restore: {tail or exc}")
    sh(f"{ctl} -m fast stop >/dev/null")
    size = out.stat().st_size
    out.unlink()
    shutil.rmtree(dest)
    shutil.rmtree(sock)
    return {"backup_s": t_backup, "restore_s": t_restore, "bytes": size}


def bare_mariadb(inst, work):
    out = Path(work) / "bare-mdb.xbs.zst"
    tmp = Path(tempfile.mkdtemp(prefix="bare-mdb-tmp-", dir=work))
    cmd = (f"mariabackup --defaults-file={inst.run_dir}/my.cnf --backup --stream=xbstream "
           f"--user=root --target-dir={tmp} 2>{work}/bare-mdb.log | zstd -q -3 > {out}")
    t_backup, _ = timed(lambda: sh(cmd))
    dest = Path(tempfile.mkdtemp(prefix="bare-mdb-", dir=inst.info["data_dir"]))
    t_restore, _ = timed(lambda: sh(
        f"zstd -q -dc {out} | mbstream -x -C {dest} && "
        f"mariabackup --prepare --target-dir={dest} 2>>{work}/bare-mdb.log"))
    size = out.stat().st_size
    out.unlink()
    shutil.rmtree(dest)
    shutil.rmtree(tmp)
    return {"backup_s": t_backup, "restore_s": t_restore, "bytes": size}


def pg_owner(inst):
    """The instance's own OS user (the local driver gives each one its own)."""
    st = os.stat(inst.datadir)
    return st.st_uid, st.st_gid


def parse_cnf(path):
    vals = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            vals[k.strip()] = v.strip()
    return vals


def sh(cmd, env=None):
    run(["/bin/bash", "-o", "pipefail", "-c", cmd], TIMEOUT, env={**os.environ, **(env or {})})


# ---------------------------------------------------------------- the part


def make_volume(work, ledger, gib):
    d = Path(tempfile.mkdtemp(prefix="bkvol-", dir=work))
    ledger.add("tree", path=str(d))
    d.chmod(0o755)  # the servers' users pass through to their data
    img, mnt = d / "volume.img", d / "mnt"
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(gib << 30)
    run(["mkfs.xfs", "-q", str(img)], 120)
    run(["mount", "-o", "loop,noatime", str(img), str(mnt)], 60)
    mnt.chmod(0o755)
    return d, mnt


def measure(datastore, cli, work, volume, store, mb, pct):
    res = {"datastore": datastore}
    src = Instance(cli, work, volume, datastore, 0)
    src.prepare()
    log(f"  {datastore}: loading ~{mb} MiB")
    t_load, (rows, size) = timed(lambda: (load_postgresql if datastore == "postgresql"
                                          else load_mariadb)(src, mb))
    res.update(rows=rows, dataset_bytes=size, load_s=t_load)
    log(f"  {datastore}: {rows} rows, {size / 2**20:.0f} MiB in {t_load:.0f} s; bare tool")
    res["bare"] = (bare_postgresql if datastore == "postgresql" else bare_mariadb)(src, work)
    log(f"  {datastore}: ctrove full backup")
    full, why = ctrove_backup(src, store)
    if not full:
        res["ctrove"] = {"skipped": why}
        src.stop()
        return res
    c = res["ctrove"] = {"full": {k: full[k] for k in ("seconds", "bytes")}}
    n = change(src, rows, pct)
    log(f"  {datastore}: changed {n} rows ({pct} %); ctrove incremental")
    inc, why = ctrove_backup(src, store, parent=full)
    c["incremental"] = {k: inc[k] for k in ("seconds", "bytes")} if inc else {"skipped": why}
    src.stop()
    log(f"  {datastore}: ctrove restore of the full")
    dst = Instance(cli, work, volume, datastore, 1)
    t, _ = timed(lambda: dst.prepare(restore_info([full], store)))
    c["restore_full_s"] = t
    got = int(dst.sql("SELECT count(*) FROM t"))
    c["restore_full_rows_ok"] = got == rows
    dst.stop()
    if inc:
        log(f"  {datastore}: ctrove restore of full + incremental")
        dst2 = Instance(cli, work, volume, datastore, 2)
        t, _ = timed(lambda: dst2.prepare(restore_info([full, inc], store)))
        c["restore_chain_s"] = t
        c["restore_chain_rows_ok"] = (int(dst2.sql("SELECT count(*) FROM t")) == rows and
                                      int(dst2.sql(f"SELECT count(*) FROM t WHERE id <= {n} "
                                                   f"AND n = (id % 1000) + 1")) == n)
        dst2.stop()
    return res


# ---------------------------------------------------------------- through the API


def provision_module():
    mod = sys.modules.get("provision_bench")
    if mod is None:
        spec = importlib.util.spec_from_file_location("provision_bench",
                                                      HERE.parent / "provision/bench.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules["provision_bench"] = mod
        spec.loader.exec_module(mod)
    return mod


class ApiInstance(Instance):
    """An instance `ctrove all` made: its files found from its guest.conf."""

    def __init__(self, ctl, iid, manager):
        conf = {}
        for line in (Path(ctl.local) / "instances" / iid / "guest.conf").read_text().splitlines():
            if " = " in line:
                k, v = line.split(" = ", 1)
                conf[k.strip()] = v.strip()
        self.manager, self.iid = manager, iid
        self.ip = conf["bind_address"]
        self.info = {"data_dir": conf["data_dir"], "run_dir": conf["run_dir"]}


def api_wait(ctl, what, probe, timeout=TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = probe()
        if r is not None:
            return r
        time.sleep(0.05)
    raise RuntimeError(f"{what}: not done in {timeout} s")


def api_instance(ctl, name, datastore, size_gb, backup_ref=None):
    body = {"name": name, "flavorRef": "11", "volume": {"size": size_gb},
            "datastore": {"type": datastore, "version": VERSIONS[datastore]}}
    if backup_ref:
        body["restorePoint"] = {"backupRef": backup_ref}
    else:
        body.update(databases=[{"name": "bench"}],
                    users=[{"name": "bench", "password": "BenchPassw0rd",
                            "databases": [{"name": "bench"}]}])
    t0 = time.monotonic()
    status, resp = ctl.api("POST", "/instances", {"instance": body})
    if status != 200:
        raise RuntimeError(f"POST /instances answered {status}: {resp}")
    iid = resp["instance"]["id"]

    def active():
        _, b = ctl.api("GET", f"/instances/{iid}")
        st = b["instance"]["status"]
        if st == "ACTIVE":
            return True
        if st not in ("BUILD", "BACKUP"):
            raise RuntimeError(f"instance {name} went {st}: {b['instance'].get('fault')}")
        return None
    api_wait(ctl, f"instance {name}", active)
    return iid, time.monotonic() - t0


def api_backup(ctl, iid, parent=None):
    body = {"name": f"bench-{'inc' if parent else 'full'}", "instance": iid}
    if parent:
        body["parent_id"] = parent["id"]
    t0 = time.monotonic()
    status, resp = ctl.api("POST", "/backups", {"backup": body})
    if status != 202 and status != 200:
        return None, f"POST /backups answered {status}: {resp}"
    bid = resp["backup"]["id"]

    def done():
        _, b = ctl.api("GET", f"/backups/{bid}")
        st = b["backup"]["status"]
        if st in ("COMPLETED", "FAILED"):
            return b["backup"]
        return None
    b = api_wait(ctl, f"backup {bid}", done)
    seconds = time.monotonic() - t0
    if b["status"] != "COMPLETED":
        _, inst = ctl.api("GET", f"/instances/{iid}")
        fault = (inst.get("instance", {}).get("fault") or {}).get("message", "")
        return None, f"backup {bid} FAILED: {fault[:300]}"
    obj = Path(ctl.local) / "backups" / b["locationRef"]
    return {"seconds": seconds, "bytes": obj.stat().st_size, "id": bid}, None


def api_delete(ctl, iid):
    ctl.api("DELETE", f"/instances/{iid}")
    api_wait(ctl, f"delete of {iid}",
             lambda: True if ctl.api("GET", f"/instances/{iid}")[0] == 404 else None, 300)


def measure_api(ctl, datastore, work, mb, pct):
    res = {"datastore": datastore}
    size_gb = max(4, mb * 6 // 1024)
    iid, _ = api_instance(ctl, "bk-src", datastore, size_gb)
    src = ApiInstance(ctl, iid, datastore)
    made = [iid]
    try:
        log(f"  {datastore}: loading ~{mb} MiB")
        t_load, (rows, size) = timed(lambda: (load_postgresql if datastore == "postgresql"
                                              else load_mariadb)(src, mb))
        res.update(rows=rows, dataset_bytes=size, load_s=t_load)
        log(f"  {datastore}: {rows} rows, {size / 2**20:.0f} MiB in {t_load:.0f} s; bare tool")
        res["bare"] = (bare_postgresql if datastore == "postgresql" else bare_mariadb)(src, work)
        log(f"  {datastore}: ctrove full backup (POST /backups)")
        full, why = api_backup(ctl, iid)
        if not full:
            res["ctrove"] = {"skipped": why}
            return res
        c = res["ctrove"] = {"full": {k: full[k] for k in ("seconds", "bytes")}}
        n = change(src, rows, pct)
        log(f"  {datastore}: changed {n} rows ({pct} %); ctrove incremental")
        inc, why = api_backup(ctl, iid, parent=full)
        c["incremental"] = ({k: inc[k] for k in ("seconds", "bytes")} if inc
                            else {"skipped": why})
        log(f"  {datastore}: ctrove restore of the full (POST /instances, restorePoint)")
        rid, c["restore_full_s"] = api_instance(ctl, "bk-r1", datastore, size_gb, full["id"])
        made.append(rid)
        c["restore_full_rows_ok"] = int(ApiInstance(ctl, rid, datastore).sql(
            "SELECT count(*) FROM t")) == rows
        api_delete(ctl, rid)
        made.remove(rid)
        if inc:
            log(f"  {datastore}: ctrove restore of full + incremental")
            rid, c["restore_chain_s"] = api_instance(ctl, "bk-r2", datastore, size_gb,
                                                     inc["id"])
            made.append(rid)
            r2 = ApiInstance(ctl, rid, datastore)
            c["restore_chain_rows_ok"] = (
                int(r2.sql("SELECT count(*) FROM t")) == rows and
                int(r2.sql(f"SELECT count(*) FROM t WHERE id <= {n} "
                           f"AND n = (id % 1000) + 1")) == n)
        return res
    finally:
        for i in made:
            try:
                api_delete(ctl, i)
            except Exception as exc:
                log(f"  {datastore}: delete of {i}: {exc}")


def run_backup_api(ctrove, work, ledger, datastores, mb, pct):
    prov = provision_module()
    procs = benchlib.Procs(ledger)
    work = Path(work)
    ctl = prov.Control(ctrove, work, ledger, procs)
    out = {"via": VIA_API, "dataset_mb": mb, "change_pct": pct, "rows": []}
    try:
        ctl.start(datastores)
        for ds in datastores:
            try:
                out["rows"].append(measure_api(ctl, ds, work, mb, pct))
            except Exception as exc:  # report it; the other datastore still runs
                out["rows"].append({"datastore": ds, "error": str(exc)[-800:]})
    finally:
        ctl.stop()
        procs.stop_all()
    return out


def run_backup(ctrove, work, ledger):
    mb = int(os.environ.get("BENCH_BACKUP_MB", "1024"))
    pct = int(os.environ.get("BENCH_BACKUP_CHANGE_PCT", "1"))
    datastores = os.environ.get("BENCH_DATASTORES", "mariadb postgresql").split()
    if VIA == VIA_API:
        return run_backup_api(ctrove, work, ledger, datastores, mb, pct)
    cli = guest_cli_path(ctrove)
    root = Path(tempfile.mkdtemp(prefix="ctrove-bench-backup-", dir="/tmp"))
    ledger.add("tree", path=str(root))
    root.chmod(0o755)
    out = {"via": VIA_GUEST, "dataset_mb": mb, "change_pct": pct, "rows": []}
    try:
        for ds in datastores:
            voldir, volume = make_volume(root, ledger, max(8, mb * 6 // 1024))
            store_dir = Path(tempfile.mkdtemp(prefix="store-", dir=root))
            store = {"kind": "local", "backups_dir": str(store_dir)}
            try:
                out["rows"].append(measure(ds, cli, root, volume, store, mb, pct))
            except Exception as exc:  # report it; the other datastore still runs
                out["rows"].append({"datastore": ds, "error": str(exc)[-800:]})
            finally:
                clear_tree(voldir)
                shutil.rmtree(store_dir, ignore_errors=True)
    finally:
        clear_tree(root)
    return out


def mbps(nbytes, seconds):
    return nbytes / 2**20 / seconds if seconds else None


def targets(res):
    """[(name, met or None, figure)] for the report."""
    out = []
    for r in res.get("rows", []):
        ds, c, bare = r["datastore"], r.get("ctrove") or {}, r.get("bare")
        if "full" not in c:
            why = r.get("error") or c.get("skipped") or "not measured"
            out.append((f"backup within 1.2x the bare tool ({ds})", None, why))
            continue
        ratio = c["full"]["seconds"] / bare["backup_s"]
        out.append((f"full backup within 1.2x the bare tool ({ds})", ratio <= 1.2,
                    f"{c['full']['seconds']:.1f} s vs {bare['backup_s']:.1f} s = {ratio:.2f}x"))
        ratio = c["restore_full_s"] / bare["restore_s"]
        out.append((f"restore within 1.2x the bare tool ({ds})", ratio <= 1.2,
                    f"{c['restore_full_s']:.1f} s vs {bare['restore_s']:.1f} s = {ratio:.2f}x"))
        inc = c.get("incremental", {})
        if "seconds" in inc:
            t = inc["seconds"] / c["full"]["seconds"]
            s = inc["bytes"] / c["full"]["bytes"]
            out.append((f"incremental <= 10 % of the full's time and size ({ds})",
                        t <= 0.10 and s <= 0.10, f"time {t * 100:.1f} %, size {s * 100:.1f} %"))
        else:
            out.append((f"incremental <= 10 % of the full ({ds})", None,
                        inc.get("skipped", "not measured")))
    return out


def print_backup(res):
    print(f"== backup and restore, ~{res['dataset_mb']} MiB per datastore, ctrove driven "
          f"through the {res['via']}")
    rows = []
    for r in res["rows"]:
        ds = r["datastore"]
        if "error" in r:
            rows.append([ds, "error: " + r["error"][:100], "", "", ""])
            continue
        size, bare, c = r["dataset_bytes"], r["bare"], r.get("ctrove") or {}
        rows.append([f"{ds} bare tool: full backup", fmt_num(bare["backup_s"]),
                     fmt_num(mbps(size, bare["backup_s"])), fmt_num(bare["bytes"] / 2**20), ""])
        rows.append([f"{ds} bare tool: restore (extract{' + prepare' if ds == 'mariadb' else ' + start'})",
                     fmt_num(bare["restore_s"]), fmt_num(mbps(size, bare["restore_s"])), "", ""])
        if "full" not in c:
            rows.append([f"{ds} ctrove", "n/a: " + c.get("skipped", "")[:90], "", "", ""])
            continue
        rows.append([f"{ds} ctrove: full backup", fmt_num(c["full"]["seconds"]),
                     fmt_num(mbps(size, c["full"]["seconds"])),
                     fmt_num(c["full"]["bytes"] / 2**20), ""])
        inc = c.get("incremental", {})
        if "seconds" in inc:
            rows.append([f"{ds} ctrove: incremental after {res['change_pct']} % change",
                         fmt_num(inc["seconds"]), "", fmt_num(inc["bytes"] / 2**20), ""])
        else:
            rows.append([f"{ds} ctrove: incremental", "n/a: " + inc.get("skipped", "")[:90],
                         "", "", ""])
        rows.append([f"{ds} ctrove: restore full (new instance, ACTIVE-ready)",
                     fmt_num(c["restore_full_s"]), fmt_num(mbps(size, c["restore_full_s"])), "",
                     "rows ok" if c["restore_full_rows_ok"] else "ROWS WRONG"])
        if "restore_chain_s" in c:
            rows.append([f"{ds} ctrove: restore full + incremental", fmt_num(c["restore_chain_s"]),
                         "", "", "rows ok" if c["restore_chain_rows_ok"] else "ROWS WRONG"])
    print(table(["step", "s", "MB/s of dataset", "stored MiB", "check"], rows))
    print("targets:")
    for name, ok, fig in targets(res):
        print(f"  {'met' if ok else 'n/a' if ok is None else 'NOT MET':8} {name}: {fig}")

