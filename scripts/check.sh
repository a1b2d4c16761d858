#!/bin/bash
# `make check` after the builds: every test, against one private RabbitMQ node and
# one private Swift started here for the whole run (they take seconds to start, so
# never per test; the tests read CTROVE_TEST_SWIFT_* from scripts/swift.sh env).
#   scripts/check.sh ASAN_BUILD_DIR FUZZ_BUILD_DIR FUZZ_SECONDS
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
asan=$(realpath "$1")
fuzz=$2
fuzz_seconds=$3

rmq_dir=$(mktemp -d /tmp/ctrove-check-rmq.XXXXXX)
port=$("$top/scripts/free_port.sh" 26700 5) # PORT+4: its TLS (AMQPS) listener
# A private Swift for the Swift store's tests and the e2e Swift fixture (about
# 8 s to start, so once per run like the broker).
swift_dir=$(mktemp -d /tmp/ctrove-check-swift.XXXXXX)
swift_port=$("$top/scripts/free_port.sh" 28080 5)
stop_broker() {
	"$top/scripts/rabbitmq.sh" stop "$rmq_dir" "$port" >/dev/null 2>&1 || true
	rm -rf "$rmq_dir"
	"$top/scripts/swift.sh" stop "$swift_dir" >/dev/null 2>&1 || true
	mountpoint -q "$swift_dir/srv/d1" || rm -rf "$swift_dir"
}
trap stop_broker EXIT
"$top/scripts/rabbitmq.sh" start "$rmq_dir" "$port" $((port + 4))
"$top/scripts/swift.sh" start "$swift_dir" "$swift_port"
eval "$("$top/scripts/swift.sh" env "$swift_dir")"

# The control plane's account (the node has no guest login); ctrove under test
# makes each guest's own account through the management API on port+3.
CTROVE_TEST_TRANSPORT_URL=$("$top/scripts/rabbitmq.sh" url "$rmq_dir" "$port")
export CTROVE_TEST_TRANSPORT_URL
export CTROVE_TEST_MANAGEMENT_URL="http://127.0.0.1:$((port + 3))/"
# The same node over TLS, its certificate from a test CA (rabbitmq.sh): amqps:// tests.
CTROVE_TEST_TLS_TRANSPORT_URL=$("$top/scripts/rabbitmq.sh" tls-url "$rmq_dir" "$port")
export CTROVE_TEST_TLS_TRANSPORT_URL CTROVE_TEST_BUS_CA="$rmq_dir/tls/ca.pem"
export RPC_TEST_DIR="$rmq_dir" RPC_TEST_PORT="$port"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

echo "== unit, component and interop tests (meson test)"
meson test -C "$asan" --print-errorlogs
echo "== end-to-end tests (pytest, real CLI)"
CTROVE_BIN="$asan/src/ctrove" /usr/bin/python3 -m pytest -q -p no:cacheprovider "$top/tests/e2e"
echo "== fuzzing for ${fuzz_seconds}s"
ninja -C "$fuzz"
"$top/tests/fuzz/run.sh" "$fuzz" "$fuzz_seconds"
