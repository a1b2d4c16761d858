#!/bin/bash
# scripts/soak.sh — `make soak`: bench/soak/soak.py against one ctrove (the
# ASan+UBSan build by default, so leaks and undefined behaviour show; SOAK_BIN
# for another, e.g. a release build) in a scratch directory under /tmp, and
# nothing left behind: on exit, failure or Ctrl-C the driver is stopped
# (SIGKILL after 90 s) and its cleanup ledger (bench/benchlib.py) replayed.
# Owns only its scratch directory and what the ledger names. Run as root
# (instances use loop devices, mounts and nftables).
#
# usage: scripts/soak.sh [path/to/ctrove]
# env:   SOAK_SECONDS (600) and the other knobs of bench/soak/soak.py;
#        SOAK_KEEP=1 keeps the scratch directory (logs, summary.json)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
CTROVE=$(realpath "${SOAK_BIN:-${1:-$top/build-asan/src/ctrove}}")
[ -x "$CTROVE" ] || { echo "no ctrove binary at $CTROVE (ninja -C build-asan)" >&2; exit 1; }
[ -x "$(dirname "$CTROVE")/ctrove-guestagent" ] || {
	echo "no ctrove-guestagent beside $CTROVE" >&2
	exit 1
}
started=$(date +%s)
work=$(mktemp -d /tmp/ctrove-soak-run.XXXXXX)
chmod 711 "$work"
driver=""
cleanup() {
	local rc=$? i
	trap - EXIT
	trap '' INT TERM HUP
	if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
		kill -TERM "$driver" 2>/dev/null || true
		for ((i = 0; i < 900; i++)); do
			kill -0 "$driver" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$driver" 2>/dev/null || true
		wait "$driver" 2>/dev/null || true
	fi
	/usr/bin/python3 "$top/bench/benchlib.py" cleanup "$work" || true
	if [ "${SOAK_KEEP:-}" = 1 ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi
	echo "scripts/soak.sh: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

SOAK_RESULT=${SOAK_RESULT:-$work/summary.json} \
	/usr/bin/python3 "$top/bench/soak/soak.py" "$CTROVE" "$work" &
driver=$!
wait "$driver"
