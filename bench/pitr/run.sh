#!/bin/sh
# bench/pitr: point-in-time recovery — recovery point under a steady write load and
# restore to a time beside restoring the base alone (see bench/pitr/bench.py).
# usage: bench/pitr/run.sh [path/to/ctrove] [base MiB] [seconds of writes]
#   the issue's figures: bench/pitr/run.sh build-bench/src/ctrove 1024 600
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${2:-}" ] && BENCH_PITR_MB=$2 && export BENCH_PITR_MB
[ -n "${3:-}" ] && BENCH_PITR_WRITE_S=$3 && export BENCH_PITR_WRITE_S
[ -n "${DATASTORES:-}" ] && BENCH_DATASTORES=$DATASTORES && export BENCH_DATASTORES
BENCH_PARTS=pitr exec "$top/bench/run.sh" ${1:+"$1"}
