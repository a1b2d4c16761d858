/*
 * instance_checks.h — Trove's validate_can_perform_action (spec trove-api.md
 * §5.5), shared by the actions and backup create: server ACTIVE, task NONE or
 * RESTART_REQUIRED, service usable, no backup running. Reads the backup rows
 * through db/backups.h; may not change anything.
 */
#ifndef CT_API_INSTANCE_CHECKS_H
#define CT_API_INSTANCE_CHECKS_H

#include "common/error.h"
#include "db/instances.h"

/* 0, or -1 with 422 "Instance X is not currently available for an action to
 * be performed (<kind> status was <X>)." */
int instance_check_can_act(const struct instance *in, struct ct_error *err);

#endif
