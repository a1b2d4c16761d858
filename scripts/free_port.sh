#!/bin/sh
# scripts/free_port.sh — prints the first loopback port from BASE upward (in steps
# of 10) that has SPAN free ports in a row (RabbitMQ takes PORT to PORT+3:
# scripts/rabbitmq.sh). Shared by check.sh and ci_run_without_test_deps.sh. Binds
# each port for an instant and closes it; starts and stops nothing.
#   scripts/free_port.sh BASE SPAN
set -eu
exec /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys
base, span = int(sys.argv[1]), int(sys.argv[2])
for p in range(base, base + 2300, 10):
    socks = []
    try:
        for q in range(p, p + span):
            s = socket.socket(); s.bind(("127.0.0.1", q)); socks.append(s)
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
