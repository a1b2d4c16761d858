#!/bin/sh
# bench/density: N instances on one machine alone (the density part of `make
# bench`; see bench/README.md). usage: bench/density/run.sh [path/to/ctrove] [N]
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${2:-}" ] && BENCH_DENSITY_N=$2 && export BENCH_DENSITY_N
BENCH_PARTS=density exec "$top/bench/run.sh" ${1:+"$1"}
