/*
 * archive_tasks.h — the taskmanager's side of point-in-time recovery
 * (docs/pitr.md, the PITR contract): giving every active instance its archive
 * (a ctrove_archives row with a sealed data key, then start_archiving to its
 * guest) after prepare, again at start for instances whose archive went quiet
 * and now and then for fresh Swift tokens; and the restore_point a
 * point-in-time restore's prepare carries.
 * Owns these workflows and the sweeper thread; may not write guest JSON
 * (guest/api.h does) or SQL (db/archives.h does).
 */
#ifndef CT_TASKMANAGER_ARCHIVE_TASKS_H
#define CT_TASKMANAGER_ARCHIVE_TASKS_H

#include <jansson.h>

#include "common/error.h"
#include "guest/models.h"

/* Make the instance's archive row if it has none and cast start_archiving
 * with its key and the store's current access. */
int archive_tasks_start_instance(const char *instance_id, struct ct_error *err);

/* create_instance's ctrove_restore_point {"instance_id": source, "time": unix
 * seconds} as prepare's backup_info.restore_point: the source's archive prefix
 * and its data key, opened. Everything lives in *p until
 * archive_restore_point_free(), which wipes the key. */
struct archive_restore_point {
	struct guest_restore_point point;
	char prefix[1025];
	char key[128];
};
int archive_restore_point_load(const json_t *restore_point, struct archive_restore_point *p,
			       struct ct_error *err);
void archive_restore_point_free(struct archive_restore_point *p);

/* The sweeper: at start, and every archive_stale_after / 2 seconds, casts
 * start_archiving to active instances without an archive or without recent
 * progress, and (Swift) to every one each archive_refresh_interval. */
void archive_tasks_start(void);
void archive_tasks_stop(void);

#endif
