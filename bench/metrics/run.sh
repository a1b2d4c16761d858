#!/bin/bash
# bench/metrics: the /metrics scrape time with 1000 instances, alone (it is
# also a part of `make bench`: BENCH_PARTS=metrics). See bench.py.
# usage: bench/metrics/run.sh [path/to/ctrove]   (env: BENCH_METRICS_N, BENCH_SCRAPES)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ctrove=$(realpath "${1:-$top/build/src/ctrove}")
work=$(mktemp -d /tmp/ctrove-bench-metrics.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$top/bench/metrics/bench.py" "$ctrove" "$work"
