#!/bin/bash
# `make check` after the builds: every test, against one private RabbitMQ node
# started here for the whole run (it takes seconds to start, so never per test).
#   scripts/check.sh ASAN_BUILD_DIR FUZZ_BUILD_DIR FUZZ_SECONDS
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
asan=$(realpath "$1")
fuzz=$2
fuzz_seconds=$3

rmq_dir=$(mktemp -d /tmp/ctrove-check-rmq.XXXXXX)
port=$("$top/scripts/free_port.sh" 26700 5) # PORT+4: its TLS (AMQPS) listener
stop_broker() {
	"$top/scripts/rabbitmq.sh" stop "$rmq_dir" "$port" >/dev/null 2>&1 || true
	rm -rf "$rmq_dir"
}
trap stop_broker EXIT
"$top/scripts/rabbitmq.sh" start "$rmq_dir" "$port" $((port + 4))

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
