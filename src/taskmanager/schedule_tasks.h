/*
 * schedule_tasks.h — the taskmanager's backup schedule runner (issue 16): a
 * thread that wakes every second, claims due schedules (one conditional
 * UPDATE, so two taskmanagers never both run one), makes each a backup
 * through the backup path (row, quota, create_backup task) unless one of the
 * instance is running (skipped, never queued), and applies retention when a
 * backup it made ends. A missed run after downtime runs once: next_run is
 * always computed from now. May not talk to guests or the store itself.
 */
#ifndef CT_TASKMANAGER_SCHEDULE_TASKS_H
#define CT_TASKMANAGER_SCHEDULE_TASKS_H

#include "common/cron.h"

/* The first run of c strictly after now, in real Unix seconds, on the
 * schedules' clock ([DEFAULT] backup_schedule_minute_seconds); -1 = never. */
long long schedule_next_run(const struct cron_spec *c, long long now);

/* One pass of the runner at `now`. */
void schedule_tasks_tick(long long now);

void schedule_tasks_start(void);
void schedule_tasks_stop(void);

#endif
