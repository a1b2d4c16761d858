"""bench/soak/watch.py: the soak's memory readings and their verdict — the
RSS of `ctrove all` and of every guest agent of the run, sampled every
SOAK_SAMPLE_SECONDS, and the least-squares slope of each series over the
second half of the run (the first half is warm-up: caches, pools and the
sanitizer's quarantine fill). Reads /proc only; owns no process.
"""
import statistics
import threading
import time
from pathlib import Path

from benchlib import marked_pids


def rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def is_agent(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip().startswith("ctrove-guestag")
    except OSError:
        return False


def slope_kib_per_10min(series):
    """Least-squares slope of [(seconds, KiB)], in KiB per 600 s."""
    if len(series) < 3:
        return None
    ts = [t for t, _ in series]
    vs = [v for _, v in series]
    mt, mv = statistics.fmean(ts), statistics.fmean(vs)
    den = sum((t - mt) ** 2 for t in ts)
    if den == 0:
        return None
    return 600 * sum((t - mt) * (v - mv) for t, v in zip(ts, vs)) / den


def second_half(series, start, end):
    mid = start + (end - start) / 2
    return [(t, v) for t, v in series if t >= mid]


class Sampler:
    def __init__(self, control_pid, work, every):
        self.control_pid = control_pid
        self.work = str(work)
        self.every = every
        self.control = []  # (t, KiB)
        self.agents = {}   # pid -> [(t, KiB)]
        self.load = []     # (t, 1-minute load average)
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def sample(self):
        t = time.monotonic() - self.t0
        v = rss_kb(self.control_pid)
        if v is not None:
            self.control.append((t, v))
        for pid in marked_pids(self.work):
            if is_agent(pid):
                v = rss_kb(pid)
                if v is not None:
                    self.agents.setdefault(pid, []).append((t, v))
        self.load.append((t, float(Path("/proc/loadavg").read_text().split()[0])))

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.every)

    def long_lived_agents(self, start, end):
        """Agents sampled from the start of the traffic to its end."""
        return {pid: s for pid, s in self.agents.items()
                if s[0][0] <= start + self.every * 1.5 and s[-1][0] >= end - self.every * 1.5}
