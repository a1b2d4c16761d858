/*
 * schedule_tasks.c — see schedule_tasks.h. A scheduled backup is made the way
 * POST /backups makes one (instance checks, parent, container, sealed key,
 * quota, row NEW, then the create_backup task), named
 * "<schedule name>-<UTC time>". The backups it is waiting for live in a small
 * list of this thread; after a restart the schedule's next run applies
 * retention instead.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/schedule_tasks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/instance_checks.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/backup_schedules.h"
#include "db/backups.h"
#include "db/datastores.h"
#include "db/instances.h"
#include "db/quotas.h"
#include "guest/api.h"
#include "taskmanager/backup_tasks.h"
#include "taskmanager/periodic.h"
#include "taskmanager/retention.h"

/* Year 9999: a pattern that never fires again is never due. */
#define NEVER 253402300799LL

static long minute_seconds(void)
{
	long m = cfg_int(CFG_BACKUP_SCHEDULE_MINUTE_SECONDS);
	return m < 1 ? 60 : m;
}

long long schedule_next_run(const struct cron_spec *c, long long now)
{
	long m = minute_seconds();
	time_t v = cron_next(c, (time_t)(now / m * 60 + now % m * 60 / m));
	if (v < 0)
		return -1;
	return (long long)(v / 60) * m;
}

/* --- making one backup ---------------------------------------------------------- */

static int choose_container(const struct instance *in, char *out, size_t size, struct ct_error *err)
{
	int found = backup_strategy_container(in->tenant_id, in->id, out, size, err);
	if (found < 0)
		return -1;
	if (!found)
		snprintf(out, size, "%s", cfg_str(CFG_BACKUP_SWIFT_CONTAINER));
	return 0;
}

static int make_backup(const struct backup_schedule *s, const struct instance *in, long long now,
		       char backup_id[37], struct ct_error *err)
{
	struct backup_row parent;
	int has_parent = 0;
	if (s->incremental && (has_parent = backup_latest_completed(in->id, &parent, err)) < 0)
		return -1;
	char container[256];
	struct ds_version v;
	if (choose_container(in, container, sizeof container, err) ||
	    dsv_by_id(in->datastore_version_id, 404, &v, err))
		return -1;
	struct backup_row b;
	memset(&b, 0, sizeof b);
	ids_uuid(b.id);
	char when[CT_TIME_LEN];
	timefmt_zulu((time_t)now, when);
	snprintf(b.name, sizeof b.name, "%.200s-%s", s->name, when);
	b.has_description = true;
	snprintf(b.description, sizeof b.description, "Made by backup schedule %s.", s->id);
	snprintf(b.backup_type, sizeof b.backup_type, "%s", has_parent ? "incremental" : "full");
	snprintf(b.tenant_id, sizeof b.tenant_id, "%s", in->tenant_id);
	snprintf(b.instance_id, sizeof b.instance_id, "%s", in->id);
	snprintf(b.parent_id, sizeof b.parent_id, "%s", has_parent ? parent.id : "");
	snprintf(b.datastore_version_id, sizeof b.datastore_version_id, "%s", v.id);
	snprintf(b.datastore_name, sizeof b.datastore_name, "%s", v.datastore_name);
	struct quota_state q;
	if (guest_new_backup_key(b.encrypted_key, sizeof b.encrypted_key, err) ||
	    quota_get(in->tenant_id, &q, err) || backup_insert(&b, q.limit[QUOTA_BACKUPS], err))
		return -1;
	struct ct_error ignored;
	if (schedule_run_record(b.id, s->id, in->id, err)) {
		backup_mark_deleted(b.id, &ignored);
		return -1;
	}
	json_t *args = json_pack("{s:s,s:{s:s,s:s}}", "instance_id", in->id, "backup_info", "id",
				 b.id, "swift_container", container);
	int rc = args ? tasks_create_backup(args, err) : ct_fail(err, 500, "out of memory");
	json_decref(args);
	if (rc) {
		backup_mark_deleted(b.id, &ignored);
		return -1;
	}
	snprintf(backup_id, 37, "%s", b.id);
	log_info("backup schedule %s: backup %s (%s) of instance %s started", s->id, b.id,
		 b.backup_type, in->id);
	return 0;
}

/* --- the runner's state ------------------------------------------------------------ */

#define PENDING_MAX 256

struct pending {
	char instance_id[37];
	char backup_id[37];
};

/* Only the runner thread (or a test calling schedule_tasks_tick) uses these. */
static struct pending pending[PENDING_MAX];
static size_t n_pending;

static void apply_retention(const char *instance_id)
{
	struct ct_error err = {0};
	if (retention_run_instance(instance_id, &err))
		log_error("retention of instance %s failed: %s", instance_id, err.message);
}

/* Retention for each instance whose scheduled backup has ended. */
static void settle_pending(void)
{
	for (size_t i = 0; i < n_pending;) {
		struct backup_row b;
		struct ct_error err = {0};
		int rc = backup_load(pending[i].backup_id, NULL, &b, &err);
		if (!rc && backup_state_running(b.state)) {
			i++;
			continue;
		}
		if (rc && err.status != 404) {
			log_error("backup %s: %s", pending[i].backup_id, err.message);
			i++;
			continue;
		}
		log_set_context(NULL, pending[i].instance_id);
		apply_retention(pending[i].instance_id);
		log_clear_context();
		pending[i] = pending[--n_pending];
	}
}

static void run_schedule(const struct backup_schedule *s, long long now)
{
	struct ct_error err = {0};
	struct instance in;
	if (instance_load(s->instance_id, NULL, &in, &err)) {
		/* A deleted instance makes no backups; its retention still runs. */
		if (err.status == 404)
			apply_retention(s->instance_id);
		else
			log_error("backup schedule %s: %s", s->id, err.message);
		return;
	}
	apply_retention(in.id);
	err = (struct ct_error){0};
	if (instance_check_can_act(&in, &err)) {
		log_info("backup schedule %s skipped this run: %s", s->id, err.message);
		return;
	}
	char backup_id[37];
	if (make_backup(s, &in, now, backup_id, &err)) {
		if (err.status == 422 || err.status == 413)
			log_warning("backup schedule %s skipped this run: %s", s->id, err.message);
		else
			log_error("backup schedule %s: the backup failed: %s", s->id, err.message);
		return;
	}
	if (n_pending < PENDING_MAX) {
		snprintf(pending[n_pending].instance_id, 37, "%s", in.id);
		snprintf(pending[n_pending].backup_id, 37, "%s", backup_id);
		n_pending++;
	}
}

void schedule_tasks_tick(long long now)
{
	struct ct_error err = {0};
	settle_pending();
	struct backup_schedule *due = NULL;
	size_t n = 0;
	if (schedule_due(now, &due, &n, &err)) {
		log_error("cannot list due backup schedules: %s", err.message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct backup_schedule *s = &due[i];
		struct cron_spec spec;
		long long next = NEVER;
		if (cron_parse(s->pattern, &spec, &err))
			log_error("backup schedule %s: %s", s->id, err.message);
		else if ((next = schedule_next_run(&spec, now)) < 0)
			next = NEVER;
		int claimed = schedule_claim(s->id, s->next_run, next, now, &err);
		if (claimed < 0)
			log_error("backup schedule %s: cannot claim: %s", s->id, err.message);
		if (claimed != 1 || next == NEVER)
			continue;
		log_set_context(NULL, s->instance_id);
		run_schedule(s, now);
		log_clear_context();
	}
	free(due);
}

static void tick_now(void)
{
	schedule_tasks_tick((long long)time(NULL));
}

static long every_second(void)
{
	return 1000;
}

static struct periodic runner =
	PERIODIC("the backup schedule runner", tick_now, every_second, false);

void schedule_tasks_start(void)
{
	struct ct_error err = {0};
	(void)periodic_start(&runner, &err);
}

void schedule_tasks_stop(void)
{
	periodic_stop(&runner);
}
