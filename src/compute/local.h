/*
 * local.h — the `local` compute driver: an instance is a loopback address, a
 * volume, packet-filter rules and a detached ctrove-guestagent process (which
 * runs the database server) on this machine. Every step is idempotent, so a
 * build or delete interrupted at any point is finished or cleaned up by
 * running it again. Built on address.c, volume.c, netfilter.c and process.c;
 * owns the instance directory (<instances_dir>/<id>: guest.conf, pid and log
 * files) and the guest's run directory (<run_root>/<id>).
 *
 * Seen only through its table (driver.h): nothing outside src/compute/
 * includes this header (tests/compute may).
 */
#ifndef CT_COMPUTE_LOCAL_H
#define CT_COMPUTE_LOCAL_H

#include "compute/driver.h"

extern const struct compute_driver compute_local_driver;

#endif
