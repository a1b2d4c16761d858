"""Debian's Python trove-guestagent (Trove 18), idle, for its memory beside
ctrove-guestagent's: a minimal config (guest_id, datastore_manager mysql,
transport_url on the bench's private RabbitMQ node), measured after a few
seconds, as far as it starts.

Trove 18's agent is meant for a throw-away VM where it is root: at start it
runs `groupadd`/`useradd database` and formats and mounts the volume
([mysql] device_path), and its mysql manager asks Docker for the database
container. None of that may touch this machine, so here:

- it runs as the unprivileged user `nobody`, so every root command goes
  through `sudo`, and the `sudo` first on its PATH is a stub that logs the
  command to sudo.log and does nothing (this machine gets no user, no mkfs);
- [mysql] device_path names a pseudo file system that is already mounted
  (`proc`), so the agent finds its volume mounted and formats nothing;
- DOCKER_HOST points at a stand-in Docker API on a unix socket, served by a
  thread of the bench, that answers /version and 404 for every container
  (the agent then reports the database as not running).

If the agent exits anyway, its RSS is n/a and the reason is the last error
of its log; the largest RSS seen while it ran is kept as well.
"""
import http.server
import json
import os
import pwd
import socketserver
import threading
import time
import uuid
from pathlib import Path

import benchlib

AGENT = "/usr/bin/trove-guestagent"


class _DockerHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "docker-stand-in"

    def log_message(self, fmt, *args):
        with open(self.server.log_path, "a") as f:
            f.write((fmt % args) + "\n")

    def reply(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Api-Version", "1.41")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.endswith("/version"):
            self.reply(200, {"ApiVersion": "1.41", "MinAPIVersion": "1.12",
                             "Version": "20.10.0-bench-stand-in", "Os": "linux"})
        elif path.endswith("/_ping"):
            self.reply(200, "OK")
        else:
            self.reply(404, {"message": "No such container: database (bench stand-in)"})

    do_POST = do_DELETE = do_HEAD = do_PUT = do_GET


class _DockerServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def consumers(transport_url, queue):
    """Consumers of `queue` on the broker (a passive declare), or None."""
    try:
        import amqp
        from urllib.parse import urlsplit
        u = urlsplit(transport_url)
        conn = amqp.Connection(f"{u.hostname}:{u.port}", userid=u.username or "guest",
                               password=u.password or "guest", connect_timeout=5)
        conn.connect()
        try:
            ch = conn.channel()
            _, _, count = ch.queue_declare(queue, passive=True)
            return count
        finally:
            conn.close()
    except Exception:
        return None


def measure(procs, work, transport_url, settle=None):
    settle = float(os.environ.get("BENCH_PYGUEST_SETTLE", "10") if settle is None else settle)
    out = {"agent": AGENT, "settle_s": settle, "rss_kb": None, "pss_kb": None}
    if not Path(AGENT).exists():
        out["status"] = "not installed (Debian package trove-guestagent)"
        return out
    d = work / "trove-guestagent"
    (d / "bin").mkdir(parents=True)
    os.chmod(d, 0o755)
    os.chmod(d / "bin", 0o755)
    sudo_log = d / "sudo.log"
    stub = d / "bin/sudo"
    stub.write_text("#!/bin/sh\n# bench stand-in: log the root command, run nothing\n"
                    f"echo \"$*\" >> {sudo_log}\nexit 0\n")
    os.chmod(stub, 0o755)
    guest_id = str(uuid.uuid4())
    conf = d / "trove-guestagent.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"guest_id = {guest_id}\n"
        "datastore_manager = mysql\n"
        "datastore_version = 5.7.29\n"
        f"transport_url = {transport_url}\n"
        "# its own exchange: its heartbeats must not reach the bench's ctrove conductor\n"
        "control_exchange = trove-bench-guest\n"
        "[oslo_messaging_notifications]\n"
        "driver = noop\n"
        "[mysql]\n"
        "device_path = proc\n"
        f"mount_point = {d / 'mnt'}\n")
    os.chmod(conf, 0o644)
    agent_log = d / "trove-guestagent.log"
    kw = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for p in (agent_log, sudo_log):
            p.touch()
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
        kw = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    sock = d / "docker.sock"
    docker = _DockerServer(str(sock), _DockerHandler)
    docker.log_path = d / "docker.log"
    os.chmod(sock, 0o666)
    threading.Thread(target=docker.serve_forever, daemon=True).start()
    env = {"PATH": f"{d / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(d),
           "LANG": "C.UTF-8", "DOCKER_HOST": f"unix://{sock}"}
    proc = None
    try:
        benchlib.log(f"trove-guestagent: idle as nobody on the bench broker, {settle:.0f} s")
        proc = procs.start([AGENT, "--config-file", str(conf), "--log-file", str(agent_log)],
                           d / "trove-guestagent.out", env=env, cwd=str(d), **kw)
        peak = 0
        end = time.monotonic() + settle
        while time.monotonic() < end and proc.poll() is None:
            peak = max(peak, benchlib.memory_kb([proc.pid])["rss_kb"])
            time.sleep(0.2)
        out["peak_rss_kb"] = peak
        if proc.poll() is None:
            m = benchlib.memory_kb([proc.pid])
            out.update(status="running", rss_kb=m["rss_kb"], pss_kb=m["pss_kb"])
            out["topic_consumers"] = consumers(transport_url, f"guestagent.{guest_id}")
            if out["topic_consumers"]:
                out["status"] = (f"running, consuming guestagent.<id> "
                                 f"({out['topic_consumers']} consumer)")
        else:
            out["status"] = f"exited with {proc.returncode}"
        text = agent_log.read_text(errors="replace") if agent_log.exists() else ""
        errors = [line for line in text.splitlines()
                  if " ERROR " in line or " CRITICAL " in line]
        if proc.poll() is not None:
            reason = next((line for line in text.splitlines() if " CRITICAL " in line),
                          errors[-1] if errors else "")
            tail = (d / "trove-guestagent.out").read_text(errors="replace").strip()
            out["reason"] = (reason.split(" [-] ", 1)[-1] if reason else
                             tail.splitlines()[-1] if tail else "no log")
        out["log_errors"] = len(errors)
        out["last_log_line"] = text.strip().splitlines()[-1][:300] if text.strip() else ""
        out["stubbed_root_commands"] = (sudo_log.read_text().splitlines()
                                        if sudo_log.exists() else [])
        benchlib.log(f"trove-guestagent: {out['status']}, RSS {out['rss_kb']} kB, "
                     f"PSS {out['pss_kb']} kB, peak {peak} kB"
                     + (f"; {out['reason']}" if "reason" in out else ""))
        return out
    finally:
        if proc:
            procs.stop(proc)
        docker.shutdown()
        docker.server_close()
