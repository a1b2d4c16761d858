# guestlib.py — what test_mariadb.py and test_postgresql.py share: finding
# guest_cli and giving each instance its own loopback address and port.
# Owns nothing.
import os
import socket

import pytest


def find_cli():
    """guest_cli from GUEST_CLI (meson sets it), else a build tree's; a
    missing binary fails the run rather than skipping it."""
    env = os.environ.get("GUEST_CLI")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for build in ("build", "build-asan"):
        p = os.path.join(root, build, "tests", "guest", "guest_cli")
        if os.access(p, os.X_OK):
            return p
    pytest.fail("guest_cli not built (set GUEST_CLI)")


def port_free(ip, port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_next_addr = [0]


def allocate_address(subnet, ports):
    """A fresh 127.<subnet>.x.y (x from the pid, so parallel runs differ) and
    the first of ports free on it."""
    base = os.getpid() % 200 + 20
    while True:
        _next_addr[0] += 1
        ip = "127.%d.%d.%d" % (subnet, base, _next_addr[0] % 250 + 2)
        for port in ports:
            if port_free(ip, port):
                return ip, port


def instance_id():
    """An instance id that differs with each allocated address."""
    return "0000%04d-1111-2222-3333-444455556666" % (_next_addr[0] % 10000)
