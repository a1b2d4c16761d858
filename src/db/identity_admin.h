/*
 * identity_admin.h — the rows behind the embedded identity service's admin API
 * (Keystone v3 projects, users, roles and role assignments): list, read, create,
 * change and delete them, and the per-user token validity floor that token
 * revocation reads. Errors carry Keystone's status and wording (404 "Could not
 * find project: X.", 409 on a duplicate name). Implemented by
 * identity_projects.c, identity_users.c and identity_roles.c. May not issue or
 * check tokens (api/auth.c) nor know about HTTP.
 */
#ifndef CT_DB_IDENTITY_ADMIN_H
#define CT_DB_IDENTITY_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define IDENTITY_DESCRIPTION_MAX 1024

struct identity_project {
	char id[65];
	char name[256];
	char description[IDENTITY_DESCRIPTION_MAX];
	bool enabled;
};

struct identity_user {
	char id[65];
	char name[256];
	char description[IDENTITY_DESCRIPTION_MAX];
	char email[256];
	char default_project_id[65]; /* "" when none */
	bool enabled;
};

struct identity_role {
	char id[65];
	char name[256];
	char description[IDENTITY_DESCRIPTION_MAX];
};

struct identity_assignment {
	struct identity_role role;
	char user_id[65];
	char user_name[256];
	char project_id[65];
	char project_name[256];
};

/* Projects. A NULL name lists all; lists are malloc'd, sorted by name. */
int identity_projects_list(const char *name, struct identity_project **out, size_t *count,
			   struct ct_error *err);
int identity_project_get(const char *id, struct identity_project *out, struct ct_error *err);
/* Fills p->id. 409 when the name is taken. */
int identity_project_create(struct identity_project *p, struct ct_error *err);
/* Writes name, description and enabled of p->id. */
int identity_project_update(const struct identity_project *p, struct ct_error *err);
/* 409 while the project still owns instances that are not deleted. */
int identity_project_delete(const char *id, struct ct_error *err);

/* Users. */
int identity_users_list(const char *name, struct identity_user **out, size_t *count,
			struct ct_error *err);
int identity_user_get(const char *id, struct identity_user *out, struct ct_error *err);
/* Fills u->id; password may be NULL (a user who cannot log in). */
int identity_user_create(struct identity_user *u, const char *password, struct ct_error *err);
/* Writes every field of u; a non-NULL password replaces the old one and
 * revokes the user's tokens issued before now. */
int identity_user_update(const struct identity_user *u, const char *password, struct ct_error *err);
int identity_user_delete(const char *id, struct ct_error *err);
/* Tokens of the user issued before *valid_after_us are void: the time of the
 * last password change or role removal; LLONG_MAX when the user is gone or
 * disabled. */
int identity_user_tokens_valid_after(const char *id, long long *valid_after_us,
				     struct ct_error *err);
/* Void every token the user holds now. */
int identity_user_revoke_tokens(const char *id, struct ct_error *err);
/* *usable is false when the project is gone or disabled. */
int identity_project_usable(const char *id, bool *usable, struct ct_error *err);

/* Roles. Names may not hold ',' or '|' (tokens list role names). */
int identity_roles_list(const char *name, struct identity_role **out, size_t *count,
			struct ct_error *err);
int identity_role_get(const char *id, struct identity_role *out, struct ct_error *err);
int identity_role_create(struct identity_role *r, struct ct_error *err);
int identity_role_delete(const char *id, struct ct_error *err);

/* Role assignments (user on project). Granting twice is not an error; revoking
 * one that does not exist is 404. Revoking voids the user's tokens. */
int identity_grant(const char *project_id, const char *user_id, const char *role_id,
		   struct ct_error *err);
int identity_grant_check(const char *project_id, const char *user_id, const char *role_id,
			 struct ct_error *err);
int identity_revoke(const char *project_id, const char *user_id, const char *role_id,
		    struct ct_error *err);
/* Every filter may be NULL; ordered by project, user and role name. */
int identity_assignments_list(const char *user_id, const char *project_id, const char *role_id,
			      struct identity_assignment **out, size_t *count,
			      struct ct_error *err);

#endif
