/*
 * datastore_choice.c — see datastore_choice.h.
 */
#include "api/datastore_choice.h"

#include "common/config.h"

int datastore_choose_version(const char *type, const char *version, struct ds_version *v,
			     struct ct_error *err)
{
	if (!type || !*type)
		type = cfg_str(CFG_DEFAULT_DATASTORE);
	if (!*type)
		return ct_fail(err, 400,
			       "Please specify datastore. No default datastore is defined.");
	struct datastore d;
	if (ds_find(type, &d, err))
		return -1;
	if (version) {
		/* Trove answers 400 for an unknown version, by id or by name. */
		if (dsv_find(&d, version, v, err))
			return ct_fail(err, 400, "Datastore version '%.255s' cannot be found.",
				       version);
	} else {
		if (!d.default_version_id[0])
			return ct_fail(err, 400,
				       "Default version for datastore '%.255s' not found.", d.name);
		if (dsv_by_id(d.default_version_id, 400, v, err))
			return -1;
	}
	if (!v->active)
		return ct_fail(err, 400, "Datastore version '%.255s' is not active.", v->name);
	return 0;
}
