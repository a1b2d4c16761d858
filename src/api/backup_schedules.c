/*
 * backup_schedules.c — ctrove extension (issue 16, docs/api-differences.md):
 * POST/GET /instances/{id}/backup_schedules and GET/DELETE
 * /instances/{id}/backup_schedules/{schedule_id}. A schedule is a cron
 * pattern, whether its backups are incremental, and a retention by count
 * and age; the taskmanager's runner (schedule_tasks.c) makes the backups.
 * Validates everything before writing one row. May not talk to guests, the
 * store or the taskmanager.
 */
#define LOG_MODULE "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "common/cron.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/backup_schedules.h"
#include "db/instances.h"
#include "taskmanager/schedule_tasks.h"

/* Room for "-<UTC time>" in a backup name of 255 characters. */
#define SCHEDULE_NAME_MAX	   200
#define SCHEDULES_PER_INSTANCE_MAX 20
#define RETENTION_LIMIT_MAX	   100000L

static const char *project_scope(const struct api_request *req)
{
	return req->who.is_admin ? NULL : req->project;
}

static json_t *time_or_null(long long t)
{
	if (t <= 0)
		return json_null();
	char text[CT_TIME_LEN];
	timefmt_trove((time_t)t, text);
	return json_string(text);
}

static json_t *limit_or_null(long v)
{
	return v > 0 ? json_integer(v) : json_null();
}

static json_t *schedule_view(const struct backup_schedule *s)
{
	char created[CT_TIME_LEN];
	timefmt_db_to_trove(s->created, created);
	return json_pack("{s:s,s:s,s:s?,s:s,s:s,s:s,s:b,s:{s:o,s:o},s:o,s:o,s:s}", "id", s->id,
			 "name", s->name, "description", s->has_description ? s->description : NULL,
			 "instance_id", s->instance_id, "project_id", s->tenant_id, "pattern",
			 s->pattern, "incremental", s->incremental, "retention", "max_count",
			 limit_or_null(s->max_count), "max_age_days",
			 limit_or_null(s->max_age_days), "next_run", time_or_null(s->next_run),
			 "last_run", time_or_null(s->last_run), "created", created);
}

/* jsonschema boolean_string, as backups' incremental. */
static int parse_flag(const json_t *v, const char *path, bool *out, struct ct_error *err)
{
	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
		*out = json_integer_value(v) == 1;
		return 0;
	}
	const char *s = json_string_value(v);
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "false") || !strcmp(s, "1") ||
		  !strcmp(s, "0"))) {
		*out = !strcasecmp(s, "true") || !strcmp(s, "1");
		return 0;
	}
	return validate_fail(err, path, "is not valid under any of the given schemas");
}

/* A positive integer up to RETENTION_LIMIT_MAX, or null/absent (0). */
static int parse_limit(const json_t *v, const char *path, long *out, struct ct_error *err)
{
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return validate_fail(err, path, "is not of type 'integer', 'null'");
	json_int_t n = json_integer_value(v);
	if (n < 1)
		return validate_fail(err, path, "is less than the minimum of 1");
	if (n > RETENTION_LIMIT_MAX)
		return validate_fail(err, path, "is greater than the maximum of %ld",
				     RETENTION_LIMIT_MAX);
	*out = (long)n;
	return 0;
}

static int parse_schedule(const json_t *json, struct backup_schedule *s, struct cron_spec *spec,
			  struct ct_error *err)
{
	static const char *const top[] = {"backup_schedule", NULL};
	static const char *const required[] = {"name", "pattern", NULL};
	static const char *const allowed[] = {"name",	     "pattern",	  "description",
					      "incremental", "retention", NULL};
	static const char *const retention_keys[] = {"max_count", "max_age_days", NULL};
	if (validate_object(json, "", err) || validate_required(json, "", top, err) ||
	    validate_only(json, "", top, err))
		return -1;
	const json_t *body = json_object_get(json, "backup_schedule");
	if (validate_object(body, "backup_schedule", err) ||
	    validate_only(body, "backup_schedule", allowed, err) ||
	    validate_required(body, "backup_schedule", required, err) ||
	    validate_non_empty_string(json_object_get(body, "name"), "backup_schedule['name']",
				      err))
		return -1;
	const json_t *pattern = json_object_get(body, "pattern");
	const json_t *description = json_object_get(body, "description");
	if (!json_is_string(pattern))
		return validate_fail(err, "backup_schedule['pattern']", "is not of type 'string'");
	if (description && !json_is_null(description) && !json_is_string(description))
		return validate_fail(err, "backup_schedule['description']",
				     "is not of type 'string', 'null'");
	const char *name = json_string_value(json_object_get(body, "name"));
	if (strlen(name) > SCHEDULE_NAME_MAX)
		return ct_fail(err, 400, "Backup schedule name is longer than %d characters.",
			       SCHEDULE_NAME_MAX);
	const char *text = json_string_value(description);
	if (text && strlen(text) > 512)
		return ct_fail(err, 400,
			       "Backup schedule description is longer than 512 characters.");
	if (parse_flag(json_object_get(body, "incremental"), "backup_schedule['incremental']",
		       &s->incremental, err))
		return -1;
	const json_t *retention = json_object_get(body, "retention");
	if (retention && !json_is_null(retention)) {
		if (validate_object(retention, "backup_schedule['retention']", err) ||
		    validate_only(retention, "backup_schedule['retention']", retention_keys, err) ||
		    parse_limit(json_object_get(retention, "max_count"),
				"backup_schedule['retention']['max_count']", &s->max_count, err) ||
		    parse_limit(json_object_get(retention, "max_age_days"),
				"backup_schedule['retention']['max_age_days']", &s->max_age_days,
				err))
			return -1;
	}
	if (cron_parse(json_string_value(pattern), spec, err))
		return -1;
	snprintf(s->name, sizeof s->name, "%s", name);
	s->has_description = text != NULL;
	snprintf(s->description, sizeof s->description, "%s", text ? text : "");
	snprintf(s->pattern, sizeof s->pattern, "%s", json_string_value(pattern));
	return 0;
}

API_HANDLER(backup_schedules_create)
{
	struct backup_schedule s;
	struct cron_spec spec;
	memset(&s, 0, sizeof s);
	if (parse_schedule(req->json, &s, &spec, err))
		return -1;
	struct instance in;
	if (instance_load(req->params[0], project_scope(req), &in, err))
		return -1;
	s.next_run = schedule_next_run(&spec, (long long)time(NULL));
	if (s.next_run < 0)
		return ct_fail(
			err, 400,
			"Invalid backup schedule pattern '%.255s': it matches no time in the "
			"next five years.",
			s.pattern);
	struct backup_schedule *existing = NULL;
	size_t n = 0;
	if (schedule_list(in.id, NULL, &existing, &n, err))
		return -1;
	free(existing);
	if (n >= SCHEDULES_PER_INSTANCE_MAX)
		return ct_fail(err, 422, "Instance %s already has %d backup schedules.", in.id,
			       SCHEDULES_PER_INSTANCE_MAX);
	ids_uuid(s.id);
	snprintf(s.instance_id, sizeof s.instance_id, "%s", in.id);
	snprintf(s.tenant_id, sizeof s.tenant_id, "%s", in.tenant_id);
	if (schedule_insert(&s, err))
		return -1;
	log_set_context(req->request_id, in.id);
	log_info("backup schedule %s ('%s') of instance %s created", s.id, s.pattern, in.id);
	struct backup_schedule shown;
	if (schedule_load(s.id, in.id, NULL, &shown, err))
		return -1;
	return api_reply(resp, 202, json_pack("{s:o}", "backup_schedule", schedule_view(&shown)));
}

API_HANDLER(backup_schedules_index)
{
	struct instance in;
	if (instance_load(req->params[0], project_scope(req), &in, err))
		return -1;
	struct backup_schedule *rows = NULL;
	size_t n = 0;
	if (schedule_list(in.id, project_scope(req), &rows, &n, err))
		return -1;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, schedule_view(&rows[i]));
	free(rows);
	return api_reply(resp, 200, json_pack("{s:o}", "backup_schedules", list));
}

API_HANDLER(backup_schedules_show)
{
	struct instance in;
	struct backup_schedule s;
	if (instance_load(req->params[0], project_scope(req), &in, err) ||
	    schedule_load(req->params[1], in.id, project_scope(req), &s, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:o}", "backup_schedule", schedule_view(&s)));
}

API_HANDLER(backup_schedules_delete)
{
	struct instance in;
	struct backup_schedule s;
	if (instance_load(req->params[0], project_scope(req), &in, err) ||
	    schedule_load(req->params[1], in.id, project_scope(req), &s, err) ||
	    schedule_mark_deleted(s.id, err))
		return -1;
	log_set_context(req->request_id, in.id);
	log_info("backup schedule %s of instance %s deleted (its backups are kept)", s.id, in.id);
	return api_reply(resp, 202, NULL);
}
