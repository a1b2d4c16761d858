/*
 * metrics.c — see metrics.h. Every instance from one SELECT
 * (db/instance_metrics.h) of what heartbeats recorded, so a scrape never calls
 * a guest; each metric family is written into a buffer of its own, sized by
 * the last scrape, and the families are joined once at the end (the text
 * format wants each family's samples together). Labels other than
 * instance_id are on ctrove_instance_status only. Then the control plane's
 * own counters (request_metrics.h). Owns the instance families' names and
 * help; may not read rows but through src/db/.
 */
#define LOG_MODULE "api"
#include "api/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "api/instance_status.h"
#include "api/request_metrics.h"
#include "common/config.h"
#include "common/text_buffer.h"
#include "common/timefmt.h"
#include "db/instance_metrics.h"
#include "db/instances.h"

enum family {
	F_STATUS,
	F_VOLUME_SIZE,
	F_VOLUME_USED,
	F_SERVER_UP,
	F_HEARTBEAT_AGE,
	F_CONNECTIONS,
	F_QPS,
	F_QUERIES,
	F_LAG,
	F_BACKUP_AGE,
	F_COUNT
};

static const struct {
	const char *name, *type, *help;
} families[F_COUNT] = {
	[F_STATUS] = {"ctrove_instance_status", "gauge",
		      "1 for the instance's status as the API shows it (label status)."},
	[F_VOLUME_SIZE] = {"ctrove_instance_volume_size_bytes", "gauge",
			   "Size of the instance's volume."},
	[F_VOLUME_USED] = {"ctrove_instance_volume_used_bytes", "gauge",
			   "Bytes used on the volume, as the last heartbeat reported."},
	[F_SERVER_UP] = {"ctrove_instance_server_up", "gauge",
			 "1 when the database answered its guest agent and the heartbeat is "
			 "fresh."},
	[F_HEARTBEAT_AGE] = {"ctrove_instance_heartbeat_age_seconds", "gauge",
			     "Seconds since the guest agent's last heartbeat."},
	[F_CONNECTIONS] = {"ctrove_instance_connections", "gauge",
			   "Client connections to the database server."},
	[F_QPS] = {"ctrove_instance_queries_per_second", "gauge",
		   "Queries per second between the last two heartbeats (PostgreSQL: "
		   "transactions)."},
	[F_QUERIES] = {"ctrove_instance_queries_total", "counter",
		       "Queries since the server started (PostgreSQL: transactions)."},
	[F_LAG] = {"ctrove_instance_replication_lag_seconds", "gauge",
		   "How far a replica is behind its source (replicas only)."},
	[F_BACKUP_AGE] = {"ctrove_instance_last_backup_age_seconds", "gauge",
			  "Seconds since the instance's newest completed backup."},
};

/* Bytes each family took last time: the next scrape allocates them at once. */
static atomic_size_t size_hint[F_COUNT];

#define GB (1024.0 * 1024.0 * 1024.0)

struct scrape {
	struct text_buffer out[F_COUNT];
	time_t now;
	long expiry;
	long long instances;
};

/* A label value with \, " and newline escaped (names are the users'). */
static void label_value(struct text_buffer *b, const char *v)
{
	const char *run = v;
	for (; *v; v++) {
		const char *esc = *v == '\\'   ? "\\\\"
				  : *v == '"'  ? "\\\""
				  : *v == '\n' ? "\\n"
					       : NULL;
		if (!esc)
			continue;
		text_buffer_append(b, run, (size_t)(v - run));
		text_buffer_puts(b, esc);
		run = v + 1;
	}
	text_buffer_append(b, run, (size_t)(v - run));
}

/* Most values are whole numbers (bytes, counts, seconds): written without
 * printf, which was most of a scrape's time with %.17g on every sample. */
static void number(struct text_buffer *b, double value)
{
	if (value >= 0 && value < 1e15 && value == (double)(long long)value) {
		char digits[24];
		size_t n = sizeof digits;
		long long v = (long long)value;
		do {
			digits[--n] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		text_buffer_append(b, digits + n, sizeof digits - n);
	} else {
		text_buffer_printf(b, "%.17g", value);
	}
}

/* name{instance_id="..."} value — the other labels are on
 * ctrove_instance_status alone (join on instance_id). */
static void sample(struct scrape *s, enum family f, const struct instance_metrics_row *row,
		   double value)
{
	struct text_buffer *b = &s->out[f];
	text_buffer_puts(b, families[f].name);
	text_buffer_puts(b, "{instance_id=\"");
	text_buffer_puts(b, row->id); /* uuids: nothing to escape */
	text_buffer_puts(b, "\"} ");
	number(b, value);
	text_buffer_puts(b, "\n");
}

static long long age_of(const char *db_time, time_t now)
{
	time_t at;
	if (!db_time || !timefmt_db_parse(db_time, &at))
		return -1;
	return now > at ? (long long)(now - at) : 0;
}

static int write_instance(void *ctx, const struct instance_metrics_row *row, struct ct_error *err)
{
	struct scrape *s = ctx;
	long long heartbeat_age = age_of(row->service_updated, s->now);
	bool expired = heartbeat_age < 0 || heartbeat_age >= s->expiry;
	struct instance_state state = {
		.task_id = row->task_id,
		.server_status = row->server_status,
		.service_status_id = row->service_status,
		.backup_running = row->backup_running,
		.heartbeat_expired = heartbeat_age >= s->expiry,
	};
	struct text_buffer *b = &s->out[F_STATUS];
	text_buffer_puts(b, "ctrove_instance_status{instance_id=\"");
	text_buffer_puts(b, row->id);
	text_buffer_puts(b, "\",project_id=\"");
	label_value(b, row->project_id);
	text_buffer_puts(b, "\",name=\"");
	label_value(b, row->name);
	text_buffer_puts(b, "\",datastore=\"");
	label_value(b, row->datastore);
	text_buffer_puts(b, "\",status=\"");
	text_buffer_puts(b, instance_status(&state));
	text_buffer_puts(b, "\"} 1\n");

	sample(s, F_VOLUME_SIZE, row, (double)row->volume_size * GB);
	if (row->has_volume_used)
		sample(s, F_VOLUME_USED, row, row->volume_used_gb * GB);
	sample(s, F_SERVER_UP, row, row->service_status == SERVICE_HEALTHY && !expired ? 1 : 0);
	if (heartbeat_age >= 0)
		sample(s, F_HEARTBEAT_AGE, row, (double)heartbeat_age);
	if (row->has_server) {
		sample(s, F_CONNECTIONS, row, (double)row->connections);
		sample(s, F_QPS, row, row->queries_per_second);
		sample(s, F_QUERIES, row, (double)row->queries);
	}
	if (row->has_replication_lag)
		sample(s, F_LAG, row, row->replication_lag);
	long long backup_age = age_of(row->last_backup, s->now);
	if (backup_age >= 0)
		sample(s, F_BACKUP_AGE, row, (double)backup_age);
	s->instances++;
	(void)err;
	return 0;
}

static void reply_text(struct api_response *resp, int status, const char *text)
{
	struct text_buffer b;
	text_buffer_init(&b, strlen(text) + 1);
	text_buffer_puts(&b, text);
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->text = text_buffer_take(&b, &resp->text_len);
}

void metrics_dispatch(struct api_request *req, struct api_response *resp)
{
	struct ct_error err = {0};
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		reply_text(resp, 405, "Method Not Allowed\n");
		return;
	}
	if (!req->auth_token || !*req->auth_token ||
	    auth_validate(req->auth_token, &req->who, &err)) {
		/* Keystone could not say (503): not the scraper's fault. */
		if (err.status == 503)
			reply_text(resp, 503, "Service Unavailable\n");
		else
			reply_text(resp, 401, "Unauthorized\n");
		return;
	}
	if (!req->who.is_admin) {
		reply_text(resp, 403, "Policy doesn't allow metrics to be read.\n");
		return;
	}
	struct scrape s = {.now = time(NULL), .expiry = cfg_int(CFG_AGENT_HEARTBEAT_EXPIRY)};
	for (int f = 0; f < F_COUNT; f++) {
		text_buffer_init(&s.out[f], atomic_load(&size_hint[f]) + 4096);
		text_buffer_printf(&s.out[f], "# HELP %s %s\n# TYPE %s %s\n", families[f].name,
				   families[f].help, families[f].name, families[f].type);
	}
	int rc = instance_metrics_each(write_instance, &s, &err);
	size_t total = 0;
	for (int f = 0; f < F_COUNT; f++) {
		atomic_store(&size_hint[f], s.out[f].len);
		total += s.out[f].len;
	}
	struct text_buffer all;
	text_buffer_init(&all, total + 8192);
	for (int f = 0; f < F_COUNT; f++) {
		text_buffer_append(&all, s.out[f].data ? s.out[f].data : "", s.out[f].len);
		text_buffer_free(&s.out[f]);
	}
	text_buffer_printf(&all,
			   "# HELP ctrove_instances Instances not deleted.\n"
			   "# TYPE ctrove_instances gauge\nctrove_instances %lld\n",
			   s.instances);
	api_metrics_write(&all);
	if (rc) {
		text_buffer_free(&all);
		api_reply_error(resp, &err);
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->text = text_buffer_take(&all, &resp->text_len);
	if (!resp->text)
		reply_text(resp, 500, "Out of memory\n");
}
