/*
 * instance_configuration.h — an instance's configuration group as the
 * instance routes see it: attach and detach through PUT/PATCH
 * /instances/{id}, the group given at create, and the effective values of
 * GET /instances/{id}/configuration (spec trove-api.md §6.5, §8.1, §8.2).
 * May not talk to guests: the taskmanager applies.
 */
#ifndef CT_API_INSTANCE_CONFIGURATION_H
#define CT_API_INSTANCE_CONFIGURATION_H

#include <jansson.h>

#include "api/request.h"
#include "common/error.h"
#include "db/datastores.h"
#include "db/instances.h"

/* PUT/PATCH {"instance": {"configuration": <id or null>}}: attach or detach
 * and cast the work; 400/404 as Trove. */
int instance_configuration_change(struct api_request *req, const struct instance *in,
				  const json_t *value, struct ct_error *err);

/* The group named at create (an id or a URL ending in one) for version v:
 * its id into config_id and its typed values into *overrides (new
 * reference). 404 unknown, 400 another datastore version. */
int instance_configuration_for_create(const struct api_request *req, const json_t *ref,
				      const struct ds_version *v, char config_id[37],
				      json_t **overrides, struct ct_error *err);

#endif
