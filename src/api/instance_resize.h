/*
 * instance_resize.h — POST /instances/{id}/action {"resize": ...}: a volume
 * grown or a new flavor (spec trove-api.md §7.1, trove-internals.md §4.7,
 * §4.8). Checks the body, the sizes, the flavor and the quota, records the
 * task RESIZING and casts resize_volume / resize_flavor to the taskmanager.
 */
#ifndef CT_API_INSTANCE_RESIZE_H
#define CT_API_INSTANCE_RESIZE_H

#include "api/handlers.h"
#include "db/instances.h"

int instance_action_resize(struct api_request *req, struct instance *in, struct ct_error *err);
/* Trove's validate_can_perform_action (§5.5), in instance_update.c. */
int instance_can_act(const struct instance *in, struct ct_error *err);

#endif
