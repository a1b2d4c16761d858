#!/bin/sh
# scripts/rabbitmq.sh — a private RabbitMQ node on loopback for `make run`, `make check`
# and tests/rpc. Owns only DIR: node state, logs, HOME (hence the Erlang cookie) and a
# private epmd on PORT+2; never touches the machine's shared rabbit@<host> node, port
# 5672 or the default epmd on 4369. Everything listens on 127.0.0.1 only.
#
#   scripts/rabbitmq.sh start|stop|status|restart|url|tls-url DIR [PORT [TLS_PORT]]
#
# PORT is the AMQP port (default 25679); the node is ctrove<PORT>@localhost, its
# distribution port PORT+1, its epmd PORT+2, its management HTTP API (the plugin
# rabbitmq_management, which ctrove uses to make each guest's account) PORT+3.
# start and stop are idempotent; start returns once `rabbitmqctl await_startup`
# succeeds.
#
# TLS: with TLS_PORT, start adds an AMQPS listener on 127.0.0.1:TLS_PORT serving
# DIR/tls/server.pem + server.key; when those are missing it makes them with the
# openssl CLI, signed by a test CA of its own (DIR/tls/ca.pem, 0600 key beside it),
# for the names 127.0.0.1 and localhost (as DNS names too: rabbitmq-c 0.11 matches
# only DNS names). A caller may put its own server.pem/server.key/ca.pem there
# first (make run: the ctrove CA's). A restart keeps the TLS port. `tls-url`
# prints the amqps:// transport_url; trust DIR/tls/ca.pem ([oslo_messaging_rabbit]
# ssl_ca_file).
#
# Accounts: no `guest` login at all (deleted on the first start: every guest agent
# runs on this machine, so "loopback only" would not keep them out). The first start
# creates the control plane's account `ctrove` (administrator, everything on vhost
# /) with a random password and writes DIR/control-account (0600, one line
# `ctrove:<password>`); `url` prints the transport_url made from it.
set -eu

usage() {
	echo "usage: $0 start|stop|status|restart|url|tls-url DIR [PORT [TLS_PORT]]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
port=${3:-25679}
case $port in *[!0-9]* | '') usage ;; esac

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# A node started with a TLS port keeps it across stop/start (DIR/tls-port).
tls_port=${4:-$(cat "$dir/tls-port" 2>/dev/null || true)}
case $tls_port in *[!0-9]*) usage ;; esac
dist=$((port + 1))
epmd_port=$((port + 2))
mgmt_port=$((port + 3))
node="ctrove${port}@localhost"
bin=/usr/lib/rabbitmq/bin

if [ ! -x "$bin/rabbitmq-server" ]; then
	echo "rabbitmq-server is not installed; installing it (apt-get)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		rabbitmq-server >/dev/null
fi

export HOME="$dir/home"
export RABBITMQ_NODENAME="$node"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$port"
export RABBITMQ_DIST_PORT="$dist"
export RABBITMQ_MNESIA_BASE="$dir/mnesia"
export RABBITMQ_LOG_BASE="$dir/log"
export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export ERL_EPMD_PORT="$epmd_port"
export ERL_EPMD_ADDRESS=127.0.0.1

ctl() {
	"$bin/rabbitmqctl" -q -n "$node" "$@"
}

running() {
	ctl status >/dev/null 2>&1
}

start() {
	if running; then
		echo "rabbitmq $node already running on 127.0.0.1:$port"
		return 0
	fi
	mkdir -p "$HOME" "$dir/mnesia" "$dir/log"
	echo '[rabbitmq_management].' >"$dir/enabled_plugins"
	cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt_port
log.file.level = info
CONF
	if [ -n "$tls_port" ]; then
		tls_files
		cat >>"$dir/rabbitmq.conf" <<CONF
listeners.ssl.1 = 127.0.0.1:$tls_port
ssl_options.cacertfile = $dir/tls/ca.pem
ssl_options.certfile = $dir/tls/server.pem
ssl_options.keyfile = $dir/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
CONF
		echo "$tls_port" >"$dir/tls-port"
	fi
	"$bin/rabbitmq-server" -detached >"$dir/log/start.out" 2>&1
	i=0
	while ! ctl await_startup >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 120 ]; then
			echo "rabbitmq $node did not start; see $dir/log" >&2
			return 1
		fi
		sleep 0.5
	done
	control_account
	echo "rabbitmq $node running on 127.0.0.1:$port (management on 127.0.0.1:$mgmt_port)"
}

# The broker's certificate: the caller's (DIR/tls/server.pem), else one from a
# test CA made here with the openssl CLI, valid for 825 days.
tls_files() {
	mkdir -p "$dir/tls"
	chmod 700 "$dir/tls"
	[ -s "$dir/tls/server.pem" ] && [ -s "$dir/tls/server.key" ] && [ -s "$dir/tls/ca.pem" ] &&
		return 0
	command -v openssl >/dev/null 2>&1 ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl >/dev/null
	(
		cd "$dir/tls"
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
			-subj "/CN=ctrove test broker CA $port" -keyout ca.key -out ca.pem 2>/dev/null
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 825 -extfile server.ext -out server.pem 2>/dev/null
		rm -f server.csr server.ext ca.srl
		chmod 644 ca.pem server.pem
	)
}

# Once per node state: the control plane's account, then no guest login. The
# management API (loopback, a few ms a call) instead of rabbitmqctl (0.3 s each);
# the password goes to curl on stdin, never in an argv.
control_account() {
	[ -s "$dir/control-account" ] && return 0
	password=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
	api() { # METHOD PATH [JSON on stdin]
		curl -sS -f -o /dev/null -u guest:guest -X "$1" -H 'content-type: application/json' \
			--data-binary @- "http://127.0.0.1:$mgmt_port/api/$2"
	}
	i=0
	until curl -s -f -o /dev/null -u guest:guest "http://127.0.0.1:$mgmt_port/api/overview"; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "rabbitmq $node: the management API did not answer" >&2
			return 1
		fi
		sleep 0.2
	done
	printf '{"password":"%s","tags":"administrator"}' "$password" | api PUT users/ctrove
	echo '{"configure":".*","write":".*","read":".*"}' | api PUT permissions/%2F/ctrove
	api DELETE users/guest </dev/null
	(
		umask 077
		printf 'ctrove:%s\n' "$password" >"$dir/control-account.tmp"
	)
	mv "$dir/control-account.tmp" "$dir/control-account"
}

stop() {
	if running; then
		# With the pid file, rabbitmqctl waits until the VM has exited.
		ctl stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || true
	fi
	# Our epmd is private (ERL_EPMD_PORT); stop it once no node is registered with it.
	if command -v epmd >/dev/null 2>&1; then
		i=0
		while [ $i -lt 20 ] &&
			epmd -port "$epmd_port" -names 2>/dev/null | grep -q '^name '; do
			i=$((i + 1))
			sleep 0.25
		done
		if ! epmd -port "$epmd_port" -names 2>/dev/null | grep -q '^name '; then
			epmd -port "$epmd_port" -kill >/dev/null 2>&1 || true
		fi
	fi
	echo "rabbitmq $node stopped"
}

case $cmd in
start) start ;;
stop) stop ;;
restart)
	stop
	start
	;;
url) echo "rabbit://$(cat "$dir/control-account")@127.0.0.1:$port/" ;;
tls-url)
	[ -s "$dir/tls-port" ] || {
		echo "rabbitmq $node has no TLS listener (start it with a TLS_PORT)" >&2
		exit 1
	}
	echo "amqps://$(cat "$dir/control-account")@127.0.0.1:$(cat "$dir/tls-port")/"
	;;
status)
	if running; then
		echo "rabbitmq $node running on 127.0.0.1:$port"
	else
		echo "rabbitmq $node not running"
		exit 1
	fi
	;;
*) usage ;;
esac
