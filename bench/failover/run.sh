#!/bin/sh
# bench/failover: replica create->ACTIVE, replication lag under writes and
# automatic failover time (kill -9 -> first write on the new source), p50 over
# BENCH_FAILOVER_RUNS runs per datastore, beside Trove 18's manual-only path
# (the failover part of `make bench`; see bench/README.md and
# bench/failover/bench.py).
# usage: bench/failover/run.sh [path/to/ctrove]
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${DATASTORES:-}" ] && BENCH_DATASTORES=$DATASTORES && export BENCH_DATASTORES
BENCH_PARTS=failover exec "$top/bench/run.sh" ${1:+"$1"}
