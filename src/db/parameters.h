/*
 * parameters.h — configuration-parameter rules per datastore version (table
 * datastore_configuration_parameters; file format validation-rules.json, spec
 * trove-internals.md §8). Bounds are kept as text, as Trove does, because MySQL
 * rules exceed 64 bits. Lists are malloc'd arrays freed by the caller.
 */
#ifndef CT_DB_PARAMETERS_H
#define CT_DB_PARAMETERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct ds_parameter {
	char name[129];
	char version_id[37];
	bool restart_required;
	char data_type[129];
	char max_size[41]; /* "" = none */
	char min_size[41];
};

int param_list(const char *version_id, struct ds_parameter **out, size_t *count,
	       struct ct_error *err);
/* 404 "Resource <name> cannot be found." */
int param_get(const char *version_id, const char *name, struct ds_parameter *out,
	      struct ct_error *err);
/* Insert, or replace the row with the same name. */
int param_upsert(const struct ds_parameter *p, struct ct_error *err);
/* 400 "Parameter X does not exist in the database." */
int param_delete(const char *version_id, const char *name, struct ct_error *err);
int param_delete_all(const char *version_id, struct ct_error *err);
/* Check one rule object of a validation-rules file into out; 400 on bad shape. */
int param_from_rule(const json_t *rule, const char *version_id, struct ds_parameter *out,
		    struct ct_error *err);
/* Parse a validation-rules document, keeping integers beyond 64 bits as
 * strings of digits; new reference or NULL (400). */
json_t *json_load_rules(const char *text, size_t len, struct ct_error *err);
/* Load {"configuration-parameters": [...]} for a version in one transaction;
 * returns the number loaded, or -1. */
int param_load_rules(const char *version_id, const json_t *rules, struct ct_error *err);

#endif
