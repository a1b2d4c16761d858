#!/bin/sh
# bench/backup: backup and restore beside the bare tools alone (the backup
# part of `make bench`; see bench/README.md and bench/backup/bench.py).
# usage: bench/backup/run.sh [path/to/ctrove] [dataset MiB]
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${2:-}" ] && BENCH_BACKUP_MB=$2 && export BENCH_BACKUP_MB
[ -n "${DATASTORES:-}" ] && BENCH_DATASTORES=$DATASTORES && export BENCH_DATASTORES
BENCH_PARTS=backup exec "$top/bench/run.sh" ${1:+"$1"}
