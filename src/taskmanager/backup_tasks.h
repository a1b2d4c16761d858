/*
 * backup_tasks.h — the taskmanager's side of backups (spec trove-internals.md
 * §3.1 create_backup/delete_backup, §4.9; the backup contract): sending a
 * backup to the guest with its object name, data key and store access;
 * removing a backup's object from the store; the restore information that
 * prepare carries; and failing backups whose guest went silent.
 * Owns these workflows; may not write guest JSON (guest/api.h does) or SQL.
 */
#ifndef CT_TASKMANAGER_BACKUP_TASKS_H
#define CT_TASKMANAGER_BACKUP_TASKS_H

#include <jansson.h>

#include "common/error.h"
#include "db/backups.h"
#include "guest/models.h"
#include "storage/store.h"

/* The create_backup cast {backup_info, instance_id} (borrowed, copied). */
int tasks_create_backup(const json_t *args, struct ct_error *err);
/* The delete_backup cast {backup_id}. */
int tasks_delete_backup(const char *backup_id, struct ct_error *err);
/* The same, in this thread (retention): the object (a missing one is fine),
 * then the row and the quota; a store failure leaves it DELETE_FAILED. */
int backup_delete_now(const char *backup_id, struct ct_error *err);

/* What prepare needs to restore backup_id: its chain with each data key
 * opened, and the store's access. Everything lives in *r and its buffers
 * until backup_restore_free(). */
struct backup_restore {
	struct guest_restore_info info;
	struct guest_backup_link *links;
	char (*keys)[128];
	struct backup_row *rows;
	struct store_access access;
};
int backup_restore_load(const char *backup_id, struct backup_restore *r, struct ct_error *err);
/* Wipes the keys and the token, frees the rest. */
void backup_restore_free(struct backup_restore *r);

/* Backups NEW or BUILDING for longer than backup_timeout become FAILED
 * (called by the taskmanager at start and now and then). */
void backup_tasks_expire(void);
/* The sweeper thread that runs backup_tasks_expire() (taskmanager start and
 * shutdown). */
void backup_tasks_start(void);
void backup_tasks_stop(void);

#endif
