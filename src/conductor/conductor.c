/*
 * conductor.c — see conductor.h.
 */
#define LOG_MODULE "conductor"
#include "conductor/conductor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "db/instances.h"
#include "db/store.h"

static const struct {
	int code;
	const char *description;
} statuses[] = {
	{0x01, "running"},
	{0x02, "blocked"},
	{0x03, "paused"},
	{0x04, "shutdown"},
	{0x05, "deleted"},
	{0x06, "crashed"},
	{0x08, "failed to spawn"},
	{0x09, "building"},
	{0x10, "promoting replica"},
	{0x11, "ejecting replica source"},
	{0x12, "transferring guest logs"},
	{0x16, "unknown"},
	{0x17, "new"},
	{0x18, "guestagent error"},
	{0x19, "instance ready"},
	{0x20, "restart required"},
	{0x21, "healthy"},
	{0x22, "restarting"},
	/* Trove gives upgrading the code of restarting, then cannot read it back;
	 * ctrove keeps it apart (docs/api-differences.md). */
	{0x23, "upgrading"},
};

int conductor_status_code(const char *description)
{
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (!strcmp(statuses[i].description, description))
			return statuses[i].code;
	return -1;
}

static const char *required_string(const json_t *args, const char *key, struct ct_error *err)
{
	const char *v = json_string_value(json_object_get(args, key));
	if (!v || !*v || strlen(v) > 64)
		ct_fail(err, 400, "argument %s must be a string of 1 to 64 characters", key);
	return v && *v && strlen(v) <= 64 ? v : NULL;
}

/* False when `sent` is not newer than the last one seen for (instance, method);
 * otherwise records it. A message without `sent` is always accepted. */
static int is_fresh(const char *instance_id, const char *method, const json_t *sent,
		    struct ct_error *err)
{
	if (!sent || json_is_null(sent))
		return 1;
	if (!json_is_number(sent) || !isfinite(json_number_value(sent)))
		return ct_fail(err, 400, "argument sent must be a number");
	double when = json_number_value(sent);
	sqlite3_stmt *st = db_stmt("SELECT sent FROM conductor_lastseen"
				   " WHERE instance_id = ?1 AND method_name = ?2",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, method);
	int stale = sqlite3_step(st) == SQLITE_ROW && when <= sqlite3_column_double(st, 0);
	db_stmt_done(st);
	if (stale)
		return 0;
	st = db_stmt("INSERT INTO conductor_lastseen (instance_id, method_name, sent)"
		     " VALUES (?1, ?2, ?3) ON CONFLICT (instance_id, method_name)"
		     " DO UPDATE SET sent = excluded.sent",
		     err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, method);
	sqlite3_bind_double(st, 3, when);
	return db_step_done(st, err) ? -1 : 1;
}

int conductor_heartbeat(const json_t *args, struct ct_error *err)
{
	const char *instance_id = required_string(args, "instance_id", err);
	if (!instance_id)
		return -1;
	const char *description = json_string_value(
		json_object_get(json_object_get(args, "payload"), "service_status"));
	int code = description ? conductor_status_code(description) : -1;
	if (code < 0)
		return ct_fail(err, 400, "payload.service_status '%.40s' is not a service status",
			       description ? description : "(missing)");
	if (db_begin(err))
		return -1;
	int fresh = is_fresh(instance_id, "heartbeat", json_object_get(args, "sent"), err);
	if (fresh < 0)
		goto fail;
	if (fresh == 0) {
		db_rollback();
		log_debug("stale heartbeat for %s ignored", instance_id);
		return 0;
	}
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	/* RESTART_REQUIRED sticks until a restart clears it, as in Trove. */
	sqlite3_stmt *st = db_stmt("UPDATE service_statuses SET status_id = ?2,"
				   " status_description = ?3, updated_at = ?4"
				   " WHERE instance_id = ?1 AND status_id != 32",
				   err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, instance_id);
	sqlite3_bind_int(st, 2, code);
	db_bind_text(st, 3, description);
	db_bind_text(st, 4, now);
	if (db_step_done(st, err))
		goto fail;
	const json_t *volume = json_object_get(json_object_get(args, "payload"), "volume");
	const json_t *used = json_object_get(volume, "used"),
		     *total = json_object_get(volume, "total");
	if (json_is_number(used) && json_is_number(total)) {
		st = db_stmt(
			"INSERT INTO ctrove_volume_usage (instance_id, used_gb, total_gb,"
			" updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (instance_id) DO UPDATE"
			" SET used_gb = excluded.used_gb, total_gb = excluded.total_gb,"
			" updated_at = excluded.updated_at",
			err);
		if (!st)
			goto fail;
		db_bind_text(st, 1, instance_id);
		sqlite3_bind_double(st, 2, json_number_value(used));
		sqlite3_bind_double(st, 3, json_number_value(total));
		db_bind_text(st, 4, now);
		if (db_step_done(st, err))
			goto fail;
	}
	if (db_commit(err))
		goto fail;
	log_debug("heartbeat of %s: %s", instance_id, description);
	return 0;
fail:
	db_rollback();
	return -1;
}

int conductor_update_backup(const json_t *args, struct ct_error *err)
{
	const char *instance_id = required_string(args, "instance_id", err);
	const char *backup_id = instance_id ? required_string(args, "backup_id", err) : NULL;
	if (!backup_id)
		return -1;
	static const char *const text_fields[] = {"state", "backup_type", "checksum", "location",
						  NULL};
	for (const char *const *f = text_fields; *f; f++) {
		const json_t *v = json_object_get(args, *f);
		if (v && !json_is_string(v) && !json_is_null(v))
			return ct_fail(err, 400, "argument %s must be a string", *f);
	}
	const json_t *size = json_object_get(args, "size");
	if (size && !json_is_number(size) && !json_is_null(size))
		return ct_fail(err, 400, "argument size must be a number");
	if (db_begin(err))
		return -1;
	int fresh = is_fresh(instance_id, "update_backup", json_object_get(args, "sent"), err);
	if (fresh < 0)
		goto fail;
	if (fresh == 0) {
		db_rollback();
		return 0;
	}
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt(
		"UPDATE backups SET state = coalesce(?3, state),"
		" backup_type = coalesce(?4, backup_type), checksum = coalesce(?5, checksum),"
		" location = coalesce(?6, location), size = coalesce(?7, size), updated = ?8"
		" WHERE id = ?1 AND instance_id = ?2",
		err);
	if (!st)
		goto fail;
	db_bind_text(st, 1, backup_id);
	db_bind_text(st, 2, instance_id);
	for (int i = 0; text_fields[i]; i++)
		db_bind_text(st, 3 + i, json_string_value(json_object_get(args, text_fields[i])));
	if (json_is_number(size))
		sqlite3_bind_double(st, 7, json_number_value(size));
	db_bind_text(st, 8, now);
	if (db_step_done(st, err))
		goto fail;
	if (sqlite3_changes(db_handle(NULL)) == 0) {
		ct_fail(err, 404, "Backup %.64s of instance %.64s cannot be found.", backup_id,
			instance_id);
		goto fail;
	}
	if (db_commit(err))
		goto fail;
	return 0;
fail:
	db_rollback();
	return -1;
}

int conductor_report_root(const json_t *args, struct ct_error *err)
{
	const char *instance_id = required_string(args, "instance_id", err);
	if (!instance_id)
		return -1;
	char now[CT_TIME_LEN];
	timefmt_db_now(now);
	sqlite3_stmt *st = db_stmt("INSERT INTO root_enabled_history (id, user, created)"
				   " VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
				   err);
	if (!st)
		return -1;
	db_bind_text(st, 1, instance_id);
	db_bind_text(st, 2, json_string_value(json_object_get(args, "user")));
	db_bind_text(st, 3, now);
	return db_step_done(st, err);
}

int conductor_notify_end(const json_t *args, struct ct_error *err)
{
	(void)err;
	/* Notifications are off in ctrove ([oslo_messaging_notifications] driver
	 * unset); the end of an operation needs no record. */
	const char *event = json_string_value(
		json_object_get(json_object_get(args, "serialized_notification"), "event_type"));
	log_debug("notify_end for %s", event ? event : "?");
	return 0;
}

int conductor_notify_exc_info(const json_t *args, struct ct_error *err)
{
	const json_t *notification = json_object_get(args, "serialized_notification");
	const char *instance_id = json_string_value(json_object_get(notification, "instance_id"));
	const char *message = json_string_value(json_object_get(args, "message"));
	if (!instance_id || !*instance_id || strlen(instance_id) > 64 || !message)
		return ct_fail(err, 400,
			       "notify_exc_info needs serialized_notification.instance_id and "
			       "message");
	struct instance in;
	if (instance_load(instance_id, NULL, &in, err))
		return -1;
	char *details = json_dumps(json_object_get(args, "exception"), JSON_COMPACT);
	int rc = instance_add_fault(instance_id, message, details ? details : "", err);
	free(details);
	if (!rc)
		log_warning("guest of %s reported an error: %.200s", instance_id, message);
	return rc;
}
