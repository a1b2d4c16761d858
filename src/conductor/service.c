/*
 * service.c — the conductor as an RPC server on [DEFAULT] conductor_queue
 * (Trove's topic `trove-conductor`, version 1.0, casts only): the dispatch
 * table below names each method, its handler and its argument schema. Guest
 * messages are encrypted with the sending instance's key, looked up here from
 * instances.encrypted_key.
 */
#define LOG_MODULE "conductor"
#include "conductor/service.h"

#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "conductor/conductor.h"
#include "db/instances.h"
#include "rpc/crypto.h"

static json_t *result_of(int rc)
{
	return rc ? NULL : json_null();
}

static json_t *on_heartbeat(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return result_of(conductor_heartbeat(req->args, err));
}

static json_t *on_update_backup(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return result_of(conductor_update_backup(req->args, err));
}

static json_t *on_report_root(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return result_of(conductor_report_root(req->args, err));
}

static json_t *on_notify_end(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return result_of(conductor_notify_end(req->args, err));
}

static json_t *on_notify_exc_info(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	return result_of(conductor_notify_exc_info(req->args, err));
}

static const struct rpc_arg heartbeat_args[] = {
	{"instance_id", RPC_T_STRING, true},
	{"payload", RPC_T_OBJECT, true},
	{"sent", RPC_T_NUMBER | RPC_T_NULL, false},
	{NULL, 0, false},
};
static const struct rpc_arg update_backup_args[] = {
	{"instance_id", RPC_T_STRING, true},
	{"backup_id", RPC_T_STRING, true},
	{"sent", RPC_T_NUMBER | RPC_T_NULL, false},
	{"size", RPC_T_NUMBER | RPC_T_NULL, false},
	{"state", RPC_T_STRING | RPC_T_NULL, false},
	{"backup_type", RPC_T_STRING | RPC_T_NULL, false},
	{"checksum", RPC_T_STRING | RPC_T_NULL, false},
	{"location", RPC_T_STRING | RPC_T_NULL, false},
	{"success", RPC_T_BOOL | RPC_T_NULL, false},
	{NULL, 0, false},
};
static const struct rpc_arg report_root_args[] = {
	{"instance_id", RPC_T_STRING, true},
	{"user", RPC_T_ANY, false},
	{NULL, 0, false},
};
static const struct rpc_arg notify_end_args[] = {
	{"serialized_notification", RPC_T_OBJECT, true},
	{"notification_args", RPC_T_OBJECT | RPC_T_NULL, false},
	{NULL, 0, false},
};
static const struct rpc_arg notify_exc_info_args[] = {
	{"serialized_notification", RPC_T_OBJECT, true},
	{"message", RPC_T_STRING, true},
	{"exception", RPC_T_ANY, false},
	{NULL, 0, false},
};

static const struct rpc_method conductor_methods[] = {
	/* update_backup carries extra backup columns; unknown ones are ignored. */
	{"heartbeat", on_heartbeat, heartbeat_args, false},
	{"update_backup", on_update_backup, update_backup_args, true},
	{"report_root", on_report_root, report_root_args, false},
	{"notify_end", on_notify_end, notify_end_args, true},
	{"notify_exc_info", on_notify_exc_info, notify_exc_info_args, false},
	{NULL, NULL, NULL, false},
};

char *conductor_instance_key(void *user, const char *instance_id)
{
	(void)user;
	struct ct_error err = {0};
	char encrypted[512];
	if (instance_encrypted_key(instance_id, encrypted, sizeof encrypted, &err) != 1)
		return NULL;
	size_t len = 0;
	char *key = rpc_crypto_decrypt(cfg_str(CFG_INST_RPC_KEY_ENCR_KEY), encrypted, &len, &err);
	if (!key)
		log_warning("the RPC key of instance %s does not decrypt", instance_id);
	return key;
}

struct rpc_server *conductor_service_new(struct ct_error *err)
{
	struct rpc_server_opts opts = {
		.topic = cfg_str(CFG_CONDUCTOR_QUEUE),
		.version = "1.0",
		.methods = conductor_methods,
		.key_lookup = conductor_instance_key,
	};
	return rpc_server_new(NULL, &opts, err);
}
