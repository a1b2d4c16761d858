/*
 * instance_restore.h — the checks of POST /instances with
 * restorePoint.backupRef (spec trove-api.md §8.1, trove-internals.md §4.2
 * step 4): the backup is the caller's, COMPLETED (409), fits the volume (403),
 * its object is in the store (404) and it is of the same datastore (400).
 * Reads the backup row and stats the store; may not change anything.
 */
#ifndef CT_API_INSTANCE_RESTORE_H
#define CT_API_INSTANCE_RESTORE_H

#include <jansson.h>

#include "common/error.h"
#include "db/datastores.h"

/* backup_id[37] gets the backup's id when the checks pass. */
int instance_restore_check(const json_t *restore_point, const char *project,
			   const struct ds_version *v, long volume_gb, char backup_id[37],
			   struct ct_error *err);

#endif
