"""bench/soak/cloud.py: the cloud a soak runs against — its own RabbitMQ node
and `ctrove all` with the local driver, private directories, address range,
nftables table and uid block, and three callers (admin, the tenant `soak`
whose instances carry the traffic, the tenant `intruder` who sends the
hostile requests). Owns only what it records in the run's cleanup ledger
(bench/benchlib.py); touches no other process, port or table.
"""
import json
import os
import re
import secrets
import socket
import tempfile
import time
import urllib.request
from pathlib import Path

from benchlib import (TOP, Procs, clear_tree, free_block, free_port, log, nft_delete,
                      rabbit_management_url, rabbit_stop, rabbit_url, run)

VERSIONS = {"mariadb": "10.11", "postgresql": "15"}
RULES = {"mariadb": "mariadb-10.11.json", "postgresql": "postgresql-15.json"}
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


class Cloud:
    def __init__(self, ctrove, work, ledger):
        self.ctrove = str(ctrove)
        self.work = Path(work)
        self.ledger = ledger
        self.procs = Procs(ledger)
        self.local = self._private_dir("ctrove-soak-", "/tmp")
        self.run_root = self._private_dir("cts", "/run")
        self.amqp = free_block(4, 31700)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rmq = self.work / "rabbitmq"
        self.conf = self.work / "trove.conf"
        self.log_file = self.work / "ctrove.log"
        self.out_file = self.work / "ctrove.out"
        # Sanitizer reports of ctrove and of every guest agent (they inherit
        # the environment) land here as asan.<pid>, so that a churned
        # instance's report outlives its deleted directory.
        self.asan_dir = self.work / "asan"
        self.asan_dir.mkdir(mode=0o1777, exist_ok=True)
        os.chmod(self.asan_dir, 0o1777)
        self.table = f"ctrove_soak_{os.getpid()}"
        ledger.add("nft", table=self.table)
        self.octet = 20 + (os.getpid() * 7) % 200
        self.uid_first = 80000 + (os.getpid() % 90) * 100
        self.passwords = {u: "p" + secrets.token_urlsafe(12) for u in ("admin", "soak", "intruder")}
        self.tokens = {}  # user -> (token, project id)
        self.proc = None

    def _private_dir(self, prefix, parent):
        d = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self.ledger.add("tree", path=str(d))
        os.chmod(d, 0o711)  # the database servers run as users of their own
        return d

    def sanitizer_env(self):
        env = dict(os.environ)
        # A small quarantine, so that ASan's own memory is full after the
        # warm-up and the RSS series shows the program's, not the allocator's.
        env["ASAN_OPTIONS"] = (f"detect_leaks=1:log_path={self.asan_dir}/asan:"
                               "quarantine_size_mb=16:malloc_context_size=12:exitcode=23")
        env["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:log_path={self.asan_dir}/ubsan"
        return env

    def write_conf(self):
        guestagent = Path(self.ctrove).parent / "ctrove-guestagent"
        self.conf.write_text(
            "[DEFAULT]\n"
            f"bind_host = 127.0.0.1\nbind_port = {self.port}\n"
            f"state_path = {self.local}\nlog_file = {self.log_file}\n"
            f"transport_url = {rabbit_url(self.rmq, self.amqp)}\n"
            f"control_exchange = ctrove_soak_{os.getpid()}\n"
            # The soak measures leaks and stuck statuses, not Trove's rate
            # limits: the callers would spend the run waiting on 413s.
            "http_get_rate = 1000000\nhttp_post_rate = 1000000\nhttp_put_rate = 1000000\n"
            "http_delete_rate = 1000000\nhttp_mgmt_post_rate = 1000000\n"
            "max_instances_per_tenant = 100\nmax_volumes_per_tenant = 1000\n"
            "max_ram_per_tenant = -1\nmax_backups_per_tenant = 1000\n"
            f"[database]\nconnection = sqlite:///{self.work}/trove.sqlite\n"
            f"[broker_accounts]\nmanagement_url = {rabbit_management_url(self.amqp)}\n"
            f"[local]\ninstances_dir = {self.local}/instances\nvolumes_dir = {self.local}/volumes\n"
            f"run_root = {self.run_root}\nnft_table = {self.table}\n"
            f"address_range = 127.{self.octet}.0.1-127.{self.octet}.255.254\n"
            f"guestagent_binary = {guestagent}\n"
            f"instance_uid_range = {self.uid_first}-{self.uid_first + 99}\n")
        (self.local / "instances").mkdir(mode=0o711, exist_ok=True)

    def manage(self, *args):
        run([self.ctrove, "--config-file", str(self.conf), "manage", *args], 120,
            out=self.work / "manage.out", env=self.sanitizer_env())

    def _password_file(self, user):
        f = self.work / f"password-{user}"
        f.write_text(self.passwords[user] + "\n")
        f.chmod(0o600)
        return str(f)

    def start(self):
        self.ledger.add("rabbit", dir=str(self.rmq), port=self.amqp)
        run([str(TOP / "scripts/rabbitmq.sh"), "start", str(self.rmq), str(self.amqp)], 180)
        self.write_conf()
        self.manage("db_sync")
        self.manage("identity_bootstrap", "--password-file", self._password_file("admin"))
        for user in ("soak", "intruder"):
            self.manage("user_create", user, user, "member", "--password-file",
                        self._password_file(user))
        for ds, v in VERSIONS.items():
            self.manage("datastore_update", ds, "")
            self.manage("datastore_version_update", ds, v, ds, "", "", "1",
                        "--image-tags", f"trove,{ds}")
            self.manage("datastore_update", ds, v)
            self.manage("db_load_datastore_config_parameters", ds, v,
                        str(TOP / "etc/validation-rules" / RULES[ds]))
        self.proc = self.procs.start([self.ctrove, "--config-file", str(self.conf), "all"],
                                     self.out_file, env=self.sanitizer_env())
        end = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ctrove all exited with {self.proc.returncode}; "
                                   f"see {self.log_file}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("ctrove all did not listen within 60 s")
                time.sleep(0.05)
        for user in ("admin", "soak", "intruder"):
            self.login(user)

    def login(self, user):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": self.passwords[user]}}},
            "scope": {"project": {"name": user, "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(f"{self.url}/identity/v3/auth/tokens",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            self.tokens[user] = (r.headers["X-Subject-Token"],
                                 json.load(r)["token"]["project"]["id"])

    def token(self, user):
        return self.tokens[user][0]

    def project(self, user):
        return self.tokens[user][1]

    def stop_control_plane(self, grace=60):
        """SIGTERM to ctrove all; its exit status (None: had to be killed)."""
        if not self.proc:
            return None
        p, self.proc = self.proc, None
        p.terminate()
        try:
            return p.wait(grace)
        except Exception:
            self.procs.stop(p, 5)
            return None

    def sanitizer_reports(self):
        """(file, first lines) of every sanitizer report of the run."""
        found = []
        for f in sorted(self.asan_dir.iterdir()):
            text = f.read_text(errors="replace")
            found.append((str(f), "\n".join(text.splitlines()[:40])))
        for f in (self.out_file, self.log_file):
            if f.exists() and SANITIZER.search(f.read_text(errors="replace")):
                found.append((str(f), "a sanitizer line (grep the file)"))
        return found

    def cleanup(self):
        for step in (lambda: self.proc and self.procs.stop(self.proc, 30),
                     lambda: self.procs.stop_all(),
                     lambda: rabbit_stop(self.rmq, self.amqp),
                     lambda: clear_tree(self.local),
                     lambda: clear_tree(self.run_root),
                     lambda: nft_delete(self.table),
                     self.remove_users):
            try:
                step()
            except Exception as e:  # the rest must still run
                log(f"soak cleanup: {e}")

    def remove_users(self):
        """Instance OS users (ctrove instance ...) left in this run's uid block."""
        for line in Path("/etc/passwd").read_text().splitlines():
            f = line.split(":")
            if (len(f) > 4 and self.uid_first <= int(f[2]) < self.uid_first + 100
                    and f[4].startswith("ctrove instance ")):
                run(["pkill", "-KILL", "-U", f[0]], 10, check=False)
                run(["userdel", f[0]], 30, check=False)
