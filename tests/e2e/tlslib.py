"""Helpers of the TLS end-to-end tests (issue 17): real mariadb and psql clients
against instances, verifying the server certificate with a CA file, and the
instance's own certificate files on the guest."""
import os
import ssl
import subprocess
from pathlib import Path

PASSWORD = "Passw0rd"


def mariadb_tls(address, ca, sql="SHOW SESSION STATUS LIKE 'Ssl_version'", verify=True):
    """userA over TLS, the server's certificate checked against ca (name too)."""
    tls = ["--ssl", f"--ssl-ca={ca}"] + (["--ssl-verify-server-cert"] if verify else [])
    cmd = ["mariadb", *tls, "--connect-timeout=5", "-h", address, "-u", "userA",
           f"-p{PASSWORD}", "-N", "-B", "test", "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def mariadb_plain(address, sql="SELECT 1"):
    cmd = ["mariadb", "--ssl=0", "--connect-timeout=5", "-h", address, "-u", "userA",
           f"-p{PASSWORD}", "-N", "-B", "test", "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def psql_dsn(dsn, sql="SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"):
    env = dict(os.environ, PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="5")
    for k in ("PGSSLMODE", "PGSSLROOTCERT", "PGHOST"):
        env.pop(k, None)
    return subprocess.run(["psql", dsn, "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, env=env, timeout=30)


def psql_tls(address, ca, mode="verify-full"):
    return psql_dsn(f"sslmode={mode} sslrootcert={ca} host={address} user=userA dbname=test")


def psql_plain(address):
    return psql_dsn(f"sslmode=disable host={address} user=userA dbname=test", "SELECT 1")


def tls_dir(cloud, instance_id):
    return Path(cloud.run_root) / instance_id / "tls"


def not_after(cert_file):
    """The certificate's notAfter, as seconds since the epoch."""
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(cert_file)],
                         capture_output=True, text=True, check=True)
    return ssl.cert_time_to_seconds(out.stdout.strip().split("=", 1)[1])


def read_as(uid, gid, path):
    """Whether the OS user uid:gid can read path (a real process under that id)."""
    proc = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                           "cat", str(path)], capture_output=True, text=True)
    return proc.returncode == 0
