/*
 * instance_pitr.c — see instance_pitr.h.
 */
#define LOG_MODULE "api"
#include "api/instance_pitr.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/handlers.h"
#include "api/instance_restore.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/archives.h"
#include "db/backups.h"

bool instance_pitr_parse_time(const char *text, long long *out)
{
	if (!text)
		return false;
	int year, month, day, hour, minute, second, used = -1;
	if (strlen(text) < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
	    text[13] != ':' || text[16] != ':')
		return false;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 &&
		    (text[i] < '0' || text[i] > '9'))
			return false;
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
		   &used) != 6 ||
	    used != 19)
		return false;
	const char *zone = text + 19;
	if (*zone && strcmp(zone, "Z") && strcmp(zone, "+00:00"))
		return false;
	struct tm tm = {.tm_year = year - 1900,
			.tm_mon = month - 1,
			.tm_mday = day,
			.tm_hour = hour,
			.tm_min = minute,
			.tm_sec = second};
	time_t t = timegm(&tm);
	/* timegm normalises 02-30 into March: such a text is no date. */
	if (t == (time_t)-1 || tm.tm_year != year - 1900 || tm.tm_mon != month - 1 ||
	    tm.tm_mday != day || tm.tm_hour != hour || tm.tm_min != minute || tm.tm_sec != second)
		return false;
	*out = (long long)t;
	return true;
}

bool instance_pitr_requested(const json_t *restore_point)
{
	return json_object_get(restore_point, "time") != NULL;
}

int instance_pitr_window(const char *source_id, long long *from, long long *to,
			 struct ct_error *err)
{
	struct archive_row a;
	int found = archive_load(source_id, NULL, &a, err);
	if (found != 1 || !a.has_archived_until)
		return found < 0 ? -1 : 0;
	found = archive_oldest_base(source_id, from, err);
	if (found != 1)
		return found;
	*to = a.archived_until;
	return *from <= *to ? 1 : 0;
}

static void iso(long long t, char out[CT_TIME_LEN])
{
	timefmt_zulu((time_t)t, out);
}

/* The source instance a restorePoint names, scoped to the project. */
static int source_of(const json_t *rp, const char *project, char source[37], struct ct_error *err)
{
	const char *instance_ref = json_string_value(json_object_get(rp, "instanceRef"));
	const char *backup_ref = json_string_value(json_object_get(rp, "backupRef"));
	if (backup_ref) {
		struct backup_row b;
		if (backup_load(backup_ref, project, &b, err))
			return -1;
		snprintf(source, 37, "%s", b.instance_id);
		return 0;
	}
	struct archive_row a;
	int found = archive_load(instance_ref, project, &a, err);
	if (found < 0)
		return -1;
	if (!found)
		return ct_fail(err, 404, "Resource %.64s cannot be found.", instance_ref);
	snprintf(source, 37, "%s", a.instance_id);
	return 0;
}

int instance_pitr_check(const json_t *restore_point, const char *project,
			const struct ds_version *v, long volume_gb, struct pitr_target *out,
			struct ct_error *err)
{
	memset(out, 0, sizeof *out);
	const char *text = json_string_value(json_object_get(restore_point, "time"));
	if (!instance_pitr_parse_time(text, &out->time))
		return ct_fail(err, 400,
			       "instance['restorePoint']['time'] must be a UTC time to the second "
			       "in ISO 8601, e.g. 2026-12-07T03:14:15Z.");
	if (source_of(restore_point, project, out->source_id, err))
		return -1;
	long long from = 0, to = 0;
	int has = instance_pitr_window(out->source_id, &from, &to, err);
	if (has < 0)
		return -1;
	char t_text[CT_TIME_LEN], from_text[CT_TIME_LEN], to_text[CT_TIME_LEN];
	iso(out->time, t_text);
	if (!has)
		return ct_fail(err, 400,
			       "The time %s is outside the recoverable window of instance %s: it "
			       "has none yet (it needs a completed backup and its archive).",
			       t_text, out->source_id);
	if (out->time < from || out->time > to) {
		iso(from, from_text);
		iso(to, to_text);
		return ct_fail(err, 400,
			       "The time %s is outside the recoverable window %s – %s of instance "
			       "%s.",
			       t_text, from_text, to_text, out->source_id);
	}
	long long consistent = 0;
	int found =
		archive_base_backup(out->source_id, out->time, out->backup_id, &consistent, err);
	if (found != 1)
		return found < 0 ? -1
				 : ct_fail(err, 400,
					   "The time %s is outside the recoverable window of "
					   "instance %s.",
					   t_text, out->source_id);
	/* The base must pass what a backupRef restore passes; the source's
	 * project owns it (project NULL for an admin). */
	json_t *base = json_pack("{s:s}", "backupRef", out->backup_id);
	char checked[37];
	int rc = base ? instance_restore_check(base, project, v, volume_gb, checked, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(base);
	if (!rc)
		log_info("point-in-time restore of %s to %s from backup %s", out->source_id, t_text,
			 out->backup_id);
	return rc;
}

static void write_window_value(struct json_writer *w, const char *instance_id)
{
	struct ct_error err = {0};
	long long from = 0, to = 0;
	int has = instance_pitr_window(instance_id, &from, &to, &err);
	if (has != 1) {
		if (has < 0)
			log_error("cannot read the recoverable window of %s: %s", instance_id,
				  err.message);
		json_writer_null(w);
		return;
	}
	char from_text[CT_TIME_LEN], to_text[CT_TIME_LEN];
	iso(from, from_text);
	iso(to, to_text);
	json_writer_object_begin(w);
	json_writer_key_string(w, "from", from_text);
	json_writer_key_string(w, "to", to_text);
	json_writer_object_end(w);
}

void instance_pitr_write_window(struct json_writer *w, const char *instance_id)
{
	struct ct_error err = {0};
	struct archive_row a;
	if (archive_load(instance_id, NULL, &a, &err) != 1)
		return;
	json_writer_key(w, "recoverable_window");
	write_window_value(w, instance_id);
}

/* GET /v1.0/{project}/instances/{id}/recoverable_window: also for a deleted
 * instance, as long as its archive row is kept. */
API_HANDLER(instance_recoverable_window)
{
	const char *id = req->params[0];
	struct archive_row a;
	int found = archive_load(id, req->who.is_admin ? NULL : req->project, &a, err);
	if (found < 0)
		return -1;
	if (!found)
		return ct_fail(err, 404, "Resource %.64s cannot be found.", id);
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key_string(&w, "instance_id", a.instance_id);
	json_writer_key_string(&w, "datastore", a.datastore);
	json_writer_key(&w, "recoverable_window");
	write_window_value(&w, a.instance_id);
	json_writer_key(&w, "gap");
	json_writer_string(&w, a.gap[0] ? a.gap : NULL);
	json_writer_object_end(&w);
	return api_reply_written(resp, 200, &w, err);
}
