/*
 * conductor.c — see conductor.h.
 */
#define LOG_MODULE "conductor"
#include "conductor/conductor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "conductor/message_trust.h"
#include "db/archives.h"
#include "db/guest_reports.h"
#include "db/instance_resize.h"
#include "db/instances.h"
#include "db/root_history.h"
#include "rpc/notifier.h"

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

/* A report's optional `sent` (seconds since the epoch, as the guest's clock
 * had it): *has = false when absent or null; 400 when not a finite number. */
static int sent_of(const json_t *args, bool *has, double *sent, struct ct_error *err)
{
	const json_t *v = json_object_get(args, "sent");
	*has = v && !json_is_null(v);
	if (!*has)
		return 0;
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return ct_fail(err, 400, "argument sent must be a number");
	*sent = json_number_value(v);
	return 0;
}

/* ctrove: a volume with less than 2 % (and at least 0.01 GB) free is full:
 * the instance shows a fault until a report finds room again (docs/resize.md). */
static int note_volume(const struct heartbeat_report *r, struct ct_error *err)
{
	double free_gb = r->volume_total_gb - r->volume_used_gb;
	double reserve = r->volume_total_gb * 0.02;
	bool full = r->volume_total_gb > 0 && free_gb <= (reserve > 0.01 ? reserve : 0.01);
	char message[256];
	snprintf(message, sizeof message,
		 "The volume is full (%.2f of %.2f GB used): writes fail until it is resized.",
		 r->volume_used_gb, r->volume_total_gb);
	int changed = instance_note_volume_full(r->instance_id, full, message, err);
	if (changed > 0) {
		if (full)
			log_warning("volume of %s is full (%.2f of %.2f GB used)", r->instance_id,
				    r->volume_used_gb, r->volume_total_gb);
		else
			log_info("volume of %s has room again", r->instance_id);
	}
	return changed < 0 ? -1 : 0;
}

int conductor_heartbeat(const json_t *args, struct ct_error *err)
{
	const char *instance_id = required_string(args, "instance_id", err);
	if (!instance_id)
		return -1;
	const json_t *payload = json_object_get(args, "payload");
	const char *description = json_string_value(json_object_get(payload, "service_status"));
	int code = description ? conductor_status_code(description) : -1;
	if (code < 0)
		return ct_fail(err, 400, "payload.service_status '%.40s' is not a service status",
			       description ? description : "(missing)");
	struct heartbeat_report r = {
		.instance_id = instance_id,
		.status_id = code,
		.status_description = description,
	};
	if (sent_of(args, &r.has_sent, &r.sent, err))
		return -1;
	const json_t *volume = json_object_get(payload, "volume");
	const json_t *used = json_object_get(volume, "used"),
		     *total = json_object_get(volume, "total");
	r.has_volume = json_is_number(used) && json_is_number(total);
	if (r.has_volume) {
		r.volume_used_gb = json_number_value(used);
		r.volume_total_gb = json_number_value(total);
	}
	/* ctrove: the server's counters (docs/metrics.md); ignored unless whole. */
	const json_t *server = json_object_get(payload, "server");
	const json_t *conns = json_object_get(server, "connections"),
		     *queries = json_object_get(server, "queries"),
		     *lag = json_object_get(server, "replication_lag");
	r.has_server = json_is_integer(conns) && json_is_integer(queries) &&
		       json_integer_value(conns) >= 0 && json_integer_value(queries) >= 0;
	if (r.has_server) {
		r.connections = (long long)json_integer_value(conns);
		r.queries = (long long)json_integer_value(queries);
		r.has_replication_lag = json_is_number(lag) && json_number_value(lag) >= 0;
		r.replication_lag = r.has_replication_lag ? json_number_value(lag) : 0;
	}
	int recorded = heartbeat_record(&r, err);
	if (recorded < 0)
		return -1;
	if (recorded && r.has_volume && note_volume(&r, err))
		return -1;
	if (recorded)
		log_debug("heartbeat of %s: %s", instance_id, description);
	else
		log_debug("stale heartbeat for %s ignored", instance_id);
	return 0;
}

/* A time a guest reports (PITR): a whole number of seconds since the epoch,
 * after 2000 and before 2200 — nothing else is a time of this system. */
static bool unix_seconds(const json_t *v)
{
	double t = json_number_value(v);
	return json_is_number(v) && isfinite(t) && t == floor(t) && t >= 946684800.0 &&
	       t < 7258118400.0;
}

/* dbaas.backup_create.end or .error: the guest's end of the backup the API started
 * (Trove's guest forwards its end notification here). */
static void notify_backup_done(const struct backup_report *r)
{
	if (!notifier_enabled())
		return;
	struct instance in = {0};
	struct ct_error ignored = {0};
	if (instance_load(r->instance_id, NULL, &in, &ignored))
		in.tenant_id[0] = '\0';
	const struct notifier_origin origin = {.service = "conductor", .tenant_id = in.tenant_id};
	bool ok = !strcmp(r->state, "COMPLETED");
	notifier_dbaas(&origin, "backup_create", ok ? "end" : "error",
		       ok ? json_pack("{s:s,s:s}", "backup_id", r->backup_id, "instance_id",
				      r->instance_id)
			  : json_pack("{s:s,s:s,s:[s],s:s}", "backup_id", r->backup_id, "message",
				      "The backup failed.", "exception", "BackupCreationError",
				      "instance_id", r->instance_id));
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
	const json_t *consistent = json_object_get(args, "consistent_time");
	if (consistent && !json_is_null(consistent) && !unix_seconds(consistent))
		return ct_fail(err, 400, "argument consistent_time must be unix seconds");
	struct backup_report r = {
		.instance_id = instance_id,
		.backup_id = backup_id,
		.state = json_string_value(json_object_get(args, "state")),
		.backup_type = json_string_value(json_object_get(args, "backup_type")),
		.checksum = json_string_value(json_object_get(args, "checksum")),
		.location = json_string_value(json_object_get(args, "location")),
		.has_size = json_is_number(size),
		.size = json_number_value(size),
		.has_consistent_time = unix_seconds(consistent),
		.consistent_time = (long long)json_number_value(consistent),
	};
	if (sent_of(args, &r.has_sent, &r.sent, err))
		return -1;
	int recorded = backup_report_record(&r, err);
	if (recorded < 0)
		return -1;
	if (recorded && r.state && (!strcmp(r.state, "COMPLETED") || !strcmp(r.state, "FAILED")))
		notify_backup_done(&r);
	return 0;
}

int conductor_update_archive(const json_t *args, struct ct_error *err)
{
	const char *instance_id = required_string(args, "instance_id", err);
	if (!instance_id)
		return -1;
	const json_t *until = json_object_get(args, "archived_until");
	const json_t *seq = json_object_get(args, "last_seq");
	const json_t *gap = json_object_get(args, "gap");
	/* 0: nothing shipped yet (the guest's first rounds). */
	bool nothing_yet = json_is_integer(until) && json_integer_value(until) == 0;
	if (!nothing_yet && !unix_seconds(until))
		return ct_fail(err, 400, "argument archived_until must be unix seconds or 0");
	if (!json_is_integer(seq) || json_integer_value(seq) < -1)
		return ct_fail(err, 400, "argument last_seq must be an integer of -1 or more");
	if (gap && !json_is_null(gap) &&
	    (!json_is_string(gap) || !json_string_length(gap) || json_string_length(gap) > 1000))
		return ct_fail(err, 400, "argument gap must be null or a text of 1 to 1000 bytes");
	struct archive_report r = {
		.instance_id = instance_id,
		.has_archived_until = !nothing_yet,
		.archived_until = (long long)json_number_value(until),
		.last_seq = (long long)json_integer_value(seq),
		.gap = json_string_value(gap),
		.now = (long long)time(NULL),
	};
	/* A guest's clock cannot push the window into the future. */
	if (r.archived_until > r.now + (long long)CONDUCTOR_SENT_WINDOW_S)
		return ct_fail(err, 400,
			       "argument archived_until is ahead of the conductor's clock");
	if (archive_report_record(&r, err) < 0)
		return -1;
	if (r.gap)
		log_warning("the archive of %s has a gap: %.200s", instance_id, r.gap);
	else
		log_debug("archive of %s reaches %lld (seq %lld)", instance_id, r.archived_until,
			  r.last_seq);
	return 0;
}

int conductor_report_root(const json_t *args, struct ct_error *err)
{
	const char *instance_id = required_string(args, "instance_id", err);
	if (!instance_id)
		return -1;
	return root_history_record(instance_id, json_string_value(json_object_get(args, "user")),
				   err);
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
