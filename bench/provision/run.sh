#!/bin/sh
# bench/provision: create->ACTIVE and delete times, guest agents' memory and
# the floors alone (the provision part of `make bench`; see bench/README.md).
# usage: bench/provision/run.sh [path/to/ctrove] [N]
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${2:-}" ] && BENCH_PROVISION_N=$2 && export BENCH_PROVISION_N
[ -n "${DATASTORES:-}" ] && BENCH_DATASTORES=$DATASTORES && export BENCH_DATASTORES
BENCH_PARTS=provision exec "$top/bench/run.sh" ${1:+"$1"}
