/*
 * instances.c — reading instances: GET /instances, /instances/detail and
 * /instances/{id} (spec trove-api.md §3, §6.1, §7.1), written straight to JSON
 * text (common/json_writer.h): these are the API's hottest responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/handlers.h"
#include "api/instance_failover.h"
#include "api/instance_pitr.h"
#include "api/instance_status.h"
#include "common/config.h"
#include "common/timefmt.h"
#include "db/guest_reports.h"
#include "db/instance_rows.h"
#include "db/instances.h"
#include "guest/api.h"

static void write_fault(struct json_writer *w, const char *id)
{
	struct ct_error ignored = {0};
	struct instance_fault fault;
	if (instance_latest_fault(id, &fault, &ignored) != 1)
		return;
	char when[CT_TIME_LEN];
	timefmt_db_to_trove(fault.created, when);
	json_writer_key(w, "fault");
	json_writer_object_begin(w);
	json_writer_key_string(w, "message", fault.message);
	json_writer_key_string(w, "created", when);
	json_writer_key(w, "details");
	json_writer_null(w);
	json_writer_object_end(w);
}

static void write_time(struct json_writer *w, const char *key, const char *db_time)
{
	char when[CT_TIME_LEN];
	timefmt_db_to_trove(db_time, when);
	json_writer_key_string(w, key, when);
}

/* Trove: the stored access object, else {"is_public": <a public address
 * exists>} when the instance has addresses (ours are private), else {}. */
static void write_access(struct json_writer *w, const struct instance_row *row)
{
	json_writer_key(w, "access");
	const char *stored = row->access ? row->access : "";
	json_t *access = *stored ? json_loads(stored, 0, NULL) : NULL;
	if (json_is_object(access) && json_object_size(access) > 0) {
		json_writer_value(w, access);
	} else {
		json_writer_object_begin(w);
		if (row->address) {
			json_writer_key(w, "is_public");
			json_writer_bool(w, false);
		}
		json_writer_object_end(w);
	}
	json_decref(access);
}

/* Age of the last heartbeat in seconds; 0 when there is none. (Computed here,
 * not by SQLite's strftime() per row: that was 7% of a list request.) */
static long long heartbeat_age(const struct instance_row *row)
{
	time_t at;
	if (!row->service_updated || !timefmt_db_parse(row->service_updated, &at))
		return 0;
	return (long long)(time(NULL) - at);
}

static struct instance_state row_state(const struct instance_row *row)
{
	return (struct instance_state){
		.task_id = row->task_id,
		.server_status = row->server_status,
		.service_status_id = row->service_status,
		.backup_running = row->backup_running,
		.heartbeat_expired = heartbeat_age(row) >= cfg_int(CFG_AGENT_HEARTBEAT_EXPIRY),
	};
}

/* Trove's replica_of {id, links} and replicas [{id, links}...]; ctrove's
 * replication_lag (seconds, null until the replica reports it) on a replica's
 * detail. */
static void write_replication(struct json_writer *w, const struct api_request *req,
			      const struct instance_row *row, bool detail)
{
	if (row->replica_of) {
		json_writer_key(w, "replica_of");
		json_writer_object_begin(w);
		json_writer_key_string(w, "id", row->replica_of);
		api_write_links(w, req, "instances", row->replica_of);
		json_writer_object_end(w);
		if (detail) {
			json_writer_key(w, "replication_lag");
			if (row->has_replication_lag)
				json_writer_real(w, row->replication_lag);
			else
				json_writer_null(w);
		}
	}
	if (row->replica_ids && *row->replica_ids) {
		json_writer_key(w, "replicas");
		json_writer_array_begin(w);
		for (const char *p = row->replica_ids; *p;) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			char id[64];
			snprintf(id, sizeof id, "%.*s", (int)(len < 63 ? len : 63), p);
			json_writer_object_begin(w);
			json_writer_key_string(w, "id", id);
			api_write_links(w, req, "instances", id);
			json_writer_object_end(w);
			p += len + (end ? 1 : 0);
		}
		json_writer_array_end(w);
	}
}

/* One instance as Trove shows it; volume_used NULL leaves volume.used out. */
static void write_instance(struct json_writer *w, const struct api_request *req,
			   const struct instance_row *row, bool detail, const double *volume_used)
{
	struct instance_state state = row_state(row);
	const char *status = instance_status(&state);
	json_writer_object_begin(w);
	json_writer_key_string(w, "id", row->id);
	json_writer_key_string(w, "name", row->name);
	json_writer_key_string(w, "status", status);
	json_writer_key_string(w, "operating_status", instance_operating_status(&state));
	api_write_links(w, req, "instances", row->id);
	json_writer_key(w, "flavor");
	json_writer_object_begin(w);
	json_writer_key_string(w, "id", row->flavor_id);
	api_write_links(w, req, "flavors", row->flavor_id);
	json_writer_object_end(w);
	json_writer_key(w, "datastore");
	json_writer_object_begin(w);
	json_writer_key_string(w, "type", row->datastore);
	json_writer_key_string(w, "version", row->datastore_version);
	if (detail)
		json_writer_key_string(w, "version_number", row->datastore_version_number);
	json_writer_object_end(w);
	json_writer_key_string(w, "region", row->region_id);
	write_access(w, row);
	json_writer_key(w, "volume");
	json_writer_object_begin(w);
	json_writer_key_int(w, "size", row->volume_size);
	if (volume_used) {
		json_writer_key(w, "used");
		json_writer_real(w, *volume_used);
	}
	json_writer_object_end(w);
	/* The address appears once the build is past the compute step (Trove
	 * shows none while BUILDING). */
	if (row->address && state.task_id != TASK_BUILDING) {
		json_writer_key(w, "ip");
		json_writer_array_begin(w);
		json_writer_string(w, row->address);
		json_writer_array_end(w);
		json_writer_key(w, "addresses");
		json_writer_array_begin(w);
		json_writer_object_begin(w);
		json_writer_key_string(w, "address", row->address);
		json_writer_key_string(w, "type", "private");
		json_writer_object_end(w);
		json_writer_array_end(w);
	}
	write_replication(w, req, row, detail);
	/* The fault is read only where it is shown: a detail view. */
	if (detail)
		write_fault(w, row->id);
	if (detail)
		instance_pitr_write_window(w, row->id);
	if (detail && row->configuration_id) {
		json_writer_key(w, "configuration");
		json_writer_object_begin(w);
		json_writer_key_string(w, "id", row->configuration_id);
		json_writer_key_string(w, "name",
				       row->configuration_name ? row->configuration_name : "");
		api_write_links(w, req, "configurations", row->configuration_id);
		json_writer_object_end(w);
	}
	if (detail)
		instance_failover_write(w, row->id);
	if (detail) {
		write_time(w, "created", row->created);
		write_time(w, "updated", row->updated);
		write_time(w, "service_status_updated", row->service_updated);
	}
	json_writer_object_end(w);
}

/* limit query parameter: absent -> page size; otherwise 1..page size. */
static int page_limit(const struct api_request *req, long *limit, struct ct_error *err)
{
	long page = cfg_int(CFG_INSTANCES_PAGE_SIZE);
	const char *text = api_query(req, "limit");
	*limit = page > 0 && page <= 1000 ? page : 20;
	if (!text)
		return 0;
	char *end;
	long v = strtol(text, &end, 10);
	if (!*text || *end || v <= 0)
		return ct_fail(err, 400, "limit must be a positive integer.");
	*limit = v < page ? v : page;
	if (*limit > 1000)
		*limit = 1000;
	return 0;
}

/* One written instance of a list page, sorted by creation time. */
struct listed {
	char created[CT_TIME_LEN];
	char *text;
	size_t len;
};

static int by_created_desc(const void *a, const void *b)
{
	return strcmp(((const struct listed *)b)->created, ((const struct listed *)a)->created);
}

static void free_listed(struct listed *items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(items[i].text);
	free(items);
}

/* "links": [{"rel": "next", ...}] of a page that has more after last_id. */
static void write_next_link(struct json_writer *w, const struct api_request *req, long limit,
			    const char *last_id)
{
	char base[300], href[1024];
	api_link_base(req, base, sizeof base);
	/* The request's own query with the marker set, as Trove builds it. */
	if (api_query(req, "limit"))
		snprintf(href, sizeof href, "%s%s?limit=%ld&marker=%s", base, req->path, limit,
			 last_id);
	else
		snprintf(href, sizeof href, "%s%s?marker=%s", base, req->path, last_id);
	json_writer_key(w, "links");
	json_writer_array_begin(w);
	json_writer_object_begin(w);
	json_writer_key_string(w, "rel", "next");
	json_writer_key_string(w, "href", href);
	json_writer_object_end(w);
	json_writer_array_end(w);
}

/* A list page being written: each row into its own text, sorted afterwards. */
struct page {
	const struct api_request *req;
	bool detail;
	struct listed *items;
	size_t count;
	char last_id[64];
};

static int list_row(void *ctx, const struct instance_row *row, struct ct_error *err)
{
	struct page *p = ctx;
	struct listed *item = &p->items[p->count];
	struct json_writer w;
	json_writer_init(&w);
	write_instance(&w, p->req, row, p->detail, NULL);
	item->text = json_writer_finish(&w, &item->len);
	if (!item->text)
		return ct_fail(err, 500, "out of memory writing instances");
	snprintf(item->created, sizeof item->created, "%s", row->created);
	snprintf(p->last_id, sizeof p->last_id, "%s", row->id);
	p->count++;
	return 0;
}

API_HANDLER(instances_index)
{
	long limit;
	if (page_limit(req, &limit, err))
		return -1;
	const char *clustered = api_query(req, "include_clustered");
	struct page page = {
		.req = req,
		.detail = req->nparams == 0 && strstr(req->path, "/instances/detail") != NULL,
		.items = calloc((size_t)limit, sizeof *page.items),
	};
	if (!page.items)
		return ct_fail(err, 500, "out of memory");
	/* Trove pages by id and shows each page newest first. */
	bool more = false;
	if (instance_rows_page(req->project, api_query(req, "marker"),
			       clustered && !strcasecmp(clustered, "true"), limit, list_row, &page,
			       &more, err)) {
		free_listed(page.items, page.count);
		return -1;
	}
	qsort(page.items, page.count, sizeof page.items[0], by_created_desc);
	struct json_writer w;
	json_writer_init(&w);
	json_writer_object_begin(&w);
	json_writer_key(&w, "instances");
	json_writer_array_begin(&w);
	for (size_t i = 0; i < page.count; i++)
		json_writer_raw(&w, page.items[i].text, page.items[i].len);
	json_writer_array_end(&w);
	free_listed(page.items, page.count);
	if (more)
		write_next_link(&w, req, limit, page.last_id);
	json_writer_object_end(&w);
	return api_reply_written(resp, 200, &w, err);
}

/* Trove's way: ask the guest (get_filesystem_stats), briefly. */
static bool asked_volume_used(const char *id, const char *key, double *used)
{
	struct ct_error ignored = {0};
	const struct guest_ref guest = {id, key};
	struct guest_fs_stats stats;
	if (guest_get_filesystem_stats(&guest, &stats, &ignored))
		return false;
	*used = stats.used;
	return true;
}

/* Showing one instance. volume.used is the guest's last report when recent;
 * else it is asked live, with the row released (the guest may take seconds),
 * and the row read again. */
struct show {
	const struct api_request *req;
	struct json_writer *w;
	bool asked; /* the second pass, after asking the guest */
	bool have_used;
	double used;
	bool ask_guest; /* out of the first pass */
	char key[256];	/* the instance's encrypted RPC key, for asking */
};

static bool shows_volume_used(const char *status)
{
	return !strcmp(status, "ACTIVE") || !strcmp(status, "BACKUP") ||
	       !strcmp(status, "RESTART_REQUIRED");
}

static int show_row(void *ctx, const struct instance_row *row, struct ct_error *err)
{
	struct show *s = ctx;
	if (!s->asked) {
		struct instance_state state = row_state(row);
		if (shows_volume_used(instance_status(&state))) {
			int found = volume_usage_recent(row->id, cfg_int(CFG_VOLUME_USAGE_MAX_AGE),
							&s->used, err);
			if (found < 0)
				return -1;
			s->have_used = found;
			if (!found) {
				s->ask_guest = true;
				snprintf(s->key, sizeof s->key, "%s",
					 row->encrypted_key ? row->encrypted_key : "");
				return 0;
			}
		}
	}
	json_writer_object_begin(s->w);
	json_writer_key(s->w, "instance");
	write_instance(s->w, s->req, row, true, s->have_used ? &s->used : NULL);
	json_writer_object_end(s->w);
	return 0;
}

int instance_reply_detail(struct api_request *req, struct api_response *resp, const char *id,
			  int status_code, struct ct_error *err)
{
	struct json_writer w;
	json_writer_init(&w);
	struct show s = {.req = req, .w = &w};
	int rc = instance_rows_one(req->project, id, show_row, &s, err);
	if (!rc && s.ask_guest) {
		s.asked = true;
		s.have_used = asked_volume_used(id, s.key, &s.used);
		rc = instance_rows_one(req->project, id, show_row, &s, err);
	}
	if (rc) {
		json_writer_discard(&w);
		return -1;
	}
	return api_reply_written(resp, status_code, &w, err);
}

API_HANDLER(instances_show)
{
	return instance_reply_detail(req, resp, req->params[0], 200, err);
}
