/*
 * guest_conf.c — see guest_conf.h. Reads the control plane's bus options
 * (control_exchange, conductor_queue, debug); writes only into the buffer.
 */
#include "compute/guest_conf.h"

#include <stdio.h>

#include "common/config.h"

int guest_conf_defaults(const struct compute_spec *s, const char *driver, long report_interval,
			char *out, size_t size, struct ct_error *err)
{
	int n = snprintf(out, size,
			 "# Written by ctrove's %s compute driver for instance %s.\n"
			 "[DEFAULT]\n"
			 "guest_id = %s\n"
			 "datastore_manager = %s\n"
			 "datastore_version = %s\n"
			 "tenant_id = %s\n"
			 "instance_rpc_encr_key = %s\n"
			 "transport_url = %s\n"
			 "control_exchange = %s\n"
			 "conductor_queue = %s\n"
			 "report_interval = %ld\n"
			 "debug = %s\n",
			 driver, s->id, s->id, s->manager, s->datastore_version,
			 s->tenant_id ? s->tenant_id : "", s->rpc_key ? s->rpc_key : "",
			 s->transport_url ? s->transport_url : "", cfg_str(CFG_CONTROL_EXCHANGE),
			 cfg_str(CFG_CONDUCTOR_QUEUE), report_interval,
			 cfg_bool(CFG_DEBUG) ? "true" : "false");
	if (n < 0 || (size_t)n >= size)
		return ct_fail(err, 500, "the guest's config does not fit in %zu bytes", size);
	return 0;
}
