/*
 * config_options.h — the table of every trove.conf option ctrove reads.
 *
 * X(id, section, name, type, default, description). Names and defaults follow
 * Trove 18's trove.conf unless the description says otherwise. This table is the
 * only place an option is declared: parsing, `ctrove --help-config` and
 * docs/config.md all come from it.
 */
#ifndef CT_COMMON_CONFIG_OPTIONS_H
#define CT_COMMON_CONFIG_OPTIONS_H

#define CT_CONFIG_OPTIONS(X)                                                              \
	X(DEBUG, "DEFAULT", "debug", CFG_BOOL, "false", "Log at DEBUG level.")            \
	X(LOG_FILE, "DEFAULT", "log_file", CFG_STR, "",                                   \
	  "Log file path; empty logs to standard error.")                                 \
	X(STATE_PATH, "DEFAULT", "state_path", CFG_STR, "/var/lib/ctrove",                \
	  "ctrove: directory for local state (token signing key, instance files).")       \
	X(HOST, "DEFAULT", "host", CFG_STR, "0.0.0.0",                                    \
	  "Name of this node; RPC servers listen on <topic>.<host>.")                     \
	X(BIND_HOST, "DEFAULT", "bind_host", CFG_STR, "0.0.0.0",                          \
	  "Address the API server listens on.")                                           \
	X(BIND_PORT, "DEFAULT", "bind_port", CFG_INT, "8779", "Port of the API server.")  \
	X(API_WORKERS, "DEFAULT", "trove_api_workers", CFG_INT, "0",                      \
	  "API worker threads; 0 = one per CPU.")                                         \
	X(PUBLIC_ENDPOINT, "DEFAULT", "public_endpoint", CFG_STR, "",                     \
	  "Base URL in the version document and the catalog; empty = the request's "      \
	  "Host.")                                                                        \
	X(AUTH_STRATEGY, "DEFAULT", "auth_strategy", CFG_STR, "embedded",                 \
	  "ctrove: 'embedded' serves a Keystone v3 subset at /identity/v3 and checks "    \
	  "its own tokens; 'keystone' validates tokens against [keystone_authtoken] "     \
	  "(not implemented yet).")                                                       \
	X(ADMIN_ROLES, "DEFAULT", "admin_roles", CFG_LIST, "admin",                       \
	  "Roles that make a request context admin.")                                     \
	X(HTTP_GET_RATE, "DEFAULT", "http_get_rate", CFG_INT, "200",                      \
	  "GET requests per minute per project.")                                         \
	X(HTTP_POST_RATE, "DEFAULT", "http_post_rate", CFG_INT, "200",                    \
	  "POST requests per minute per project.")                                        \
	X(HTTP_PUT_RATE, "DEFAULT", "http_put_rate", CFG_INT, "200",                      \
	  "PUT requests per minute per project.")                                         \
	X(HTTP_DELETE_RATE, "DEFAULT", "http_delete_rate", CFG_INT, "200",                \
	  "DELETE requests per minute per project.")                                      \
	X(HTTP_MGMT_POST_RATE, "DEFAULT", "http_mgmt_post_rate", CFG_INT, "200",          \
	  "POST requests on /mgmt per minute per project.")                               \
	X(MAX_INSTANCES, "DEFAULT", "max_instances_per_tenant", CFG_INT, "10",            \
	  "Default quota of instances per project.")                                      \
	X(MAX_RAM, "DEFAULT", "max_ram_per_tenant", CFG_INT, "-1",                        \
	  "Default quota of flavor RAM (MB) per project; -1 = unlimited.")                \
	X(MAX_VOLUMES, "DEFAULT", "max_volumes_per_tenant", CFG_INT, "40",                \
	  "Default quota of volume GB per project.")                                      \
	X(MAX_BACKUPS, "DEFAULT", "max_backups_per_tenant", CFG_INT, "50",                \
	  "Default quota of backups per project.")                                        \
	X(MAX_VOLUME_SIZE, "DEFAULT", "max_accepted_volume_size", CFG_INT, "10",          \
	  "Largest volume (GB) an instance may ask for.")                                 \
	X(INSTANCES_PAGE_SIZE, "DEFAULT", "instances_page_size", CFG_INT, "20",           \
	  "Largest page of instances.")                                                   \
	X(AGENT_HEARTBEAT_EXPIRY, "DEFAULT", "agent_heartbeat_expiry", CFG_INT, "90",      \
	  "Seconds without a guest heartbeat before its service shows ERROR.")            \
	X(DEFAULT_DATASTORE, "DEFAULT", "default_datastore", CFG_STR, "",                 \
	  "Datastore used when a create request names none.")                             \
	X(TRANSPORT_URL, "DEFAULT", "transport_url", CFG_STR, "rabbit://",                \
	  "Message bus URL(s).")                                                          \
	X(CONTROL_EXCHANGE, "DEFAULT", "control_exchange", CFG_STR, "openstack",          \
	  "Topic exchange for RPC.")                                                      \
	X(TASKMANAGER_QUEUE, "DEFAULT", "taskmanager_queue", CFG_STR, "taskmanager",      \
	  "Taskmanager RPC topic.")                                                       \
	X(CONDUCTOR_QUEUE, "DEFAULT", "conductor_queue", CFG_STR, "trove-conductor",      \
	  "Conductor RPC topic.")                                                         \
	X(RPC_RESPONSE_TIMEOUT, "DEFAULT", "rpc_response_timeout", CFG_INT, "60",         \
	  "Seconds an RPC call waits for its reply.")                                     \
	X(DB_CONNECTION, "database", "connection", CFG_STR, "sqlite:///trove.sqlite",     \
	  "Control-plane database URL; sqlite:///<relative path> or "                     \
	  "sqlite:////<absolute path>.")                                                  \
	X(MAX_BODY, "oslo_middleware", "max_request_body_size", CFG_INT, "114688",        \
	  "Largest request body in bytes; larger bodies get 413.")                        \
	X(TOKEN_EXPIRATION, "token", "expiration", CFG_INT, "3600",                       \
	  "Seconds an embedded-identity token stays valid.")                              \
	X(PASSWORD_HASH_ROUNDS, "identity", "password_hash_rounds", CFG_INT, "20000",     \
	  "PBKDF2-SHA256 iterations for embedded-identity passwords.")                    \
	X(REGION_NAME, "identity", "region_name", CFG_STR, "RegionOne",                   \
	  "ctrove: region of the endpoints in the embedded catalog.")                     \
	X(WWW_AUTHENTICATE_URI, "keystone_authtoken", "www_authenticate_uri", CFG_STR,    \
	  "", "Identity URI announced in WWW-Authenticate on 401; empty = the embedded "  \
	  "identity URL.")

#endif
