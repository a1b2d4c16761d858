/*
 * replication.h — which instance replicates which (instances.slave_of_id,
 * Trove's column): a replica's source, a source's replicas, and moving
 * replicas between sources. Owns these statements only; may not talk to
 * guests or build API views.
 */
#ifndef CT_DB_REPLICATION_H
#define CT_DB_REPLICATION_H

#include <stddef.h>

#include "common/error.h"

/* replica_id replicates source_id (NULL = it stands alone). */
int replication_set_source(const char *replica_id, const char *source_id, struct ct_error *err);
/* The source of id into source_id: 1 found, 0 id is not a replica, -1 failed. */
int replication_source_of(const char *id, char source_id[37], struct ct_error *err);
/* The replicas of id, not deleted, oldest first: *ids malloc'd (free()), NULL when none. */
int replication_replicas_of(const char *id, char (**ids)[37], size_t *count, struct ct_error *err);
/* Every replica of old_source (and old_source itself when keep_old is set)
 * now replicates new_source, which stands alone: one transaction. */
int replication_move_replicas(const char *old_source, const char *new_source, int keep_old,
			      struct ct_error *err);

#endif
