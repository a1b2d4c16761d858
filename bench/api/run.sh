#!/bin/bash
# bench/api: requests per second and latency of ctrove's read API, measured
# with wrk on loopback. Starts its own ctrove (real defaults: embedded
# identity, token checked on every request, SQLite in WAL mode) in a
# temporary directory, registers two datastores, and measures each endpoint.
# No assertion on speed: the figures are printed for the issue notes.
#
# usage: bench/api/run.sh [path/to/ctrove]   (env: DURATION=10 THREADS=2 CONNECTIONS=16)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CTROVE=$(realpath "${1:-$top/build/src/ctrove}")
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}

command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh bench" >&2; exit 1; }
work=$(mktemp -d /tmp/ctrove-bench.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/trove.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
state_path = $work
log_file = $work/ctrove.log
# Trove's default is 200 requests per minute per project; a benchmark needs
# more (the peer's run raised it the same way).
http_get_rate = 1000000000
[database]
connection = sqlite:///$work/trove.sqlite
CONF
ct() { "$CTROVE" --config-file "$work/trove.conf" "$@" >/dev/null 2>>"$work/manage.log"; }
ct manage db_sync
echo benchpw | ct manage identity_bootstrap
for ds in mariadb:10.11 postgresql:15; do
	name=${ds%%:*} version=${ds#*:}
	ct manage datastore_update "$name" ""
	ct manage datastore_version_update "$name" "$version" "$name" "" "" 1 --image-tags "trove,$name"
	ct manage datastore_update "$name" "$version"
done

"$CTROVE" --config-file "$work/trove.conf" api 2>>"$work/ctrove.log" &
pid=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/" >/dev/null && break
	sleep 0.05
done

auth='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"benchpw"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}'
headers=$(curl -s -D - -o "$work/token.json" -H 'Content-Type: application/json' -d "$auth" \
	"http://127.0.0.1:$port/identity/v3/auth/tokens")
token=$(printf '%s' "$headers" | tr -d '\r' | sed -n 's/^X-Subject-Token: //p')
project=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"]["project"]["id"])' "$work/token.json")
base="http://127.0.0.1:$port/v1.0/$project"

printf '%-34s %12s %10s %10s %10s\n' endpoint req/s p50_ms p99_ms errors
for path in /datastores /flavors /datastores/mariadb/versions /instances; do
	curl -sf -H "X-Auth-Token: $token" "$base$path" >/dev/null || { echo "GET $path failed" >&2; exit 1; }
	wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "X-Auth-Token: $token" "$base$path" >/dev/null
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "X-Auth-Token: $token" "$base$path")
	rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
	errors=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $5} /Socket errors/ {s=1} END {if (!s) print 0}' | head -1)
	to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else printf "%.3f", v*1000 }'; }
	printf '%-34s %12s %10s %10s %10s\n' "GET $path" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "${errors:-0}"
done
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "ctrove api RSS after load: $((rss / 1024)) MiB ($rss kB); wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
