/*
 * backups.c — see backups.h. The worker's half of create_backup and the walk
 * of a restore chain; the conductor casts are agent.c's. Owns the decoded keys
 * and the opened stores of one call (wiped and freed before it returns); may
 * not know a datastore's tools.
 */
#define LOG_MODULE "backup"
#include "guest/backups.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

json_t *guest_backup_create(const struct datastore_manager *m, const struct guest_instance *inst,
			    const json_t *backup_info, struct ct_error *err)
{
	if (!m->create_backup) {
		ct_fail(err, 501, "Backups of datastore %s are not supported.", m->name);
		return NULL;
	}
	struct guest_backup_info *b = malloc(sizeof *b);
	struct store_object_info *info = calloc(1, sizeof *info);
	struct backup_key key;
	struct backup_store *store = NULL;
	json_t *result = NULL;
	if (!b || !info) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	if (guest_backup_info_from_json(backup_info, b, err))
		goto out;
	if (strcmp(b->instance_id, inst->id)) {
		ct_fail(err, 400, "backup_info names instance %s, not this one.", b->instance_id);
		goto out;
	}
	if (backup_key_from_base64(b->encryption_key, &key, err))
		goto out;
	store = backup_store_open_access(&b->store, err);
	if (!store)
		goto out;
	log_info("backup %s (%s) to %s", b->id, b->backup_type, b->location);
	if (m->create_backup(inst, b, store, &key, info, err))
		goto out;
	result = json_pack("{s:s,s:s,s:I}", "checksum", info->sha256, "location", info->name,
			   "size", (json_int_t)info->size);
	/* ctrove (issue 16): the point-in-time base, if the manager recorded one. */
	const char *consistent = store_meta_get(&info->meta, "consistent_time");
	if (result && consistent && strspn(consistent, "0123456789") == strlen(consistent) &&
	    *consistent)
		json_object_set_new(result, "consistent_time",
				    json_integer(strtoll(consistent, NULL, 10)));
	if (!result)
		ct_fail(err, 500, "Out of memory.");
	else
		log_info("backup %s completed: %llu bytes", b->id, (unsigned long long)info->size);
out:
	explicit_bzero(&key, sizeof key);
	if (b)
		guest_backup_info_wipe(b);
	free(b);
	free(info);
	backup_store_free(store);
	return result;
}

int guest_restore_chain(const json_t *backup_info, guest_restore_fn fn, void *ctx,
			struct ct_error *err)
{
	struct guest_restore_plan *r = malloc(sizeof *r);
	struct store_object_info *info = malloc(sizeof *info);
	struct backup_store *store = NULL;
	int rc = -1;
	if (!r || !info) {
		ct_fail(err, 500, "Out of memory.");
		goto out;
	}
	if (guest_restore_plan_from_json(backup_info, r, err))
		goto out;
	store = backup_store_open_access(&r->store, err);
	if (!store)
		goto out;
	/* Every object before the first byte is restored: a chain with a hole
	 * fails here, not after minutes of extraction. */
	for (size_t i = 0; i < r->n_chain; i++) {
		const struct guest_backup_ref *link = &r->chain[i];
		struct ct_error stat_err = {0};
		if (store_stat(store, link->location, info, &stat_err)) {
			ct_fail(err, stat_err.status == 404 ? 422 : stat_err.status,
				"Backup %s cannot be restored: its object %s: %s", link->id,
				link->location, stat_err.message);
			goto out;
		}
		if (link->checksum[0] && strcmp(link->checksum, info->sha256)) {
			ct_fail(err, 422,
				"Backup %s cannot be restored: its object's checksum is not the "
				"one recorded.",
				link->id);
			goto out;
		}
	}
	for (size_t i = 0; i < r->n_chain; i++) {
		const struct guest_backup_ref *link = &r->chain[i];
		struct backup_key key;
		if (backup_key_from_base64(link->encryption_key, &key, err))
			goto out;
		log_info("restoring backup %s (%zu of %zu, %s)", link->id, i + 1, r->n_chain,
			 link->backup_type);
		int failed = fn(ctx, store, link, i, r->n_chain, &key, err);
		explicit_bzero(&key, sizeof key);
		if (failed) {
			/* Say which backup of the chain broke; the cause stays. */
			struct ct_error cause = *err;
			ct_fail(err, cause.status ? cause.status : 500,
				"Restoring backup %s failed: %s", link->id, cause.message);
			goto out;
		}
	}
	rc = 0;
out:
	if (r)
		guest_restore_plan_wipe(r);
	free(r);
	free(info);
	backup_store_free(store);
	return rc;
}
