#!/bin/sh
# bench/compare: ctrove's API beside Python Trove 18's alone (the api part of
# `make bench`; see bench/README.md). usage: bench/compare/run.sh [path/to/ctrove]
top=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_PARTS=api exec "$top/bench/run.sh" "$@"
