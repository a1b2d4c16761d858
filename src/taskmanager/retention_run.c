/*
 * retention_run.c — retention_run_instance() (retention.h): reads the
 * instance's backups, the schedules' policies and what they made, asks
 * retention_plan() and deletes through the backup delete path and the store.
 * The archive objects are walked in name (= sequence) order and deleted while
 * their end_time is before the cutoff; the first one that is not, or whose
 * metadata cannot be read, stops the walk (never delete past doubt). May not
 * decide what to delete itself (that is retention.c's) or touch other rows.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/backup_schedules.h"
#include "db/backups.h"
#include "storage/store.h"
#include "taskmanager/backup_tasks.h"

#define RETENTION_MAX_BACKUPS 100000

struct names {
	char (*name)[STORE_NAME_MAX + 1];
	size_t n, cap;
};

static int collect_name(const struct store_entry *e, void *arg, struct ct_error *err)
{
	struct names *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *grown = realloc(l->name, cap * sizeof *l->name);
		if (!grown)
			return ct_fail(err, 500, "out of memory");
		l->name = grown;
		l->cap = cap;
	}
	snprintf(l->name[l->n++], sizeof *l->name, "%s", e->name);
	return 0;
}

static int archive_prefix(const char *instance_id, char *out, size_t size, struct ct_error *err)
{
	if ((size_t)snprintf(out, size, "%s/archive/%s/", cfg_str(CFG_BACKUP_SWIFT_CONTAINER),
			     instance_id) >= size)
		return ct_fail(err, 500, "the archive prefix is too long");
	return store_check_prefix(out, err);
}

/* Delete archive objects ending before cutoff, oldest first. */
static int trim_archive(struct backup_store *store, const struct names *l, long long cutoff,
			struct ct_error *err)
{
	size_t deleted = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct store_object_info info;
		if (store_stat(store, l->name[i], &info, err))
			return err->status == 404 ? 0 : -1;
		const char *kind = store_meta_get(&info.meta, "kind");
		const char *end = store_meta_get(&info.meta, "end_time");
		char *rest = NULL;
		long long end_time = end ? strtoll(end, &rest, 10) : -1;
		if (!kind || strcmp(kind, "archive") || !end || !*end || *rest ||
		    end_time >= cutoff)
			break;
		if (store_delete(store, l->name[i], err) && err->status != 404)
			return -1;
		deleted++;
	}
	if (deleted)
		log_info("retention: %zu archive object(s) ending before %lld deleted", deleted,
			 cutoff);
	return 0;
}

static enum retention_state state_of(const struct backup_row *b)
{
	if (!strcmp(b->state, "COMPLETED"))
		return RETENTION_COMPLETED;
	if (backup_state_running(b->state))
		return RETENTION_RUNNING;
	return RETENTION_FAILED;
}

static int load_plan_input(const char *instance_id, struct retention_backup **out, size_t *n,
			   struct retention_policy **policies, size_t *np, struct ct_error *err)
{
	struct backup_row *rows = NULL;
	struct schedule_run *runs = NULL;
	struct backup_schedule *schedules = NULL;
	size_t nrows = 0, nruns = 0, nsched = 0;
	const struct backup_filter f = {.instance_id = instance_id};
	if (backup_page(&f, 0, RETENTION_MAX_BACKUPS, &rows, &nrows, err) ||
	    schedule_runs_of(instance_id, &runs, &nruns, err) ||
	    schedule_list(instance_id, NULL, &schedules, &nsched, err)) {
		free(rows);
		free(runs);
		return -1;
	}
	*out = calloc(nrows ? nrows : 1, sizeof **out);
	*policies = calloc(nsched ? nsched : 1, sizeof **policies);
	if (!*out || !*policies) {
		free(*out);
		free(*policies);
		free(rows);
		free(runs);
		free(schedules);
		return ct_fail(err, 500, "out of memory");
	}
	for (size_t i = 0; i < nrows; i++) {
		struct retention_backup *b = &(*out)[i];
		snprintf(b->id, sizeof b->id, "%s", rows[i].id);
		snprintf(b->parent_id, sizeof b->parent_id, "%s", rows[i].parent_id);
		b->state = state_of(&rows[i]);
		time_t created = 0;
		timefmt_db_parse(rows[i].created, &created);
		b->created = created;
		/* struct backup_row does not carry backups.ctrove_consistent_time yet;
		 * the created time is earlier than it, so the archive kept from it is a
		 * superset of what the window needs (never less). */
		b->consistent_time = created;
		for (size_t k = 0; k < nruns; k++)
			if (!strcmp(runs[k].backup_id, b->id))
				snprintf(b->schedule_id, sizeof b->schedule_id, "%s",
					 runs[k].schedule_id);
	}
	for (size_t k = 0; k < nsched; k++) {
		struct retention_policy *p = &(*policies)[k];
		snprintf(p->schedule_id, sizeof p->schedule_id, "%s", schedules[k].id);
		p->max_count = schedules[k].max_count;
		p->max_age_days = schedules[k].max_age_days;
	}
	*n = nrows;
	*np = nsched;
	free(rows);
	free(runs);
	free(schedules);
	return 0;
}

int retention_run_instance(const char *instance_id, struct ct_error *err)
{
	char prefix[STORE_NAME_MAX + 1];
	if (archive_prefix(instance_id, prefix, sizeof prefix, err))
		return -1;
	struct retention_backup *b = NULL;
	struct retention_policy *p = NULL;
	size_t n = 0, np = 0;
	if (load_plan_input(instance_id, &b, &n, &p, &np, err))
		return -1;
	struct names archive = {0};
	struct backup_store *store = backup_store_new(err);
	int rc = -1;
	if (!store || store_list(store, prefix, collect_name, &archive, err))
		goto out;
	long long cutoff = retention_plan(b, n, p, np, (long long)time(NULL), archive.n > 0);
	/* Leaves first: an incremental always goes before the backup it builds on,
	 * so a stop halfway never leaves one without its parent. */
	bool all_deleted = true;
	size_t removed = 0;
	for (;;) {
		size_t pick = (size_t)-1;
		for (size_t i = 0; i < n && pick == (size_t)-1; i++) {
			bool leaf = b[i].remove;
			for (size_t j = 0; j < n && leaf; j++)
				leaf = !(b[j].remove && !strcmp(b[j].parent_id, b[i].id));
			if (leaf)
				pick = i;
		}
		if (pick == (size_t)-1)
			break;
		b[pick].remove = false;
		struct ct_error one = {0};
		if (backup_delete_now(b[pick].id, &one)) {
			log_error("retention: backup %s not deleted: %s", b[pick].id, one.message);
			all_deleted = false;
		} else {
			removed++;
		}
	}
	if (removed)
		log_info("retention: %zu expired backup(s) of instance %s deleted", removed,
			 instance_id);
	rc = 0;
	if (all_deleted && cutoff >= 0 && archive.n)
		rc = trim_archive(store, &archive, cutoff, err);
out:
	backup_store_free(store);
	free(archive.name);
	free(b);
	free(p);
	return rc;
}
