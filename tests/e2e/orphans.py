"""What an instance can leave on the machine, looked up for real: processes,
mounts, loop devices, nftables chains and rules, loopback addresses, broker
accounts, OS users, files and control-plane rows. `leftovers(cloud, id)` lists
everything that still names the instance (empty: nothing is orphaned);
`assert_nothing_left(cloud, id)` fails with that list. Reusable by any test
that kills or breaks something and must prove the cleanup (crash recovery,
faults). Reads only; removes nothing (conftest's Cloud.cleanup() does).
"""
import json
import os
import sqlite3
import subprocess
from pathlib import Path

from buslib import conf_value, management

# Tables with an instance_id column whose rows go with the instance (the
# instances row itself is soft-deleted, as in Trove: deleted = 1).
INSTANCE_TABLES = ("ctrove_addresses", "ctrove_instance_claims", "ctrove_volume_usage")


def processes(cloud, instance_id):
    """'pid: cmdline' of every process whose command line or working directory
    names the instance (its agent, its database server, their tools)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if instance_id in cmdline or instance_id in cwd:
            found.append(f"process {entry.name}: {cmdline.strip()[:200]} (cwd {cwd})")
    return found


def mounts(cloud, instance_id):
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        source, point = line.split()[:2]
        if point.startswith(str(cloud.local)) and (instance_id in point or instance_id in source):
            found.append(f"mount {source} on {point}")
    return found


def loop_devices(cloud, instance_id):
    out = subprocess.run(["losetup", "-J"], capture_output=True, text=True, check=True).stdout
    devices = json.loads(out)["loopdevices"] if out.strip() else []
    return [f"loop device {d['name']} backed by {d.get('back-file')}" for d in devices
            if instance_id in (d.get("back-file") or "")]


def nft_objects(cloud, instance_id, address=None):
    """Chains and rules of the cloud's table that name the instance or its address."""
    proc = subprocess.run(["nft", "-j", "list", "table", "inet", cloud.nft_table],
                          capture_output=True, text=True)
    if proc.returncode != 0:  # no table at all: nothing of anyone's
        return []
    found = []
    for obj in json.loads(proc.stdout)["nftables"]:
        text = json.dumps(obj)
        if instance_id in text or (address and f'"{address}"' in text):
            kind = next(iter(obj))
            found.append(f"nft {kind} {obj[kind].get('name') or obj[kind].get('chain')}")
    return found


def lo_addresses(cloud, instance_id, address=None):
    """Addresses on lo from the cloud's instance range (ctrove adds none: 127/8
    routes to lo already, so any such address is a leftover)."""
    out = subprocess.run(["ip", "-j", "addr", "show", "dev", "lo"], capture_output=True,
                         text=True, check=True).stdout
    first = conf_value(cloud.conf, "address_range").split("-")[0]
    prefix = first.rsplit(".", 2)[0] + "."  # the range is 127.N.0.1-127.N.255.254
    found = []
    for link in json.loads(out):
        for a in link.get("addr_info", []):
            if a.get("local", "").startswith(prefix) or (address and a.get("local") == address):
                found.append(f"address {a['local']}/{a.get('prefixlen')} on lo")
    return found


def broker_users(cloud, instance_id):
    status, users = management(cloud, "GET", "users")
    assert status == 200, f"the management API answered {status}"
    return [f"broker user {u['name']}" for u in users if instance_id in u["name"]]


def os_users(cloud, instance_id):
    return [f"OS user {line.split(':')[0]}" for line in
            Path("/etc/passwd").read_text().splitlines() if instance_id in line]


def files(cloud, instance_id):
    found = [p for p in (cloud.local / "instances").glob(f"{instance_id}*")]
    found += [p for p in (cloud.local / "volumes").glob(f"{instance_id}*")]
    found += [p for p in cloud.run_root.glob(f"{instance_id}*")]
    return [f"file {p}" for p in found]


def rows(cloud, instance_id):
    found = []
    db = sqlite3.connect(f"file:{cloud.root}/trove.sqlite?mode=ro", uri=True, timeout=10)
    try:
        live = db.execute("SELECT task_id FROM instances WHERE id = ? AND"
                          " (deleted IS NULL OR deleted = 0)", (instance_id,)).fetchall()
        found += [f"instances row (task {t[0]}) not deleted" for t in live]
        for table in INSTANCE_TABLES:
            n = db.execute(f"SELECT count(*) FROM {table} WHERE instance_id = ?",
                           (instance_id,)).fetchone()[0]
            if n:
                found.append(f"{n} row(s) in {table}")
    finally:
        db.close()
    return found


def leftovers(cloud, instance_id, address=None):
    """Everything that still names instance_id (address: its loopback address)."""
    return (processes(cloud, instance_id) + mounts(cloud, instance_id)
            + loop_devices(cloud, instance_id) + nft_objects(cloud, instance_id, address)
            + lo_addresses(cloud, instance_id, address) + broker_users(cloud, instance_id)
            + os_users(cloud, instance_id) + files(cloud, instance_id)
            + rows(cloud, instance_id))


def assert_nothing_left(cloud, instance_id, address=None):
    left = leftovers(cloud, instance_id, address)
    assert not left, f"instance {instance_id} left behind:\n  " + "\n  ".join(left)
