/*
 * notifications.c — see notifications.h.
 */
#define LOG_MODULE "taskmanager"

#include "taskmanager/notifications.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "db/instance_usage.h"
#include "db/instances.h"
#include "rpc/notifier.h"
#include "taskmanager/periodic.h"

/* Trove's default notification_service_id for the datastores ctrove runs. */
static const char *service_id(const char *manager)
{
	if (!strcmp(manager, "mysql"))
		return "2f3ff068-2bfb-4f70-9a9d-a6bb65bc084b";
	if (!strcmp(manager, "mariadb"))
		return "7a4f82cc-10d2-4bc6-aadc-d9aacc2a3cb5";
	if (!strcmp(manager, "postgresql"))
		return "ac277e0d-4f21-40aa-b347-1ea31e571720";
	return "unknown-service-id-error";
}

/* Trove's instance.status.lower() for what the taskmanager knows of a row. */
static const char *usage_state(const struct instance_usage *u)
{
	if (u->deleted)
		return "deleted";
	switch (u->task_id) {
	case TASK_NONE: break;
	case TASK_BUILDING: return "build";
	case TASK_DELETING: return "shutdown";
	case TASK_REBOOTING: return "reboot";
	case TASK_RESIZING: return "resize";
	case TASK_PROMOTING: return "promote";
	case TASK_EJECTING: return "eject";
	case TASK_DETACHING: return "detach";
	case TASK_UPDATING: return "update";
	default: return "error";
	}
	switch (u->service_status) {
	case SERVICE_RUNNING:
	case SERVICE_HEALTHY:
	case SERVICE_INSTANCE_READY: return "active";
	case SERVICE_SHUTDOWN: return "shutdown";
	case SERVICE_RESTART_REQUIRED: return "restart_required";
	case SERVICE_RESTARTING: return "reboot";
	case SERVICE_NEW:
	case SERVICE_BUILDING: return "build";
	default: return "error";
	}
}

/* "2026-12-07T05:40:54Z" from DB time text, as Trove's isotime(); NULL for "". */
static json_t *iso_time(const char *db)
{
	char t[CT_TIME_LEN];
	timefmt_db_to_trove(db, t);
	if (!t[0])
		return json_null();
	char z[CT_TIME_LEN + 2];
	snprintf(z, sizeof z, "%sZ", t);
	return json_string(z);
}

static json_t *text_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* The fields every trove.instance.* event has (TroveBaseTraits, TroveCommonTraits,
 * and the exists transformer's). */
static json_t *instance_traits(const struct instance_usage *u)
{
	const char *state = usage_state(u);
	json_t *p = json_pack(
		"{s:o,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:o,s:o,s:o,s:I,s:o,s:s,s:n,s:n}",
		"created_at", iso_time(u->created), "name", u->name, "instance_id", u->id,
		"instance_name", u->name, "instance_type_id", text_or_null(u->flavor_id),
		"launched_at", iso_time(u->created), "nova_instance_id",
		text_or_null(u->compute_id), "region", cfg_str(CFG_REGION), "state_description",
		state, "state", state, "instance_type", text_or_null(u->flavor_name),
		"instance_size", u->flavor_ram ? json_integer(u->flavor_ram) : json_null(),
		"nova_volume_id", text_or_null(u->volume_id), "volume_size",
		(json_int_t)u->volume_size, "tenant_id", text_or_null(u->tenant_id), "service_id",
		service_id(u->manager), "user_id", "availability_zone");
	return p;
}

void tm_notify_usage(const char *event, const char *instance_id, json_t *extra)
{
	if (!notifier_enabled()) {
		json_decref(extra);
		return;
	}
	struct ct_error err = {0};
	struct instance_usage u;
	if (instance_usage_get(instance_id, &u, &err)) {
		log_warning("no trove.instance.%s notification: %s", event, err.message);
		json_decref(extra);
		return;
	}
	json_t *payload = instance_traits(&u);
	if (payload && extra)
		json_object_update(payload, extra);
	json_decref(extra);
	if (!payload)
		return;
	if (u.deleted)
		json_object_set_new(payload, "deleted_at", iso_time(u.deleted_at));
	char event_type[96];
	snprintf(event_type, sizeof event_type, "trove.instance.%s", event);
	notifier_info(NULL, event_type, payload, log_request_id(), u.tenant_id);
}

/* The API's client and server addresses are in its start event; the end names this
 * host. The tenant is the instance's when the caller has none at hand. */
static void send_dbaas(const char *event, const char *qualifier, const char *tenant_id,
		       const char *instance_id, json_t *traits)
{
	struct instance_usage u = {0};
	struct ct_error err = {0};
	if (!tenant_id && instance_id && !instance_usage_get(instance_id, &u, &err))
		tenant_id = u.tenant_id;
	const struct notifier_origin origin = {
		.service = "taskmanager", .request_id = log_request_id(), .tenant_id = tenant_id};
	notifier_dbaas(&origin, event, qualifier, traits);
}

void tm_notify_end(const char *event, const char *tenant_id, const char *instance_id,
		   json_t *traits)
{
	if (!notifier_enabled()) {
		json_decref(traits);
		return;
	}
	send_dbaas(event, "end", tenant_id, instance_id, traits);
}

void tm_notify_error(const char *event, const char *tenant_id, const char *instance_id,
		     const char *message)
{
	if (!notifier_enabled())
		return;
	/* Trove sends the formatted traceback; ctrove has none, so the message alone. */
	json_t *traits = json_pack("{s:s,s:[s]}", "message", message ? message : "", "exception",
				   message ? message : "");
	if (traits && instance_id)
		json_object_set_new(traits, "instance_id", json_string(instance_id));
	send_dbaas(event, "error", tenant_id, instance_id, traits);
}

/* ---- trove.instance.exists ------------------------------------------------------ */

void tm_notify_exists_round(void)
{
	if (!notifier_enabled())
		return;
	struct ct_error err = {0};
	struct instance_usage *rows = NULL;
	size_t n = 0;
	if (instance_usage_list(&rows, &n, &err)) {
		log_warning("no trove.instance.exists round: %s", err.message);
		return;
	}
	time_t now = time(NULL);
	char begin[CT_TIME_LEN], end[CT_TIME_LEN];
	timefmt_zulu(now - cfg_int(CFG_EXISTS_NOTIFICATION_INTERVAL), begin);
	timefmt_zulu(now, end);
	for (size_t i = 0; i < n; i++) {
		json_t *payload = instance_traits(&rows[i]);
		if (!payload)
			continue;
		json_object_set_new(payload, "audit_period_beginning", json_string(begin));
		json_object_set_new(payload, "audit_period_ending", json_string(end));
		json_object_set_new(payload, "display_name", json_string(rows[i].name));
		notifier_info("taskmanager", "trove.instance.exists", payload, NULL,
			      rows[i].tenant_id);
	}
	log_debug("trove.instance.exists for %zu instance(s)", n);
	free(rows);
}

static long exists_interval_ms(void)
{
	long s = cfg_int(CFG_EXISTS_NOTIFICATION_INTERVAL);
	return (s < 1 ? 1 : s) * 1000;
}

static struct periodic exists_loop = PERIODIC("the trove.instance.exists audit",
					      tm_notify_exists_round, exists_interval_ms, true);

int tm_notify_exists_start(struct ct_error *err)
{
	if (!cfg_str(CFG_EXISTS_NOTIFICATION_TRANSFORMER)[0] || !notifier_enabled())
		return 0;
	return periodic_start(&exists_loop, err);
}

void tm_notify_exists_stop(void)
{
	periodic_stop(&exists_loop);
}
