/*
 * nova_driver.c — the nova compute driver's table (nova.h) and the steps of
 * create and delete in their order; the requests themselves are in
 * nova_image.c (Glance), nova_volume.c (Cinder), nova_network.c (Neutron),
 * nova_server.c (Nova) and nova_userdata.c (what the guest is given).
 *
 * Owns the driver's Keystone session (made at init, freed at shutdown). May
 * not touch the control-plane database nor the bus; finds every resource of
 * an instance again by its name, so create can be run again after a crash and
 * delete cleans up whatever a failed create left.
 */
#define LOG_MODULE "compute"
#include "compute/nova.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/nova_internal.h"
#include "compute/paths.h"
#include "guest/datastore_hooks.h"
#include "openstack/service_session.h"

static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static struct os_session *session; /* under session_lock until shutdown */

static struct os_session *driver_session(struct ct_error *err)
{
	pthread_mutex_lock(&session_lock);
	if (!session)
		session = os_service_session_new(err);
	struct os_session *s = session;
	pthread_mutex_unlock(&session_lock);
	return s;
}

static const char *service_label(const char *service)
{
	if (!strcmp(service, "compute"))
		return "Nova";
	if (!strcmp(service, "volumev3"))
		return "Cinder";
	if (!strcmp(service, "network"))
		return "Neutron";
	if (!strcmp(service, "image"))
		return "Glance";
	return service;
}

int nova_call(const char *service, const char *method, const char *path, const json_t *body,
	      const char *what, const long *ok, long *status, json_t **reply, struct ct_error *err)
{
	struct os_session *s = driver_session(err);
	if (!s)
		return -1;
	/* 2.67: block device mappings with volume types, servers' user data shown
	 * to admins; Zed's Nova speaks up to 2.93. */
	static const char *const compute_headers[] = {"OpenStack-API-Version: compute 2.67",
						      "X-OpenStack-Nova-API-Version: 2.67", NULL};
	/* 3.42: extending an attached (in-use) volume. */
	static const char *const volume_headers[] = {"OpenStack-API-Version: volume 3.42", NULL};
	const char *const *headers = !strcmp(service, "compute")    ? compute_headers
				     : !strcmp(service, "volumev3") ? volume_headers
								    : NULL;
	long got = 0;
	json_t *answer = NULL;
	if (os_request(s, service, method, path, body, headers, &got, &answer, err))
		return -1;
	bool fine = !ok && got >= 200 && got < 300;
	for (size_t i = 0; ok && ok[i] && !fine; i++)
		fine = ok[i] == got;
	if (status)
		*status = got;
	if (!fine) {
		char msg[512];
		os_reply_message(answer, msg, sizeof msg);
		json_decref(answer);
		int trove = got == 404		      ? 404
			    : got == 409	      ? 409
			    : got >= 400 && got < 500 ? 400
						      : 500;
		return ct_fail(err, trove, "%s: %s failed (HTTP %ld)%s%s", service_label(service),
			       what, got, *msg ? ": " : ".", msg);
	}
	if (reply)
		*reply = answer;
	else
		json_decref(answer);
	return 0;
}

json_t *nova_list(const char *service, const char *path, const char *key, const char *what,
		  struct ct_error *err)
{
	json_t *reply;
	if (nova_call(service, "GET", path, NULL, what, NULL, NULL, &reply, err))
		return NULL;
	json_t *list = json_object_get(reply, key);
	if (!json_is_array(list)) {
		json_decref(reply);
		ct_fail(err, 500, "%s: %s answered no %s list.", service_label(service), what, key);
		return NULL;
	}
	json_incref(list);
	json_decref(reply);
	return list;
}

void nova_resource_name(const char *id, char out[NOVA_NAME_MAX])
{
	snprintf(out, NOVA_NAME_MAX, "trove-%s", id);
}

void nova_secgroup_name(const char *id, char out[NOVA_NAME_MAX])
{
	snprintf(out, NOVA_NAME_MAX, "%.48s-%s", cfg_str(CFG_TROVE_SG_NAME_PREFIX), id);
}

double nova_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void nova_poll_sleep(int attempt)
{
	/* The fake and real drivers alike answer in 0.2-2 s: poll fast at first. */
	long ms = attempt < 10 ? 100 : attempt < 30 ? 250 : 1000;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int nova_destroy(const char *id, struct ct_error *err);

static int build(const struct compute_spec *s, struct compute_server *out, struct ct_error *err)
{
	const struct datastore_hooks *hooks = datastore_hooks_find(s->manager, err);
	if (!hooks)
		return -1;
	if (!s->flavor_id || !*s->flavor_id)
		return ct_fail(err, 400, "The nova compute driver needs the instance's flavor.");
	char image[NOVA_ID_MAX], volume[NOVA_ID_MAX], secgroup[NOVA_ID_MAX], server[NOVA_ID_MAX];
	struct nova_ports ports;
	/* The image first: a version without one leaves nothing to clean up. */
	if (nova_image_resolve(s->image_id, s->image_tags, image, err))
		return -1;
	log_info("image %s", image);
	const char *type = s->volume_type && *s->volume_type ? s->volume_type
							     : cfg_str(CFG_CINDER_VOLUME_TYPE);
	if (nova_secgroup_ensure(s->id, hooks->port, s->allowed_cidrs, secgroup, err) ||
	    nova_ports_ensure(s->id, s->nics, secgroup, &ports, err) ||
	    nova_volume_ensure(s->id, s->volume_gb, type, volume, err))
		return -1;
	log_info("security group %s, %zu port(s), address %s, volume %s", secgroup, ports.count,
		 ports.address, volume);
	snprintf(out->address, sizeof out->address, "%s", ports.address);
	snprintf(out->mount_point, sizeof out->mount_point, "%s",
		 cfg_str(CFG_NOVA_GUEST_MOUNT_POINT));
	if (!s->transport_url) {
		/* A resumed build whose server (and so its agent) already runs: its
		 * user data holds the broker login it runs with; only report it. */
		char status[32];
		int found = nova_server_find(s->id, server, status, err);
		if (found < 0)
			return -1;
		if (!found)
			return ct_fail(err, 500, "Instance %s has no Nova server to resume.",
				       s->id);
		log_info("server %s already %s", server, status);
		return nova_server_wait_active(server, cfg_int(CFG_USAGE_TIMEOUT), err);
	}
	char *user_data = nova_user_data(s, ports.address, err);
	if (!user_data)
		return -1;
	const struct nova_boot boot = {s, image, volume, &ports, user_data};
	int rc = nova_server_ensure(&boot, server, err);
	explicit_bzero(user_data, strlen(user_data));
	free(user_data);
	if (rc)
		return -1;
	log_info("server %s", server);
	return nova_server_wait_active(server, cfg_int(CFG_USAGE_TIMEOUT), err);
}

static int nova_create(const struct compute_spec *s, struct compute_server *out,
		       struct ct_error *err)
{
	if (paths_check_id(s->id, err))
		return -1;
	double started = nova_now();
	if (!build(s, out, err)) {
		log_info("server ACTIVE after %.3f s", nova_now() - started);
		return 0;
	}
	/* Nothing of a failed build is left behind (Trove leaves it to delete;
	 * an ERROR instance holding a server, a volume and ports costs quota). */
	struct ct_error cleanup = {0};
	if (nova_destroy(s->id, &cleanup))
		log_warning("cleaning up the failed build: %s", cleanup.message);
	return -1;
}

/* Server first (it holds the ports and the volume), then what it held. */
static int nova_destroy(const char *id, struct ct_error *err)
{
	if (paths_check_id(id, err))
		return -1;
	if (nova_server_delete(id, err) || nova_ports_delete(id, err) ||
	    nova_volume_delete(id, err) || nova_secgroup_delete(id, err))
		return -1;
	log_info("server, ports, volume and security group removed");
	return 0;
}

static bool nova_agent_alive(const char *id)
{
	/* The agent runs inside the server: the best the driver can tell is
	 * that the server runs; heartbeats tell the rest. */
	char server[NOVA_ID_MAX], status[32];
	struct ct_error err = {0};
	return nova_server_find(id, server, status, &err) == 1 && !strcmp(status, "ACTIVE");
}

static int nova_ensure_running(const char *id, struct ct_error *err)
{
	char server[NOVA_ID_MAX], status[32];
	int found = nova_server_find(id, server, status, err);
	if (found < 0)
		return -1;
	if (!found)
		return ct_fail(err, 404, "Instance %s has no Nova server.", id);
	if (!strcmp(status, "ACTIVE"))
		return 0;
	if (strcmp(status, "SHUTOFF"))
		return ct_fail(err, 409, "The server of instance %s is %s, not ACTIVE.", id,
			       status);
	log_info("server %s is SHUTOFF: starting it", server);
	return nova_server_start(server, err) ||
	       nova_server_wait_active(server, cfg_int(CFG_USAGE_TIMEOUT), err);
}

static int nova_set_access(const char *id, const char *manager, const json_t *allowed_cidrs,
			   struct ct_error *err)
{
	const struct datastore_hooks *hooks = datastore_hooks_find(manager, err);
	if (!hooks || paths_check_id(id, err))
		return -1;
	return nova_secgroup_set_rules(id, hooks->port, allowed_cidrs, err);
}

/* Cinder grows the volume; the guest's resize_fs follows (the taskmanager
 * calls it after this returns: guest_grows_filesystem). */
static int nova_resize_volume(const char *id, long new_size_gb, struct ct_error *err)
{
	if (new_size_gb < 1)
		return ct_fail(err, 400,
			       "Volume 'size' needs to be a positive integer value, %ld cannot be "
			       "accepted.",
			       new_size_gb);
	if (paths_check_id(id, err))
		return -1;
	return nova_volume_extend(id, new_size_gb, err);
}

/* Nova's resize and confirm; the taskmanager stopped the database before
 * and starts it with the new flavor's config after (Trove's order). */
static int nova_resize_flavor(const char *id, const char *flavor_id, long memory_mb,
			      struct ct_error *err)
{
	(void)memory_mb; /* the flavor carries it */
	if (paths_check_id(id, err))
		return -1;
	if (!flavor_id || !*flavor_id)
		return ct_fail(err, 400, "A flavor resize needs the new flavor's id.");
	return nova_server_resize(id, flavor_id, err);
}

static int nova_init(struct ct_error *err)
{
	if (cfg_int(CFG_VOLUME_TIME_OUT) < 1 || cfg_int(CFG_SERVER_DELETE_TIME_OUT) < 1)
		return ct_fail(err, 500,
			       "volume_time_out and server_delete_time_out must be positive.");
	/* Credentials that do not work stop the taskmanager at start-up. */
	struct os_session *s = driver_session(err);
	if (!s)
		return -1;
	static const char *const needed[] = {"compute", "image", "volumev3", "network"};
	char url[1024];
	for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
		if (os_session_endpoint(s, needed[i], url, sizeof url, err))
			return -1;
	log_info("nova driver: Keystone session for %s on project %s ready",
		 cfg_str(CFG_SC_USERNAME), cfg_str(CFG_SC_PROJECT_NAME));
	return 0;
}

static void nova_shutdown(void)
{
	pthread_mutex_lock(&session_lock);
	os_session_free(session);
	session = NULL;
	pthread_mutex_unlock(&session_lock);
}

const struct compute_driver compute_nova_driver = {
	.name = "nova",
	.volume_types = true,
	.init = nova_init,
	.create = nova_create,
	.destroy = nova_destroy,
	.agent_alive = nova_agent_alive,
	.ensure_running = nova_ensure_running,
	.set_access = nova_set_access,
	.resize_volume = nova_resize_volume,
	.guest_grows_filesystem = true,
	.resize_flavor = nova_resize_flavor,
	.attach_storage = NULL,
	.fence = NULL,
	.unfence = NULL,
	.shutdown = nova_shutdown,
};
