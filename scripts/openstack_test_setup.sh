#!/bin/bash
# The cloud tests' two changes to the OpenStack that the shared up.sh brings up
# (idempotent; scripts/check_openstack.sh runs it on every run):
#  - cinder-volume with tests/openstack/ctrove_fake_cinder.py's fake backend,
#    which can extend (the stock fake cannot: every extend is error_extending);
#  - Nova with allow_resize_to_same_host, as every one-compute-host cloud sets
#    it, so that a flavor resize has a host to go to.
#   scripts/openstack_test_setup.sh STATE_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
S=$(realpath "$1")
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# restart NAME [ENV=VALUE...] -- [EXTRA ARGS...]: the service from run/NAME.pid
# stopped (its process group) and started again with the same command line,
# in its own session and with the same pid file, so down.sh stops it as before.
restart() {
	local name=$1 pidfile=$S/run/$1.pid
	shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	local pid
	pid=$(cat "$pidfile")
	local -a argv
	mapfile -d '' argv <"/proc/$pid/cmdline"
	kill -TERM -- "-$pid" 2>/dev/null || true
	for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL -- "-$pid" 2>/dev/null || true
	env "${envs[@]}" setsid "${argv[@]}" "$@" </dev/null >>"$S/log/$name.out" 2>&1 &
	echo $! >"$pidfile"
}

# restart_and_wait NAME LINE [ENV=VALUE...] -- [EXTRA ARGS...]: restart NAME and
# wait (90 s at most) until its log shows LINE after the restart.
restart_and_wait() {
	local name=$1 line=$2 log=$S/log/$1.log
	shift 2
	local marker
	marker=$(wc -l <"$log")
	restart "$name" "$@"
	for i in $(seq 900); do
		tail -n +"$((marker + 1))" "$log" | grep -q "$line" && return 0
		[ "$i" = 900 ] && { echo "$name did not come back" >&2; exit 1; }
		sleep 0.1
	done
}

# ---- Cinder: the extendable fake backend
extend_conf=$S/etc/cinder/ctrove-extend.conf
if [ ! -f "$extend_conf" ]; then
	printf '[fake]\nvolume_driver = ctrove_fake_cinder.ExtendableFakeDriver\n' >"$extend_conf"
	restart_and_wait cinder-volume "Driver initialization completed successfully" \
		"PYTHONPATH=$top/tests/openstack" -- --config-file "$extend_conf"
fi

# ---- Nova: resize to the same (only) host
if ! grep -q '^allow_resize_to_same_host' "$S/etc/nova/nova.conf"; then
	for conf in "$S/etc/nova/nova.conf" "$S/etc/nova/nova-compute.conf"; do
		sed -i '0,/^\[DEFAULT\]/s//[DEFAULT]\nallow_resize_to_same_host = true/' "$conf"
	done
	# nova-api runs under uwsgi with --lazy-apps: a reload re-reads nova.conf.
	kill -HUP "$(cat "$S/run/nova-api.uwsgi.pid")"
	restart_and_wait nova-compute "Looking for unclaimed instances" --
	for i in $(seq 600); do
		code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8774/ || true)
		[[ $code =~ ^[1-4] ]] && break
		[ "$i" = 600 ] && { echo "nova-api did not come back" >&2; exit 1; }
		sleep 0.1
	done
fi
echo "openstack test setup: cinder extends, nova resizes to the same host"
