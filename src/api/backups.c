/*
 * backups.c — GET/POST /backups, GET/DELETE /backups/{id} and
 * GET /instances/{id}/backups (spec trove-api.md §6.4, §7.5, §8.4). Create
 * checks the instance and the parent, records the row (state NEW, a sealed
 * data key, the backups quota) and casts create_backup to the taskmanager;
 * delete casts delete_backup for the backup and every incremental built on
 * it. The work (the guest, the store) is the taskmanager's. May not talk to
 * guests or the store.
 */
#define LOG_MODULE "api"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_notify.h"
#include "api/backups_view.h"
#include "api/handlers.h"
#include "api/instance_checks.h"
#include "api/policy.h"
#include "api/validate.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "db/backups.h"
#include "db/datastores.h"
#include "db/instances.h"
#include "db/quotas.h"
#include "guest/api.h"
#include "taskmanager/api.h"

static const char *project_scope(const struct api_request *req)
{
	return req->who.is_admin ? NULL : req->project;
}

/* limit (default backups_page_size, not capped) and marker (a row offset). */
static int page_of(const struct api_request *req, long *offset, long *limit, struct ct_error *err)
{
	const char *l = api_query(req, "limit"), *m = api_query(req, "marker");
	char *end;
	*limit = cfg_int(CFG_BACKUPS_PAGE_SIZE);
	*offset = 0;
	if (l) {
		long v = strtol(l, &end, 10);
		if (!*l || *end || v <= 0)
			return ct_fail(err, 400, "limit must be a positive integer.");
		*limit = v;
	}
	if (m && *m) {
		long v = strtol(m, &end, 10);
		if (*end || v < 0)
			return ct_fail(err, 400, "marker must be a non-negative integer.");
		*offset = v;
	}
	return 0;
}

static int reply_page(struct api_request *req, struct api_response *resp,
		      const struct backup_filter *f, struct ct_error *err)
{
	long offset, limit;
	if (page_of(req, &offset, &limit, err))
		return -1;
	struct backup_row *rows = NULL;
	size_t n = 0;
	if (backup_page(f, offset, limit, &rows, &n, err))
		return -1;
	json_t *body = backup_list_view(req, rows, n, offset, limit);
	free(rows);
	return api_reply(resp, 200, body);
}

static bool truthy(const char *s)
{
	return s && (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") ||
		     !strcasecmp(s, "on") || !strcasecmp(s, "t") || !strcasecmp(s, "y"));
}

API_HANDLER(backups_index)
{
	const char *project_id = api_query(req, "project_id");
	bool all_projects = truthy(api_query(req, "all_projects"));
	if ((project_id && *project_id) || all_projects) {
		if (policy_enforce(req, "backup:index:all_projects", err))
			return -1;
	}
	struct backup_filter f = {
		.project = project_id && *project_id ? project_id
			   : all_projects	     ? NULL
						     : req->project,
		.instance_id = api_query(req, "instance_id"),
		.datastore = api_query(req, "datastore"),
	};
	if (f.instance_id && !*f.instance_id)
		f.instance_id = NULL;
	if (f.datastore && *f.datastore) {
		struct datastore ds;
		if (ds_find(f.datastore, &ds, err))
			return -1;
	} else {
		f.datastore = NULL;
	}
	return reply_page(req, resp, &f, err);
}

API_HANDLER(instance_backups_index)
{
	struct instance in;
	if (instance_load(req->params[0], project_scope(req), &in, err))
		return -1;
	struct backup_filter f = {.project = project_scope(req), .instance_id = in.id};
	return reply_page(req, resp, &f, err);
}

API_HANDLER(backups_show)
{
	struct backup_row b;
	if (backup_load(req->params[0], project_scope(req), &b, err))
		return -1;
	return api_reply(resp, 200, json_pack("{s:o}", "backup", backup_view(&b)));
}

/* Trove's utils.validate_command: the value must be what shlex.quote leaves
 * alone; ctrove also keeps '/' out (the container is one name component). */
static int check_container(const char *c, struct ct_error *err)
{
	bool ok = *c != '\0' && strlen(c) <= 200;
	for (const unsigned char *p = (const unsigned char *)c; ok && *p; p++)
		ok = isalnum(*p) || strchr("_@%+=:,.-", *p);
	if (!ok)
		return ct_fail(err, 400, "The value is not allowed: %.255s.", c);
	return 0;
}

/* jsonschema boolean_string: true/false, 0/1, or their string forms. */
static int parse_incremental(const json_t *v, bool *out, struct ct_error *err)
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
	return validate_fail(err, "backup['incremental']",
			     "is not valid under any of the given schemas");
}

struct create_request {
	const char *name, *description, *instance, *parent_id, *swift_container;
	bool incremental;
};

static int parse_create(const json_t *json, struct create_request *r, struct ct_error *err)
{
	static const char *const top[] = {"backup", NULL};
	static const char *const required[] = {"name", NULL};
	memset(r, 0, sizeof *r);
	if (validate_object(json, "", err) || validate_required(json, "", top, err))
		return -1;
	const json_t *body = json_object_get(json, "backup");
	if (validate_object(body, "backup", err) ||
	    validate_required(body, "backup", required, err) ||
	    validate_non_empty_string(json_object_get(body, "name"), "backup['name']", err))
		return -1;
	static const struct {
		const char *key, *path;
		bool uuid;
	} fields[] = {{"description", "backup['description']", false},
		      {"instance", "backup['instance']", true},
		      {"parent_id", "backup['parent_id']", true},
		      {"swift_container", "backup['swift_container']", false}};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const json_t *v = json_object_get(body, fields[i].key);
		if (v && (fields[i].uuid ? validate_uuid(v, fields[i].path, err)
					 : validate_non_empty_string(v, fields[i].path, err)))
			return -1;
	}
	if (parse_incremental(json_object_get(body, "incremental"), &r->incremental, err))
		return -1;
	r->name = json_string_value(json_object_get(body, "name"));
	r->description = json_string_value(json_object_get(body, "description"));
	r->instance = json_string_value(json_object_get(body, "instance"));
	r->parent_id = json_string_value(json_object_get(body, "parent_id"));
	r->swift_container = json_string_value(json_object_get(body, "swift_container"));
	if (strlen(r->name) > 255)
		return ct_fail(err, 400, "Backup name is longer than 255 characters.");
	if (r->description && strlen(r->description) > 512)
		return ct_fail(err, 400, "Backup description is longer than 512 characters.");
	if (r->swift_container && check_container(r->swift_container, err))
		return -1;
	if (json_object_get(body, "restore_from"))
		return ct_fail(err, 501,
			       "Registering a backup from another region (restore_from) is not "
			       "implemented in ctrove.");
	if (!r->instance)
		return ct_fail(err, 400, "instance is missing.");
	return 0;
}

/* The parent of an incremental: the one named, else with `incremental` the
 * instance's newest COMPLETED backup; *has false = a full backup. */
static int choose_parent(const struct create_request *r, const struct instance *in,
			 const char *project, struct backup_row *parent, bool *has,
			 struct ct_error *err)
{
	*has = false;
	if (r->parent_id) {
		if (backup_load(r->parent_id, project, parent, err))
			return -1;
		if (strcmp(parent->instance_id, in->id))
			return ct_fail(err, 400,
				       "Backup %s is not a backup of instance %s; an incremental "
				       "backup builds on a backup of the same instance.",
				       parent->id, in->id);
		if (strcmp(parent->state, "COMPLETED"))
			return ct_fail(err, 422,
				       "Backup %s is not completed (state %s); an incremental "
				       "backup needs a COMPLETED parent.",
				       parent->id, parent->state);
		*has = true;
		return 0;
	}
	if (!r->incremental)
		return 0;
	int found = backup_latest_completed(in->id, parent, err);
	if (found < 0)
		return -1;
	*has = found == 1;
	return 0;
}

static int cast_create(const struct backup_row *b, const struct instance *in,
		       const struct backup_row *parent, const char *container, struct ct_error *err)
{
	json_t *parent_json = parent ? json_pack("{s:s,s:s,s:s}", "id", parent->id, "location",
						 parent->location, "checksum", parent->checksum)
				     : json_null();
	json_t *args = json_pack(
		"{s:{s:s,s:s,s:s?,s:s,s:s,s:n,s:o,s:s,s:s,s:s},s:s}", "backup_info", "id", b->id,
		"name", b->name, "description", b->has_description ? b->description : NULL,
		"instance_id", in->id, "backup_type", b->backup_type, "checksum", "parent",
		parent_json, "datastore", b->datastore_name, "datastore_version",
		in->datastore_version, "swift_container", container, "instance_id", in->id);
	int rc = args ? taskmanager_cast("create_backup", args, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(args);
	return rc;
}

API_HANDLER(backups_create)
{
	struct create_request r;
	if (parse_create(req->json, &r, err))
		return -1;
	struct instance in;
	if (instance_load(r.instance, project_scope(req), &in, err) ||
	    instance_check_can_act(&in, err))
		return -1;
	struct backup_row parent;
	bool has_parent;
	if (choose_parent(&r, &in, project_scope(req), &parent, &has_parent, err))
		return -1;
	char container[256];
	if (r.swift_container) {
		snprintf(container, sizeof container, "%s", r.swift_container);
	} else {
		int found = backup_strategy_container(in.tenant_id, in.id, container,
						      sizeof container, err);
		if (found < 0)
			return -1;
		if (!found)
			snprintf(container, sizeof container, "%s",
				 cfg_str(CFG_BACKUP_SWIFT_CONTAINER));
	}
	struct ds_version v;
	if (dsv_by_id(in.datastore_version_id, 404, &v, err))
		return -1;
	struct backup_row b;
	memset(&b, 0, sizeof b);
	ids_uuid(b.id);
	snprintf(b.name, sizeof b.name, "%s", r.name);
	b.has_description = r.description != NULL;
	snprintf(b.description, sizeof b.description, "%s", r.description ? r.description : "");
	snprintf(b.backup_type, sizeof b.backup_type, "%s", has_parent ? "incremental" : "full");
	snprintf(b.tenant_id, sizeof b.tenant_id, "%s", req->project);
	snprintf(b.instance_id, sizeof b.instance_id, "%s", in.id);
	snprintf(b.parent_id, sizeof b.parent_id, "%s", has_parent ? parent.id : "");
	snprintf(b.datastore_version_id, sizeof b.datastore_version_id, "%s", v.id);
	snprintf(b.datastore_name, sizeof b.datastore_name, "%s", v.datastore_name);
	struct quota_state q;
	if (guest_new_backup_key(b.encrypted_key, sizeof b.encrypted_key, err) ||
	    quota_get(req->project, &q, err) || backup_insert(&b, q.limit[QUOTA_BACKUPS], err))
		return -1;
	log_set_context(req->request_id, in.id);
	api_notify_start(req, "backup_create",
			 json_pack("{s:s,s:s,s:s,s:s,s:s?}", "backup_id", b.id, "name", b.name,
				   "instance_id", in.id, "description",
				   b.has_description ? b.description : "", "parent_id",
				   has_parent ? parent.id : NULL));
	if (cast_create(&b, &in, has_parent ? &parent : NULL, container, err)) {
		/* The taskmanager never heard of it: take the row and the quota back. */
		struct ct_error ignored;
		backup_mark_deleted(b.id, &ignored);
		if (!err->status || err->status == 500)
			ct_fail(err, 503, "The taskmanager cannot be reached; try again later.");
		return -1;
	}
	log_info("backup %s (%s%s%s) of instance %s accepted", b.id, b.backup_type,
		 has_parent ? " on " : "", has_parent ? parent.id : "", in.id);
	struct backup_row shown;
	if (backup_load(b.id, NULL, &shown, err))
		return -1;
	return api_reply(resp, 202, json_pack("{s:o}", "backup", backup_view(&shown)));
}

static int cast_delete(const char *id, struct ct_error *err)
{
	json_t *args = json_pack("{s:s}", "backup_id", id);
	int rc = args ? taskmanager_cast("delete_backup", args, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(args);
	return rc;
}

API_HANDLER(backups_delete)
{
	struct backup_row b;
	if (backup_load(req->params[0], project_scope(req), &b, err))
		return -1;
	/* Trove deletes the incrementals built on a backup with it; none may be
	 * running, and the check comes before any of them is touched. */
	struct backup_row *children = NULL;
	size_t n = 0;
	if (backup_descendants(b.id, &children, &n, err))
		return -1;
	const struct backup_row *running = backup_state_running(b.state) ? &b : NULL;
	for (size_t i = 0; i < n && !running; i++)
		if (backup_state_running(children[i].state))
			running = &children[i];
	if (running) {
		ct_fail(err, 422, "Backup %s cannot be deleted because it is running.",
			running->id);
		free(children);
		return -1;
	}
	int rc = 0;
	api_notify_start(req, "backup_delete", json_pack("{s:s}", "backup_id", b.id));
	for (size_t i = 0; i < n && !rc; i++)
		rc = cast_delete(children[i].id, err);
	if (!rc)
		rc = cast_delete(b.id, err);
	free(children);
	if (rc)
		return -1;
	log_info("backup %s deleted with %zu incremental(s) built on it", b.id, n);
	return api_reply(resp, 202, NULL);
}
