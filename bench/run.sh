#!/bin/bash
# bench/run.sh: `make bench`. Installs what the run needs (Debian's Trove 18
# services, its guest agent, wrk), runs bench/main.py in a scratch directory
# and leaves nothing behind: on exit, failure or Ctrl-C the driver is stopped
# (SIGKILL after 90 s) and its cleanup ledger replayed. See bench/README.md.
#
# usage: bench/run.sh [path/to/ctrove]
# env:   BENCH_PARTS="api provision backup failover density openstack" (also: metrics) and the knobs of
#        bench/README.md
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
CTROVE=$(realpath "${1:-$top/build/src/ctrove}")
[ -x "$CTROVE" ] || { echo "no ctrove binary at $CTROVE (make build)" >&2; exit 1; }
PARTS=${BENCH_PARTS:-api provision backup failover density openstack}
started=$(date +%s)

# --- what the run needs ------------------------------------------------------
PKGS=""
case " $PARTS " in *" api "*)
	PKGS="$PKGS trove-api python3-trove trove-taskmanager trove-conductor wrk" ;;
esac
case " $PARTS " in *" provision "*)
	[ "${BENCH_PYGUEST:-1}" = 0 ] || PKGS="$PKGS trove-guestagent" ;;
esac
case " $PARTS " in *" backup "* | *" pitr "*)
	PKGS="$PKGS zstd mariadb-backup postgresql-15 xfsprogs" ;;
esac
case " $PARTS " in *" density "*)
	PKGS="$PKGS mariadb-server postgresql-15 xfsprogs" ;;
esac
case " $PARTS " in *" failover "*)
	PKGS="$PKGS zstd mariadb-backup mariadb-client postgresql-15 postgresql-client-15 xfsprogs" ;;
esac
missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing" >&2
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
	# Keep the package scripts from starting Trove's services (trove-api
	# would take port 8779); Debian's container images ship this already.
	made_policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
		$SUDO chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
	[ -n "$made_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi

# BENCH_BACKUP_VIA=guest drives the guest manager through guest_cli, a test
# binary: when the given build has none (make build is -Dtests=false),
# build-bench (release, with tests) provides it.
case " $PARTS " in *" backup "*)
	if [ "${BENCH_BACKUP_VIA:-api}" = guest ] && [ ! -x "$(dirname "$(dirname "$CTROVE")")/tests/guest/guest_cli" ]; then
		"$top/scripts/deps.sh" check
		[ -f "$top/build-bench/build.ninja" ] ||
			meson setup "$top/build-bench" --buildtype=release -Dtests=true >/dev/null
		ninja -C "$top/build-bench" tests/guest/guest_cli >/dev/null
	fi ;;
esac

# --- run, and leave nothing behind -------------------------------------------
work=$(mktemp -d /tmp/ctrove-bench-run.XXXXXX)
chmod 711 "$work"
driver=""
cleanup() {
	local rc=$? i
	# Cleanup runs to its end (every step is bounded): a second Ctrl-C or
	# TERM must not cut it short.
	trap - EXIT
	trap '' INT TERM HUP
	if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
		kill -TERM "$driver" 2>/dev/null || true
		for ((i = 0; i < 900; i++)); do
			kill -0 "$driver" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$driver" 2>/dev/null || true
		wait "$driver" 2>/dev/null || true
	fi
	# Whatever the driver could not undo (killed, hung): its ledger says what.
	/usr/bin/python3 "$top/bench/benchlib.py" cleanup "$work" || true
	if [ "${BENCH_KEEP:-}" = 1 ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi
	echo "bench/run.sh: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

BENCH_PARTS="$PARTS" /usr/bin/python3 "$top/bench/main.py" --ctrove "$CTROVE" --work "$work" \
	--results "$top/bench/results" &
driver=$!
wait "$driver"
