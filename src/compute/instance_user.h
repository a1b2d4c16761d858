/*
 * instance_user.h — the OS identity of one instance of the local driver: a
 * system user and group of its own (ct-<id>, uid from [local]
 * instance_uid_range), so that its database server can neither read, write,
 * signal nor connect to anything of another instance. Made with useradd and
 * removed with userdel (run.h); found again by name, so both are idempotent
 * and nothing is remembered between calls. See docs/security.md "Instances".
 * Owns the ct-* entries of /etc/passwd and /etc/group in the range; may not
 * touch any other account, nor the database or the bus.
 */
#ifndef CT_COMPUTE_INSTANCE_USER_H
#define CT_COMPUTE_INSTANCE_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

#define INSTANCE_USER_NAME_MAX 33 /* 32 characters, the useradd limit, and NUL */

struct instance_user {
	char name[INSTANCE_USER_NAME_MAX];
	uid_t uid;
	gid_t gid;
};

/* The user name of instance id: "ct-" and the id in lower case, cut to 32. */
int instance_user_name(const char *id, char *out, size_t size, struct ct_error *err);

/* The instance's user, made when missing (a free uid of the range). 409 when
 * the name belongs to an account that is not this instance's. */
int instance_user_ensure(const char *id, struct instance_user *out, struct ct_error *err);

/* The instance's user; 404 when it has none. */
int instance_user_lookup(const char *id, struct instance_user *out, struct ct_error *err);

/* SIGKILL whatever runs as the instance's user (what a tenant's server may
 * have started and detached); 0 when it has no user. Before the volume goes:
 * such a process may hold it busy. */
int instance_user_stop_processes(const char *id, struct ct_error *err);

/* Kill what still runs as the user, remove the files it left where every user
 * may write (/tmp, /var/tmp, /dev/shm, so a later instance given the same uid
 * inherits nothing), then the user and its group. 0 when none is left. */
int instance_user_remove(const char *id, struct ct_error *err);

/* Parse "first-last"; 400 unless 1000 <= first <= last < 2^31. */
int instance_user_parse_range(const char *text, uid_t *first, uid_t *last, struct ct_error *err);

#endif
