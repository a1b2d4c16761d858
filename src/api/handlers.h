/*
 * handlers.h — every API handler, one group per resource file. A handler fills
 * resp and returns 0, or returns -1 with err set (the dispatcher renders the
 * fault). Handlers may assume the caller is authenticated, the project matches
 * the URL and the route's access rule passed.
 */
#ifndef CT_API_HANDLERS_H
#define CT_API_HANDLERS_H

#include "api/request.h"

/* Handlers share one signature; not every handler reads every argument. */
#define API_HANDLER(name)                                                                          \
	int name(struct api_request *req __attribute__((unused)),                                  \
		 struct api_response *resp __attribute__((unused)),                                \
		 struct ct_error *err __attribute__((unused)))

typedef int (*api_handler)(struct api_request *req, struct api_response *resp,
			   struct ct_error *err);

/* versions.c */
API_HANDLER(versions_index);
/* identity.c — the embedded Keystone v3 subset */
int identity_dispatch(struct api_request *req, struct api_response *resp, char **segments,
		      int nsegments);
/* datastores.c */
API_HANDLER(datastores_index);
API_HANDLER(datastores_show);
API_HANDLER(datastores_delete);
API_HANDLER(datastore_versions_index);
API_HANDLER(datastore_versions_show);
API_HANDLER(datastore_versions_show_by_uuid);
API_HANDLER(datastore_version_flavors);
API_HANDLER(datastore_version_volume_types);
/* mgmt_datastore_versions.c */
API_HANDLER(mgmt_versions_index);
API_HANDLER(mgmt_versions_create);
API_HANDLER(mgmt_versions_show);
API_HANDLER(mgmt_versions_update);
API_HANDLER(mgmt_versions_delete);
/* parameters.c */
API_HANDLER(parameters_index);
API_HANDLER(parameters_show);
API_HANDLER(parameters_index_by_version);
API_HANDLER(parameters_show_by_version);
API_HANDLER(mgmt_parameters_index);
API_HANDLER(mgmt_parameters_create);
API_HANDLER(mgmt_parameters_show);
API_HANDLER(mgmt_parameters_update);
API_HANDLER(mgmt_parameters_delete);
/* flavors.c */
API_HANDLER(flavors_index);
API_HANDLER(flavors_show);
/* ca_certificate.c */
API_HANDLER(ca_certificate_show);
/* limits.c */
API_HANDLER(limits_index);
/* quotas.c */
API_HANDLER(quotas_show);
API_HANDLER(quotas_update);
/* instances.c */
API_HANDLER(instances_index);
API_HANDLER(instances_show);
/* The detail view of one instance of the caller's project as the response. */
int instance_reply_detail(struct api_request *req, struct api_response *resp, const char *id,
			  int status_code, struct ct_error *err);
/* configurations.c */
API_HANDLER(configurations_index);
API_HANDLER(configurations_create);
API_HANDLER(configurations_show);
API_HANDLER(configurations_instances);
API_HANDLER(configurations_update);
API_HANDLER(configurations_edit);
API_HANDLER(configurations_delete);
/* instance_configuration.c */
API_HANDLER(instance_configuration_show);
/* instance_create.c */
API_HANDLER(instances_create);
/* instance_update.c */
API_HANDLER(instances_delete);
API_HANDLER(instances_update);
API_HANDLER(instances_action);
/* instance_databases.c, instance_users.c, instance_root.c */
API_HANDLER(databases_index);
API_HANDLER(databases_create);
API_HANDLER(databases_delete);
API_HANDLER(users_index);
API_HANDLER(users_create);
API_HANDLER(users_show);
API_HANDLER(users_update);
API_HANDLER(users_update_all);
API_HANDLER(users_delete);
API_HANDLER(user_access_index);
API_HANDLER(user_access_update);
API_HANDLER(user_access_delete);
API_HANDLER(root_index);
API_HANDLER(root_create);
API_HANDLER(root_delete);
/* backups.c, backup_strategies.c */
API_HANDLER(backups_index);
API_HANDLER(backups_create);
API_HANDLER(backups_show);
API_HANDLER(backups_delete);
API_HANDLER(instance_backups_index);
/* instance_pitr.c (ctrove extension, docs/pitr.md) */
API_HANDLER(instance_recoverable_window);
API_HANDLER(backup_strategies_index);
API_HANDLER(backup_strategies_create);
API_HANDLER(backup_strategies_delete);
/* backup_schedules.c (ctrove extension, issue 16) */
API_HANDLER(backup_schedules_index);
API_HANDLER(backup_schedules_create);
API_HANDLER(backup_schedules_show);
API_HANDLER(backup_schedules_delete);
/* unimplemented.c */
API_HANDLER(not_implemented);

/* instance_logs.c */
API_HANDLER(instance_logs_index);
API_HANDLER(instance_logs_action);

#endif
