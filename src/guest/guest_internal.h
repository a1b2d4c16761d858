/*
 * guest_internal.h — declarations shared inside src/guest/ and nowhere else:
 * the manager tables the registry lists and the prepare marker. Owns nothing;
 * may not be included outside src/guest/ (the RPC layer uses datastore.h).
 */
#ifndef CT_GUEST_GUEST_INTERNAL_H
#define CT_GUEST_GUEST_INTERNAL_H

#include "guest/datastore.h"
#include "guest/guest_util.h"

extern const struct datastore_manager mariadb_manager;
extern const struct datastore_manager mysql_manager;
extern const struct datastore_manager postgresql_manager;

/* Write (done) or remove (!done) the marker guest_is_prepared() looks for. */
int guest_mark_prepared(const struct guest_instance *inst, bool done, struct ct_error *err);

#endif
