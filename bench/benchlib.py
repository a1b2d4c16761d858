"""bench/benchlib.py: what the parts of `make bench` share: loopback ports,
the processes they start, memory and CPU readings, and the cleanup ledger.

The ledger (WORK/cleanup.jsonl) records, before it is created, everything a
part makes outside plain files of WORK: process groups, RabbitMQ nodes,
directories in /tmp or /run whose processes, mounts and loop devices must go,
nftables tables. Each part undoes its own things when it ends; bench/run.sh's
trap replays the ledger (`benchlib.py cleanup WORK`) in case the driver was
killed or hung, so nothing is left behind either way. Every step has a
timeout: nothing here waits forever.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
PY = "/usr/bin/python3"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Never the machine's own services' ports (trove-api, RabbitMQ, epmd).
AVOID_PORTS = {8779, 5672, 4369, 25672}


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- ports


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in AVOID_PORTS:
            return port


def free_block(count, start=27000):
    """The first of `count` consecutive free loopback ports (RabbitMQ takes
    PORT to PORT+3, see scripts/rabbitmq.sh)."""
    for base in range(start + (os.getpid() % 50) * 10, 60000, 10):
        if any(p in AVOID_PORTS for p in range(base, base + count)):
            continue
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise SystemExit("no free block of ports")


# ---------------------------------------------------------------- /proc


def stat_fields(pid):
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid):
    kids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if int(stat_fields(d.name)[1]) == pid:
                kids.append(int(d.name))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def alive(pid):
    try:
        return stat_fields(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            f = stat_fields(pid)
        except OSError:
            continue
        total += int(f[11]) + int(f[12])  # utime + stime
    return total


def memory_kb(pids):
    """VmRSS summed over the processes, Pss from smaps_rollup."""
    rss = pss = 0
    n = 0
    for pid in pids:
        try:
            r = p = 0
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    r = int(line.split()[1])
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    p = int(line.split()[1])
        except OSError:
            continue
        rss, pss, n = rss + r, pss + p, n + 1
    return {"procs": n, "rss_kb": rss, "pss_kb": pss}


def ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int(stat_fields(pid)[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


MARK = "CTROVE_BENCH_RUN"


def marked_pids(work, pgid=None):
    """Processes whose environment carries MARK=<work> (Procs.start and run()
    set it; what they start inherits it: RabbitMQ's VM and epmd, trove-api's
    workers, ctrove's guest agents and their servers), optionally only those
    of process group pgid."""
    mine = ancestors()
    tag = f"{MARK}={work}".encode()
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) in mine:
            continue
        try:
            if tag not in (d / "environ").read_bytes().split(b"\0"):
                continue
            if pgid is not None and int(stat_fields(d.name)[3]) != pgid:
                continue
        except (OSError, IndexError, ValueError):
            continue
        found.append(int(d.name))
    return found


def pids_with_arg(text):
    """Processes with an argument that is the private directory `text` or
    names something under it, leaving out this process and its ancestors."""
    mine = ancestors()
    exact, under = text.encode(), (text.rstrip("/") + "/").encode()
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) in mine:
            continue
        try:
            args = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # the path itself or something under it, never a longer sibling name
        if any(a == exact or a.endswith(b"=" + exact) or under in a for a in args):
            found.append(int(d.name))
    return found


def kill_pids(pids, grace=5.0):
    """SIGTERM, up to `grace` seconds, then SIGKILL."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    end = time.monotonic() + grace
    while time.monotonic() < end and any(alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    # Until they are gone: a dying server still holds its volume busy.
    end = time.monotonic() + grace
    while time.monotonic() < end and any(alive(p) for p in pids):
        time.sleep(0.05)


def group_members(pgid):
    """Live (not zombie) processes of process group pgid."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            f = stat_fields(d.name)
            if int(f[3]) == pgid and f[0] != "Z":
                found.append(int(d.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def kill_group(pgid, grace=10.0, proc=None):
    """SIGTERM to the group, up to `grace` seconds, then SIGKILL. Call it only
    while the group is known to be ours (its leader `proc` not yet reaped, or
    members left); `proc` is reaped on the way."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except OSError:
        return
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if proc is not None:
            proc.poll()
        if not group_members(pgid):
            return
        time.sleep(0.05)
    if group_members(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass


# ---------------------------------------------------------------- commands


def run(argv, timeout, check=True, out=None, **kw):
    """subprocess.run with a timeout that takes the command's whole process
    group with it. `out`: a file to append stdout+stderr to, else captured."""
    if out is not None:
        f = open(out, "ab")
        kw.update(stdout=f, stderr=f)
    else:
        f = None
        kw.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if _run_mark:
        kw["env"] = {**(kw.get("env") or os.environ), MARK: _run_mark}
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
    try:
        stdout, stderr = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p.pid, 2, p)
        p.wait(5)
        raise RuntimeError(f"{argv[0]} timed out after {timeout} s: {' '.join(map(str, argv))}")
    finally:
        if f:
            f.close()
    r = subprocess.CompletedProcess(argv, p.returncode, stdout, stderr)
    if check and p.returncode:
        err = (stderr or b"").decode(errors="replace").strip()[-800:]
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}"
                           + (f": {err}" if err else f" (see {out})" if out else ""))
    return r


# ---------------------------------------------------------------- ledger


_run_mark = None  # set by Ledger: what run() marks its commands with


class Ledger:
    def __init__(self, work):
        global _run_mark
        self.path = Path(work) / "cleanup.jsonl"
        _run_mark = str(work)

    def add(self, kind, **fields):
        with open(self.path, "a") as f:
            f.write(json.dumps({"kind": kind, **fields}) + "\n")
            f.flush()
            os.fsync(f.fileno())


def rabbit_url(dir_, port):
    """The transport_url of the control plane's account on a node that
    scripts/rabbitmq.sh started (it has no guest login)."""
    account = (Path(dir_) / "control-account").read_text().strip()
    return f"rabbit://{account}@127.0.0.1:{port}/"


def rabbit_management_url(port):
    return f"http://127.0.0.1:{port + 3}/"


def rabbit_stop(dir_, port):
    try:
        run([str(TOP / "scripts/rabbitmq.sh"), "stop", str(dir_), str(port)], 90, check=False)
    except RuntimeError:
        pass
    # A node that did not answer rabbitmqctl: its processes name its directory.
    kill_pids(pids_with_arg(str(dir_)))


def mounts_under(path):
    out = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        mnt = line.split()[1].replace("\\040", " ")
        if mnt == str(path) or mnt.startswith(str(path) + "/"):
            out.append(mnt)
    return sorted(out, key=len, reverse=True)


def loops_under(path):
    if not shutil.which("losetup"):
        return []
    r = subprocess.run(["losetup", "--list", "--noheadings", "--raw", "-O", "NAME,BACK-FILE"],
                       capture_output=True, text=True, timeout=30)
    devs = []
    for line in r.stdout.splitlines():
        f = line.split(None, 1)
        if len(f) == 2 and (f[1].startswith(str(path) + "/")):
            devs.append(f[0])
    return devs


def clear_tree(path):
    """Everything a run left in or under a private directory: processes that
    name it, mounts, loop devices backed by its files, then the directory."""
    path = str(path)
    kill_pids(pids_with_arg(path))
    for mnt in mounts_under(path):
        subprocess.run(["umount", mnt], capture_output=True, timeout=60)
        if mnt in mounts_under(path):
            subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=60)
    # A lazily unmounted file system keeps its loop device busy until its
    # last user lets go; detach again until none is left (the image file is
    # deleted with the tree, and an attached loop would outlive it).
    end = time.monotonic() + 15
    while True:
        devs = loops_under(path)
        for dev in devs:
            subprocess.run(["losetup", "--detach", dev], capture_output=True, timeout=60)
        if not devs or not loops_under(path) or time.monotonic() > end:
            break
        time.sleep(0.2)
    if not mounts_under(path):
        shutil.rmtree(path, ignore_errors=True)


def nft_delete(table):
    if shutil.which("nft"):
        r = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=30)
        if f"table inet {table}" in [x.strip() for x in r.stdout.splitlines()]:
            subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True,
                           timeout=30)


def replay(work):
    """Undo everything the ledger names, newest first. Idempotent."""
    path = Path(work) / "cleanup.jsonl"
    if not path.exists():
        return
    entries = []
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    # Processes first (they hold the rest): every process still carrying
    # this run's mark in its environment, whichever group it is in now.
    kill_pids(marked_pids(work))
    for e in reversed(entries):
        try:
            if e["kind"] == "rabbit":
                rabbit_stop(e["dir"], e["port"])
            elif e["kind"] == "tree":
                clear_tree(e["path"])
            elif e["kind"] == "nft":
                nft_delete(e["table"])
        except Exception as exc:  # keep going: the rest must still be undone
            print(f"cleanup of {e}: {exc}", file=sys.stderr)


# ---------------------------------------------------------------- report


def fmt_num(v, digits=1):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def table(head, rows):
    widths = [max(len(x[i]) for x in [head] + rows) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


# ---------------------------------------------------------------- processes


class Procs:
    """Processes started by a part, each in its own session so that what it
    forks (trove-api's workers) goes down with it; recorded in the ledger."""

    def __init__(self, ledger):
        self.ledger = ledger
        self.work = str(ledger.path.parent)
        self.started = []

    def start(self, argv, log_path, env=None, **kw):
        env = dict(os.environ if env is None else env)
        env[MARK] = self.work
        out = open(log_path, "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                 env=env, start_new_session=True, **kw)
        finally:
            out.close()
        self.ledger.add("pgroup", pid=p.pid)
        self.started.append(p)
        return p

    def stop(self, p, grace=10.0):
        if p.returncode is None:
            # Not reaped yet: its pid, hence its group id, is still ours.
            kill_group(p.pid, grace, p)
        else:
            # Reaped: the number may have been reused, so only what still
            # carries this run's mark in that group.
            kill_pids(marked_pids(self.work, p.pid), grace)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if p in self.started:
            self.started.remove(p)

    def stop_all(self):
        for p in reversed(list(self.started)):
            self.stop(p)


def on_signals():
    """SIGTERM/SIGHUP/SIGINT raise SystemExit, so `finally` blocks clean up."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, handler)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "cleanup":
        replay(sys.argv[2])
    else:
        sys.exit("usage: benchlib.py cleanup WORK")
