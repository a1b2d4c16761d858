/*
 * service.c — the conductor as an RPC server on [DEFAULT] conductor_queue
 * (Trove's topic `trove-conductor`, version 1.0, casts only): the dispatch
 * table below names each method, its handler and its argument schema. Guest
 * messages are encrypted with the sending instance's key, looked up here from
 * instances.encrypted_key; before a handler runs, the message must name the
 * instance that sealed it and its `sent` is brought into the trusted window
 * (message_trust.h). Handlers (conductor.c) then write what they are given.
 */
#define LOG_MODULE "conductor"
#include "conductor/service.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "conductor/conductor.h"
#include "conductor/message_trust.h"
#include "db/instances.h"
#include "rpc/crypto.h"

static json_t *result_of(int rc)
{
	return rc ? NULL : json_null();
}

/* A message acts only on the instance whose key sealed it. A plain one (accepted by
 * instance_key_for only with secure messaging off) only on an instance without a key:
 * one that has a key encrypts everything it sends. */
static int check_sender(const struct rpc_request *req, const char *named, struct ct_error *err)
{
	if (conductor_check_named(req->instance_id, named, err))
		goto refused;
	if (!req->instance_id && named) {
		char *key = conductor_instance_key(NULL, named);
		bool keyed = key != NULL;
		free(key);
		if (keyed) {
			ct_fail(err, 403, "instance %.64s has an RPC key: plain text is refused",
				named);
			goto refused;
		}
	}
	return 0;
refused:
	log_warning("refusing %s on the conductor: %s", req->method, err->message);
	return -1;
}

static const char *named_instance(const struct rpc_request *req)
{
	return json_string_value(json_object_get(req->args, "instance_id"));
}

static const char *notification_instance(const struct rpc_request *req)
{
	return json_string_value(json_object_get(
		json_object_get(req->args, "serialized_notification"), "instance_id"));
}

/* Replace args.sent by the time the conductor trusts (message_trust.h) before the
 * handler records it for ordering. */
static int trust_sent(const struct rpc_request *req, struct ct_error *err)
{
	const json_t *sent = json_object_get(req->args, "sent");
	if (!json_is_number(sent))
		return 0; /* absent or null: accepted, and recorded nowhere, as in Trove */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double trusted;
	if (conductor_trusted_sent(json_number_value(sent),
				   (double)now.tv_sec + (double)now.tv_nsec / 1e9, &trusted, err)) {
		log_warning("refusing %s of %.64s: %s", req->method, named_instance(req),
			    err->message);
		return -1;
	}
	json_object_set_new(req->args, "sent", json_real(trusted));
	return 0;
}

static json_t *on_heartbeat(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	if (check_sender(req, named_instance(req), err) || trust_sent(req, err))
		return NULL;
	return result_of(conductor_heartbeat(req->args, err));
}

static json_t *on_update_backup(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	if (check_sender(req, named_instance(req), err) || trust_sent(req, err))
		return NULL;
	return result_of(conductor_update_backup(req->args, err));
}

static json_t *on_update_archive(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	if (check_sender(req, named_instance(req), err) || trust_sent(req, err))
		return NULL;
	return result_of(conductor_update_archive(req->args, err));
}

static json_t *on_report_root(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	if (check_sender(req, named_instance(req), err))
		return NULL;
	return result_of(conductor_report_root(req->args, err));
}

static json_t *on_notify_end(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	/* An end notification need not name an instance; one that does must be the
	 * sender's. */
	const char *named = notification_instance(req);
	if (named && check_sender(req, named, err))
		return NULL;
	return result_of(conductor_notify_end(req->args, err));
}

static json_t *on_notify_exc_info(void *user, const struct rpc_request *req, struct ct_error *err)
{
	(void)user;
	if (check_sender(req, notification_instance(req), err))
		return NULL;
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
	{"consistent_time", RPC_T_NUMBER | RPC_T_NULL, false}, /* ctrove: PITR */
	{NULL, 0, false},
};
static const struct rpc_arg update_archive_args[] = {
	{"instance_id", RPC_T_STRING, true},
	{"archived_until", RPC_T_NUMBER, true},
	{"last_seq", RPC_T_INT, true},
	{"gap", RPC_T_STRING | RPC_T_NULL, false},
	{"sent", RPC_T_NUMBER | RPC_T_NULL, false},
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
	/* ctrove (PITR): extra arguments of a newer guest are ignored. */
	{"update_archive", on_update_archive, update_archive_args, true},
	{"notify_end", on_notify_end, notify_end_args, true},
	{"notify_exc_info", on_notify_exc_info, notify_exc_info_args, false},
	{NULL, NULL, NULL, false},
};

/* rpc_key_lookup_fn: a message naming an instance must be sealed with that instance's
 * key; one naming none is plain text, acceptable only with secure messaging off. */
static int instance_key_for(void *user, const char *instance_id, char **key, struct ct_error *err)
{
	*key = NULL;
	if (!instance_id) {
		if (cfg_bool(CFG_ENABLE_SECURE_RPC))
			return ct_fail(err, 403,
				       "a message that is not encrypted is refused "
				       "(enable_secure_rpc_messaging is on)");
		return 0;
	}
	*key = conductor_instance_key(user, instance_id);
	if (!*key)
		return ct_fail(err, 403, "instance %.64s has no RPC key to check the message with",
			       instance_id);
	return 0;
}

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
		.key_lookup = instance_key_for,
	};
	return rpc_server_new(NULL, &opts, err);
}
