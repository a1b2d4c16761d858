#!/bin/sh
# `make check-image`: builds the MariaDB guest image (scripts/build_guest_image.sh,
# into build-image/) unless CTROVE_IMAGE names one already built, starts a private
# RabbitMQ node for the run and boots the image under qemu (TCG) in
# tests/image/test_boot.py. Not part of `make check` (minutes of TCG boot).
# Owns build-image/ and its broker's scratch directory; stops what it started.
#   scripts/check_image.sh [PYTEST ARGS...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" image-check
if [ -z "${CTROVE_IMAGE:-}" ]; then
	mkdir -p "$top/build-image"
	CTROVE_IMAGE=$top/build-image/ctrove-mariadb.qcow2
	"$top/scripts/build_guest_image.sh" mariadb "$CTROVE_IMAGE"
fi
export CTROVE_IMAGE

rmq_dir=$(mktemp -d /tmp/ctrove-check-image-rmq.XXXXXX)
port=$("$top/scripts/free_port.sh" 27700 5)
stop_broker() {
	"$top/scripts/rabbitmq.sh" stop "$rmq_dir" "$port" >/dev/null 2>&1 || true
	rm -rf "$rmq_dir"
}
trap stop_broker EXIT
trap 'exit 1' INT TERM HUP
"$top/scripts/rabbitmq.sh" start "$rmq_dir" "$port"
CTROVE_TEST_TRANSPORT_URL=$("$top/scripts/rabbitmq.sh" url "$rmq_dir" "$port")
export CTROVE_TEST_TRANSPORT_URL
/usr/bin/python3 -m pytest -q -s -p no:cacheprovider "$top/tests/image" "$@"
