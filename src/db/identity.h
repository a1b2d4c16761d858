/*
 * identity.h — users, projects and role assignments of the embedded identity
 * service (tables ctrove_users, ctrove_projects, ctrove_roles,
 * ctrove_role_assignments). Passwords are stored only as PBKDF2-SHA256 hashes.
 * Every user and project lives in the one domain "default" ("Default").
 * May not issue tokens (that is api/auth.c).
 */
#ifndef CT_DB_IDENTITY_H
#define CT_DB_IDENTITY_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

#define IDENTITY_DOMAIN_ID   "default"
#define IDENTITY_DOMAIN_NAME "Default"

struct identity_entity {
	char id[65];
	char name[256];
};

/* Find a user by id or (if id is NULL) name and check the password; 401 on any
 * mismatch, without saying which part was wrong. */
int identity_authenticate(const char *user_id, const char *user_name, const char *password,
			  struct identity_entity *user, struct ct_error *err);
int identity_user_by_id(const char *id, struct identity_entity *user, struct ct_error *err);
/* Project by id or name; 404 when unknown. */
int identity_project(const char *id, const char *name, struct identity_entity *project,
		     struct ct_error *err);
/* The user's roles on the project: JSON [{id,name}] (new ref) and "a,b" text.
 * 401 when the user has no role there. */
int identity_roles(const char *user_id, const char *project_id, json_t **roles, char *names,
		   size_t names_size, struct ct_error *err);

/* Administration (ctrove manage): create or update, idempotent. */
int identity_ensure_project(const char *name, struct identity_entity *out, struct ct_error *err);
int identity_ensure_role(const char *name, struct identity_entity *out, struct ct_error *err);
int identity_set_user(const char *name, const char *password, struct identity_entity *out,
		      struct ct_error *err);
int identity_assign(const char *user_id, const char *project_id, const char *role_id,
		    struct ct_error *err);

/* "pbkdf2-sha256$<rounds>$<salt>$<hash>" (base64url) into out. */
int identity_hash_password(const char *password, long rounds, char *out, size_t size);
int identity_verify_password(const char *password, const char *stored);

#endif
