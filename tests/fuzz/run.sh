#!/bin/sh
# run.sh BUILD_DIR SECONDS — run the API fuzzer for SECONDS on the committed
# seed corpus (tests/fuzz/corpus, read only). The corpus grown during the run
# and any crash artifacts go to a scratch directory under /tmp, never into the
# repository; it is removed after a clean run unless CTROVE_FUZZ_KEEP=1.
# Exits non-zero when libFuzzer finds a crash, leak, timeout or sanitizer report.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
target=$build/tests/fuzz/fuzz_api
if [ ! -x "$target" ]; then
	echo "$0: $target not built (CC=clang meson setup $build -Dfuzzing=true)" >&2
	exit 2
fi

scratch=$(mktemp -d /tmp/ctrove-fuzz-run-XXXXXX)
mkdir -p "$scratch/corpus" "$scratch/artifacts"
echo "fuzz_api: ${seconds}s, scratch corpus and artifacts in $scratch"

status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
	-rss_limit_mb=4096 -print_final_stats=1 \
	-artifact_prefix="$scratch/artifacts/" \
	"$scratch/corpus" "$here/corpus" >"$scratch/fuzz.log" 2>&1 || status=$?

grep -aE '^(Done [0-9]+ runs|stat::average_exec_per_sec|stat::new_units_added)' \
	"$scratch/fuzz.log" || true
if [ "$status" -ne 0 ] || [ -n "$(ls -A "$scratch/artifacts")" ]; then
	grep -av '^#[0-9]' "$scratch/fuzz.log" | tail -n 60 >&2
	echo "fuzz_api: FAILED (exit $status); log and artifacts in $scratch:" >&2
	ls -l "$scratch/artifacts" >&2
	exit 1
fi
echo "fuzz_api: no crash"
if [ "${CTROVE_FUZZ_KEEP:-0}" != 1 ]; then
	rm -rf "$scratch"
fi
