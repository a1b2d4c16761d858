/*
 * service_session.c — [service_credentials] into an os_session
 * (service_session.h). Owns no state; may read only that section.
 */
#include "openstack/service_session.h"

#include "common/config.h"

struct os_credentials os_service_credentials(void)
{
	return (struct os_credentials){
		.auth_url = cfg_str(CFG_SC_AUTH_URL),
		.username = cfg_str(CFG_SC_USERNAME),
		.password = cfg_str(CFG_SC_PASSWORD),
		.project_name = cfg_str(CFG_SC_PROJECT_NAME),
		.user_domain_name = cfg_str(CFG_SC_USER_DOMAIN_NAME),
		.project_domain_name = cfg_str(CFG_SC_PROJECT_DOMAIN_NAME),
		.region_name = cfg_str(CFG_SC_REGION_NAME),
		.interface = cfg_str(CFG_SC_INTERFACE),
		.timeout = cfg_int(CFG_SC_TIMEOUT),
	};
}

struct os_session *os_service_session_new(struct ct_error *err)
{
	const struct os_credentials c = os_service_credentials();
	return os_session_new(&c, err);
}
