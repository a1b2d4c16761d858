/*
 * instance_resize.h — the rows a resize changes (instances.volume_size and
 * flavor_id, the task, the project's quota usage) and the "volume full" fault
 * a guest's volume report raises and clears. Each change that moves quota is
 * one transaction. May not decide what may be resized nor talk to guests.
 */
#ifndef CT_DB_INSTANCE_RESIZE_H
#define CT_DB_INSTANCE_RESIZE_H

#include <stdbool.h>

#include "common/error.h"
#include "db/quotas.h"

/* Count delta of r (volumes GB or ram MB) against the project and set the
 * task RESIZING, together; 413 "Quota exceeded ..." and no change when over. */
int instance_resize_begin(const char *id, const char *project, enum quota_resource r, long delta,
			  struct ct_error *err);
/* Give delta back (a resize that failed); the task is left alone. */
int instance_resize_refund(const char *project, enum quota_resource r, long delta,
			   struct ct_error *err);
int instance_set_volume_size(const char *id, long size_gb, struct ct_error *err);
int instance_set_flavor(const char *id, const char *flavor_id, struct ct_error *err);

/* A volume report: full raises the instance's volume-full fault (once, with
 * message), not full clears it. 1 when this changed the fault, 0 when not. */
int instance_note_volume_full(const char *id, bool full, const char *message, struct ct_error *err);

#endif
