/*
 * instance_failover.h — ctrove's `failover` extension of the instance
 * routes (issue 15, docs/api-differences.md): {"automatic": bool,
 * "synchronous": bool} on POST /instances and PUT/PATCH /instances/{id},
 * shown on GET /instances/{id} of an instance that has it. May not talk to
 * guests: the taskmanager applies `synchronous` (apply_failover_settings).
 */
#ifndef CT_API_INSTANCE_FAILOVER_H
#define CT_API_INSTANCE_FAILOVER_H

#include <jansson.h>

#include "common/error.h"
#include "common/json_writer.h"
#include "db/failover.h"
#include "db/instances.h"

/* Check the object (only the two keys, each a boolean, at least one) into
 * out, starting from current (NULL = both false). 400 Trove-style. Pure. */
int instance_failover_parse(const json_t *value, const struct failover_settings *current,
			    struct failover_settings *out, struct ct_error *err);

/* POST /instances: record the new instance's settings (no guest yet: the
 * build applies nothing, a new instance has no replica). */
int instance_failover_create(const char *instance_id, const json_t *value, struct ct_error *err);

/* PUT/PATCH: 400 on a replica (failover belongs to its source), record the
 * settings and cast apply_failover_settings. */
int instance_failover_change(const struct instance *in, const json_t *value, struct ct_error *err);

/* "failover": {...} into an instance's detail when it has settings. */
void instance_failover_write(struct json_writer *w, const char *instance_id);

#endif
