/*
 * flavors_view.h — the JSON shape of a flavor, shared by /flavors and the
 * datastore version's associated flavors.
 */
#ifndef CT_API_FLAVORS_VIEW_H
#define CT_API_FLAVORS_VIEW_H

#include "api/request.h"
#include "db/flavors.h"

json_t *flavor_view(const struct api_request *req, const struct flavor *f);

#endif
