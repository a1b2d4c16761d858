/*
 * datastore_choice.h — the datastore version a request means, as Trove picks
 * it for POST /instances and POST /configurations: the named datastore or
 * [DEFAULT] default_datastore, the named version (by name or id) or the
 * datastore's default, which must be active; every miss is Trove's 400.
 * Reads datastores through src/db/; writes nothing.
 */
#ifndef CT_API_DATASTORE_CHOICE_H
#define CT_API_DATASTORE_CHOICE_H

#include "common/error.h"
#include "db/datastores.h"

/* type NULL or "": [DEFAULT] default_datastore; version NULL: its default. */
int datastore_choose_version(const char *type, const char *version, struct ds_version *v,
			     struct ct_error *err);

#endif
