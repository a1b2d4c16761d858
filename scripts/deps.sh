#!/bin/sh
# Install the Debian packages ctrove needs to build, run and test, if any is
# missing. Idempotent and quick when everything is there: apt-get runs only
# when dpkg reports a package absent. Usage: scripts/deps.sh [run|check|bench|image|image-check]
set -eu

RUN_PKGS="meson ninja-build gcc pkg-config libmicrohttpd-dev libgnutls28-dev libjansson-dev
libsqlite3-dev libinih-dev libssl-dev nettle-dev uuid-dev libcurl4-openssl-dev librabbitmq-dev
libmariadb-dev libpq-dev libzstd-dev mariadb-backup python3-openstackclient python3-troveclient sqlite3 curl
rabbitmq-server mariadb-server mariadb-client postgresql-15 postgresql-client-15
xfsprogs nftables procps mount libyaml-dev"
CHECK_PKGS="$RUN_PKGS libcmocka-dev python3-pytest clang libclang-rt-14-dev
python3-oslo.messaging python3-amqp python3-kombu python3-cryptography openssl
python3-prometheus-client
swift swift-proxy swift-account swift-container swift-object memcached python3-swiftclient
python3-keystonemiddleware"
BENCH_PKGS="$RUN_PKGS wrk zstd"
# The guest image (scripts/build_guest_image.sh) and its boot test (make check-image).
IMAGE_PKGS="debootstrap qemu-utils extlinux syslinux-common fdisk e2fsprogs util-linux mount"
IMAGE_CHECK_PKGS="$IMAGE_PKGS $RUN_PKGS qemu-system-x86 genisoimage python3-pytest python3-amqp"

case "${1:-run}" in
run) want=$RUN_PKGS ;;
check) want=$CHECK_PKGS ;;
bench) want=$BENCH_PKGS ;;
image) want=$IMAGE_PKGS ;;
image-check) want=$IMAGE_CHECK_PKGS ;;
*) echo "usage: $0 [run|check|bench|image|image-check]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
