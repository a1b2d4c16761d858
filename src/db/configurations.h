/*
 * configurations.h — configuration groups (tables configurations,
 * configuration_parameters) and which instance has which group attached
 * (instances.configuration_id), spec trove-internals.md §5. Values are stored
 * as text, as Trove does, and typed back through the version's rules
 * (datastore_configuration_parameters). Owns these statements only; may not build API views,
 * validate values against rules or talk to guests.
 */
#ifndef CT_DB_CONFIGURATIONS_H
#define CT_DB_CONFIGURATIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct config_group {
	char id[37];
	char name[65];
	char description[257];
	bool has_description;
	char tenant_id[65];
	char datastore_version_id[37];
	char created[32]; /* DB time text */
	char updated[32];
};

struct config_value {
	char key[129];
	char value[129];
};

/* The group and its values (*values malloc'd, free()). Values may be NULL
 * when only the row is needed. project NULL = any project (admin).
 * 404 "Configuration group with ID X could not be found." */
int config_group_load(const char *id, const char *project, struct config_group *out,
		      struct config_value **values, size_t *n_values, struct ct_error *err);
/* Insert the group and its values in one transaction. */
int config_group_insert(const struct config_group *g, const struct config_value *values, size_t n,
			struct ct_error *err);
/* Change the name (NULL = unchanged), the description when set_description
 * (NULL clears it) and, when replace, replace the whole value set with
 * values; otherwise upsert values. One transaction. */
int config_group_update(const char *id, const char *name, bool set_description,
			const char *description, bool replace, const struct config_value *values,
			size_t n, struct ct_error *err);
/* Soft-delete the group and its values. */
int config_group_delete(const char *id, struct ct_error *err);
/* A page of groups (project NULL = every project), ids after marker
 * (""/NULL = from the start); *out malloc'd; *more when rows follow. */
int config_group_page(const char *project, const char *marker, long limit,
		      struct config_group **out, size_t *n, bool *more, struct ct_error *err);

/* An instance attached to a group. */
struct config_instance {
	char id[37];
	char name[256];
};
/* Instances not deleted that have the group attached, by id after marker;
 * limit <= 0 = all. *out malloc'd. */
int config_group_instances(const char *config_id, const char *marker, long limit,
			   struct config_instance **out, size_t *n, bool *more,
			   struct ct_error *err);
/* How many instances not deleted have the group attached; -1 failed. */
long config_group_instance_count(const char *config_id, struct ct_error *err);

/* A stored value typed by a rule's data_type (integer, float, boolean, else
 * string); new reference. data_type NULL = string. */
json_t *config_value_typed(const char *data_type, const char *text);
/* The group's values typed through the rules of version_id: {name: value};
 * new reference, NULL with err. A value whose rule is gone stays a string. */
json_t *config_group_typed(const char *config_id, const char *version_id, struct ct_error *err);

/* The instance's attached group into out[37] ("" = none): 0, or -1. */
int instance_configuration_id(const char *instance_id, char out[37], struct ct_error *err);
/* Attach (config_id) or detach (NULL). */
int instance_set_configuration(const char *instance_id, const char *config_id,
			       struct ct_error *err);

#endif
