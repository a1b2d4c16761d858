/*
 * versions.c — GET / (any method, no token): the version document
 * (spec trove-api.md §4).
 */
#include <stdio.h>

#include "api/auth.h"
#include "api/handlers.h"

API_HANDLER(versions_index)
{
	(void)err;
	char base[300], href[400];
	auth_public_base(req, base, sizeof base);
	snprintf(href, sizeof href, "%s/v1.0/", base);
	return api_reply(resp, 200,
			 json_pack("{s:[{s:s,s:s,s:s,s:[{s:s,s:s}]}]}", "versions", "id", "v1.0",
				   "status", "CURRENT", "updated", "2012-08-01T00:00:00Z", "links",
				   "rel", "self", "href", href));
}
