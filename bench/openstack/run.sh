#!/bin/bash
# bench/openstack/run.sh [path/to/ctrove]: the cloud path's part alone
# (BENCH_PARTS=openstack through bench/run.sh); needs CTROVE_OS_STATE.
exec env BENCH_PARTS=openstack "$(dirname "$0")/../run.sh" "$@"
