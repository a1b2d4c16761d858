/*
 * archive_tasks.c — see archive_tasks.h. The archive's data key is made once
 * per instance, sealed like a backup's, and opened only to go into a sealed
 * guest message; it is wiped after.
 */
#define LOG_MODULE "taskmanager"
#include "taskmanager/archive_tasks.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "db/archives.h"
#include "db/instances.h"
#include "guest/api.h"
#include "storage/store.h"
#include "taskmanager/periodic.h"

static void wipe_free(char *secret)
{
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}

/* The instance's row, made (with a new sealed key) when it has none. */
static int archive_of(const struct instance *in, struct archive_row *a, struct ct_error *err)
{
	int found = archive_load(in->id, NULL, a, err);
	if (found)
		return found < 0 ? -1 : 0;
	memset(a, 0, sizeof *a);
	snprintf(a->instance_id, sizeof a->instance_id, "%s", in->id);
	snprintf(a->tenant_id, sizeof a->tenant_id, "%s", in->tenant_id);
	snprintf(a->datastore, sizeof a->datastore, "%.64s", in->manager);
	if ((size_t)snprintf(a->prefix, sizeof a->prefix, "%s/archive/%s/",
			     cfg_str(CFG_BACKUP_SWIFT_CONTAINER), in->id) >= sizeof a->prefix)
		return ct_fail(err, 500, "the archive prefix of %s is too long", in->id);
	if (guest_new_backup_key(a->encrypted_key, sizeof a->encrypted_key, err) ||
	    archive_ensure(a, err) < 0)
		return -1;
	/* Another taskmanager thread may have made it first: read what was kept. */
	found = archive_load(in->id, NULL, a, err);
	return found == 1 ? 0 : found < 0 ? -1 : ct_fail(err, 500, "the archive row vanished");
}

int archive_tasks_start_instance(const char *instance_id, struct ct_error *err)
{
	struct instance in;
	struct archive_row a;
	if (instance_load(instance_id, NULL, &in, err) || archive_of(&in, &a, err))
		return -1;
	struct backup_store *store = backup_store_new(err);
	struct store_access access;
	int rc = store ? backup_store_access(store, &access, err) : -1;
	backup_store_free(store);
	if (rc)
		return -1;
	char *key = guest_backup_key_open(a.encrypted_key, err);
	if (key) {
		const struct guest_archive_request info = {
			.prefix = a.prefix,
			.encryption_key = key,
			.store = &access,
			.interval = cfg_int(CFG_ARCHIVE_INTERVAL) < 1
					    ? 1
					    : cfg_int(CFG_ARCHIVE_INTERVAL),
		};
		const struct guest_ref guest = {in.id, in.encrypted_key};
		rc = guest_start_archiving(&guest, &info, err);
	} else {
		rc = -1;
	}
	wipe_free(key);
	explicit_bzero(&access, sizeof access);
	if (rc || archive_set_started(in.id, (long long)time(NULL), err))
		return -1;
	log_info("archive of %s started (%s)", in.id, a.prefix);
	return 0;
}

int archive_restore_point_load(const json_t *restore_point, struct archive_restore_point *p,
			       struct ct_error *err)
{
	memset(p, 0, sizeof *p);
	const char *source = json_string_value(json_object_get(restore_point, "instance_id"));
	const json_t *t = json_object_get(restore_point, "time");
	if (!source || !json_is_integer(t))
		return ct_fail(err, 400, "ctrove_restore_point needs instance_id and time");
	struct archive_row a;
	int found = archive_load(source, NULL, &a, err);
	if (found != 1)
		return found < 0
			       ? -1
			       : ct_fail(err, 404, "Instance %.64s has no archive to restore from.",
					 source);
	char *key = guest_backup_key_open(a.encrypted_key, err);
	if (!key)
		return -1;
	int rc = 0;
	if (strlen(key) >= sizeof p->key)
		rc = ct_fail(err, 500, "archive key too long");
	else
		snprintf(p->key, sizeof p->key, "%s", key);
	wipe_free(key);
	if (rc)
		return -1;
	snprintf(p->prefix, sizeof p->prefix, "%s", a.prefix);
	p->point = (struct guest_restore_point){.time = (long long)json_integer_value(t),
						.archive_prefix = p->prefix,
						.encryption_key = p->key};
	return 0;
}

void archive_restore_point_free(struct archive_restore_point *p)
{
	explicit_bzero(p, sizeof *p);
}

/* --- the sweeper -------------------------------------------------------------- */

static bool store_has_tokens(void)
{
	return !strcmp(cfg_str(CFG_STORAGE_STRATEGY), "swift");
}

/* One pass: who needs start_archiving now (see archive_tasks.h). */
static void sweep_once(void)
{
	struct ct_error err = {0};
	struct archive_candidate *c = NULL;
	size_t n = 0;
	if (archive_candidates(&c, &n, &err)) {
		log_error("cannot list instances to archive: %s", err.message);
		return;
	}
	long long now = (long long)time(NULL);
	long stale = cfg_int(CFG_ARCHIVE_STALE_AFTER);
	long refresh = cfg_int(CFG_ARCHIVE_REFRESH_INTERVAL);
	for (size_t i = 0; i < n; i++) {
		bool quiet = !c[i].has_row ||
			     (now - c[i].reported_at > stale && now - c[i].started_at > stale);
		bool expiring =
			store_has_tokens() && refresh > 0 && now - c[i].started_at >= refresh;
		if (!quiet && !expiring)
			continue;
		log_set_context(NULL, c[i].instance_id);
		if (archive_tasks_start_instance(c[i].instance_id, &err))
			log_warning("start_archiving of %s failed: %s", c[i].instance_id,
				    err.message);
		log_clear_context();
	}
	free(c);
}

static long sweep_interval_ms(void)
{
	long half = cfg_int(CFG_ARCHIVE_STALE_AFTER) / 2;
	return 1000 * (half < 1 ? 1 : half);
}

static struct periodic sweeper =
	PERIODIC("the archive sweeper", sweep_once, sweep_interval_ms, false);

void archive_tasks_start(void)
{
	struct ct_error err = {0};
	(void)periodic_start(&sweeper, &err);
}

void archive_tasks_stop(void)
{
	periodic_stop(&sweeper);
}
