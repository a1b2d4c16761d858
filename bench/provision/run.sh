#!/bin/sh
# bench/provision: see bench.py. usage: bench/provision/run.sh [path/to/ctrove] [N]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$top/bench/provision/bench.py" --ctrove "${1:-$top/build/src/ctrove}" -n "${2:-10}" \
	--datastores "${DATASTORES:-mariadb,postgresql}"
