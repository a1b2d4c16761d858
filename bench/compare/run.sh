#!/bin/bash
# bench/compare: ctrove's API beside Python Trove 18's (Debian's trove-api),
# same data, same wrk settings, one table. See bench/README.md.
#
# usage: bench/compare/run.sh [path/to/ctrove]
# env:   BENCH_DURATION=15 BENCH_WARMUP=5 BENCH_THREADS=2 BENCH_CONNECTIONS=16
#        BENCH_NS="0 100 1000" BENCH_TROVE_WORKERS=   (empty = Trove's default)
#        BENCH_GUEST=peer|none  (what answers ctrove's guest call; see bench.py Bus)
#        BENCH_KEEP=1           (keep the scratch directory: logs, bodies, wrk output)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CTROVE=$(realpath "${1:-$top/build/src/ctrove}")
[ -x "$CTROVE" ] || { echo "no ctrove binary at $CTROVE (make build)" >&2; exit 1; }

# --- what the run needs: Debian's Trove 18 API and wrk ----------------------
PKGS="trove-api python3-trove wrk"
missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing" >&2
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
	# Keep the package scripts from starting trove-api as a service (it
	# would take port 8779); Debian's container images ship this already.
	made_policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
		$SUDO chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
	[ -n "$made_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi

# --- run, and leave nothing behind -------------------------------------------
work=$(mktemp -d /tmp/ctrove-compare.XXXXXX)
driver=""
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM HUP
	if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
		kill -TERM "$driver" 2>/dev/null || true
		wait "$driver" 2>/dev/null || true
	fi
	# Anything the driver started and could not stop (each in its own session).
	if [ -f "$work/pids" ]; then
		while read -r pid; do
			kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null || true
		done <"$work/pids"
	fi
	# The private RabbitMQ node, if the driver started one and did not stop it.
	if [ -f "$work/bus" ]; then
		read -r bus_dir bus_port <"$work/bus"
		"$top/scripts/rabbitmq.sh" stop "$bus_dir" "$bus_port" >/dev/null 2>&1 || true
	fi
	if [ "${BENCH_KEEP:-}" = 1 ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

/usr/bin/python3 "$top/bench/compare/bench.py" --ctrove "$CTROVE" --work "$work" \
	--results "$top/bench/results" &
driver=$!
wait "$driver"
