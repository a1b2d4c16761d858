/*
 * instance_pitr.h — point-in-time recovery in the API (docs/pitr.md, the
 * PITR contract): POST /instances' restorePoint {"instanceRef" | "backupRef",
 * "time"} checked and resolved to a base backup of the source, the
 * recoverable window shown in an instance's detail and at
 * GET /v1.0/{project}/instances/{id}/recoverable_window (deleted instances
 * too). Reads archive and backup rows (db/archives.h) and nothing else; may
 * not change anything or talk to guests.
 */
#ifndef CT_API_INSTANCE_PITR_H
#define CT_API_INSTANCE_PITR_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/json_writer.h"
#include "db/datastores.h"

/* "YYYY-MM-DDTHH:MM:SS" with an optional "Z" or "+00:00" (UTC, to the
 * second) into unix seconds; false when it is not such a time. Pure. */
bool instance_pitr_parse_time(const char *text, long long *out);

/* Whether a restorePoint asks for a point in time (it has "time"). */
bool instance_pitr_requested(const json_t *restore_point);

/* The source's window: from its oldest base backup's consistent time to how
 * far its archive reaches. 1 with *from and *to, 0 none yet, -1. */
int instance_pitr_window(const char *source_id, long long *from, long long *to,
			 struct ct_error *err);

/* What the taskmanager needs for a point-in-time restore. */
struct pitr_target {
	char backup_id[37]; /* the base backup (its chain is restored first) */
	char source_id[37];
	long long time;
};
/* Check restorePoint (project NULL = an admin: any project's source) against
 * the source's window and pick the base backup; the base passes the same
 * checks as a backupRef restore (instance_restore.h). 404 for a source that
 * is not the project's, 400 naming the window for a time outside it. */
int instance_pitr_check(const json_t *restore_point, const char *project,
			const struct ds_version *v, long volume_gb, struct pitr_target *out,
			struct ct_error *err);

/* "recoverable_window": {"from", "to"} (null when there is none yet) for an
 * instance that has an archive; nothing for one that has none. */
void instance_pitr_write_window(struct json_writer *w, const char *instance_id);

#endif
