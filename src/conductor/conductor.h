/*
 * conductor.h — what the conductor does with the casts guest agents send it
 * (spec trove-internals.md §3.2): heartbeats into service_statuses, backup
 * progress into backups, root-enabled history, and errors into
 * instance_faults. Each handler takes the message's `args` object, checks it
 * and has src/db/ write it (guest_reports.c, root_history.c, instances.c); the
 * RPC server (rpc/) owns decoding and dispatch. Guests never reach the DB any
 * other way.
 */
#ifndef CT_CONDUCTOR_CONDUCTOR_H
#define CT_CONDUCTOR_CONDUCTOR_H

#include <jansson.h>

#include "common/error.h"

int conductor_heartbeat(const json_t *args, struct ct_error *err);
int conductor_update_backup(const json_t *args, struct ct_error *err);
/* ctrove (PITR): the guest's archive progress {instance_id, archived_until,
 * last_seq, gap} into ctrove_archives; a gap is a fault on the instance. */
int conductor_update_archive(const json_t *args, struct ct_error *err);
int conductor_report_root(const json_t *args, struct ct_error *err);
int conductor_notify_end(const json_t *args, struct ct_error *err);
int conductor_notify_exc_info(const json_t *args, struct ct_error *err);

/* Trove's service status code for a heartbeat description ("healthy" -> 0x21);
 * -1 when unknown. */
int conductor_status_code(const char *description);

#endif
