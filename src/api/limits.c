/*
 * limits.c — GET /limits: the absolute quota limits first (the CLI pops that
 * element), then the rate limits (spec trove-api.md §6.7).
 */
#include "api/handlers.h"
#include "api/ratelimit.h"
#include "db/quotas.h"

API_HANDLER(limits_index)
{
	struct quota_state q;
	if (quota_get(req->project, &q, err))
		return -1;
	json_t *list = json_array();
	json_array_append_new(list, json_pack("{s:s,s:I,s:I,s:I,s:I}", "verb", "ABSOLUTE",
					      "max_instances", (json_int_t)q.limit[QUOTA_INSTANCES],
					      "max_ram", (json_int_t)q.limit[QUOTA_RAM],
					      "max_backups", (json_int_t)q.limit[QUOTA_BACKUPS],
					      "max_volumes", (json_int_t)q.limit[QUOTA_VOLUMES]));
	json_t *rates = ratelimit_view(req->project);
	json_array_extend(list, rates);
	json_decref(rates);
	return api_reply(resp, 200, json_pack("{s:o}", "limits", list));
}
