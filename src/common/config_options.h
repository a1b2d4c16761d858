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

#define CT_CONFIG_OPTIONS(X)                                                                       \
	X(DEBUG, "DEFAULT", "debug", CFG_BOOL, "false", "Log at DEBUG level.")                     \
	X(LOG_FILE, "DEFAULT", "log_file", CFG_STR, "",                                            \
	  "Log file path; empty logs to standard error.")                                          \
	X(STATE_PATH, "DEFAULT", "state_path", CFG_STR, "/var/lib/ctrove",                         \
	  "ctrove: directory for local state (token signing key, instance files).")                \
	X(HOST, "DEFAULT", "host", CFG_STR, "0.0.0.0",                                             \
	  "Name of this node; RPC servers listen on <topic>.<host>.")                              \
	X(BIND_HOST, "DEFAULT", "bind_host", CFG_STR, "0.0.0.0",                                   \
	  "Address the API server listens on.")                                                    \
	X(BIND_PORT, "DEFAULT", "bind_port", CFG_INT, "8779", "Port of the API server.")           \
	X(API_WORKERS, "DEFAULT", "trove_api_workers", CFG_INT, "0",                               \
	  "API (HTTP) threads; 0 = one per CPU.")                                                  \
	X(API_GUEST_THREADS, "DEFAULT", "api_guest_call_threads", CFG_INT, "16",                   \
	  "API threads that serve the requests waiting on a guest agent (databases, users, "       \
	  "root), so a slow guest never holds an HTTP thread.")                                    \
	X(API_GUEST_THREADS_PER_PROJECT, "DEFAULT", "api_guest_call_threads_per_project", CFG_INT, \
	  "0",                                                                                     \
	  "ctrove: the most api_guest_call_threads one project's requests hold at once (0: half "  \
	  "of them), so calls to one tenant's hung guest never delay another tenant's.")           \
	X(PUBLIC_ENDPOINT, "DEFAULT", "public_endpoint", CFG_STR, "",                              \
	  "Base URL in the version document and the catalog; empty = the request's "               \
	  "Host.")                                                                                 \
	X(AUTH_STRATEGY, "DEFAULT", "auth_strategy", CFG_STR, "embedded",                          \
	  "ctrove: 'embedded' serves a Keystone v3 subset at /identity/v3 and checks "             \
	  "its own tokens; 'keystone' validates tokens against [keystone_authtoken].")             \
	X(ADMIN_ROLES, "DEFAULT", "admin_roles", CFG_LIST, "admin",                                \
	  "Roles that make a request context admin.")                                              \
	X(HTTP_GET_RATE, "DEFAULT", "http_get_rate", CFG_INT, "200",                               \
	  "GET requests per minute per project.")                                                  \
	X(HTTP_POST_RATE, "DEFAULT", "http_post_rate", CFG_INT, "200",                             \
	  "POST requests per minute per project.")                                                 \
	X(HTTP_PUT_RATE, "DEFAULT", "http_put_rate", CFG_INT, "200",                               \
	  "PUT requests per minute per project.")                                                  \
	X(HTTP_DELETE_RATE, "DEFAULT", "http_delete_rate", CFG_INT, "200",                         \
	  "DELETE requests per minute per project.")                                               \
	X(HTTP_MGMT_POST_RATE, "DEFAULT", "http_mgmt_post_rate", CFG_INT, "200",                   \
	  "POST requests on /mgmt per minute per project.")                                        \
	X(MAX_INSTANCES, "DEFAULT", "max_instances_per_tenant", CFG_INT, "10",                     \
	  "Default quota of instances per project.")                                               \
	X(MAX_RAM, "DEFAULT", "max_ram_per_tenant", CFG_INT, "-1",                                 \
	  "Default quota of flavor RAM (MB) per project; -1 = unlimited.")                         \
	X(MAX_VOLUMES, "DEFAULT", "max_volumes_per_tenant", CFG_INT, "40",                         \
	  "Default quota of volume GB per project.")                                               \
	X(MAX_BACKUPS, "DEFAULT", "max_backups_per_tenant", CFG_INT, "50",                         \
	  "Default quota of backups per project.")                                                 \
	X(MAX_VOLUME_SIZE, "DEFAULT", "max_accepted_volume_size", CFG_INT, "10",                   \
	  "Largest volume (GB) an instance may ask for.")                                          \
	X(INSTANCES_PAGE_SIZE, "DEFAULT", "instances_page_size", CFG_INT, "20",                    \
	  "Largest page of instances.")                                                            \
	X(AGENT_HEARTBEAT_EXPIRY, "DEFAULT", "agent_heartbeat_expiry", CFG_INT, "90",              \
	  "Seconds without a guest heartbeat before its service shows ERROR.")                     \
	X(FAILOVER_TIMEOUT, "DEFAULT", "failover_timeout", CFG_INT, "5",                           \
	  "ctrove: seconds a replication source with automatic failover may go without a "         \
	  "heartbeat, or report its server down, before the taskmanager fences it and promotes "   \
	  "its most advanced replica (docs/failover.md). A silent source is given at least two "   \
	  "[local] guest_report_interval as well.")                                                \
	X(VOLUME_USAGE_MAX_AGE, "DEFAULT", "volume_usage_max_age", CFG_INT, "60",                  \
	  "ctrove: seconds a volume usage reported with a guest heartbeat is shown instead of "    \
	  "asking the guest.")                                                                     \
	X(GUEST_AGENT_CHECK_INTERVAL, "DEFAULT", "guest_agent_check_interval", CFG_INT, "5",       \
	  "ctrove: seconds between the taskmanager's checks that the guest agent of every "        \
	  "ACTIVE instance with no task runs; one that does not (killed, crashed, or the "         \
	  "machine rebooted) is started again through the compute driver, which first "            \
	  "restores what a reboot loses (the local driver: volume mount, packet filter rules), "   \
	  "as systemd restarts trove-guestagent in a Trove VM. Checked once at taskmanager "       \
	  "start as well; 0 = only then.")                                                         \
	X(API_BUS_TIMEOUT, "DEFAULT", "api_bus_timeout", CFG_INT, "5",                             \
	  "ctrove: seconds an API request waits for the message bus (its cast to the "             \
	  "taskmanager) before it answers 503 and changes nothing; Trove's API waits as long "     \
	  "as oslo.messaging retries. 0 = rpc_response_timeout.")                                  \
	X(DEFAULT_DATASTORE, "DEFAULT", "default_datastore", CFG_STR, "",                          \
	  "Datastore used when a create request names none.")                                      \
	X(TRANSPORT_URL, "DEFAULT", "transport_url", CFG_STR, "rabbit://", "Message bus URL(s).")  \
	X(CONTROL_EXCHANGE, "DEFAULT", "control_exchange", CFG_STR, "openstack",                   \
	  "Topic exchange for RPC.")                                                               \
	X(TASKMANAGER_QUEUE, "DEFAULT", "taskmanager_queue", CFG_STR, "taskmanager",               \
	  "Taskmanager RPC topic.")                                                                \
	X(CONDUCTOR_QUEUE, "DEFAULT", "conductor_queue", CFG_STR, "trove-conductor",               \
	  "Conductor RPC topic.")                                                                  \
	X(GUEST_TRANSPORT_URL, "DEFAULT", "guest_transport_url", CFG_STR, "",                      \
	  "ctrove: the bus URL written into each guest's config when [broker_accounts] enabled "   \
	  "is false; creating an instance fails without it (the control plane's own "              \
	  "transport_url never goes to a guest).")                                                 \
	X(BROKER_ACCOUNTS, "broker_accounts", "enabled", CFG_BOOL, "true",                         \
	  "ctrove: give each guest a RabbitMQ account of its own (its queues, its bindings on "    \
	  "control_exchange, publishing only to conductor_queue), made with the instance and "     \
	  "removed with it; when the broker refuses, the build fails.")                            \
	X(BROKER_MANAGEMENT_URL, "broker_accounts", "management_url", CFG_STR, "",                 \
	  "ctrove: base URL of the RabbitMQ management HTTP API; empty = http://<first "           \
	  "transport_url host>:15672/.")                                                           \
	X(BROKER_ADMIN_USER, "broker_accounts", "admin_user", CFG_STR, "",                         \
	  "ctrove: management API login (an administrator); empty = transport_url's first "        \
	  "user.")                                                                                 \
	X(BROKER_ADMIN_PASSWORD, "broker_accounts", "admin_password", CFG_STR, "",                 \
	  "ctrove: its password; empty = transport_url's first password.")                         \
	X(BROKER_TIMEOUT, "broker_accounts", "timeout", CFG_INT, "10",                             \
	  "ctrove: seconds a management API call may take.")                                       \
	X(RPC_RESPONSE_TIMEOUT, "DEFAULT", "rpc_response_timeout", CFG_INT, "60",                  \
	  "Seconds an RPC call waits for its reply.")                                              \
	X(DB_CONNECTION, "database", "connection", CFG_STR, "sqlite:///trove.sqlite",              \
	  "Control-plane database URL; sqlite:///<relative path> or "                              \
	  "sqlite:////<absolute path>.")                                                           \
	X(MAX_BODY, "oslo_middleware", "max_request_body_size", CFG_INT, "114688",                 \
	  "Largest request body in bytes; larger bodies get 413.")                                 \
	X(TOKEN_EXPIRATION, "token", "expiration", CFG_INT, "3600",                                \
	  "Seconds an embedded-identity token stays valid.")                                       \
	X(TOKEN_REVOCATION_CACHE_TIME, "token", "revocation_cache_time", CFG_INT, "1",             \
	  "ctrove: seconds an API process trusts what it read about a user's or project's "        \
	  "token revocation (password change, deletion) made by another process; its own "         \
	  "changes apply at once.")                                                                \
	X(PASSWORD_HASH_ROUNDS, "identity", "password_hash_rounds", CFG_INT, "20000",              \
	  "PBKDF2-SHA256 iterations for embedded-identity passwords.")                             \
	X(LOGIN_FAILURES_PER_USER, "identity", "login_failures_per_user", CFG_INT, "10",           \
	  "ctrove: failed password logins a user name may have per minute (a leaky bucket); "      \
	  "beyond it every login for the name gets 429 until the bucket drains. 0 = no limit.")    \
	X(LOGIN_FAILURES_PER_SOURCE, "identity", "login_failures_per_source", CFG_INT, "30",       \
	  "ctrove: failed password logins one client address may have per minute; beyond it "      \
	  "every login from the address gets 429 until the bucket drains. 0 = no limit.")          \
	X(REGION_NAME, "identity", "region_name", CFG_STR, "RegionOne",                            \
	  "ctrove: region of the endpoints in the embedded catalog.")                              \
	X(WWW_AUTHENTICATE_URI, "keystone_authtoken", "www_authenticate_uri", CFG_STR, "",         \
	  "Identity URI announced in WWW-Authenticate on 401; empty = the embedded "               \
	  "identity URL.")                                                                         \
	X(KEYSTONE_AUTH_URL, "keystone_authtoken", "auth_url", CFG_STR, "",                        \
	  "Keystone v3 URL (http://host:5000/v3) of the service user that validates tokens when "  \
	  "auth_strategy = keystone.")                                                             \
	X(KEYSTONE_USERNAME, "keystone_authtoken", "username", CFG_STR, "",                        \
	  "Service user that validates tokens (it needs the service or admin role).")              \
	X(KEYSTONE_PASSWORD, "keystone_authtoken", "password", CFG_STR, "",                        \
	  "Password of the service user; never logged.")                                           \
	X(KEYSTONE_PROJECT_NAME, "keystone_authtoken", "project_name", CFG_STR, "service",         \
	  "Project the service user's token is scoped to.")                                        \
	X(KEYSTONE_USER_DOMAIN_NAME, "keystone_authtoken", "user_domain_name", CFG_STR, "Default", \
	  "Domain of the service user.")                                                           \
	X(KEYSTONE_PROJECT_DOMAIN_NAME, "keystone_authtoken", "project_domain_name", CFG_STR,      \
	  "Default", "Domain of the service user's project.")                                      \
	X(KEYSTONE_REGION_NAME, "keystone_authtoken", "region_name", CFG_STR, "",                  \
	  "Region of the identity endpoint; empty = any.")                                         \
	X(KEYSTONE_HTTP_TIMEOUT, "keystone_authtoken", "http_connect_timeout", CFG_INT, "10",      \
	  "Seconds a token validation may take before Keystone counts as unreachable (503). "      \
	  "ctrove: default 10.")                                                                   \
	X(KEYSTONE_TOKEN_CACHE_TIME, "keystone_authtoken", "token_cache_time", CFG_INT, "300",     \
	  "Seconds a validated token is trusted without asking Keystone again (never beyond "      \
	  "its expiry); a revoked token is refused at most this long after. 0 = no cache.")        \
	X(KEYSTONE_TOKEN_CACHE_SIZE, "keystone_authtoken", "token_cache_size", CFG_INT, "10000",   \
	  "ctrove: most validated tokens cached (a hash of each, never the token); the oldest "    \
	  "entry makes room.")                                                                     \
	X(POLICY_FILE, "oslo_policy", "policy_file", CFG_STR, "policy.yaml",                       \
	  "Policy rules in oslo.policy's YAML shape overriding the built-in ones (`ctrove "        \
	  "--help-policy`); a relative name is looked for beside the configuration files. "        \
	  "Absent = the built-in rules.")                                                          \
	X(ENABLE_SECURE_RPC, "DEFAULT", "enable_secure_rpc_messaging", CFG_BOOL, "true",           \
	  "Encrypt RPC arguments, results and contexts (Trove payload encryption).")               \
	X(TASKMANAGER_RPC_ENCR_KEY, "DEFAULT", "taskmanager_rpc_encr_key", CFG_STR, "",            \
	  "Key for RPC to the taskmanager when secure messaging is on. ctrove: empty = a "         \
	  "random key generated on first run and kept in <state_path>/rpc_master_keys; "           \
	  "Trove's published default is refused (allow_published_rpc_keys).")                      \
	X(INST_RPC_KEY_ENCR_KEY, "DEFAULT", "inst_rpc_key_encr_key", CFG_STR, "",                  \
	  "Key that encrypts the per-instance RPC keys in the database. ctrove: empty = a "        \
	  "random key generated on first run and kept in <state_path>/rpc_master_keys; "           \
	  "Trove's published default is refused (allow_published_rpc_keys).")                      \
	X(ALLOW_PUBLISHED_RPC_KEYS, "DEFAULT", "allow_published_rpc_keys", CFG_BOOL, "false",      \
	  "ctrove: accept Trove's published defaults for taskmanager_rpc_encr_key and "            \
	  "inst_rpc_key_encr_key (only to share a bus with a Trove that kept them); false = "      \
	  "refuse to start with them.")                                                            \
	X(RPC_MAX_MESSAGE_SIZE, "DEFAULT", "rpc_max_message_size", CFG_INT, "8388608",             \
	  "ctrove: largest RPC body (bytes) a server dispatches; larger get a failure.")           \
	X(RABBIT_HEARTBEAT, "oslo_messaging_rabbit", "heartbeat_timeout_threshold", CFG_INT, "60", \
	  "AMQP heartbeat asked of the broker, in seconds; 0 disables heartbeats.")                \
	X(RABBIT_RETRY_INTERVAL, "oslo_messaging_rabbit", "rabbit_retry_interval", CFG_INT, "1",   \
	  "Seconds before the first reconnection attempt.")                                        \
	X(RABBIT_RETRY_BACKOFF, "oslo_messaging_rabbit", "rabbit_retry_backoff", CFG_INT, "2",     \
	  "Seconds added to the wait after each failed reconnection attempt.")                     \
	X(RABBIT_INTERVAL_MAX, "oslo_messaging_rabbit", "rabbit_interval_max", CFG_INT, "30",      \
	  "Longest wait between reconnection attempts, in seconds.")                               \
	X(AMQP_DURABLE_QUEUES, "oslo_messaging_rabbit", "amqp_durable_queues", CFG_BOOL, "false",  \
	  "Declare the control exchange and topic queues durable.")                                \
	X(AMQP_AUTO_DELETE, "oslo_messaging_rabbit", "amqp_auto_delete", CFG_BOOL, "false",        \
	  "Declare the control exchange and topic queues auto-delete.")                            \
	X(RABBIT_TRANSIENT_QUEUES_TTL, "oslo_messaging_rabbit", "rabbit_transient_queues_ttl",     \
	  CFG_INT, "1800",                                                                         \
	  "Seconds an unused fanout or reply queue lives (x-expires); 0 = forever.")               \
	X(RABBIT_HA_QUEUES, "oslo_messaging_rabbit", "rabbit_ha_queues", CFG_BOOL, "false",        \
	  "Declare queues with x-ha-policy: all.")                                                 \
	X(RABBIT_QUORUM_QUEUE, "oslo_messaging_rabbit", "rabbit_quorum_queue", CFG_BOOL, "false",  \
	  "Declare topic queues as quorum queues (durable, x-queue-type: quorum).")                \
	X(RABBIT_QOS_PREFETCH, "oslo_messaging_rabbit", "rabbit_qos_prefetch_count", CFG_INT, "0", \
	  "basic.qos prefetch count of consumers; 0 = unlimited.")                                 \
	X(RABBIT_MISSING_CONSUMER_RETRY, "oslo_messaging_rabbit",                                  \
	  "kombu_missing_consumer_retry_timeout", CFG_INT, "60",                                   \
	  "Seconds a reply is retried while its reply queue is missing.")                          \
	X(RABBIT_SSL, "oslo_messaging_rabbit", "ssl", CFG_BOOL, "false",                           \
	  "Connect to RabbitMQ over TLS (as an amqps:// transport_url does); the broker's "        \
	  "certificate is verified against ssl_ca_file and its host name, never skipped.")         \
	X(RABBIT_SSL_CA_FILE, "oslo_messaging_rabbit", "ssl_ca_file", CFG_STR, "",                 \
	  "CA bundle (PEM) that signs the broker's certificate; required with TLS. ctrove: "       \
	  "the local driver gives each guest a copy of it.")                                       \
	X(RABBIT_SSL_CERT_FILE, "oslo_messaging_rabbit", "ssl_cert_file", CFG_STR, "",             \
	  "Client certificate (PEM) presented to the broker; empty = none.")                       \
	X(RABBIT_SSL_KEY_FILE, "oslo_messaging_rabbit", "ssl_key_file", CFG_STR, "",               \
	  "Private key (PEM) of ssl_cert_file.")                                                   \
	X(NOTIFY_DRIVER, "oslo_messaging_notifications", "driver", CFG_LIST, "",                   \
	  "Where notifications go: messagingv2 (oslo's 2.0 envelope), messaging (no envelope), "   \
	  "log (event types to the log only) or noop; empty = noop, Trove's default "              \
	  "(docs/notifications.md).")                                                              \
	X(NOTIFY_TOPICS, "oslo_messaging_notifications", "topics", CFG_LIST, "notifications",      \
	  "Topics notifications are published to, as <topic>.<priority> on the control "           \
	  "exchange.")                                                                             \
	X(NOTIFY_TRANSPORT_URL, "oslo_messaging_notifications", "transport_url", CFG_STR, "",      \
	  "Bus for notifications; empty = [DEFAULT] transport_url.")                               \
	X(NOTIFY_QUEUE_SIZE, "oslo_messaging_notifications", "ctrove_queue_size", CFG_INT, "1000", \
	  "ctrove: notifications held while the bus is slow or down; beyond it new ones are "      \
	  "dropped (and counted in the log), so publishing never holds an operation.")             \
	X(EXISTS_NOTIFICATION_TRANSFORMER, "DEFAULT", "exists_notification_transformer", CFG_STR,  \
	  "", "Any value turns on the periodic trove.instance.exists audit of every instance "     \
	  "(ctrove builds Trove's payload itself; the class named is not loaded).")                \
	X(EXISTS_NOTIFICATION_INTERVAL, "DEFAULT", "exists_notification_interval", CFG_INT,        \
	  "3600", "Seconds between trove.instance.exists rounds, and the length of their audit "   \
	  "period.")                                                                               \
	X(REGION, "DEFAULT", "region", CFG_STR, "LOCAL_DEV",                                       \
	  "The region this service is located (the region of usage notifications).")              \
	X(API_SSL_CERT_FILE, "ssl", "cert_file", CFG_STR, "",                                      \
	  "Certificate (PEM, the server's first, then its chain) the API serves HTTPS with; "      \
	  "empty = plain HTTP, allowed only on a loopback bind_host (see allow_plain_http).")      \
	X(API_SSL_KEY_FILE, "ssl", "key_file", CFG_STR, "",                                        \
	  "Private key (PEM) of cert_file; both or neither.")                                      \
	X(API_ALLOW_PLAIN_HTTP, "ssl", "allow_plain_http", CFG_BOOL, "false",                      \
	  "ctrove: serve plain HTTP on a bind_host that is not a loopback address (behind a "      \
	  "TLS-terminating proxy); false = ctrove refuses to start there without cert_file.")      \
	X(COMPUTE_DRIVER, "DEFAULT", "compute_driver", CFG_STR, "local",                           \
	  "ctrove: what gives instances their machines: local (processes, loop volumes "           \
	  "and nftables rules on this host) or nova (Nova servers, Cinder volumes, Neutron "       \
	  "ports and security groups: docs/openstack.md); another value stops ctrove at "          \
	  "start-up.")                                                                             \
	X(LOCAL_INSTANCES_DIR, "local", "instances_dir", CFG_STR, "",                              \
	  "ctrove: directory holding one directory per instance of the local compute "             \
	  "driver (its volume is mounted at <dir>/<id>/data); empty = <state_path>/"               \
	  "instances.")                                                                            \
	X(LOCAL_VOLUMES_DIR, "local", "volumes_dir", CFG_STR, "",                                  \
	  "ctrove: directory of the instances' volume image files (<id>.img, sparse); "            \
	  "empty = <state_path>/volumes.")                                                         \
	X(LOCAL_VOLUME_FS, "local", "volume_fs", CFG_STR, "xfs",                                   \
	  "ctrove: file system of instance volumes: xfs (grows while mounted) or ext4 "            \
	  "(grows only unmounted); xfs falls back to ext4 when mkfs.xfs is missing.")              \
	X(LOCAL_USE_LOOP_DEVICES, "local", "use_loop_devices", CFG_BOOL, "true",                   \
	  "ctrove: give each instance a loop-mounted volume image of its size; false, "            \
	  "or no usable loop device, = plain directories without a size limit.")                   \
	X(LOCAL_ADDRESS_RANGE, "local", "address_range", CFG_STR, "127.10.0.1-127.10.255.254",     \
	  "ctrove: loopback addresses (first-last, inside 127.0.0.0/8) given to "                  \
	  "instances, one each; host parts .0 and .255 are skipped.")                              \
	X(LOCAL_NFT_TABLE, "local", "nft_table", CFG_STR, "ctrove",                                \
	  "ctrove: nftables table (family inet) holding the rules that enforce "                   \
	  "instances' allowed_cidrs; ctrove owns the whole table.")                                \
	X(LOCAL_TOOL_TIMEOUT, "local", "tool_timeout", CFG_INT, "120",                             \
	  "ctrove: seconds a machine tool (mkfs, mount, losetup, nft ...) may run "                \
	  "before it is killed and the step fails.")                                               \
	X(LOCAL_GUESTAGENT, "local", "guestagent_binary", CFG_STR, "",                             \
	  "ctrove: path of ctrove-guestagent; empty = beside the running ctrove.")                 \
	X(LOCAL_GUEST_REPORT_INTERVAL, "local", "guest_report_interval", CFG_INT, "5",             \
	  "ctrove: heartbeat period (s) written into local guest agents' config.")                 \
	X(LOCAL_GUEST_PROBE_INTERVAL, "local", "guest_probe_interval", CFG_INT, "30",              \
	  "ctrove: [guest_agent] server_probe_interval written into local guest agents' "          \
	  "config (issue 18: a healthy idle instance then costs one worker process and one "       \
	  "database connection per this many seconds, not per heartbeat).")                        \
	X(LOCAL_RUN_ROOT, "local", "run_root", CFG_STR, "/run/ctrove",                             \
	  "ctrove: parent of the guests' run directories (sockets must stay short).")              \
	X(LOCAL_INSTANCE_UID_RANGE, "local", "instance_uid_range", CFG_STR, "70000-79999",         \
	  "ctrove: uids (first-last) of the per-instance OS users the local driver "               \
	  "creates (ct-<id>, group of the same name); each instance's server runs as "             \
	  "its own. Outside Debian's user (1000-60000) and subuid (100000-) ranges.")              \
	/* The cloud path (issue 19: docs/openstack.md): Keystone service credentials and the      \
	 * nova compute driver's Nova, Cinder, Neutron and Glance options. */                      \
	X(SC_AUTH_URL, "service_credentials", "auth_url", CFG_STR, "https://0.0.0.0/identity/v3",  \
	  "Keystone v3 URL the control plane authenticates its service user at (the nova "         \
	  "compute driver; its root or its /v3).")                                                 \
	X(SC_USERNAME, "service_credentials", "username", CFG_STR, "",                             \
	  "Service user that owns instances' servers, volumes, ports and security groups.")        \
	X(SC_PASSWORD, "service_credentials", "password", CFG_STR, "",                             \
	  "That user's password (a secret: never logged).")                                        \
	X(SC_PROJECT_NAME, "service_credentials", "project_name", CFG_STR, "",                     \
	  "Project the service user's token is scoped to (Trove's service project).")              \
	X(SC_USER_DOMAIN_NAME, "service_credentials", "user_domain_name", CFG_STR, "Default",      \
	  "Domain of username.")                                                                   \
	X(SC_PROJECT_DOMAIN_NAME, "service_credentials", "project_domain_name", CFG_STR,           \
	  "Default", "Domain of project_name.")                                                    \
	X(SC_REGION_NAME, "service_credentials", "region_name", CFG_STR, "RegionOne",              \
	  "Region whose catalog endpoints are used.")                                              \
	X(SC_INTERFACE, "service_credentials", "interface", CFG_STR, "public",                     \
	  "ctrove: catalog interface of the endpoints used: public, internal or admin (Trove's "   \
	  "*_endpoint_type).")                                                                     \
	X(SC_TIMEOUT, "service_credentials", "timeout", CFG_INT, "60",                             \
	  "ctrove: seconds one request to an OpenStack API may take.")                             \
	X(NOVA_KEYPAIR, "DEFAULT", "nova_keypair", CFG_STR, "",                                    \
	  "Nova keypair injected into instances' servers; empty = none.")                          \
	X(MANAGEMENT_NETWORKS, "DEFAULT", "management_networks", CFG_LIST, "",                     \
	  "Neutron network ids the guest reaches the control plane on; one port each, after "      \
	  "the user's nics.")                                                                      \
	X(MANAGEMENT_SECURITY_GROUPS, "DEFAULT", "management_security_groups", CFG_LIST, "",       \
	  "Security group ids of the management ports; empty = the instance's own group.")         \
	X(USE_NOVA_SERVER_CONFIG_DRIVE, "DEFAULT", "use_nova_server_config_drive", CFG_BOOL,       \
	  "false", "Also give servers their user data on a config drive.")                         \
	X(CINDER_VOLUME_TYPE, "DEFAULT", "cinder_volume_type", CFG_STR, "",                        \
	  "Volume type of instances' volumes when the request names none; empty = Cinder's "       \
	  "default.")                                                                              \
	X(BLOCK_DEVICE_MAPPING, "DEFAULT", "block_device_mapping", CFG_STR, "vdb",                 \
	  "Device name of the volume in the server's block device mapping.")                       \
	X(DEVICE_PATH, "DEFAULT", "device_path", CFG_STR, "/dev/vdb",                              \
	  "Where the guest finds its volume inside the server.")                                   \
	X(TROVE_SG_NAME_PREFIX, "DEFAULT", "trove_security_group_name_prefix", CFG_STR,            \
	  "trove_sg", "Name prefix of each instance's security group (<prefix>-<id>).")            \
	X(TROVE_SG_RULE_CIDR, "DEFAULT", "trove_security_group_rule_cidr", CFG_STR, "0.0.0.0/0",   \
	  "CIDR of the database port's rule when an instance has no allowed_cidrs.")               \
	X(VOLUME_TIME_OUT, "DEFAULT", "volume_time_out", CFG_INT, "60",                            \
	  "Seconds a Cinder volume may take to become available, or to be extended.")              \
	X(SERVER_DELETE_TIME_OUT, "DEFAULT", "server_delete_time_out", CFG_INT, "60",              \
	  "Seconds a deleted Nova server may take to disappear.")                                  \
	X(RESIZE_TIME_OUT, "DEFAULT", "resize_time_out", CFG_INT, "900",                           \
	  "Seconds a Nova flavor resize may take to reach VERIFY_RESIZE.")                         \
	X(NOVA_GUEST_MOUNT_POINT, "DEFAULT", "ctrove_guest_mount_point", CFG_STR,                  \
	  "/var/lib/ctrove/data",                                                                  \
	  "ctrove: where the guest in a Nova server mounts its volume (device_path); written "     \
	  "into the guest's config.")                                                              \
	X(USAGE_TIMEOUT, "DEFAULT", "usage_timeout", CFG_INT, "1800",                              \
	  "Seconds a new instance may take to become active before it goes to ERROR.")             \
	X(BACKUP_SWIFT_CONTAINER, "DEFAULT", "backup_swift_container", CFG_STR,                    \
	  "database_backups",                                                                      \
	  "Container (a top directory in the local store) of backups whose request and "           \
	  "backup strategies name none.")                                                          \
	X(BACKUPS_PAGE_SIZE, "DEFAULT", "backups_page_size", CFG_INT, "20",                        \
	  "Backups per page of GET /backups when the request gives no limit.")                     \
	X(RESTORE_USAGE_TIMEOUT, "DEFAULT", "restore_usage_timeout", CFG_INT, "3600",              \
	  "Seconds an instance restored from a backup may take to become active.")                 \
	X(BACKUP_TIMEOUT, "DEFAULT", "backup_timeout", CFG_INT, "86400",                           \
	  "ctrove: seconds a backup may stay NEW or BUILDING without news from its guest "         \
	  "before the taskmanager marks it FAILED.")                                               \
	/* Backup schedules (issue 16, sched: docs/backups.md "Schedules and retention"). */       \
	X(BACKUP_SCHEDULE_MINUTE_SECONDS, "DEFAULT", "backup_schedule_minute_seconds", CFG_INT,    \
	  "60",                                                                                    \
	  "ctrove, for tests only: real seconds one minute of a backup schedule's cron pattern "   \
	  "lasts (the schedules' clock runs 60/N times as fast), so '* * * * *' fires every N "    \
	  "seconds. Keep 60 in production.")                                                       \
	X(GUEST_ID, "DEFAULT", "guest_id", CFG_STR, "",                                            \
	  "Guest agent: the instance it serves (injected in guest_info.conf).")                    \
	X(GUEST_DATASTORE_MANAGER, "DEFAULT", "datastore_manager", CFG_STR, "",                    \
	  "Guest agent: datastore manager (mariadb, mysql, postgresql).")                          \
	X(GUEST_DATASTORE_VERSION, "DEFAULT", "datastore_version", CFG_STR, "",                    \
	  "Guest agent: datastore version of the instance.")                                       \
	X(GUEST_TENANT_ID, "DEFAULT", "tenant_id", CFG_STR, "",                                    \
	  "Guest agent: project that owns the instance.")                                          \
	X(INSTANCE_RPC_ENCR_KEY, "DEFAULT", "instance_rpc_encr_key", CFG_STR, "",                  \
	  "Guest agent: the instance's RPC payload key; empty = plain text.")                      \
	X(REPORT_INTERVAL, "DEFAULT", "report_interval", CFG_INT, "30",                            \
	  "Guest agent: seconds between heartbeats to the conductor.")                             \
	X(GUEST_RUN_DIR, "guest_agent", "run_dir", CFG_STR, "",                                    \
	  "ctrove guest agent: directory for the server's config, socket, pid and "                \
	  "credential files (not on the volume); empty = /run/ctrove/<guest_id>.")                 \
	X(GUEST_DATA_DIR, "guest_agent", "data_dir", CFG_STR, "",                                  \
	  "ctrove guest agent: the instance volume's mount point; empty = prepare's "              \
	  "mount_point, else [<manager>] mount_point.")                                            \
	X(GUEST_MOUNT_DEVICE, "guest_agent", "mount_device", CFG_BOOL, "false",                   \
	  "ctrove guest agent: the volume is [DEFAULT] device_path, mounted at data_dir at "        \
	  "start (formatted ext4 the first time) and grown by resize_fs: a VM's agent.")            \
	X(GUEST_CACHE_DIR, "guest_agent", "cache_dir", CFG_STR, "",                                \
	  "ctrove guest agent: pre-initialised data directories shared by instances "              \
	  "(faster prepare); empty = none.")                                                       \
	X(GUEST_BIND_ADDRESS, "guest_agent", "bind_address", CFG_STR, "0.0.0.0",                   \
	  "ctrove guest agent: address the database server listens on.")                           \
	X(GUEST_PORT, "guest_agent", "port", CFG_INT, "0",                                         \
	  "ctrove guest agent: database port; 0 = the datastore's (3306, 5432).")                  \
	X(GUEST_SERVICE_USER, "guest_agent", "service_user", CFG_STR, "",                          \
	  "ctrove guest agent: unprivileged OS user the database runs as; empty = the "            \
	  "datastore's (mysql, postgres).")                                                        \
	X(GUEST_MEMORY_MB, "guest_agent", "memory_mb", CFG_INT, "512",                             \
	  "ctrove guest agent: flavor RAM used to size the server when prepare brings "            \
	  "no config.")                                                                            \
	X(GUEST_PROBE_INTERVAL, "guest_agent", "server_probe_interval", CFG_INT, "0",              \
	  "ctrove guest agent: seconds between full probes of a HEALTHY server (a query over a "   \
	  "connection, and the counters heartbeats carry); the heartbeats in between check only "  \
	  "that its process is alive and not stopped, so a dead or stopped server still shows at " \
	  "the next heartbeat, a hung one within this. 0 = every heartbeat.")                      \
	X(STORAGE_STRATEGY, "DEFAULT", "storage_strategy", CFG_STR, "local",                       \
	  "Backup store: local (a directory on this machine, [local_storage]) or swift "           \
	  "([swift]); s3 is not implemented yet. ctrove: the default is local (Trove's is "        \
	  "swift).")                                                                               \
	X(LOCAL_STORAGE_DIR, "local_storage", "backups_dir", CFG_STR, "",                          \
	  "ctrove: directory of the local backup store (0700, objects 0600); empty = "             \
	  "<state_path>/backups.")                                                                 \
	X(BACKUP_SEGMENT_MAX_SIZE, "DEFAULT", "backup_segment_max_size", CFG_INT, "2147483648",    \
	  "Largest Swift segment of a backup object in bytes; larger objects are several "         \
	  "segments under one static large object manifest.")                                      \
	/* Point-in-time recovery (issue 16: docs/pitr.md). */                                     \
	X(ARCHIVE_INTERVAL, "DEFAULT", "archive_interval", CFG_INT, "1",                           \
	  "ctrove: seconds between a guest's shipments of its binary logs / WAL to the archive "   \
	  "(start_archiving's interval; the recovery point is about this plus the upload).")       \
	X(ARCHIVE_REFRESH_INTERVAL, "DEFAULT", "archive_refresh_interval", CFG_INT, "600",         \
	  "ctrove: seconds between the taskmanager's start_archiving casts to every active "       \
	  "instance on a Swift store (fresh tokens); 0 = never.")                                  \
	X(ARCHIVE_STALE_AFTER, "DEFAULT", "archive_stale_after", CFG_INT, "120",                   \
	  "ctrove: an active instance whose guest has not reported archive progress for this "     \
	  "many seconds gets start_archiving again (the taskmanager checks at start and every "    \
	  "archive_stale_after / 2 seconds).")                                                     \
	X(SWIFT_AUTH_URL, "swift", "auth_url", CFG_STR, "",                                        \
	  "ctrove: Swift's v1 (tempauth) authentication URL, e.g. "                                \
	  "http://127.0.0.1:8080/auth/v1.0, for storage_strategy = swift.")                        \
	X(SWIFT_AUTH_USER, "swift", "auth_user", CFG_STR, "",                                      \
	  "ctrove: the Swift user (account:user) the control plane authenticates as.")             \
	X(SWIFT_AUTH_KEY, "swift", "auth_key", CFG_STR, "",                                        \
	  "ctrove: that user's key (a secret: never logged).")                                     \
	X(SWIFT_TIMEOUT, "swift", "timeout", CFG_INT, "120",                                       \
	  "ctrove: seconds a Swift request may take, or a transfer may stall, before it fails.")   \
	X(SWIFT_LIST_PAGE, "swift", "list_page_size", CFG_INT, "10000",                            \
	  "ctrove: names asked of Swift per container listing request (its "                       \
	  "container_listing_limit, 10000 by default, is the most it answers).")                   \
	X(SWIFT_URL, "DEFAULT", "swift_url", CFG_STR, "",                                          \
	  "URL ending in AUTH_ (the service project's id is appended) for Swift through "          \
	  "Keystone; empty = the catalog's swift_service_type endpoint. Used when [swift] "        \
	  "auth_url is empty (docs/storage.md).")                                                  \
	X(SWIFT_SERVICE_TYPE, "DEFAULT", "swift_service_type", CFG_STR, "object-store",            \
	  "Service type of Swift in the Keystone catalog.")                                        \
	X(SWIFT_ENDPOINT_TYPE, "DEFAULT", "swift_endpoint_type", CFG_STR, "publicURL",             \
	  "Which of Swift's catalog endpoints: publicURL, internalURL or adminURL.")               \
	X(SSL_CA_CERT_FILE, "ssl", "ca_cert_file", CFG_STR, "",                                    \
	  "ctrove: PEM certificate of the CA that signs instances' server certificates; empty = "  \
	  "ctrove's own CA, created on first run in <state_path>/ca/ (0700, key 0600).")           \
	X(SSL_CA_KEY_FILE, "ssl", "ca_key_file", CFG_STR, "",                                      \
	  "ctrove: PEM private key of ca_cert_file (required with it; read by the control plane "  \
	  "only).")                                                                                \
	X(SSL_INSTANCE_CERT_LIFETIME, "ssl", "instance_cert_lifetime", CFG_INT, "31536000",        \
	  "ctrove: seconds an instance's server certificate is valid (default one year).")         \
	X(SSL_INSTANCE_CERT_RENEW_BEFORE, "ssl", "instance_cert_renew_before", CFG_INT, "2592000", \
	  "ctrove: the taskmanager replaces an instance's server certificate this many seconds "   \
	  "before it expires (default 30 days); a negative value renews only after expiry "        \
	  "(tests).")                                                                              \
	X(SSL_INSTANCE_CERT_CHECK_INTERVAL, "ssl", "instance_cert_check_interval", CFG_INT,        \
	  "3600", "ctrove: seconds between the taskmanager's checks for certificates to renew.")   \
	/* Database logs and metrics (issue 14: docs/logs.md, docs/metrics.md). */                 \
	X(GUEST_LOG_CONTAINER, "DEFAULT", "guest_log_container_name", CFG_STR, "database_logs",    \
	  "Container of the backup store that published database logs go to.")                     \
	X(GUEST_LOG_LIMIT, "DEFAULT", "guest_log_limit", CFG_INT, "1000000",                       \
	  "Largest part (bytes) a log is published in; parts end on whole lines.")                 \
	X(MARIADB_LOG_EXPOSED, "mariadb", "guest_log_exposed_logs", CFG_LIST,                      \
	  "general,slow_query,error",                                                              \
	  "Logs a non-admin may list and act on ('all' = every one). ctrove: error added.")        \
	X(MARIADB_LONG_QUERY_MS, "mariadb", "guest_log_long_query_time", CFG_INT, "1000",          \
	  "Milliseconds a statement takes to reach the slow_query log (long_query_time).")         \
	X(POSTGRESQL_LOG_EXPOSED, "postgresql", "guest_log_exposed_logs", CFG_LIST,                \
	  "general,slow_query,error",                                                              \
	  "Logs a non-admin may list and act on ('all' = every one). ctrove: slow_query and "      \
	  "error added.")                                                                          \
	X(POSTGRESQL_LONG_QUERY_MS, "postgresql", "guest_log_long_query_time", CFG_INT, "1000",    \
	  "ctrove: milliseconds a statement takes to reach the slow_query log "                    \
	  "(log_min_duration_statement; Trove's 0 applied to its general log).")

#endif
