/*
 * instance_usage.c — see instance_usage.h. The flavor comes from the local
 * catalog (ctrove_flavors); an instance whose flavor is elsewhere (a Nova
 * flavor) gets an empty name and size, which the caller may fill in.
 */
#define LOG_MODULE "db"

#include "db/instance_usage.h"

#include <stdio.h>
#include <string.h>

#include "db/store.h"

#define USAGE_SELECT                                                                               \
	"SELECT i.id, i.name, i.tenant_id, i.flavor_id, f.name, f.ram, i.volume_size,"             \
	" v.manager, i.created, i.updated, i.deleted_at, i.server_status,"                         \
	" i.compute_instance_id, i.volume_id, i.task_id, s.status_id, i.deleted"                   \
	" FROM instances i"                                                                        \
	" LEFT JOIN datastore_versions v ON v.id = i.datastore_version_id"                         \
	" LEFT JOIN service_statuses s ON s.instance_id = i.id"                                    \
	" LEFT JOIN ctrove_flavors f ON f.id = i.flavor_id"

static void read_usage(sqlite3_stmt *st, void *row)
{
	struct instance_usage *u = row;
	memset(u, 0, sizeof *u);
#define COPY(field, col) snprintf(u->field, sizeof u->field, "%s", db_col_text(st, col))
	COPY(id, 0);
	COPY(name, 1);
	COPY(tenant_id, 2);
	COPY(flavor_id, 3);
	COPY(flavor_name, 4);
	u->flavor_ram = sqlite3_column_int64(st, 5);
	u->volume_size = sqlite3_column_int64(st, 6);
	COPY(manager, 7);
	COPY(created, 8);
	COPY(updated, 9);
	COPY(deleted_at, 10);
	COPY(server_status, 11);
	COPY(compute_id, 12);
	COPY(volume_id, 13);
#undef COPY
	u->task_id = sqlite3_column_int(st, 14);
	u->service_status = sqlite3_column_int(st, 15);
	u->deleted = sqlite3_column_int(st, 16) != 0;
}

int instance_usage_get(const char *id, struct instance_usage *out, struct ct_error *err)
{
	int found = db_read_row(USAGE_SELECT " WHERE i.id = ?1", id, read_usage, out,
				"instance usage", err);
	if (found < 0)
		return -1;
	if (!found)
		return ct_fail(err, 404, "Resource %.64s cannot be found.", id);
	return 0;
}

int instance_usage_list(struct instance_usage **rows, size_t *count, struct ct_error *err)
{
	return db_collect_text(USAGE_SELECT " WHERE (i.deleted IS NULL OR i.deleted = 0)"
					    " AND (?1 IS NULL OR 1) ORDER BY i.created, i.id",
			       NULL, sizeof **rows, read_usage, "instance usage list",
			       (void **)rows, count, err);
}
