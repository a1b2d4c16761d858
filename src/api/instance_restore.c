/*
 * instance_restore.c — see instance_restore.h.
 */
#include "api/instance_restore.h"

#include <stdio.h>
#include <string.h>

#include "db/backups.h"
#include "storage/store.h"

static int check_object(const struct backup_row *b, struct ct_error *err)
{
	struct ct_error detail = {0};
	struct backup_store *store = backup_store_new(&detail);
	struct store_object_info info;
	int rc = store && b->location[0] ? store_stat(store, b->location, &info, &detail) : -1;
	backup_store_free(store);
	if (!rc)
		return 0;
	if (store && (detail.status == 404 || !b->location[0]))
		return ct_fail(err, 404,
			       "Backup file in %.512s was not found in the object storage.",
			       b->location);
	*err = detail;
	return -1;
}

int instance_restore_check(const json_t *restore_point, const char *project,
			   const struct ds_version *v, long volume_gb, char backup_id[37],
			   struct ct_error *err)
{
	const char *id = json_string_value(json_object_get(restore_point, "backupRef"));
	struct backup_row b;
	if (backup_load(id, project, &b, err))
		return -1;
	if (strcmp(b.state, "COMPLETED") && strcmp(b.state, "RESTORED"))
		return ct_fail(err, 409,
			       "Unable to create instance because backup %s is not completed. "
			       "Actual state: %s.",
			       b.id, b.state);
	if (b.has_size && b.size > (double)volume_gb)
		return ct_fail(err, 403,
			       "Backup is too large for given flavor or volume. Backup size: %g "
			       "GBs. Available size: %ld GBs.",
			       b.size, volume_gb);
	if (check_object(&b, err))
		return -1;
	if (b.datastore_version_id[0] && strcmp(b.datastore_name, v->datastore_name))
		return ct_fail(err, 400,
			       "The datastore from which the backup was taken, %.255s, does not "
			       "match the destination datastore of %.255s.",
			       b.datastore_name, v->datastore_name);
	snprintf(backup_id, 37, "%s", b.id);
	return 0;
}
