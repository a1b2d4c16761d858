"""bench/soak/traffic.py: the well-behaved side of the soak — the tenant
`soak`'s instances (a stable set the database workers lease one at a time,
and a few churned: deleted and created again all run long) and the workers
that read, create, delete, and change databases, users, root, configuration
groups and backups on them. Every request states the answer it expects
(client.Tally); every operation that answers 202 is followed until it shows
(a database listed, an instance ACTIVE or gone), so a lost or stuck
operation is a failure too. Owns only the tenant `soak`'s resources.
"""
import random
import threading
import time

from cloud import VERSIONS

CREATE_TIMEOUT = 300.0  # s from POST /instances to ACTIVE on a loaded machine
OP_TIMEOUT = 120.0      # s for a database, user, group change or delete to show


class Fleet:
    """The soak tenant's instances: id -> {name, datastore, churn, leased}."""

    def __init__(self):
        self.lock = threading.Lock()
        self.instances = {}
        self.deleted = []  # ids the soak deleted (must answer 404 at the end)
        self.ops = {}      # operation -> count done
        self.serial = 0

    def next_name(self, prefix):
        with self.lock:
            self.serial += 1
            return f"{prefix}{self.serial}"

    def done(self, op):
        with self.lock:
            self.ops[op] = self.ops.get(op, 0) + 1

    def ids(self):
        with self.lock:
            return list(self.instances)

    def lease(self, rng, churn=False):
        """An instance of the stable (or churn) set nobody else is changing."""
        with self.lock:
            free = [i for i, v in self.instances.items()
                    if not v["leased"] and v["churn"] == churn and v["ready"]]
            if not free:
                return None
            iid = rng.choice(free)
            self.instances[iid]["leased"] = True
            return iid, self.instances[iid]["datastore"]

    def release(self, iid):
        with self.lock:
            if iid in self.instances:
                self.instances[iid]["leased"] = False


class Soak:
    """What every worker shares: the cloud, the tally, the fleet, the deadline."""

    def __init__(self, cloud, tally, fleet, deadline, seed):
        self.cloud, self.tally, self.fleet, self.deadline = cloud, tally, fleet, deadline
        self.seed = seed
        self.groups = {}  # datastore -> configuration group id (dynamic values only)

    def running(self):
        return time.monotonic() < self.deadline

    def api(self, kind, method, path, body=None, expect=(200,), user="soak", **kw):
        return self.tally.call(kind, method, f"/v1.0/{self.cloud.project(user)}{path}", body,
                               token=self.cloud.token(user), expect=expect, **kw)

    def change(self, kind, method, path, body=None, expect=(202,)):
        """A change to an instance, retried while Trove answers that the
        instance is busy with its own task (client.BUSY); a stuck task
        becomes a failure after OP_TIMEOUT."""
        end = time.monotonic() + OP_TIMEOUT
        while True:
            ans = self.api(kind, method, path, body, expect=expect, busy_ok=True)
            if not ans.busy:
                return ans
            if time.monotonic() > end:
                self.tally.note_failure("stuck", f"{kind} {path}: busy for {OP_TIMEOUT:.0f} s")
                return ans
            time.sleep(0.5)

    def wait(self, what, probe, timeout):
        """probe() -> True when done, None to keep waiting; a failure when the
        time is up (a stuck operation)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = probe()
            if got is not None:
                return got
            time.sleep(0.5)
        self.tally.note_failure("stuck", f"{what}: not done {timeout:.0f} s later")
        return False

    # -- instances ---------------------------------------------------------
    def create_instance(self, datastore, churn):
        name = self.fleet.next_name("c" if churn else "s")
        ans = self.api("instance create", "POST", "/instances", {"instance": {
            "name": name, "flavorRef": "11", "volume": {"size": 1},
            "datastore": {"type": datastore, "version": VERSIONS[datastore]},
            "databases": [{"name": "test"}],
            "users": [{"name": "userA", "password": "Passw0rd", "databases": [{"name": "test"}]}]}})
        if not ans.ok:
            return None
        iid = ans.body["instance"]["id"]
        with self.fleet.lock:
            self.fleet.instances[iid] = {"name": name, "datastore": datastore, "churn": churn,
                                         "leased": True, "ready": False}
        if self.wait(f"instance {name} ({iid}) to be ACTIVE",
                     lambda: self.instance_settled(iid, name), CREATE_TIMEOUT):
            with self.fleet.lock:
                self.fleet.instances[iid].update(leased=False, ready=True)
            self.fleet.done("instance create")
        return iid

    def instance_settled(self, iid, name):
        """True when ACTIVE with no task, None while getting there, False on
        ERROR (a failure: nothing the soak does should break an instance)."""
        ans = self.api("instance show", "GET", f"/instances/{iid}")
        if not ans.ok:
            return None
        inst = ans.body["instance"]
        if inst["status"] == "ERROR":
            self.tally.note_failure("instance", f"{name} ({iid}) went to ERROR: "
                                    f"{inst.get('fault')}")
            return False
        if inst["status"] == "ACTIVE" and inst.get("operating_status") == "HEALTHY":
            return True
        return None

    def delete_instance(self, iid):
        ans = self.api("instance delete", "DELETE", f"/instances/{iid}", expect=(202,))
        if not ans.ok:
            return False
        gone = self.wait(f"instance {iid} to be deleted",
                         lambda: True if self.api("instance show", "GET", f"/instances/{iid}",
                                                  expect=(200, 404)).status == 404 else None,
                         OP_TIMEOUT)
        with self.fleet.lock:
            self.fleet.instances.pop(iid, None)
            self.fleet.deleted.append(iid)
        if gone:
            self.fleet.done("instance delete")
        return gone

    # -- workers -----------------------------------------------------------
    def reader(self, n):
        rng = random.Random(self.seed + n)
        paths = ["/instances", "/instances/detail", "/flavors", "/datastores", "/limits",
                 "/configurations", "/backups", "/datastores/mariadb/versions",
                 "/datastores/postgresql/versions", "/instances?limit=5"]
        while self.running():
            ids = self.fleet.ids()
            if ids and rng.random() < 0.4:
                iid = rng.choice(ids)
                # A churned instance may be gone by the time the GET arrives.
                self.api("read", "GET", f"/instances/{iid}", expect=(200, 404))
            else:
                self.api("read", "GET", rng.choice(paths))
            self.fleet.done("read")
            time.sleep(0.02)

    def churn(self, n):
        rng = random.Random(self.seed + 100 + n)
        while self.running():
            got = self.fleet.lease(rng, churn=True)
            if got is None:
                time.sleep(1)
                continue
            iid, datastore = got
            if self.delete_instance(iid):
                self.create_instance(datastore, churn=True)

    def databases(self, n):
        """Databases and users with access on a leased stable instance, each
        followed until it is listed (and gone again)."""
        rng = random.Random(self.seed + 200 + n)
        while self.running():
            got = self.fleet.lease(rng)
            if got is None:
                time.sleep(0.5)
                continue
            iid, _ = got
            try:
                self.database_round(iid, rng)
            finally:
                self.fleet.release(iid)

    def listed(self, iid, what, name):
        ans = self.api(f"{what} list", "GET", f"/instances/{iid}/{what}")
        if not ans.ok:
            return None
        return {x["name"] for x in ans.body[what]}

    def database_round(self, iid, rng):
        db = f"soak_{rng.randrange(1 << 30):x}"
        user = f"u{rng.randrange(1 << 30):x}"
        base = f"/instances/{iid}"
        if not self.change("database create", "POST", f"{base}/databases",
                        {"databases": [{"name": db}]}, expect=(202,)).ok:
            return
        if not self.wait(f"database {db} on {iid} to be listed",
                         lambda: True if db in (self.listed(iid, "databases", db) or ()) else None,
                         OP_TIMEOUT):
            return
        self.fleet.done("database create")
        if not self.change("user create", "POST", f"{base}/users", {"users": [{
                "name": user, "password": "S0ak-" + db, "databases": [{"name": db}]}]},
                expect=(202,)).ok:
            return
        if not self.wait(f"user {user} on {iid} to be listed",
                         lambda: True if user in (self.listed(iid, "users", user) or ()) else None,
                         OP_TIMEOUT):
            return
        self.fleet.done("user create")
        self.api("user access", "GET", f"{base}/users/{user}/databases")
        if self.change("user delete", "DELETE", f"{base}/users/{user}").ok:
            self.fleet.done("user delete")
        if self.change("database delete", "DELETE", f"{base}/databases/{db}").ok:
            if self.wait(f"database {db} on {iid} to go",
                         lambda: True if db not in (self.listed(iid, "databases", db) or {db})
                         else None, OP_TIMEOUT):
                self.fleet.done("database delete")

    def root_and_groups(self, n):
        """Root enable/show, configuration attach/detach (dynamic values, so
        no restart is asked) on a leased stable instance."""
        rng = random.Random(self.seed + 300 + n)
        while self.running():
            got = self.fleet.lease(rng)
            if got is None:
                time.sleep(0.5)
                continue
            iid, datastore = got
            try:
                if rng.random() < 0.3:
                    if self.change("root enable", "POST", f"/instances/{iid}/root",
                                   expect=(200,)).ok:
                        self.fleet.done("root enable")
                    self.api("root show", "GET", f"/instances/{iid}/root")
                else:
                    self.group_round(iid, datastore)
            finally:
                self.fleet.release(iid)
            time.sleep(0.2)

    def group_round(self, iid, datastore):
        group = self.groups[datastore]
        steps = [("configuration attach", group), ("configuration detach", None)]
        shown = self.api("instance show", "GET", f"/instances/{iid}")
        if shown.ok and shown.body["instance"].get("configuration"):
            steps = steps[1:]  # a round cut short left it attached
        for step, value in steps:
            if not self.change(step, "PUT", f"/instances/{iid}",
                               {"instance": {"configuration": value}}).ok:
                return
            if not self.wait(f"{step} on {iid} to finish",
                             lambda: self.attached(iid, value), OP_TIMEOUT):
                return
            self.fleet.done(step)

    def attached(self, iid, group):
        ans = self.api("instance show", "GET", f"/instances/{iid}")
        if not ans.ok:
            return None
        inst = ans.body["instance"]
        if inst["status"] == "ERROR":
            self.tally.note_failure("instance", f"{iid} went to ERROR: {inst.get('fault')}")
            return False
        shown = (inst.get("configuration") or {}).get("id")
        return True if inst["status"] == "ACTIVE" and shown == group else None

    def make_groups(self):
        dynamic = {"mariadb": {"max_connections": 150}, "postgresql": {"work_mem": 8192}}
        for ds, values in dynamic.items():
            ans = self.api("configuration create", "POST", "/configurations", {"configuration": {
                "name": f"soak-{ds}", "values": values,
                "datastore": {"type": ds, "version": VERSIONS[ds]}}})
            if not ans.ok:
                raise RuntimeError(f"configuration create for {ds}: {ans.status} {ans.body}")
            self.groups[ds] = ans.body["configuration"]["id"]

    def backups(self, n):
        """A full backup of a leased stable instance, followed to COMPLETED,
        then deleted; one at a time (they are the dearest operation)."""
        rng = random.Random(self.seed + 400 + n)
        while self.running():
            got = self.fleet.lease(rng)
            if got is None:
                time.sleep(1)
                continue
            iid, _ = got
            try:
                self.backup_round(iid)
            finally:
                self.fleet.release(iid)
            time.sleep(5)

    def backup_round(self, iid):
        ans = self.change("backup create", "POST", "/backups", {"backup": {
            "name": self.fleet.next_name("b"), "instance": iid}})
        if not ans.ok:
            return
        bid = ans.body["backup"]["id"]

        def completed():
            got = self.api("backup show", "GET", f"/backups/{bid}")
            if not got.ok:
                return None
            st = got.body["backup"]["status"]
            if st == "FAILED":
                self.tally.note_failure("backup", f"backup {bid} of {iid} FAILED")
                return False
            return True if st == "COMPLETED" else None

        if not self.wait(f"backup {bid} of {iid} to complete", completed, CREATE_TIMEOUT):
            return
        self.fleet.done("backup create")
        # The instance is back to ACTIVE before the next worker leases it.
        self.wait(f"instance {iid} ACTIVE after its backup",
                  lambda: self.instance_settled(iid, iid), OP_TIMEOUT)
        if self.api("backup delete", "DELETE", f"/backups/{bid}", expect=(202,)).ok:
            if self.wait(f"backup {bid} to be deleted",
                         lambda: True if self.api("backup show", "GET", f"/backups/{bid}",
                                                  expect=(200, 404)).status == 404 else None,
                         OP_TIMEOUT):
                self.fleet.done("backup delete")
