/*
 * overrides_file.h — the user override file of a configuration group in an
 * instance's conf.d: written (rendered and checked by overrides.h) owned by
 * the instance's identity, 0600, or removed. Shared by the MariaDB and the
 * PostgreSQL managers, which say where their conf.d is and which syntax it
 * takes. Owns that one file; may not touch the rest of the instance's config.
 */
#ifndef CT_GUEST_OVERRIDES_FILE_H
#define CT_GUEST_OVERRIDES_FILE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "guest/datastore.h"
#include "guest/overrides.h"

/* Write overrides into <confd>/<file>, or remove that file when remove is set
 * or overrides is empty (no group: the base config alone). */
int overrides_file_store(const struct guest_instance *inst, const char *confd, const char *file,
			 enum overrides_syntax syntax, const json_t *overrides, bool remove,
			 struct ct_error *err);

#endif
