/*
 * instance_replication.h — the API's side of replication (issue 15, spec
 * trove-api.md §7.1, §8.1, §8.2): POST /instances with replica_of, the
 * promote_to_replica_source and eject_replica_source actions, detach through
 * PUT/PATCH replica_of: null, and the rules other handlers ask (a source with
 * replicas is not deleted, a replica's users and databases are read only).
 * Checks, writes the rows and the tasks, and casts to the taskmanager; may not
 * talk to guests nor hold SQL.
 */
#ifndef CT_API_INSTANCE_REPLICATION_H
#define CT_API_INSTANCE_REPLICATION_H

#include "api/handlers.h"
#include "api/instance_request.h"
#include "db/instances.h"

/* POST /instances with replica_of set: replica_count replicas of the source,
 * answered with the last one's detail. */
int instance_replicas_create(struct api_request *req, struct api_response *resp,
			     const struct instance_request *r, struct ct_error *err);
int instance_action_promote(struct api_request *req, struct instance *in, struct ct_error *err);
int instance_action_eject(struct api_request *req, struct instance *in, struct ct_error *err);
/* PUT/PATCH {"instance": {"replica_of": null}} (any value detaches, as Trove). */
int instance_detach_replica(const struct instance *in, struct ct_error *err);
/* 403 "Detach replicas before deleting replica source." when in has replicas. */
int instance_check_no_replicas(const struct instance *in, struct ct_error *err);
/* 400 when in is a replica: its users, databases and root follow its source. */
int instance_check_not_replica(const struct instance *in, struct ct_error *err);

#endif
