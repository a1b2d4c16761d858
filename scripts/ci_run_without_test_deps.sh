#!/bin/bash
# .ci/run's first step: proves that `make run` works on a machine that has only
# the run packages. Configures and builds the run build exactly as the Makefile
# does, but with the test-only packages out of sight (pkg-config without
# cmocka.pc, PATH without pytest, wrk, clang and cmake; a configure with the
# tests on must fail there, naming cmocka), then starts it twice with
# scripts/run.sh (first run, then a run on the state the first one left) on a
# state directory, openrc and ports of its own, lists datastores with the
# openstack CLI through the openrc it wrote (HTTPS, OS_CACERT), and stops it with
# SIGTERM.
# Owns its temporary directory and the processes it starts; never touches .run/,
# ./openrc or another build directory.
#   scripts/ci_run_without_test_deps.sh [BUILD_DIR]   (default build-ci-run)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${1:-build-ci-run}
work=$(mktemp -d /tmp/ctrove-ci-run.XXXXXX)
run_pid=
cleanup() {
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		kill -TERM "$run_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "ci-run: FAILED: $*" >&2
	exit 1
}

scripts/deps.sh run

# pkg-config sees every .pc file of the machine but cmocka's; PATH holds every
# program of the machine but the test-only ones (cmake too: meson would find
# cmocka through its cmake files). Linked in search order: an earlier
# directory's file wins, as it would on the real path.
pc="$work/pkgconfig" bin="$work/bin"
mkdir -p "$pc" "$bin"
IFS=: read -r -a pc_dirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${pc_dirs[@]}"; do
	[ -d "$d" ] && ln -s "$d"/*.pc "$pc"/ 2>/dev/null || true
done
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	[ -d "$d" ] && ln -s "$d"/* "$bin"/ 2>/dev/null || true
done
rm -f "$pc"/cmocka.pc "$bin"/pytest* "$bin"/py.test* "$bin"/wrk "$bin"/clang* "$bin"/cmake*
export PKG_CONFIG_LIBDIR="$pc" PATH="$bin"
unset PKG_CONFIG_PATH
# The filter must really hide them, or this step proves nothing.
if pkg-config --exists cmocka; then fail "cmocka is still visible to pkg-config"; fi
for p in pytest pytest-3 wrk clang cmake; do
	if command -v "$p" >/dev/null; then fail "$p is still on PATH"; fi
done
# ... and meson too: with the tests on, the same configure fails, naming cmocka.
if meson setup "$work/with-tests" -Dtests=true >"$work/with-tests.log" 2>&1; then
	fail "meson setup -Dtests=true found cmocka through the filter"
fi
grep -q 'Dependency "cmocka" not found' "$work/with-tests.log" ||
	{ cat "$work/with-tests.log" >&2; fail "-Dtests=true failed, but not on cmocka"; }

echo "== ci-run: configure and build $build without the test-only packages"
rm -rf "$build"
make --no-print-directory build BUILD="$build"
[ -x "$build/src/ctrove" ] || fail "no $build/src/ctrove"
[ ! -e "$build/tests/unit/test_auth" ] || fail "the run build built the unit tests"
# Fault-injection points (src/common/crash_point.h) exist only in test builds.
if grep -qa -e CTROVE_CRASH_AT -e create.volume_mounted "$build/src/ctrove"; then
	fail "the run build has crash points in it"
fi

export CTROVE_RUN_DIR="$work/state" CTROVE_OPENRC="$work/openrc"
export CTROVE_PORT=$(scripts/free_port.sh 29100 1) CTROVE_AMQP_PORT=$(scripts/free_port.sh 29300 4)

run_once() { # label
	local started=$SECONDS log="$work/run-$1.log"
	local cacert="$work/ctrove-ca.pem"
	scripts/run.sh "$build/src/ctrove" >"$log" 2>&1 &
	run_pid=$!
	local port=
	for _ in $(seq 1 240); do
		kill -0 "$run_pid" 2>/dev/null || { cat "$log" >&2; fail "$1: run.sh exited"; }
		if [ -f "$CTROVE_OPENRC" ] && grep -qs "credentials in $CTROVE_OPENRC" "$log"; then
			port=$(sed -n 's|^export OS_AUTH_URL=https://127.0.0.1:\([0-9]*\)/.*|\1|p' \
				"$CTROVE_OPENRC")
			[ -n "$port" ] && curl -sf -o /dev/null --cacert "$cacert" \
				"https://127.0.0.1:$port/" && break
		fi
		sleep 0.25
	done
	[ -n "$port" ] || { cat "$log" >&2; fail "$1: no openrc"; }
	local out
	out=$(
		# shellcheck disable=SC1090
		. "$CTROVE_OPENRC"
		openstack datastore list -f value -c Name
	) || { cat "$log" >&2; fail "$1: openstack datastore list"; }
	echo "$out" | grep -qx mariadb || fail "$1: no mariadb datastore in: $out"
	echo "$out" | grep -qx postgresql || fail "$1: no postgresql datastore in: $out"
	# HTTPS with the ctrove CA's certificate, named in the openrc; never plain HTTP.
	grep -qx "export OS_CACERT=$cacert" "$CTROVE_OPENRC" || fail "$1: openrc names no OS_CACERT"
	if curl -s -o /dev/null "http://127.0.0.1:$port/"; then fail "$1: the API answers plain HTTP"; fi
	# The bus: the control plane's own account (0600), no guest login anywhere.
	local amqp account="$CTROVE_RUN_DIR/rabbitmq/control-account"
	amqp=$(sed -n 's|^transport_url = rabbit://[^@]*@127.0.0.1:\([0-9]*\)/.*|\1|p' \
		"$CTROVE_RUN_DIR/trove.conf")
	grep -q "^transport_url = rabbit://$(cat "$account")@" "$CTROVE_RUN_DIR/trove.conf" ||
		fail "$1: trove.conf's transport_url is not the control-plane account"
	[ "$(stat -c %a "$account" "$CTROVE_RUN_DIR/trove.conf")" = "600
600" ] || fail "$1: the control-plane account or trove.conf is not 0600"
	[ "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest \
		"http://127.0.0.1:$((amqp + 3))/api/overview")" = 401 ] ||
		fail "$1: the management API does not refuse guest/guest"
	[ "$(curl -s -o /dev/null -w '%{http_code}' -u "$(cat "$account")" \
		"http://127.0.0.1:$((amqp + 3))/api/overview")" = 200 ] ||
		fail "$1: the management API does not answer the control-plane account"
	kill -TERM "$run_pid"
	local rc=0
	wait "$run_pid" || rc=$?
	run_pid=
	[ "$rc" = 0 ] || { cat "$log" >&2; fail "$1: run.sh exited with $rc after SIGTERM"; }
	! curl -s -o /dev/null --cacert "$cacert" "https://127.0.0.1:$port/" ||
		fail "$1: the API still answers"
	if scripts/rabbitmq.sh status "$CTROVE_RUN_DIR/rabbitmq" "$amqp" >/dev/null; then
		fail "$1: its RabbitMQ still runs"
	fi
	echo "ci-run: $1 run: datastores $(echo $out), stopped cleanly ($((SECONDS - started)) s)"
}

echo "== ci-run: make run's script, twice, on its own state and ports"
run_once first
run_once second
