/*
 * backups_view.h — Trove's backup and backup-strategy representations
 * (spec trove-api.md §6.4) and the offset pagination of backup lists (§3).
 * Pure: builds JSON from rows; may not read rows or talk to anything.
 */
#ifndef CT_API_BACKUPS_VIEW_H
#define CT_API_BACKUPS_VIEW_H

#include <jansson.h>

#include "api/request.h"
#include "db/backups.h"

/* {"id", "name", ..., "datastore"?}: the inside of {"backup": ...}; new reference. */
json_t *backup_view(const struct backup_row *b);
json_t *backup_strategy_view(const struct backup_strategy *s);
/* {"backups": [...], "links"?} for a page read at offset with limit: the
 * next link whenever the page is full (Trove's SimplePaginatedDataView). */
json_t *backup_list_view(const struct api_request *req, const struct backup_row *rows, size_t n,
			 long offset, long limit);

#endif
