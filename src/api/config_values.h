/*
 * config_values.h — a configuration group's values checked against its
 * datastore version's rules (spec trove-api.md §7.6): known name
 * (case-insensitive, stored under the rule's spelling), JSON type, integer
 * bounds, and no character that could end or break out of a config line.
 * Pure: rules in, stored text out; may not read rows or talk to guests.
 */
#ifndef CT_API_CONFIG_VALUES_H
#define CT_API_CONFIG_VALUES_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"
#include "db/configurations.h"
#include "db/parameters.h"

/* Check every key of values (a JSON object) against rules[n]; *out (malloc'd,
 * free()) gets one stored value per key. ds/version name the datastore in
 * Trove's messages. 422 for a rule violation, 400 for a non-object. */
int config_values_check(const json_t *values, const struct ds_parameter *rules, size_t n,
			const char *ds, const char *version, struct config_value **out,
			size_t *n_out, struct ct_error *err);

/* The rule named key (exact spelling) in rules[n], or NULL. */
const struct ds_parameter *config_rule_find(const struct ds_parameter *rules, size_t n,
					    const char *key);

/* Whether a key's value is masked (***) in views: it looks like a secret. */
int config_key_is_secret(const char *key);

#endif
