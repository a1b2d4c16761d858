#!/bin/sh
# scripts/swift.sh — a private single-node OpenStack Swift (Debian's 2.30) on loopback
# for `make check` and tests/storage: rings, configs, device directory, logs and pid
# files all under DIR. Owns only DIR and the five ports PORT..PORT+4; never reads or
# writes /etc/swift (every conf sets swift_dir = DIR) and never touches another
# memcached.
#
#   scripts/swift.sh start|stop|status|env DIR [PORT]
#
# PORT (default 28080) is the proxy; the object, container and account servers take
# PORT+1..PORT+3 and memcached (tempauth keeps its tokens there) PORT+4. One replica on
# one device, a directory on a private tmpfs (mount_check = false; see start for why);
# every server runs as root with
# workers = 0 (one process each, about 120 MB less apiece than the default fork).
# start is idempotent and returns once every server's /healthcheck answers. The
# tempauth account is AUTH_ctrove, user ctrove:backup, with a random key written to
# DIR/auth-key (0600) on the first start; `env` prints the CTROVE_TEST_SWIFT_*
# variables the tests read.
#
# Keystone mode: with SWIFT_KEYSTONE_AUTH_URL (e.g. http://127.0.0.1:5000) set at
# start, the proxy authenticates through Keystone instead of tempauth —
# keystonemiddleware's authtoken (validating tokens as SWIFT_KEYSTONE_USER /
# SWIFT_KEYSTONE_PASSWORD in SWIFT_KEYSTONE_PROJECT, Default domain; that user needs
# Keystone's `service` role) then Swift's keystoneauth (operator roles admin and
# member; accounts AUTH_<project id>). The mode is kept in DIR/keystone.env (0600)
# for restarts. Registering Swift's endpoint in the catalog is the caller's
# (tests/openstack/test_swift_keystone.py does it under a region of its own).
set -eu

usage() {
	echo "usage: $0 start|stop|status|env DIR [PORT]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ $# -ge 3 ]; then
	port=$3
elif [ -s "$dir/port" ]; then
	port=$(cat "$dir/port")
else
	port=28080
fi
case $port in *[!0-9]* | '') usage ;; esac
object_port=$((port + 1))
container_port=$((port + 2))
account_port=$((port + 3))
memcached_port=$((port + 4))
servers="object container account proxy"

port_of() {
	case $1 in
	object) echo $object_port ;;
	container) echo $container_port ;;
	account) echo $account_port ;;
	proxy) echo "$port" ;;
	esac
}

healthy() {
	curl -s -f -o /dev/null --max-time 2 "http://127.0.0.1:$(port_of "$1")/healthcheck"
}

running() {
	for s in $servers; do
		healthy "$s" || return 1
	done
}

write_rings() {
	[ -s "$dir/object.ring.gz" ] && return 0
	for ring in object container account; do
		swift-ring-builder "$dir/$ring.builder" create 8 1 1 >/dev/null
		swift-ring-builder "$dir/$ring.builder" add --region 1 --zone 1 --ip 127.0.0.1 \
			--port "$(port_of $ring)" --device d1 --weight 100 >/dev/null
		swift-ring-builder "$dir/$ring.builder" rebalance >/dev/null 2>&1 || true
		[ -s "$dir/$ring.ring.gz" ] || {
			echo "swift: could not build the $ring ring" >&2
			return 1
		}
	done
}

write_configs() {
	if [ ! -s "$dir/auth-key" ]; then
		(
			umask 077
			# "k" first: a key starting with '-' reads as an option to the swift CLI.
			printf 'k%s' "$(head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" \
				>"$dir/auth-key.tmp"
		)
		mv "$dir/auth-key.tmp" "$dir/auth-key"
	fi
	key=$(cat "$dir/auth-key")
	if [ -n "${SWIFT_KEYSTONE_AUTH_URL:-}" ]; then
		(
			umask 077
			printf 'SWIFT_KEYSTONE_AUTH_URL=%s\nSWIFT_KEYSTONE_USER=%s\nSWIFT_KEYSTONE_PASSWORD=%s\nSWIFT_KEYSTONE_PROJECT=%s\n' \
				"$SWIFT_KEYSTONE_AUTH_URL" "$SWIFT_KEYSTONE_USER" \
				"$SWIFT_KEYSTONE_PASSWORD" "$SWIFT_KEYSTONE_PROJECT" >"$dir/keystone.env"
		)
	fi
	if [ -s "$dir/keystone.env" ]; then
		. "$dir/keystone.env"
		auth_filters="authtoken keystoneauth"
	else
		auth_filters=tempauth
	fi
	mkdir -p "$dir/srv/d1" "$dir/log" "$dir/run"
	hash=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
	[ -s "$dir/swift.conf" ] || cat >"$dir/swift.conf" <<CONF
[swift-hash]
swift_hash_path_prefix = ctrove$hash
swift_hash_path_suffix = test$hash

[storage-policy:0]
name = Policy-0
default = yes
CONF
	for s in object container account; do
		cat >"$dir/$s-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $(port_of $s)
workers = 0
user = root
swift_dir = $dir
devices = $dir/srv
mount_check = false
log_name = swift-$s
log_level = INFO

[pipeline:main]
pipeline = healthcheck $s-server

[app:$s-server]
use = egg:swift#$s

[filter:healthcheck]
use = egg:swift#healthcheck

[$s-replicator]
[$s-auditor]
[$s-updater]
CONF
	done
	(umask 077 && : >"$dir/proxy-server.conf")
	cat >"$dir/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = 0
user = root
swift_dir = $dir
log_name = swift-proxy
log_level = INFO

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk $auth_filters copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_ctrove_backup = $key .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcached_port

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = ${SWIFT_KEYSTONE_AUTH_URL:-}
auth_url = ${SWIFT_KEYSTONE_AUTH_URL:-}
auth_type = password
username = ${SWIFT_KEYSTONE_USER:-}
password = ${SWIFT_KEYSTONE_PASSWORD:-}
project_name = ${SWIFT_KEYSTONE_PROJECT:-}
user_domain_name = Default
project_domain_name = Default
delay_auth_decision = true
memcached_servers = 127.0.0.1:$memcached_port
http_connect_timeout = 10
http_request_max_retries = 2

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_prefix = AUTH_

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
}

start() {
	if running; then
		echo "swift already running on 127.0.0.1:$port"
		return 0
	fi
	stop >/dev/null 2>&1 || true
	echo "$port" >"$dir/port"
	write_rings
	write_configs
	# The device on a private tmpfs: Swift keeps metadata in xattrs, and ext4's one
	# block per inode cannot hold a manifest with Swift's 4096 bytes of metadata
	# (the object server answers 507 and the proxy then shuns the only node).
	# XFS or tmpfs can; tmpfs needs no image and only uses what is stored.
	if ! mountpoint -q "$dir/srv/d1"; then
		mount -t tmpfs -o size=4g,mode=0700 ctrove-swift "$dir/srv/d1" 2>/dev/null ||
			echo "swift: $dir/srv/d1 is not a tmpfs (not root?): metadata near 4096 bytes will fail" >&2
	fi
	memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -u root -m 16 \
		>"$dir/log/memcached.log" 2>&1 &
	echo $! >"$dir/run/memcached.pid"
	for s in $servers; do
		"swift-$s-server" "$dir/$s-server.conf" --verbose >"$dir/log/$s.log" 2>&1 &
		echo $! >"$dir/run/$s.pid"
	done
	i=0
	until running; do
		i=$((i + 1))
		if [ $i -ge 120 ]; then
			echo "swift did not start on 127.0.0.1:$port; see $dir/log" >&2
			return 1
		fi
		for s in $servers; do
			if ! kill -0 "$(cat "$dir/run/$s.pid")" 2>/dev/null; then
				echo "swift-$s-server exited; see $dir/log/$s.log" >&2
				return 1
			fi
		done
		sleep 0.25
	done
	echo "swift running on 127.0.0.1:$port (auth http://127.0.0.1:$port/auth/v1.0)"
}

stop() {
	for s in proxy account container object memcached; do
		f="$dir/run/$s.pid"
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		if kill "$pid" 2>/dev/null; then
			i=0
			while kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do
				i=$((i + 1))
				sleep 0.1
			done
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
	if mountpoint -q "$dir/srv/d1"; then
		umount "$dir/srv/d1" || umount -l "$dir/srv/d1"
	fi
	echo "swift on 127.0.0.1:$port stopped"
}

case $cmd in
start) start ;;
stop) stop ;;
status)
	if running; then
		echo "swift running on 127.0.0.1:$port"
	else
		echo "swift not running"
		exit 1
	fi
	;;
env)
	echo "export CTROVE_TEST_SWIFT_AUTH_URL=http://127.0.0.1:$port/auth/v1.0"
	echo "export CTROVE_TEST_SWIFT_USER=ctrove:backup"
	echo "export CTROVE_TEST_SWIFT_KEY=$(cat "$dir/auth-key")"
	;;
*) usage ;;
esac
