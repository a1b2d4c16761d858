#!/bin/bash
# `make check-openstack`: the cloud path's tests (tests/openstack) against a real
# OpenStack (Keystone, Glance, Placement, Nova with the fake virt driver,
# Neutron, Cinder) brought up from Debian's packages by the shared scripts
# (OPENSTACK_SCRIPTS, default /work/shared/openstack: up.sh installs what is
# missing and takes about a minute and 3.4 GiB), plus ctrove's own private
# RabbitMQ node like scripts/check.sh. With CTROVE_OS_STATE naming the state
# directory of an OpenStack already up, that one is used and left running.
#   scripts/check_openstack.sh ASAN_BUILD_DIR [pytest args...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
asan=$(realpath "$1")
shift
scripts=${OPENSTACK_SCRIPTS:-/work/shared/openstack}

rmq_dir=$(mktemp -d /tmp/ctrove-osck-rmq.XXXXXX)
port=$("$top/scripts/free_port.sh" 27700 5)
os_state=${CTROVE_OS_STATE:-}
own_openstack=0
cleanup() {
	"$top/scripts/rabbitmq.sh" stop "$rmq_dir" "$port" >/dev/null 2>&1 || true
	rm -rf "$rmq_dir"
	if [ "$own_openstack" = 1 ]; then
		(cd /tmp && bash "$scripts/down.sh" "$os_state" --purge >/dev/null 2>&1) || true
		rm -rf "$os_state"
	fi
}
trap cleanup EXIT

if [ -z "$os_state" ]; then
	[ -x "$scripts/up.sh" ] || [ -f "$scripts/up.sh" ] || {
		echo "check-openstack: no $scripts/up.sh (set OPENSTACK_SCRIPTS)" >&2
		exit 1
	}
	os_state=$(mktemp -d /tmp/ctrove-openstack.XXXXXX)
	own_openstack=1
	echo "== bringing up OpenStack in $os_state (about a minute)"
	# up.sh resets PATH to the system's python3 itself.
	(cd /tmp && bash "$scripts/up.sh" "$os_state") >"$os_state.up.log" 2>&1 || {
		tail -40 "$os_state.up.log" >&2
		exit 1
	}
fi
export CTROVE_OS_STATE=$os_state
# The two changes the tests need (Cinder's fake backend that can extend,
# Nova's resize to the same host); idempotent on an OpenStack reused.
"$top/scripts/openstack_test_setup.sh" "$os_state"

"$top/scripts/rabbitmq.sh" start "$rmq_dir" "$port" $((port + 4))
CTROVE_TEST_TRANSPORT_URL=$("$top/scripts/rabbitmq.sh" url "$rmq_dir" "$port")
export CTROVE_TEST_TRANSPORT_URL
export CTROVE_TEST_MANAGEMENT_URL="http://127.0.0.1:$((port + 3))/"
CTROVE_TEST_TLS_TRANSPORT_URL=$("$top/scripts/rabbitmq.sh" tls-url "$rmq_dir" "$port")
export CTROVE_TEST_TLS_TRANSPORT_URL CTROVE_TEST_BUS_CA="$rmq_dir/tls/ca.pem"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

echo "== OpenStack path tests (pytest, real Keystone/Nova/Cinder/Neutron/Glance, real CLI)"
cd "$top"
CTROVE_BIN="$asan/src/ctrove" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	"$top/tests/openstack" "$@"
