/*
 * root_history.h — whether root was ever enabled on an instance (table
 * root_enabled_history: one row per instance, the first enabling kept).
 * Written both when the API enables root and when a guest reports it through
 * the conductor; read by GET and DELETE .../root. May not talk to guests.
 */
#ifndef CT_DB_ROOT_HISTORY_H
#define CT_DB_ROOT_HISTORY_H

#include <stdbool.h>

#include "common/error.h"

int root_history_enabled(const char *instance_id, bool *enabled, struct ct_error *err);
/* Record that `user` (NULL when unknown) enabled root; a second time keeps
 * the first record. */
int root_history_record(const char *instance_id, const char *user, struct ct_error *err);

#endif
