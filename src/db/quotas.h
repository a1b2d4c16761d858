/*
 * quotas.h — per-project quotas (tables quotas, quota_usages; spec
 * trove-internals.md §4.12). A project without a `quotas` row gets the
 * max_*_per_tenant default; usage rows appear lazily, so a missing row is 0.
 */
#ifndef CT_DB_QUOTAS_H
#define CT_DB_QUOTAS_H

#include "common/error.h"

enum quota_resource { QUOTA_BACKUPS, QUOTA_INSTANCES, QUOTA_RAM, QUOTA_VOLUMES, QUOTA_COUNT };

extern const char *const quota_names[QUOTA_COUNT];

/* -1 when name is not a quota resource. */
int quota_resource_by_name(const char *name);

struct quota_state {
	long limit[QUOTA_COUNT];
	long in_use[QUOTA_COUNT];
	long reserved[QUOTA_COUNT];
};

int quota_get(const char *project, struct quota_state *out, struct ct_error *err);
int quota_set_limit(const char *project, enum quota_resource r, long limit, struct ct_error *err);
/* Add delta to the project's usage of r (the row made lazily), inside the
 * caller's transaction; growing past limit (-1 = none) fails with 413
 * "Quota exceeded for resources: ['r']." and changes nothing. */
int quota_use(const char *project, enum quota_resource r, long delta, long limit,
	      struct ct_error *err);

#endif
