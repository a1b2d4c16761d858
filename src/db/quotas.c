/*
 * quotas.c — see quotas.h.
 */
#define LOG_MODULE "db"
#include "db/quotas.h"

#include <string.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/timefmt.h"
#include "db/store.h"

const char *const quota_names[QUOTA_COUNT] = {"backups", "instances", "ram", "volumes"};

int quota_resource_by_name(const char *name)
{
	for (int i = 0; i < QUOTA_COUNT; i++)
		if (!strcmp(quota_names[i], name))
			return i;
	return -1;
}

static long default_limit(int r)
{
	switch (r) {
	case QUOTA_BACKUPS: return cfg_int(CFG_MAX_BACKUPS);
	case QUOTA_INSTANCES: return cfg_int(CFG_MAX_INSTANCES);
	case QUOTA_RAM: return cfg_int(CFG_MAX_RAM);
	default: return cfg_int(CFG_MAX_VOLUMES);
	}
}

int quota_get(const char *project, struct quota_state *out, struct ct_error *err)
{
	for (int r = 0; r < QUOTA_COUNT; r++) {
		out->limit[r] = default_limit(r);
		out->in_use[r] = out->reserved[r] = 0;
	}
	sqlite3_stmt *st =
		db_stmt("SELECT resource, hard_limit FROM quotas WHERE tenant_id = ?1", err);
	if (!st)
		return -1;
	db_bind_text(st, 1, project);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int r = quota_resource_by_name(db_col_text(st, 0));
		if (r >= 0 && !db_col_is_null(st, 1))
			out->limit[r] = sqlite3_column_int64(st, 1);
	}
	db_stmt_done(st);
	st = db_stmt("SELECT resource, in_use, reserved FROM quota_usages WHERE tenant_id = ?1",
		     err);
	if (!st)
		return -1;
	db_bind_text(st, 1, project);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int r = quota_resource_by_name(db_col_text(st, 0));
		if (r >= 0) {
			out->in_use[r] = sqlite3_column_int64(st, 1);
			out->reserved[r] = sqlite3_column_int64(st, 2);
		}
	}
	db_stmt_done(st);
	return 0;
}

int quota_set_limit(const char *project, enum quota_resource r, long limit, struct ct_error *err)
{
	char id[CT_UUID_LEN + 1], now[CT_TIME_LEN];
	ids_uuid(id);
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("INSERT INTO quotas (id, created, updated, tenant_id,"
				   " resource, hard_limit) VALUES (?1, ?2, ?2, ?3, ?4, ?5)"
				   " ON CONFLICT (tenant_id, resource) DO UPDATE SET"
				   " hard_limit = excluded.hard_limit, updated = excluded.updated",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, now);
	db_bind_text(st, 3, project);
	db_bind_text(st, 4, quota_names[r]);
	sqlite3_bind_int64(st, 5, limit);
	return db_step_done(st, err);
}

int quota_use(const char *project, enum quota_resource r, long delta, long limit,
	      struct ct_error *err)
{
	if (delta == 0)
		return 0;
	char id[CT_UUID_LEN + 1], now[CT_TIME_LEN];
	ids_uuid(id);
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(
		"INSERT INTO quota_usages (id, created, updated, tenant_id, in_use, reserved,"
		" resource) VALUES (?1, ?2, ?2, ?3, 0, 0, ?4) ON CONFLICT (tenant_id, resource)"
		" DO NOTHING",
		err);
	if (!st)
		return -1;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, now);
	db_bind_text(st, 3, project);
	db_bind_text(st, 4, quota_names[r]);
	if (db_step_done(st, err))
		return -1;
	st = db_stmt("UPDATE quota_usages SET in_use = max(0, in_use + ?3), updated = ?4"
		     " WHERE tenant_id = ?1 AND resource = ?2"
		     " AND (?3 <= 0 OR ?5 < 0 OR in_use + reserved + ?3 <= ?5)",
		     err);
	if (!st)
		return -1;
	db_bind_text(st, 1, project);
	db_bind_text(st, 2, quota_names[r]);
	sqlite3_bind_int64(st, 3, delta);
	db_bind_text(st, 4, now);
	sqlite3_bind_int64(st, 5, limit);
	if (db_step_done(st, err))
		return -1;
	if (sqlite3_changes(db_handle(NULL)) == 0)
		return ct_fail(err, 413, "Quota exceeded for resources: ['%s'].", quota_names[r]);
	return 0;
}
