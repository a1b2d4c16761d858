/*
 * nova_server.c — an instance's Nova server (nova_internal.h): booted as
 * trove-<id> from the image with the flavor, the ports, the volume in its
 * block device mapping, the keypair, the availability zone and the guest's
 * user data (and config drive); waited for until ACTIVE, started again when
 * SHUTOFF, moved to another flavor (resize and confirm), deleted and waited
 * for until gone.
 *
 * Owns nothing; may only talk to Nova.
 */
#define LOG_MODULE "compute"
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/nova_internal.h"

int nova_server_find(const char *id, char server[NOVA_ID_MAX], char status[32],
		     struct ct_error *err)
{
	char name[NOVA_NAME_MAX], path[256];
	nova_resource_name(id, name);
	/* Nova's name filter is a regular expression: anchored, and the id's
	 * characters ([A-Za-z0-9_-]) are literal. */
	snprintf(path, sizeof path, "/servers/detail?name=%%5E%s%%24", name);
	json_t *list = nova_list("compute", path, "servers", "listing servers", err);
	if (!list)
		return -1;
	const json_t *s = json_array_get(list, 0);
	const char *sid = json_string_value(json_object_get(s, "id"));
	const char *st = json_string_value(json_object_get(s, "status"));
	int found = sid && strlen(sid) < NOVA_ID_MAX;
	if (found) {
		snprintf(server, NOVA_ID_MAX, "%s", sid);
		snprintf(status, 32, "%s", st ? st : "");
	}
	json_decref(list);
	return found;
}

static json_t *boot_body(const struct nova_boot *b)
{
	const struct compute_spec *s = b->spec;
	char name[NOVA_NAME_MAX];
	nova_resource_name(s->id, name);
	json_t *networks = json_array();
	for (size_t i = 0; networks && i < b->ports->count; i++)
		json_array_append_new(networks, json_pack("{s:s}", "port", b->ports->ids[i]));
	/* The image's own disk boots; the volume is the second disk (vdb). */
	json_t *bdm =
		json_pack("[{s:i,s:s,s:s,s:s,s:b},{s:i,s:s,s:s,s:s,s:s,s:b}]", "boot_index", 0,
			  "uuid", b->image, "source_type", "image", "destination_type", "local",
			  "delete_on_termination", 1, "boot_index", -1, "uuid", b->volume,
			  "source_type", "volume", "destination_type", "volume", "device_name",
			  cfg_str(CFG_BLOCK_DEVICE_MAPPING), "delete_on_termination", 0);
	json_t *server = json_pack(
		"{s:s,s:s,s:s,s:o,s:o,s:s,s:b,s:{s:s,s:s}}", "name", name, "imageRef", b->image,
		"flavorRef", s->flavor_id, "networks", networks, "block_device_mapping_v2", bdm,
		"user_data", b->user_data, "config_drive",
		cfg_bool(CFG_USE_NOVA_SERVER_CONFIG_DRIVE), "metadata", "trove_project_id",
		s->tenant_id ? s->tenant_id : "", "trove_instance_id", s->id);
	if (!server)
		return NULL;
	if (*cfg_str(CFG_NOVA_KEYPAIR))
		json_object_set_new(server, "key_name", json_string(cfg_str(CFG_NOVA_KEYPAIR)));
	if (s->availability_zone && *s->availability_zone)
		json_object_set_new(server, "availability_zone", json_string(s->availability_zone));
	return json_pack("{s:o}", "server", server);
}

/* No answer to the POST: Nova may still have taken it (a loaded nova-api
 * answers after the client gave up). The server, once it shows up under its
 * name, is this build's; otherwise the first error stands. */
static int adopt_late_server(const char *id, char out[NOVA_ID_MAX], struct ct_error *err)
{
	struct ct_error first = *err;
	double deadline = nova_now() + (double)cfg_int(CFG_SC_TIMEOUT);
	for (int attempt = 0; nova_now() < deadline; attempt++) {
		char status[32];
		struct ct_error ignored = {0};
		if (nova_server_find(id, out, status, &ignored) == 1) {
			log_warning("Nova took the server create after all: %s", out);
			return 0;
		}
		nova_poll_sleep(attempt + 10);
	}
	*err = first;
	return -1;
}

int nova_server_ensure(const struct nova_boot *b, char out[NOVA_ID_MAX], struct ct_error *err)
{
	char status[32];
	int found = nova_server_find(b->spec->id, out, status, err);
	if (found)
		return found < 0 ? -1 : 0;
	json_t *body = boot_body(b);
	json_t *reply = NULL;
	int rc = body ? nova_call("compute", "POST", "/servers", body, "creating a server", NULL,
				  NULL, &reply, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(body);
	if (rc && (err->status == 502 || err->status == 504))
		return adopt_late_server(b->spec->id, out, err);
	if (rc)
		return -1;
	const char *sid =
		json_string_value(json_object_get(json_object_get(reply, "server"), "id"));
	rc = sid && strlen(sid) < NOVA_ID_MAX
		     ? (snprintf(out, NOVA_ID_MAX, "%s", sid), 0)
		     : ct_fail(err, 500, "Nova: creating a server answered no id.");
	json_decref(reply);
	return rc;
}

/* What the waits watch of a server: status, task state ("" when none), the
 * flavor's name (microversion 2.47+ shows the flavor, not its id) and the
 * fault's message (for ERROR). */
struct server_view {
	char status[32], task[64], flavor[256], fault[512];
};

static int show(const char *server, struct server_view *v, struct ct_error *err)
{
	char path[128];
	snprintf(path, sizeof path, "/servers/%s", server);
	json_t *reply;
	if (nova_call("compute", "GET", path, NULL, "showing a server", NULL, NULL, &reply, err))
		return -1;
	const json_t *s = json_object_get(reply, "server");
	const char *st = json_string_value(json_object_get(s, "status"));
	const char *task = json_string_value(json_object_get(s, "OS-EXT-STS:task_state"));
	const char *flavor =
		json_string_value(json_object_get(json_object_get(s, "flavor"), "original_name"));
	const char *msg =
		json_string_value(json_object_get(json_object_get(s, "fault"), "message"));
	snprintf(v->status, sizeof v->status, "%s", st ? st : "");
	snprintf(v->task, sizeof v->task, "%s", task ? task : "");
	snprintf(v->flavor, sizeof v->flavor, "%s", flavor ? flavor : "");
	snprintf(v->fault, sizeof v->fault, "%s", msg ? msg : "no fault given");
	json_decref(reply);
	return 0;
}

int nova_server_wait_active(const char *server, long timeout, struct ct_error *err)
{
	double deadline = nova_now() + (double)timeout;
	struct server_view v;
	for (int attempt = 0;; attempt++) {
		if (show(server, &v, err))
			return -1;
		if (!strcmp(v.status, "ACTIVE"))
			return 0;
		if (!strcmp(v.status, "ERROR"))
			return ct_fail(err, 500, "Nova: server %s went to ERROR: %s", server,
				       v.fault);
		if (nova_now() > deadline)
			return ct_fail(err, 504, "Nova: server %s is still %s after %ld s.", server,
				       v.status, timeout);
		nova_poll_sleep(attempt);
	}
}

int nova_server_delete(const char *id, struct ct_error *err)
{
	char server[NOVA_ID_MAX], status[32], path[128];
	int found = nova_server_find(id, server, status, err);
	if (found <= 0)
		return found;
	snprintf(path, sizeof path, "/servers/%s", server);
	static const long ok[] = {204, 404, 0};
	if (nova_call("compute", "DELETE", path, NULL, "deleting a server", ok, NULL, NULL, err))
		return -1;
	long timeout = cfg_int(CFG_SERVER_DELETE_TIME_OUT);
	double deadline = nova_now() + (double)timeout;
	for (int attempt = 0;; attempt++) {
		struct server_view v;
		struct ct_error gone = {0};
		if (show(server, &v, &gone))
			return gone.status == 404 ? 0 : (*err = gone, -1);
		if (!strcmp(v.status, "DELETED") || !strcmp(v.status, "SOFT_DELETED"))
			return 0;
		if (nova_now() > deadline)
			return ct_fail(err, 500,
				       "Nova: server %s is still %s %ld s after its deletion "
				       "(server_delete_time_out).",
				       server, v.status, timeout);
		nova_poll_sleep(attempt);
	}
}

int nova_server_start(const char *server, struct ct_error *err)
{
	char path[128];
	snprintf(path, sizeof path, "/servers/%s/action", server);
	json_t *body = json_pack("{s:n}", "os-start");
	static const long ok[] = {202, 409, 0}; /* 409: already starting */
	int rc = body ? nova_call("compute", "POST", path, body, "starting a server", ok, NULL,
				  NULL, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(body);
	return rc;
}

/* One action on server (POST /servers/<id>/action) answered with ok. */
static int server_action(const char *server, json_t *body, const char *what, const long *ok,
			 struct ct_error *err)
{
	char path[128];
	snprintf(path, sizeof path, "/servers/%s/action", server);
	int rc = body ? nova_call("compute", "POST", path, body, what, ok, NULL, NULL, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(body);
	return rc;
}

/* The name of Nova's flavor flavor_id (what a server shows of its flavor). */
static int flavor_name(const char *flavor_id, char out[256], struct ct_error *err)
{
	char path[320];
	snprintf(path, sizeof path, "/flavors/%s", flavor_id);
	json_t *reply;
	if (nova_call("compute", "GET", path, NULL, "showing a flavor", NULL, NULL, &reply, err))
		return -1;
	const char *name =
		json_string_value(json_object_get(json_object_get(reply, "flavor"), "name"));
	int rc = name ? (snprintf(out, 256, "%s", name), 0)
		      : ct_fail(err, 500, "Nova: flavor %s has no name.", flavor_id);
	json_decref(reply);
	return rc;
}

int nova_server_resize(const char *id, const char *flavor_id, struct ct_error *err)
{
	char server[NOVA_ID_MAX], status[32], wanted[256];
	int found = nova_server_find(id, server, status, err);
	if (found <= 0)
		return found < 0 ? -1 : ct_fail(err, 404, "Nova: instance %s has no server.", id);
	if (flavor_name(flavor_id, wanted, err))
		return -1;
	struct server_view v;
	if (show(server, &v, err))
		return -1;
	if (!strcmp(v.status, "ACTIVE") && !v.task[0] && !strcmp(v.flavor, wanted))
		return 0; /* already there: a retried or reverted resize */
	static const long accepted[] = {202, 0};
	if (server_action(server, json_pack("{s:{s:s}}", "resize", "flavorRef", flavor_id),
			  "resizing a server", accepted, err))
		return -1;
	/* Trove's resize_time_out bounds the move; the confirm is quick. */
	long timeout = cfg_int(CFG_RESIZE_TIME_OUT);
	double deadline = nova_now() + (double)timeout;
	bool confirmed = false, moving = false;
	for (int attempt = 0;; attempt++) {
		if (show(server, &v, err))
			return -1;
		if (!strcmp(v.status, "ERROR"))
			return ct_fail(err, 500, "Nova: server %s went to ERROR while resized: %s",
				       server, v.fault);
		moving = moving || v.task[0] || strcmp(v.status, "ACTIVE");
		if (!strcmp(v.status, "VERIFY_RESIZE") && !confirmed) {
			/* 409 when Nova confirmed it by itself meanwhile. */
			static const long done[] = {202, 204, 409, 0};
			if (server_action(server, json_pack("{s:n}", "confirmResize"),
					  "confirming a resize", done, err))
				return -1;
			confirmed = true;
		} else if (!strcmp(v.status, "ACTIVE") && !v.task[0] && moving) {
			if (!strcmp(v.flavor, wanted))
				return 0;
			/* Back to ACTIVE on the old flavor: Nova gave up (no host,
			 * say); its reason is in the server's instance actions. */
			return ct_fail(err, 500,
				       "Nova: server %s is ACTIVE on flavor %s, not %s: the resize "
				       "failed (see its instance actions).",
				       server, v.flavor, wanted);
		}
		if (nova_now() > deadline)
			return ct_fail(err, 504,
				       "Nova: server %s is still %s after %ld s (resize_time_out).",
				       server, v.status, timeout);
		nova_poll_sleep(attempt);
	}
}
