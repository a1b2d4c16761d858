"""bench/provision/resize.py: how long an online volume grow takes (issue 14).
Used by bench/provision/bench.py while its instances are up: each of a few
instances is grown from 1 to 2 GiB through the REST API, with its database
running; the figures are POST -> ACTIVE with the new size (REST polled every
10 ms) and the grow itself as the taskmanager logs it (truncate, losetup
--set-capacity, xfs_growfs). Owns nothing: the instances are bench.py's."""
import re
import statistics
import time

GROWN = re.compile(r"volume grown online from \d+ to \d+ GB in ([0-9.]+) s")


def measure(ctl, ids, timeout, log_file, count=3):
    api_s, grow_s = [], []
    for iid in ids[:count]:
        t0 = time.monotonic()
        status, body = ctl.api("POST", f"/instances/{iid}/action",
                               {"resize": {"volume": {"size": 2}}})
        if status != 202:
            raise RuntimeError(f"resize of {iid} answered {status}: {body}")
        while time.monotonic() < t0 + timeout:
            inst = ctl.api("GET", f"/instances/{iid}")[1]["instance"]
            if inst["status"] == "ACTIVE" and inst["volume"]["size"] == 2:
                break
            if inst["status"] not in ("ACTIVE", "RESIZE"):
                raise RuntimeError(f"{iid} went {inst['status']}: {inst.get('fault')}")
            time.sleep(0.01)
        else:
            raise RuntimeError(f"{iid} did not grow within {timeout} s")
        api_s.append(time.monotonic() - t0)
        lines = [line for line in log_file.read_text().splitlines()
                 if iid in line and GROWN.search(line)]
        if lines:
            grow_s.append(float(GROWN.search(lines[-1]).group(1)))
    return {"instances": len(api_s),
            "api_to_active_p50_s": statistics.median(api_s),
            "grow_p50_s": statistics.median(grow_s) if grow_s else None}
