#!/bin/sh
# build_guest_image.sh — the guest image of the cloud path (ctrove's
# `trovestack build-image`): Debian 12 from debootstrap, a kernel that boots
# under any x86 hypervisor (extlinux, console on ttyS0, DHCP on the NICs), the
# datastore server (disabled: the agent starts it), ctrove-guestagent and its
# boot units (scripts/guest_image/). Writes one qcow2 file and nothing else;
# all work happens in a scratch directory that is removed, mounts and loop
# device included, even on failure. See docs/guest-image.md.
#
# Usage: scripts/build_guest_image.sh mariadb|postgresql OUTPUT.qcow2
#          [--agent PATH] [--size 2G] [--mirror URL] [--compress]
set -eu

usage() {
	echo "usage: $0 mariadb|postgresql OUTPUT.qcow2 [--agent PATH] [--size 2G] [--mirror URL] [--compress]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
datastore=$1
output=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
agent=""
size=2G
mirror=""
compress=""
while [ $# -gt 0 ]; do
	case "$1" in
	--agent) [ $# -ge 2 ] || usage; agent=$2; shift 2 ;;
	--size) [ $# -ge 2 ] || usage; size=$2; shift 2 ;;
	--mirror) [ $# -ge 2 ] || usage; mirror=$2; shift 2 ;;
	--compress) compress=-c; shift ;;
	*) usage ;;
	esac
done
case "$datastore" in
mariadb) ds_pkgs="mariadb-server mariadb-client mariadb-backup libmariadb3"; ds_units="mariadb.service mariadb.socket mariadb-extra.socket" ;;
postgresql) ds_pkgs="postgresql-15 postgresql-client-15 libpq5"; ds_units="postgresql.service postgresql@15-main.service" ;;
*) echo "error: datastore must be mariadb or postgresql, not '$datastore'" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "error: building an image needs root (debootstrap, loop devices)" >&2; exit 1; }
case "$output" in /*) ;; *) output=$PWD/$output ;; esac
[ -d "$(dirname "$output")" ] || { echo "error: no directory $(dirname "$output")" >&2; exit 1; }

start=$(date +%s)
"$here/deps.sh" image

# The agent from a release build unless one is given.
if [ -z "$agent" ]; then
	if [ ! -f "$top/build-rel/build.ninja" ]; then
		meson setup "$top/build-rel" --buildtype=release -Dtests=false >/dev/null
	fi
	ninja -C "$top/build-rel" src/ctrove-guestagent >/dev/null
	agent=$top/build-rel/src/ctrove-guestagent
fi
[ -x "$agent" ] || { echo "error: no agent binary at $agent" >&2; exit 1; }
if ldd "$agent" | grep -q 'libasan\|libubsan'; then
	echo "error: $agent is a sanitizer build; use a release build (meson setup build-rel --buildtype=release -Dtests=false)" >&2
	exit 1
fi

# Debian's mirror as this machine's apt knows it (the only one it may reach).
if [ -z "$mirror" ]; then
	mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v security | head -1)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

# The agent's shared libraries, as the Debian packages that hold them (this
# machine is Debian 12 too, so the names are the image's).
agent_pkgs=""
for lib in $(ldd "$agent" | awk '$3 ~ /^\// {print $3}'); do
	pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null) ||
		{ echo "error: no Debian package holds $lib (needed by $agent)" >&2; exit 1; }
	agent_pkgs="$agent_pkgs ${pkg%%:*}"
done

work=$(mktemp -d /tmp/ctrove-image-XXXXXX)
root=$work/root
mnt=$work/mnt
loop=""
cleanup() {
	for m in "$root/dev/pts" "$root/dev" "$root/proc" "$root/sys" "$mnt"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

step() { echo "[$(($(date +%s) - start)) s] $*"; }

step "debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
	{ tail -20 "$work/debootstrap.log" >&2; exit 1; }

# Nothing starts during the install, and no documentation is unpacked.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/dpkg/dpkg.cfg.d/01-ctrove-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" \
	>"$root/etc/apt/sources.list"
# PostgreSQL: the agent makes the instance's cluster on its volume.
mkdir -p "$root/etc/postgresql-common"
echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.conf"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

base_pkgs="linux-image-amd64 systemd-sysv udev kmod e2fsprogs xfsprogs curl ca-certificates iproute2 procps"
step "apt-get install ($datastore, kernel, agent libraries)"
# shellcheck disable=SC2086
chroot "$root" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends $base_pkgs $ds_pkgs $agent_pkgs" >"$work/apt.log" 2>&1 ||
	{ tail -30 "$work/apt.log" >&2; exit 1; }

step "agent and boot units"
install -m 0755 "$agent" "$root/usr/bin/ctrove-guestagent"
install -d -m 0755 "$root/usr/lib/ctrove"
install -m 0755 "$here/guest_image/guest-config" "$root/usr/lib/ctrove/guest-config"
install -m 0644 "$here/guest_image/ctrove-guest-config.service" \
	"$here/guest_image/ctrove-guestagent.service" "$root/etc/systemd/system/"
install -d -m 0711 "$root/etc/ctrove"
# DHCP on every Ethernet NIC (the first is the management network); boot goes
# on when any of them is up, not all.
cat >"$root/etc/systemd/network/80-ctrove-dhcp.network" <<'EOF'
[Match]
Type=ether

[Network]
DHCP=yes
EOF
install -d "$root/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$root/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=60
EOF
# shellcheck disable=SC2086
chroot "$root" systemctl enable systemd-networkd.service ctrove-guest-config.service \
	ctrove-guestagent.service >/dev/null 2>&1
# shellcheck disable=SC2086
chroot "$root" systemctl disable $ds_units >/dev/null 2>&1 || true
# shellcheck disable=SC2086
chroot "$root" systemctl mask $ds_units >/dev/null 2>&1
# Nothing else runs on its own: no package updates or file system scrubs
# under the database (the image is replaced, not upgraded in place).
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	e2scrub_reap.service >/dev/null 2>&1
echo ctrove-guest >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tctrove-guest\n' >"$root/etc/hosts"
# Each server gets its own machine id at first boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists/"* "$root/var/log/"*.log "$root/var/cache/debconf/"*-old
for m in "$root/dev/pts" "$root/dev" "$root/proc" "$root/sys"; do umount "$m"; done

kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -1)
initrd=initrd.img-${kernel#vmlinuz-}
[ -f "$root/boot/$initrd" ] || { echo "error: no $initrd in the image" >&2; exit 1; }

step "disk: $size raw, one ext4 partition, extlinux"
raw=$work/disk.raw
truncate -s "$size" "$raw"
echo 'start=2048, type=83, bootable' | sfdisk -q "$raw"
offset=$((2048 * 512))
loop=$(losetup --find --show --offset "$offset" "$raw")
uuid=$(cat /proc/sys/kernel/random/uuid)
# extlinux reads ext4 without the 64bit feature.
mkfs.ext4 -q -F -L ctrove-root -U "$uuid" -O ^64bit "$loop"
mkdir -p "$mnt"
mount "$loop" "$mnt"
cp -a "$root/." "$mnt/"
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >"$mnt/etc/fstab"
install -d "$mnt/boot/extlinux"
cat >"$mnt/boot/extlinux/extlinux.conf" <<EOF
DEFAULT ctrove
PROMPT 0
TIMEOUT 0
LABEL ctrove
  LINUX /boot/$kernel
  INITRD /boot/$initrd
  APPEND root=UUID=$uuid rw console=tty0 console=ttyS0,115200n8 net.ifnames=0
EOF
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
used=$(df -m --output=used "$mnt" | tail -1 | tr -d ' ')
umount "$mnt"
losetup -d "$loop"
loop=""
dd if=/usr/lib/EXTLINUX/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none

step "qcow2"
qemu-img convert $compress -O qcow2 "$raw" "$output.tmp"
mv "$output.tmp" "$output"
took=$(($(date +%s) - start))
bytes=$(stat -c %s "$output")
echo "image: $output"
echo "datastore: $datastore; kernel: ${kernel#vmlinuz-}; root fs used: ${used} MiB of $size"
echo "size: $((bytes / 1048576)) MiB (qcow2${compress:+, compressed}); build time: ${took} s"
