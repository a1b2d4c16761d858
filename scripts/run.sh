#!/bin/bash
# `make run`: ctrove on one machine with its embedded defaults, in the
# foreground until interrupted. All state lives in .run/ (ignored by git); a
# second run picks it up again. The first run creates the database, an admin
# user with a random password, the MariaDB 10.11 and PostgreSQL 15 datastores
# with their configuration-parameter rules, and writes ./openrc and, beside it,
# ./ctrove-ca.pem (the CA of the instances' certificates).
#
# The environment may move it (.ci/run starts a second one this way):
# CTROVE_RUN_DIR (state, default .run), CTROVE_OPENRC (default ./openrc),
# CTROVE_PORT and CTROVE_AMQP_PORT (first ports tried on the first run),
# CTROVE_RUN_EXTRA_CONF (a file appended to trove.conf when the first run
# writes it: a second machine-wide run needs its own [local] run_root,
# nft_table, address_range and instance_uid_range).
set -eu
CTROVE=$(realpath "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
state=${CTROVE_RUN_DIR:-$top/.run}
openrc=${CTROVE_OPENRC:-$top/openrc}
mkdir -p "$state"
state=$(cd "$state" && pwd)
conf="$state/trove.conf"
# Searchable, not listable: the database servers (running as their own
# unprivileged users) reach their data below it; files keep their own modes.
chmod 711 "$state"

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [ ! -f "$conf" ]; then
	port=${CTROVE_PORT:-8779}
	while ! port_free "$port"; do port=$((port + 1)); done
	# A private RabbitMQ node: AMQP port, +1 distribution, +2 epmd, +3 management API.
	amqp=${CTROVE_AMQP_PORT:-25672}
	while ! port_free "$amqp" || ! port_free $((amqp + 1)) || ! port_free $((amqp + 2)) ||
		! port_free $((amqp + 3)); do
		amqp=$((amqp + 10))
	done
	# 0600: it names the message bus's credentials and, once set, RPC keys.
	(umask 077 && cat >"$conf") <<CONF
# Written by the first 'make run'; edit freely, later runs keep it.
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
state_path = $state
default_datastore = mariadb
transport_url = rabbit://127.0.0.1:$amqp/

[database]
connection = sqlite:///$state/trove.sqlite
CONF
	if [ -n "${CTROVE_RUN_EXTRA_CONF:-}" ]; then
		cat "$CTROVE_RUN_EXTRA_CONF" >>"$conf"
	fi
fi
chmod 600 "$conf"
port=$(sed -n 's/^bind_port = //p' "$conf")
amqp=$(sed -n 's|^transport_url = rabbit://\([^@]*@\)\{0,1\}127.0.0.1:\([0-9]*\)/.*|\2|p' "$conf")

# The message bus runs while ctrove does; the instances' guest agents reconnect
# to it on the next run.
"$top/scripts/rabbitmq.sh" start "$state/rabbitmq" "$amqp"
trap '"$top/scripts/rabbitmq.sh" stop "$state/rabbitmq" "$amqp" >/dev/null' EXIT
# The control plane logs in with the node's own account (made on its first
# start, kept 0600 in its directory); each guest gets one of its own from ctrove
# through the management API on amqp+3. No guest/guest anywhere.
bus_url=$("$top/scripts/rabbitmq.sh" url "$state/rabbitmq" "$amqp")
sed -i "s|^transport_url = .*|transport_url = $bus_url|" "$conf"
grep -q '^\[broker_accounts\]' "$conf" ||
	printf '\n[broker_accounts]\nmanagement_url = http://127.0.0.1:%s/\n' $((amqp + 3)) >>"$conf"

ctrove() { "$CTROVE" --config-file "$conf" "$@"; }

ctrove manage db_sync >/dev/null
# HTTPS: the API's certificate comes from the ctrove CA (made on the first run in
# $state/ca), issued anew on every run for 127.0.0.1 and localhost; the CA
# goes beside the openrc, which names it in OS_CACERT.
ctrove manage issue_certificate --san 127.0.0.1 --san localhost --out "$state/api-tls" >/dev/null
grep -q '^cert_file = ' "$conf" ||
	printf '\n[ssl]\ncert_file = %s/api-tls/cert.pem\nkey_file = %s/api-tls/key.pem\n' \
		"$state" "$state" >>"$conf"
cacert="$(dirname "$openrc")/ctrove-ca.pem"
cp "$state/api-tls/ca.pem" "$cacert.tmp" && chmod 644 "$cacert.tmp" && mv "$cacert.tmp" "$cacert"
if [ ! -f "$state/admin-password" ]; then
	(umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$state/admin-password")
fi
# The password goes in a file, never on a command line (ps shows those).
ctrove manage identity_bootstrap --password-file "$state/admin-password" >/dev/null
password=$(cat "$state/admin-password")

if [ ! -f "$state/datastores-registered" ]; then
	register() { # name version rules-file
		ctrove manage datastore_update "$1" ""
		ctrove manage datastore_version_update "$1" "$2" "$1" "" "" 1 --image-tags "trove,$1"
		ctrove manage datastore_update "$1" "$2"
		ctrove manage db_load_datastore_config_parameters "$1" "$2" "$3"
	}
	register mariadb 10.11 "$top/etc/validation-rules/mariadb-10.11.json"
	register postgresql 15 "$top/etc/validation-rules/postgresql-15.json"
	touch "$state/datastores-registered"
fi

umask 077
cat >"$openrc" <<RC
# Written by 'make run': source it, then use the openstack CLI against ctrove.
export OS_AUTH_URL=https://127.0.0.1:$port/identity/v3
export OS_CACERT=$cacert
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$password
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
RC

echo "ctrove: API on https://127.0.0.1:$port (CA: $cacert), state in $state"
echo "ctrove: credentials in $openrc; in another shell:"
echo "    . $openrc && openstack datastore list"
echo "ctrove: the CA of the API's and every instance's certificate is $cacert:"
cat "$cacert"
"$CTROVE" --config-file "$conf" all &
ctrove_pid=$!
trap 'kill -TERM $ctrove_pid 2>/dev/null' INT TERM
wait $ctrove_pid || true
wait $ctrove_pid 2>/dev/null || true
