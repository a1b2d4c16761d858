/*
 * nova_internal.h — what the nova driver's files share: the driver's one
 * Keystone session, a request helper that turns OpenStack's error bodies into
 * Trove-worded errors, resource names, and each file's operations.
 *
 * Owns nothing itself (nova_driver.c owns the session). Nothing outside
 * src/compute/nova*.c includes it.
 */
#ifndef CT_COMPUTE_NOVA_INTERNAL_H
#define CT_COMPUTE_NOVA_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "compute/driver.h"

#define NOVA_ID_MAX    64  /* OpenStack resource ids are UUIDs */
#define NOVA_NAME_MAX  128 /* trove-<instance id>, <prefix>-<instance id> */
#define NOVA_PORTS_MAX 8

/* One request through the driver's session. Statuses in ok (0-terminated;
 * NULL = any 2xx) are success; any other answer is an error naming service,
 * what and OpenStack's own message, with Trove's status for it (404 stays
 * 404, 4xx → 400, the rest 500). *reply may be NULL (not wanted). */
int nova_call(const char *service, const char *method, const char *path, const json_t *body,
	      const char *what, const long *ok, long *status, json_t **reply, struct ct_error *err);
/* The same, GET, for a list under key: the array (a new reference) or NULL. */
json_t *nova_list(const char *service, const char *path, const char *key, const char *what,
		  struct ct_error *err);

/* The names every resource of an instance is found by (Trove's). */
void nova_resource_name(const char *id, char out[NOVA_NAME_MAX]); /* trove-<id> */
void nova_secgroup_name(const char *id, char out[NOVA_NAME_MAX]); /* trove_sg-<id> */
/* Sleeps between polls: short first, then up to a second. */
void nova_poll_sleep(int attempt);
double nova_now(void);

/* nova_image.c: the image to boot: image_id when set (must be active), else
 * the newest active image carrying every one of tags (comma-separated). */
int nova_image_resolve(const char *image_id, const char *tags, char out[NOVA_ID_MAX],
		       struct ct_error *err);

/* nova_volume.c */
int nova_volume_ensure(const char *id, long size_gb, const char *type, char out[NOVA_ID_MAX],
		       struct ct_error *err);
/* 1 found (out set), 0 none, -1 error. */
int nova_volume_find(const char *id, char out[NOVA_ID_MAX], struct ct_error *err);
int nova_volume_extend(const char *id, long size_gb, struct ct_error *err);
int nova_volume_delete(const char *id, struct ct_error *err);

/* nova_network.c */
struct nova_ports {
	size_t count;
	char ids[NOVA_PORTS_MAX][NOVA_ID_MAX];
	char address[64]; /* the first port's first fixed IP */
};
int nova_secgroup_ensure(const char *id, int port, const json_t *cidrs, char out[NOVA_ID_MAX],
			 struct ct_error *err);
int nova_secgroup_set_rules(const char *id, int port, const json_t *cidrs, struct ct_error *err);
int nova_secgroup_delete(const char *id, struct ct_error *err);
/* The user's nics first, then one port per management network. */
int nova_ports_ensure(const char *id, const json_t *nics, const char *secgroup,
		      struct nova_ports *out, struct ct_error *err);
int nova_ports_delete(const char *id, struct ct_error *err);

/* nova_server.c */
struct nova_boot {
	const struct compute_spec *spec;
	const char *image, *volume;
	const struct nova_ports *ports;
	const char *user_data; /* base64 */
};
int nova_server_ensure(const struct nova_boot *b, char out[NOVA_ID_MAX], struct ct_error *err);
int nova_server_wait_active(const char *server, long timeout, struct ct_error *err);
/* 1 found (server id and status set), 0 none, -1 error. */
int nova_server_find(const char *id, char server[NOVA_ID_MAX], char status[32],
		     struct ct_error *err);
int nova_server_delete(const char *id, struct ct_error *err);
int nova_server_start(const char *server, struct ct_error *err);
/* The instance's server moved to Nova's flavor flavor_id: resize, wait for
 * VERIFY_RESIZE (resize_time_out), confirm, wait for ACTIVE on it. A server
 * already ACTIVE on that flavor is left alone (0). */
int nova_server_resize(const char *id, const char *flavor_id, struct ct_error *err);

/* nova_userdata.c: the #cloud-config user data carrying the guest's files
 * (base64 of it, as Nova wants; malloc'd). */
char *nova_user_data(const struct compute_spec *s, const char *address, struct ct_error *err);

#endif
